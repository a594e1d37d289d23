"""Training-step time of keras.layers.RNN around each seqkeras cell against its Keras twin.

    make bench                  (or: python tests/benchmarks/rnn_cells.py [--rounds N])

Batch 64, 100 time steps, 128 units, 32 input features; one training step is a forward pass,
backpropagation through time and an Adam update of a model RNN -> Dense(1) under MSE. The
variants are timed round-robin (each round times every variant once) so that a slow spell of
the machine hits them all alike; the table reports each variant's median step and the ratio
seqkeras / Keras (below 1.0: the seqkeras cell is faster).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import harness  # noqa: E402  (tests/benchmarks/harness.py, beside this script)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from seqkeras.layers import ElmanCell, GRUCell, LSTMCell  # noqa: E402
from seqkeras.timing import timed_training_step  # noqa: E402
from seqkeras.utils import machine_description  # noqa: E402

BATCH, STEPS, UNITS, FEATURES = 64, 100, 128, 32

PAIRS = {
    "Elman / SimpleRNN": (lambda: keras.layers.RNN(ElmanCell(UNITS)),
                          lambda: keras.layers.SimpleRNN(UNITS)),
    "LSTM / LSTM": (lambda: keras.layers.RNN(LSTMCell(UNITS)), lambda: keras.layers.LSTM(UNITS)),
    "GRU / GRU": (lambda: keras.layers.RNN(GRUCell(UNITS)), lambda: keras.layers.GRU(UNITS)),
    "GRU reset_after=False": (lambda: keras.layers.RNN(GRUCell(UNITS, reset_after=False)),
                              lambda: keras.layers.GRU(UNITS, reset_after=False)),
}


def training_step(rnn):
    model = keras.Sequential([keras.Input((STEPS, FEATURES)), rnn, keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    y = rng.normal(size=(BATCH, 1)).astype("float32")
    return timed_training_step(model, x, y, warmup=3)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="timed steps per variant")
    args = parser.parse_args(argv)
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, "
          f"{machine_description()}; batch {BATCH}, {STEPS} steps, {UNITS} units, "
          f"{args.rounds} rounds")
    return harness.compare(PAIRS, training_step, args.rounds, "cell", "Keras")


if __name__ == "__main__":
    main()
