"""Decoding with the carried state (``start_decoding`` / ``decode_step``) against the reference
path that re-reads the prefix (``decode(..., last_only=True)``): the same logits, tokens and
log-probabilities, for every translation model.

The trained models learn a few hundred real verses for a few hundred steps, so that their
distributions are peaked as a real model's are: on random weights, two words within 1e-7 of each
other would let float rounding, not the decoder, pick the greedy word.
"""

import keras
import numpy as np
import pytest
from keras import ops

from seqkeras import decoding, training
from seqkeras.data import load_translation_task
from seqkeras.layers import BahdanauAttention, LocalAttention, LuongAttention
from seqkeras.models import (
    AttentionSeq2Seq,
    HardAttentionSeq2Seq,
    RNNsearch,
    Seq2Seq,
    Transformer,
)

from conftest import to_numpy

MAX_TOKENS, PAIRS, DECODED = 12, 128, 16


@pytest.fixture(scope="module")
def task():
    return load_translation_task(max_tokens=MAX_TOKENS, max_test_tokens=MAX_TOKENS,
                                 min_count=1, max_train_pairs=PAIRS, max_validation_pairs=32,
                                 max_test_pairs=8)


def sizes(task):
    return len(task.source_vocab), len(task.target_vocab)


# One model of each step implementation on both backends; three more attention variants, whose
# steps run the same AttentionSeq2Seq/Seq2Seq code with another layer inside, on TensorFlow only
# (the JAX pass compiles every shape anew; their untrained step-by-step test below runs on both).
TF_ONLY = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                             reason="the same decode_step as another trained case; TF pass only")
TRAINED = {
    "seq2seq, 2 layers, reversed": lambda s, t: Seq2Seq(s, t, 24, 48, num_layers=2,
                                                        reverse_source=True),
    "seq2seq, context every step": lambda s, t: Seq2Seq(s, t, 24, 48, context_every_step=True),
    "bahdanau": lambda s, t: AttentionSeq2Seq(s, t, BahdanauAttention(24), 24, 48),
    "luong location": lambda s, t: AttentionSeq2Seq(s, t, LuongAttention("location"), 24, 48),
    "local-p": lambda s, t: AttentionSeq2Seq(s, t, LocalAttention(2, score="general"), 24, 48),
    "hard": lambda s, t: HardAttentionSeq2Seq(s, t, LuongAttention("general"), 24, 48, seed=1),
    "rnnsearch": lambda s, t: RNNsearch(s, t, BahdanauAttention(24), 24, 48),
    "transformer": lambda s, t: Transformer(s, t, d_model=32, num_heads=2, num_layers=2,
                                            intermediate_dim=64, dropout=0.0),
}
TRAINED_CASES = [pytest.param(name, marks=TF_ONLY) if name in (
    "seq2seq, context every step", "luong location", "local-p") else name for name in TRAINED]


def trained(task, name):
    keras.utils.set_random_seed(7)
    model = TRAINED[name](*sizes(task))
    run = training.fit_translation(model, task.train, task.validation, epochs=60,
                                   batch_size=32, learning_rate=1e-2, verbose=0)
    assert run.history["loss"][-1] < 0.5 * run.history["loss"][0]  # it did learn
    return model


def recorded(next_log_probs, log):
    """``next_log_probs`` that appends each call's prefixes and log-probabilities to ``log``."""
    def call(source_index, prefixes):
        log_probs = next_log_probs(source_index, prefixes)
        log.append((np.array(prefixes), log_probs))
        return log_probs
    return call


def search(next_log_probs, num_sources, english, beam_width):
    """Greedy search (width 1) or beam search: the best ``(tokens, log_prob)`` per source."""
    arguments = (num_sources, english.start_id, english.end_id)
    if beam_width == 1:
        return decoding.batch_greedy_search(next_log_probs, *arguments, MAX_TOKENS + 2)
    return [hypotheses[0] for hypotheses in decoding.batch_beam_search(
        next_log_probs, *arguments, beam_width, MAX_TOKENS + 2)]


