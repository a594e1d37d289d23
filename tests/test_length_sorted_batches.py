"""Length-sorted translation batches: every pair once per epoch, batches trimmed to their
longest pair, and a loss that does not depend on the batch's width."""

import keras
import numpy as np
import pytest

from seqkeras import training
from seqkeras.data import LengthSortedBatches, TranslationBatch
from seqkeras.layers import BahdanauAttention
from seqkeras.models import AttentionSeq2Seq, Seq2Seq, Transformer


def random_pairs(n=50, width=23, seed=0):
    rng = np.random.default_rng(seed)
    source_lengths = rng.integers(1, width + 1, n)  # a translation about as long as its source
    target_lengths = np.clip(source_lengths + rng.integers(-2, 3, n), 2, width)
    source, decoder_input, target = (np.zeros((n, width), "int32") for _ in range(3))
    for row, (s, t) in enumerate(zip(source_lengths, target_lengths, strict=True)):
        source[row, :s] = rng.integers(3, 20, s)
        words = rng.integers(3, 20, t - 1)
        decoder_input[row, :t] = [1, *words]
        target[row, :t] = [*words, 2]
    return TranslationBatch(source, decoder_input, target, ["x"] * n, ["x"] * n)


@pytest.mark.backend_independent
def test_every_pair_once_per_epoch_in_batches_trimmed_to_their_longest_pair():
    pairs = random_pairs()
    batches = LengthSortedBatches(pairs, batch_size=8, pool_batches=3, round_to=5, seed=1)
    orders = []
    for _ in range(2):
        seen = []
        for index in range(len(batches)):
            (source, decoder_input), target = batches[index]
            rows = batches._batches[index]
            seen += list(rows)
            assert source.shape[1] % 5 == 0 or source.shape[1] == 23
            assert source.shape[1] >= pairs.source_mask[rows].sum(axis=1).max()
            assert source.shape[1] - pairs.source_mask[rows].sum(axis=1).max() < 5
            np.testing.assert_array_equal(source, pairs.source_ids[rows, :source.shape[1]])
            assert target.shape == decoder_input.shape
            assert (pairs.target_ids[rows, target.shape[1]:] == 0).all()  # nothing cut off
        assert sorted(seen) == list(range(len(pairs)))
        orders.append(seen)
        batches.on_epoch_end()
    assert orders[0] != orders[1]  # a new arrangement every epoch
    # within a pool, the batches hold neighbouring lengths: far less padding than at random
    padded = sum(batches[k][0][0].size for k in range(len(batches)))
    assert padded < 0.8 * pairs.source_ids.size


@pytest.mark.parametrize("make_model", [
    lambda: Seq2Seq(20, 20, 4, 6, reverse_source=True, context_every_step=True),
    lambda: AttentionSeq2Seq(20, 20, BahdanauAttention(4), 4, 6),
    lambda: Transformer(20, 20, 8, 2, 1, 16)])
def test_the_loss_of_a_pair_does_not_depend_on_its_batch_width(make_model):
    pairs = random_pairs(n=6, width=23)
    keras.utils.set_random_seed(0)
    model = make_model()
    model.compile(loss=training.translation_loss())
    full = model.evaluate(pairs.inputs, pairs.target_ids, verbose=0)
    trimmed = LengthSortedBatches(pairs, batch_size=6, round_to=1)[0]
    assert trimmed[0][0].shape[1] < 23 or trimmed[1].shape[1] < 23
    assert model.evaluate(*trimmed, verbose=0) == pytest.approx(full, rel=1e-5)


def test_fit_translation_trains_on_length_sorted_batches():
    pairs = random_pairs(n=40)
    keras.utils.set_random_seed(0)
    run = training.fit_translation(Seq2Seq(20, 20, 4, 8), pairs, pairs, 3, batch_size=8,
                                   verbose=0, learning_rate=0.03, length_sorted=True)
    assert len(run.history["loss"]) == 3
    assert run.history["loss"][-1] < run.history["loss"][0]



def test_fit_translation_moves_the_shuffling_with_the_seed_offset(monkeypatch):
    seeds = []

    class Recording(LengthSortedBatches):
        def __init__(self, pairs, batch_size, seed):
            seeds.append(seed)
            super().__init__(pairs, batch_size, seed=seed)

    monkeypatch.setattr(training, "LengthSortedBatches", Recording)
    pairs = random_pairs(n=16)
    for offset in ("0", "2"):
        monkeypatch.setenv("SEQKERAS_SEED_OFFSET", offset)
        training.fit_translation(Seq2Seq(20, 20, 4, 8), pairs, pairs, 1, batch_size=8,
                                 verbose=0, length_sorted=True, seed=5)
    assert seeds == [5, 7]
