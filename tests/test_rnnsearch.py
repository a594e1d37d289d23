"""RNNsearch, Bahdanau et al.'s own decoder: the previous state queries the annotations and
the context enters the recurrence."""

import keras
import numpy as np
import pytest

from seqkeras import training
from seqkeras.data import TranslationBatch
from seqkeras.layers import BahdanauAttention
from seqkeras.models import RNNsearch

from conftest import to_numpy

SOURCE = np.array([[5, 6, 7, 8, 0], [9, 4, 3, 0, 0]], "int32")


def model(embedding_dim=4, units=6):
    keras.utils.set_random_seed(0)
    return RNNsearch(12, 14, BahdanauAttention(5), embedding_dim, units)


def test_the_first_word_is_placed_by_the_encoder_state_alone():
    rnnsearch = model()
    rnnsearch((SOURCE, np.ones((2, 1), "int32")))
    # large weights, so that the first word moves s_1 and a peaked softmax shows it
    rnnsearch.attention.v_a.assign(50 * rnnsearch.attention.v_a)
    rnnsearch.target_embedding.embeddings.assign(100 * rnnsearch.target_embedding.embeddings)
    encoded = rnnsearch.encode(SOURCE)
    prefix = np.array([[1, 4, 5], [1, 6, 7]], "int32")
    other = prefix.copy()
    other[:, 0] = 3  # another first input word: s_1 changes, s_0 does not
    _, weights = rnnsearch.decode(prefix, encoded, return_weights=True)
    _, other_weights = rnnsearch.decode(other, encoded, return_weights=True)
    # row 1 is queried by s_0, before the decoder read y_0; row 2 by s_1, after
    np.testing.assert_allclose(to_numpy(weights[:, 0]), to_numpy(other_weights[:, 0]), atol=1e-7)
    assert np.abs(to_numpy(weights[:, 1]) - to_numpy(other_weights[:, 1])).max() > 1e-4
    assert (to_numpy(weights)[:, :, 4] == 0).all() and (to_numpy(weights)[1, :, 3:] == 0).all()


def test_the_context_enters_the_recurrence_and_the_output():
    rnnsearch = model(embedding_dim=4, units=6)
    rnnsearch((SOURCE, np.ones((2, 3), "int32")))
    # the cell reads [E y_{i-1} ; c_i]; the output layer [s_{i-1} ; E y_{i-1} ; c_i]
    assert rnnsearch.decoder.cell.kernel.shape == (4 + 6, 4 * 6)
    assert rnnsearch.attentional.kernel.shape == (6 + 4 + 6, 6)


def test_saves_and_loads_and_trains(tmp_path):
    rnnsearch = model()
    decoder_input = np.array([[1, 4, 5, 6], [1, 7, 8, 0]], "int32")
    expected = to_numpy(rnnsearch((SOURCE, decoder_input)))
    rnnsearch.save(tmp_path / "rnnsearch.keras")
    loaded = keras.models.load_model(tmp_path / "rnnsearch.keras", safe_mode=True)
    np.testing.assert_allclose(to_numpy(loaded((SOURCE, decoder_input))), expected, atol=1e-6)
    target = np.array([[4, 5, 6, 2], [7, 8, 2, 0]], "int32")
    pairs = TranslationBatch(np.repeat(SOURCE, 8, 0), np.repeat(decoder_input, 8, 0),
                             np.repeat(target, 8, 0), ["x"] * 16, ["x"] * 16)
    run = training.fit_translation(model(), pairs, pairs, 10, batch_size=8, verbose=0,
                                   learning_rate=0.05)
    assert run.history["loss"][-1] < 0.5 * run.history["loss"][0]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="JAX traces every batch at its own concrete width")
def test_batches_of_unknown_length_are_refused_with_the_way_out():
    pairs = TranslationBatch(np.repeat(SOURCE, 4, 0), np.ones((8, 4), "int32"),
                             np.ones((8, 4), "int32"), ["x"] * 8, ["x"] * 8)
    with pytest.raises(ValueError, match="length_sorted=False"):
        training.fit_translation(model(), pairs, pairs, 1, batch_size=4, verbose=0,
                                 length_sorted=True)
