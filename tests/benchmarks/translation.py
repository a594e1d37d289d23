"""Training-step time of a whole translation model: seqkeras' AttentionSeq2Seq with
BahdanauAttention (chapter 6) against the same network built from Keras layers only
(Bidirectional LSTM encoder, LSTM decoder, AdditiveAttention on projected states).

    make bench                   (or: python tests/benchmarks/translation.py [--rounds N])

The shape of chapter 6's full run: batch 64, 31 tokens a side, 8,000 French and 4,000 English
words, embeddings 128, 256 units, attention 128; one step is a forward pass, backpropagation
and an Adam update under the masked cross-entropy of ``training.fit_translation``. Both models
are timed round-robin; the ratio is seqkeras / Keras (below 1.0: seqkeras is faster).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import harness  # noqa: E402  (tests/benchmarks/harness.py, beside this script)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from seqkeras.layers import BahdanauAttention  # noqa: E402
from seqkeras.models import AttentionSeq2Seq  # noqa: E402
from seqkeras.timing import timed_training_step  # noqa: E402
from seqkeras.utils import machine_description  # noqa: E402

BATCH, LENGTH, SOURCE_VOCAB, TARGET_VOCAB = 64, 31, 8_000, 4_000
EMBEDDING, UNITS, ATTENTION = 128, 256, 128


def keras_attention_seq2seq():
    """AttentionSeq2Seq's computation, written with Keras' built-in layers."""
    source = keras.Input((LENGTH,), dtype="int32")
    target = keras.Input((LENGTH,), dtype="int32")
    x = keras.layers.Embedding(SOURCE_VOCAB, EMBEDDING, mask_zero=True)(source)
    annotations, fh, fc, bh, bc = keras.layers.Bidirectional(
        keras.layers.LSTM(UNITS // 2, return_sequences=True, return_state=True))(x)
    y = keras.layers.Embedding(TARGET_VOCAB, EMBEDDING)(target)
    states = keras.layers.LSTM(UNITS, return_sequences=True)(
        y, initial_state=[keras.layers.Concatenate()([fh, bh]),
                          keras.layers.Concatenate()([fc, bc])])
    query = keras.layers.Dense(ATTENTION, use_bias=False)(states)  # s_i W_a
    keys = keras.layers.Dense(ATTENTION, use_bias=False)(annotations)  # h_j U_a
    source_mask = keras.ops.not_equal(source, 0)
    context = keras.layers.AdditiveAttention(use_scale=True)(
        [query, annotations, keys], mask=[None, source_mask])
    attentional = keras.layers.Dense(UNITS, activation="tanh")(
        keras.layers.Concatenate()([context, states]))
    return keras.Model([source, target], keras.layers.Dense(TARGET_VOCAB)(attentional))


PAIRS = {
    "AttentionSeq2Seq (Bahdanau), one step": (
        lambda: AttentionSeq2Seq(SOURCE_VOCAB, TARGET_VOCAB, BahdanauAttention(ATTENTION),
                                 EMBEDDING, UNITS),
        keras_attention_seq2seq),
}


def training_step(model):
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                                  ignore_class=0))
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, LENGTH, size=(BATCH, 1))
    real = np.arange(LENGTH)[None, :] < lengths
    source = np.where(real, rng.integers(4, SOURCE_VOCAB, (BATCH, LENGTH)), 0).astype("int32")
    target = np.where(real, rng.integers(4, TARGET_VOCAB, (BATCH, LENGTH)), 0).astype("int32")
    return timed_training_step(model, (source, target), target, warmup=3)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed steps per model")
    args = parser.parse_args(argv)
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, "
          f"{machine_description()}; batch {BATCH} x {LENGTH} tokens, vocabularies "
          f"{SOURCE_VOCAB:,} / {TARGET_VOCAB:,}, {UNITS} units, {args.rounds} rounds")
    return harness.compare(PAIRS, training_step, args.rounds, "model", "keras")


if __name__ == "__main__":
    main()
