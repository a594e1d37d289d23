"""Training-step time of seqkeras' MultiHeadAttention and TransformerEncoderBlock against
keras.layers.MultiHeadAttention and keras_hub's TransformerEncoder.

    make bench                   (or: python tests/benchmarks/transformer.py [--rounds N])

Batch 32, length 256, d_model 256, 8 heads (key_dim 32), feed-forward 1024; one training step
is a forward pass, backpropagation and an Adam update of a model layer -> Dense(1) under MSE,
with a padding mask on the keys (the last quarter of every sequence is padding). The variants
are timed round-robin (each round times every variant once) so that a slow spell of the
machine hits them all alike; the table reports each variant's median step and the ratio
seqkeras / twin (below 1.0: seqkeras is faster).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import harness  # noqa: E402  (tests/benchmarks/harness.py, beside this script)
import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402

from seqkeras.layers import MultiHeadAttention, TransformerEncoderBlock  # noqa: E402
from seqkeras.timing import timed_training_step  # noqa: E402
from seqkeras.utils import machine_description  # noqa: E402

BATCH, LENGTH, D_MODEL, HEADS, FF = 32, 256, 256, 8, 1024


class SelfAttention(keras.layers.Layer):
    """attention(x, x) under a key padding mask, for either MultiHeadAttention."""

    def __init__(self, attention, **kwargs):
        super().__init__(**kwargs)
        self.attention = attention

    def call(self, x, padding_mask):
        return self.attention(x, x, attention_mask=padding_mask[:, None, :])


class Encoder(keras.layers.Layer):
    def __init__(self, block, **kwargs):
        super().__init__(**kwargs)
        self.block = block

    def call(self, x, padding_mask):
        return self.block(x, padding_mask=padding_mask)


PAIRS = {
    "MultiHeadAttention": (
        lambda: SelfAttention(MultiHeadAttention(HEADS, D_MODEL // HEADS)),
        lambda: SelfAttention(keras.layers.MultiHeadAttention(HEADS, D_MODEL // HEADS))),
    "TransformerEncoderBlock": (
        lambda: Encoder(TransformerEncoderBlock(HEADS, FF)),
        lambda: Encoder(keras_hub.layers.TransformerEncoder(FF, HEADS))),
}


def training_step(layer):
    x_in = keras.Input((LENGTH, D_MODEL))
    mask_in = keras.Input((LENGTH,), dtype="bool")
    model = keras.Model([x_in, mask_in], keras.layers.Dense(1)(layer(x_in, mask_in)))
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH, LENGTH, D_MODEL)).astype("float32")
    mask = np.broadcast_to(np.arange(LENGTH) < LENGTH * 3 // 4, (BATCH, LENGTH)).copy()
    y = rng.normal(size=(BATCH, LENGTH, 1)).astype("float32")
    return timed_training_step(model, [x, mask], y, warmup=3)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="timed steps per variant")
    args = parser.parse_args(argv)
    print(f"keras {keras.__version__}, keras_hub {keras_hub.__version__}, backend "
          f"{keras.backend.backend()}, {machine_description()}; batch {BATCH}, length {LENGTH}, "
          f"d_model {D_MODEL}, {HEADS} heads, {args.rounds} rounds")
    return harness.compare(PAIRS, training_step, args.rounds, "layer", "twin")


if __name__ == "__main__":
    main()
