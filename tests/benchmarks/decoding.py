"""Decoding time: the decoder carrying its state (``decode_step``) against re-reading the whole
prefix at every step (``decode(..., last_only=True)``), the reference path.

    make bench                   (or: python tests/benchmarks/decoding.py [--rows N])

Untrained models of chapter 6's size (8,000 French words, 6,400 English, embeddings 128, 256
units, Bahdanau attention 128; the Transformer d_model 128, 4 heads, 2 + 2 blocks, d_ff 512),
greedy search over random source rows of 30 tokens, forced to write ``max_length`` words (no
end token). The paths are timed in turn at each length, so a slow spell hits both alike. Printed:
seconds, the ratio re-run / carried state, and the growth exponent of each path,
log(t(80) / t(20)) / log(4): 1 for a cost linear in the length, 2 for quadratic. Both paths are
compiled the same way (``decoding.compiled``); the output softmax over 6,400 words, which both
pay at every step, bounds their ratio. Then, on fewer rows, the re-run op by op with a NumPy
softmax, as ``decoding`` ran before ``decode_step``. Gates: the carried state's growth exponent
at most 1.15, and at T = 80 at least 5 times faster than the op-by-op re-run.

As an anchor (not a gate), the Transformer is also timed against keras_hub's ``GreedySampler``
driving keras_hub ``TransformerDecoder`` blocks of the same size with their key/value cache
(fixed-size, ``CachedMultiHeadAttention``), on the same encoder output; on TensorFlow both
are traced with ``tf.function`` (ours step by step, keras_hub's whole loop).
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from seqkeras import decoding  # noqa: E402
from seqkeras.layers import BahdanauAttention  # noqa: E402
from seqkeras.models import AttentionSeq2Seq, Seq2Seq, Transformer  # noqa: E402
from seqkeras.utils import machine_description  # noqa: E402

SOURCE_VOCAB, TARGET_VOCAB, SOURCE_LENGTH = 8_000, 6_400, 30
EMBEDDING, UNITS, ATTENTION = 128, 256, 128
D_MODEL, HEADS, LAYERS, D_FF = 128, 4, 2, 512
LENGTHS = (10, 20, 40, 80)
START_ID, NEVER = 2, -1  # no token ever equals NEVER: every row writes max_length words

MODELS = {
    "Seq2Seq (fixed vector)": lambda: Seq2Seq(SOURCE_VOCAB, TARGET_VOCAB, EMBEDDING, UNITS),
    "AttentionSeq2Seq (Bahdanau)": lambda: AttentionSeq2Seq(
        SOURCE_VOCAB, TARGET_VOCAB, BahdanauAttention(ATTENTION), EMBEDDING, UNITS),
    "Transformer": lambda: Transformer(SOURCE_VOCAB, TARGET_VOCAB, D_MODEL, HEADS, LAYERS, D_FF),
}


def greedy_seconds(model, source, max_length, carry_state):
    """Seconds to decode every row of ``source`` greedily to ``max_length`` words;
    ``carry_state="eager"`` is the prefix re-run op by op, as decoding ran before
    ``decode_step`` (the issue's "today")."""
    began = time.perf_counter()
    next_log_probs = (eager_rerun(model, source) if carry_state == "eager" else
                      decoding.translation_log_probs(model, source, carry_state=carry_state,
                                                     max_length=max_length))
    decoding.batch_greedy_search(next_log_probs, len(source), START_ID, NEVER, max_length)
    return time.perf_counter() - began


def eager_rerun(model, source):
    """The adapter as it was: the decoder over each whole prefix, op by op, NumPy softmax."""
    encoded = model.encode(ops.convert_to_tensor(source))

    def next_log_probs(source_index, prefixes):
        rows = tuple(ops.take(x, ops.convert_to_tensor(source_index), axis=0) for x in encoded)
        logits = model.decode(ops.convert_to_tensor(prefixes), rows, last_only=True)
        logits = ops.convert_to_numpy(logits[:, -1]).astype("float64")
        logits -= logits.max(axis=-1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))

    return next_log_probs


class KerasHubGreedyDecoder:
    """keras_hub's cached decoding for a Transformer decoder of our size: Embedding *
    sqrt(d_model) + SinePositionEncoding, TransformerDecoder blocks, Dense logits, run by
    ``keras_hub.samplers.GreedySampler`` over a prompt of [START] and max_length slots."""

    def __init__(self):
        self.embedding = keras.layers.Embedding(TARGET_VOCAB, D_MODEL)
        self.position = keras_hub.layers.SinePositionEncoding()
        self.blocks = [keras_hub.layers.TransformerDecoder(D_FF, HEADS) for _ in range(LAYERS)]
        self.logits = keras.layers.Dense(TARGET_VOCAB)
        self.sampler = keras_hub.samplers.GreedySampler()

    def embed(self, token_ids, index):
        x = self.embedding(token_ids) * math.sqrt(D_MODEL)
        return x + self.position(x, start_index=index)

    def __call__(self, z, source_mask, max_length):
        batch, head_dim = ops.shape(z)[0], D_MODEL // HEADS
        prompt = ops.concatenate([ops.full((batch, 1), START_ID, "int32"),
                                  ops.zeros((batch, max_length), "int32")], axis=1)
        total = max_length + 1
        self_caches = [ops.zeros((batch, 2, total, HEADS, head_dim)) for _ in self.blocks]
        cross_caches = [ops.zeros((batch, 2, SOURCE_LENGTH, HEADS, head_dim))
                        for _ in self.blocks]
        # [START] at position 0 fills the cross-attention caches (update index 0)
        x = self.embed(prompt[:, :1], 0)
        for k, block in enumerate(self.blocks):
            x, self_caches[k], cross_caches[k] = block(
                x, z, encoder_padding_mask=source_mask, self_attention_cache=self_caches[k],
                self_attention_cache_update_index=0, cross_attention_cache=cross_caches[k],
                cross_attention_cache_update_index=0)

        def next_logits(prompt, cache, index):
            self_cache, cross_cache = cache
            x = self.embed(ops.slice(prompt, (0, index - 1), (batch, 1)), index - 1)
            self_cache, cross_cache = list(self_cache), list(cross_cache)
            for k, block in enumerate(self.blocks):
                x, self_cache[k], _ = block(
                    x, z, encoder_padding_mask=source_mask, self_attention_cache=self_cache[k],
                    self_attention_cache_update_index=index - 1,
                    cross_attention_cache=cross_cache[k], cross_attention_cache_update_index=None)
            return self.logits(x)[:, 0], None, (tuple(self_cache), tuple(cross_cache))

        return self.sampler(next_logits, prompt, cache=(tuple(self_caches), tuple(cross_caches)),
                            index=1)


