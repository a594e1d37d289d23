"""The recurrent models and text sampling."""

import keras
import numpy as np
import pytest

from seqkeras import data, decoding, metrics, models
from seqkeras.layers import ElmanCell

from conftest import to_numpy


@pytest.fixture(scope="module")
def vocab():
    return data.CharVocabulary("abc \n")


def test_language_model_shapes_and_save_load(tmp_path, vocab, rng):
    model = models.rnn_language_model(len(vocab), ElmanCell(8), embedding_dim=4)
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[metrics.BitsPerCharacter()])
    x = rng.integers(1, len(vocab), size=(3, 11))
    assert tuple(model(x).shape) == (3, 11, len(vocab))
    model.fit(x, np.roll(x, -1, axis=1), epochs=1, verbose=0)
    path = tmp_path / "lm.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(to_numpy(model(x)), to_numpy(loaded(x)))


def test_forecaster_shapes(rng):
    model = models.rnn_forecaster(ElmanCell(5))
    assert tuple(model(rng.normal(size=(4, 20, 1)).astype("float32")).shape) == (4, 1)


def test_sample_text_follows_the_model(vocab):
    model = models.rnn_language_model(len(vocab), ElmanCell(8), embedding_dim=4)
    readout = model.get_layer("logits")
    kernel, bias = readout.get_weights()
    bias[:] = -20.0
    bias[vocab.encode("b")[0]] = 20.0  # the model is sure the next character is "b"
    readout.set_weights([np.zeros_like(kernel), bias])
    text = decoding.sample_text(model, vocab, "ab", length=12, temperature=0.7, seed=3)
    assert text == "b" * 12
    bias[:] = 0.0  # uniform: every character but padding appears, reproducibly for a seed
    readout.set_weights([np.zeros_like(kernel), bias])
    first = decoding.sample_text(model, vocab, "a", length=200, temperature=1.0, seed=4)
    assert len(first) == 200 and set(first) == set(vocab.characters)
    assert first == decoding.sample_text(model, vocab, "a", length=200, temperature=1.0, seed=4)


def test_sample_text_errors(vocab):
    model = models.rnn_language_model(len(vocab), ElmanCell(4), embedding_dim=2)
    with pytest.raises(ValueError, match="temperature"):
        decoding.sample_text(model, vocab, "a", temperature=0)
    with pytest.raises(ValueError, match="prompt"):
        decoding.sample_text(model, vocab, "")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        decoding.sample_text(model, vocab, "xyz")