@pytest.mark.parametrize("name", TRAINED_CASES)
def test_carried_state_decodes_as_the_prefix_rerun(task, name):
    model = trained(task, name)
    source = task.train.source_ids[:DECODED]
    english = task.target_vocab
    for beam_width in (1, 5):
        logs = {True: [], False: []}
        best = {carry: search(recorded(decoding.translation_log_probs(
            model, source, carry_state=carry), logs[carry]), len(source), english, beam_width)
            for carry in (True, False)}
        assert [t for t, _ in best[True]] == [t for t, _ in best[False]], beam_width
        np.testing.assert_allclose([p for _, p in best[True]], [p for _, p in best[False]],
                                   atol=1e-4)
        # every step: the same prefixes asked, every word's log-probability within 1e-4
        assert len(logs[True]) == len(logs[False])
        for (prefixes, got), (same_prefixes, expected) in zip(logs[True], logs[False],
                                                              strict=True):
            np.testing.assert_array_equal(prefixes, same_prefixes)
            finite = np.isfinite(expected)
            assert np.array_equal(np.isfinite(got), finite)
            assert np.abs(got[finite] - expected[finite]).max() < 1e-4
    # peaked: the greedy words average well above chance (1 in several hundred words)
    greedy = decoding.translate(model, source, english, max_length=MAX_TOKENS + 2)
    assert np.mean([p / (len(t.split()) + 1) for t, p in greedy]) > np.log(0.15)

    # extra padding on the source changes nothing
    padded = decoding.translate(model, np.pad(source, ((0, 0), (0, 5))), english,
                                max_length=MAX_TOKENS + 2)
    assert [t for t, _ in padded] == [t for t, _ in greedy]
    np.testing.assert_allclose([p for _, p in padded], [p for _, p in greedy], atol=1e-4)


UNTRAINED = {
    "dot": lambda: AttentionSeq2Seq(11, 13, LuongAttention("dot"), 4, 6),
    "general": lambda: AttentionSeq2Seq(11, 13, LuongAttention("general"), 4, 6),
    "concat": lambda: AttentionSeq2Seq(11, 13, LuongAttention("concat", units=5), 4, 6),
    "local-p, concat": lambda: AttentionSeq2Seq(11, 13, LocalAttention(1, score="concat",
                                                                       units=3), 4, 6),
    "transformer pre-LN": lambda: Transformer(11, 13, d_model=8, num_heads=4, num_layers=2,
                                              intermediate_dim=12, normalize_first=True),
    "seq2seq, 3 layers": lambda: Seq2Seq(11, 13, 4, 6, num_layers=3, dropout=0.2),
    "seq2seq, context every step": lambda: Seq2Seq(11, 13, 4, 6, context_every_step=True),
    "location": lambda: AttentionSeq2Seq(11, 13, LuongAttention("location"), 4, 6),
}


@pytest.mark.parametrize("name", UNTRAINED)
def test_decode_step_gives_the_logits_of_decode_at_every_position(rng, name):
    model = UNTRAINED[name]()
    source = rng.integers(1, 11, size=(3, 6)).astype("int32")
    source[1, 3:] = 0
    target = rng.integers(1, 13, size=(3, 5)).astype("int32")
    encoded = model.encode(source)
    full = to_numpy(model.decode(target, encoded))  # builds the decoder
    state = model.start_decoding(encoded)
    steps = []
    for position in range(target.shape[1]):
        logits, state = model.decode_step(target[:, position], state)
        steps.append(to_numpy(logits))
    np.testing.assert_allclose(np.stack(steps, axis=1), full, atol=1e-5)
    # a state's rows can be gathered: row 2 twice, then row 0
    rows = ops.convert_to_tensor(np.array([2, 2, 0], dtype="int32"))
    state = tuple(ops.take(x, rows, axis=0) for x in model.start_decoding(encoded))
    logits, _ = model.decode_step(target[[2, 2, 0], 0], state)
    np.testing.assert_allclose(to_numpy(logits), full[[2, 2, 0], 0], atol=1e-5)


def test_transformer_cache_writes_one_position_per_step(rng):
    model = UNTRAINED["transformer pre-LN"]()
    source = rng.integers(1, 11, size=(2, 6)).astype("int32")
    state = model.start_decoding(model.encode(source), max_length=3)
    # source mask, position, then per block: self keys, self values, cross keys, cross values
    assert len(state) == 2 + 4 * 2
    assert tuple(state[2].shape) == (2, 3, 4, 2) and tuple(state[4].shape) == (2, 6, 4, 2)
    assert not np.any(to_numpy(state[2]))
    cross_keys = to_numpy(state[4])
    for position in (0, 1, 2):
        _, state = model.decode_step(np.array([2, 5]), state)
        written = np.abs(to_numpy(state[2])).sum(axis=(0, 2, 3)) > 0
        np.testing.assert_array_equal(written, np.arange(3) <= position)
        np.testing.assert_array_equal(to_numpy(state[1]), [position + 1] * 2)
        np.testing.assert_array_equal(to_numpy(state[4]), cross_keys)  # computed once
    with pytest.raises(ValueError, match="past the cache's 3 positions"):
        model.decode_step(np.array([2, 5]), state)