def exponent(times, short, long):
    return math.log(times[long] / times[short]) / math.log(long / short)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200, help="source sentences decoded at once")
    parser.add_argument("--eager-rows", type=int, default=32,
                        help="rows for the (slow) op-by-op re-run")
    args = parser.parse_args(argv)
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, "
          f"{machine_description()}; greedy search of {args.rows} random source rows of "
          f"{SOURCE_LENGTH} tokens, vocabularies {SOURCE_VOCAB:,} / {TARGET_VOCAB:,}")
    rng = np.random.default_rng(0)
    source = rng.integers(4, SOURCE_VOCAB, size=(args.rows, SOURCE_LENGTH)).astype("int32")
    keras.utils.set_random_seed(0)
    models = {name: make() for name, make in MODELS.items()}
    for model in models.values():
        greedy_seconds(model, source, 2, True)  # builds the layers, warms the kernels up
        greedy_seconds(model, source, 2, False)
    times = {}
    for max_length in LENGTHS:
        for name, model in models.items():
            for carry_state in (True, False):
                times[name, carry_state, max_length] = greedy_seconds(model, source, max_length,
                                                                      carry_state)
    header = " ".join(f"{'T=' + str(n):>15}" for n in LENGTHS)
    print(f"\n{'model, path':<44} {header}  growth 20->80")
    failures = []
    for name in models:
        for carry_state, path in ((True, "carried state"), (False, "prefix re-run")):
            row = {n: times[name, carry_state, n] for n in LENGTHS}
            cells = " ".join(f"{row[n]:>14.2f}s" for n in LENGTHS)
            print(f"{name + ', ' + path:<44} {cells}  {exponent(row, 20, 80):>8.2f}")
        ratios = {n: times[name, False, n] / times[name, True, n] for n in LENGTHS}
        cells = " ".join(f"{ratios[n]:>14.1f}x" for n in LENGTHS)
        print(f"{name + ', re-run / carried':<44} {cells}")
        step_growth = exponent({n: times[name, True, n] for n in LENGTHS}, 20, 80)
        if step_growth > 1.15:
            failures.append(f"{name}: the carried state grows with exponent {step_growth:.2f}")

    print(f"\nAgainst the re-run op by op, as decoding ran before decode_step "
          f"({args.eager_rows} rows):")
    eager_source = source[:args.eager_rows]
    for name, model in models.items():
        row = {n: (greedy_seconds(model, eager_source, n, "eager"),
                   greedy_seconds(model, eager_source, n, True)) for n in (20, 80)}
        ratios = {n: eager / carried for n, (eager, carried) in row.items()}
        print(f"{name:<30} T=20: {row[20][0]:6.2f} s against {row[20][1]:5.2f} s "
              f"({ratios[20]:5.1f}x)   T=80: {row[80][0]:6.2f} s against {row[80][1]:5.2f} s "
              f"({ratios[80]:5.1f}x)")
        if ratios[80] < 5:
            failures.append(f"{name}: only {ratios[80]:.1f}x faster than the op-by-op re-run "
                            "at 80")

    transformer = models["Transformer"]
    z, source_mask = transformer.encode(ops.convert_to_tensor(source))
    anchor = KerasHubGreedyDecoder()
    anchor(z, source_mask, 2)  # builds the layers
    if keras.backend.backend() == "tensorflow":  # traced, as our steps are (and as generate())
        import tensorflow as tf

        anchor = tf.function(anchor, reduce_retracing=True)
        anchor(z, source_mask, 80)
    ours = greedy_seconds(transformer, source, 80, True)
    began = time.perf_counter()
    anchor(z, source_mask, 80)
    theirs = time.perf_counter() - began
    print(f"\nTransformer at T=80, carried state against keras_hub GreedySampler + cached "
          f"TransformerDecoder (anchor): {ours:.2f} s against {theirs:.2f} s, ratio "
          f"{ours / theirs:.2f}")
    if failures:
        raise SystemExit("decoding benchmark gates failed:\n  " + "\n  ".join(failures))
    print("gates passed: growth exponent of the carried state <= 1.15; >= 5x faster than the "
          "op-by-op re-run at T=80")


if __name__ == "__main__":
    main()