def test_a_longer_prefix_than_max_length_grows_the_cache(rng):
    model = UNTRAINED["transformer pre-LN"]()
    source = rng.integers(1, 11, size=(2, 6)).astype("int32")
    step, reference = (decoding.translation_log_probs(model, source, banned_ids=(),
                                                      carry_state=carry, max_length=2)
                       for carry in (True, False))
    rows, prefixes = np.array([0, 1]), np.full((2, 1), 2, dtype="int32")
    for _ in range(5):  # past 2, then past 4 positions
        expected = reference(rows, prefixes)
        np.testing.assert_allclose(step(rows, prefixes), expected, atol=1e-5)
        prefixes = np.concatenate([prefixes, expected.argmax(-1)[:, None]], axis=1)


def test_carry_state_follows_a_subclass_that_decodes_otherwise(rng):
    class PreviousStateQuery(AttentionSeq2Seq):  # as in chapter 6's solutions
        def decode(self, decoder_input_ids, encoded, return_weights=False, last_only=False):
            annotations, source_mask, s_0, _ = encoded
            states = self.decoder_states(decoder_input_ids, encoded)
            previous = ops.concatenate([s_0[:, None, :], states[:, :-1]], axis=1)
            if last_only:
                states, previous = states[:, -1:], previous[:, -1:]
            context, _ = self.attention(previous, annotations, values_mask=source_mask)
            return self.output_logits(context, states)

    model = PreviousStateQuery(11, 13, BahdanauAttention(3), 4, 6)
    source = rng.integers(1, 11, size=(2, 4)).astype("int32")
    assert decoding.carries_state(AttentionSeq2Seq(11, 13, BahdanauAttention(3), 4, 6))
    assert decoding.carries_state(HardAttentionSeq2Seq(11, 13, LuongAttention("dot"), 4, 6))
    assert not decoding.carries_state(model)
    with pytest.raises(ValueError, match="carry_state=False"):
        decoding.translation_log_probs(model, source, carry_state=True)
    # the default falls back to the re-run, which follows the subclass's decode
    log_probs = decoding.translation_log_probs(model, source, banned_ids=())
    prefixes = np.array([[2, 5], [2, 7]], dtype="int32")
    logits = to_numpy(model.decode(prefixes, model.encode(source))).astype("float64")[:, -1]
    expected = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    np.testing.assert_allclose(log_probs(np.array([0, 1]), prefixes), expected, atol=1e-5)


def test_a_transformer_subclass_with_its_own_embeddings_decodes_by_the_rerun(rng):
    class WithoutPositions(Transformer):  # as in chapter 8's solutions
        def embed(self, embed_ids, ids):
            x = embed_ids(ids)
            return self.dropout_layer(x * ops.cast(np.sqrt(self.d_model), x.dtype))

    model = WithoutPositions(11, 13, d_model=8, num_heads=2, num_layers=1, intermediate_dim=12)
    source = rng.integers(1, 11, size=(2, 4)).astype("int32")
    assert decoding.carries_state(UNTRAINED["transformer pre-LN"]())
    assert not decoding.carries_state(model)
    english = type("Vocabulary", (), {"start_id": 2, "end_id": 3,
                                      "decode": staticmethod(lambda ids: " ".join(map(str, ids)))})
    assert len(decoding.translate(model, source, english, max_length=4)) == 2


def test_prefixes_that_do_not_extend_the_last_call_are_replayed(rng):
    model = UNTRAINED["transformer pre-LN"]()
    source = rng.integers(1, 11, size=(3, 6)).astype("int32")
    step, reference = (decoding.translation_log_probs(model, source, banned_ids=(),
                                                      carry_state=carry)
                       for carry in (True, False))
    prefixes = rng.integers(3, 13, size=(3, 4)).astype("int32")
    prefixes[:, 0] = 2
    rows = np.array([1, 0, 2])
    # straight to a 4-token prefix, then an unrelated 2-token one: no parents to reuse
    for prefix in (prefixes, prefixes[::-1, :2]):
        np.testing.assert_allclose(step(rows, prefix), reference(rows, prefix), atol=1e-5)


def test_a_decoder_only_block_caches_as_it_runs(rng):
    """Without cross-attention (a GPT-like block) the cache holds only the self-attention keys
    and values, sized by ``batch_size``; step by step it gives ``call``'s causal outputs."""
    from seqkeras.layers import TransformerDecoderBlock

    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=12, normalize_first=True)
    y = rng.normal(size=(3, 5, 8)).astype("float32")
    full = to_numpy(block(y))
    cache = block.start_cache(5, batch_size=3)
    assert len(cache) == 2 and tuple(cache[0].shape) == (3, 5, 2, 4)
    steps = []
    for position in range(5):
        output, cache = block.call_cached(y[:, position:position + 1], cache, position)
        steps.append(to_numpy(output)[:, 0])
    np.testing.assert_allclose(np.stack(steps, axis=1), full, atol=1e-5)
    with pytest.raises(ValueError, match="with an encoder_sequence if and only if"):
        block.start_cache(5, encoder_sequence=y)
