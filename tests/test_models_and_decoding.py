"""The recurrent models and text sampling."""

import keras
import numpy as np
import pytest

from seqkeras import data, decoding, metrics, models
from seqkeras.layers import ElmanCell, GRUCell, LSTMCell

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


@pytest.mark.parametrize("bidirectional", [False, True])
def test_tagger_sees_the_future_only_when_bidirectional(vocab, rng, bidirectional):
    model = models.rnn_tagger(len(vocab), LSTMCell(6), num_layers=2, bidirectional=bidirectional)
    x = rng.integers(1, len(vocab), size=(2, 9)).astype("int32")
    changed_last = x.copy()
    changed_last[:, -1] = np.where(x[:, -1] == 1, 2, 1)
    first, second = to_numpy(model(x)), to_numpy(model(changed_last))
    assert first.shape == (2, 9) and ((first > 0) & (first < 1)).all()
    # The first position's output reads the last character only in a bidirectional model.
    assert np.allclose(first[:, :-1], second[:, :-1]) is not bidirectional
    rnn_weights = [w for layer in model.layers if "rnn" in layer.name or "bidir" in layer.name
                   for w in layer.weights]
    assert len(rnn_weights) == 3 * 2 * (2 if bidirectional else 1)  # fresh cell per copy
    assert len({id(w) for w in rnn_weights}) == len(rnn_weights)


def test_tagger_save_load_and_errors(tmp_path, vocab, rng):
    model = models.rnn_tagger(len(vocab), GRUCell(4), bidirectional=True, merge_mode="sum")
    x = rng.integers(1, len(vocab), size=(3, 7)).astype("int32")
    path = tmp_path / "tagger.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(to_numpy(model(x)), to_numpy(loaded(x)))
    with pytest.raises(ValueError, match="num_layers must be a positive integer"):
        models.rnn_tagger(len(vocab), GRUCell(4), num_layers=0)


def test_training_fit_compiles_trains_and_times_epochs(rng, capsys):
    from seqkeras import training

    x, y = data.adding_problem(64, 8, seed=0)
    run = training.fit(models.rnn_forecaster(ElmanCell(4), num_features=2), x, y[:, None],
                       validation_data=(x[:16], y[:16, None]), epochs=4, loss="mse",
                       batch_size=16, verbose=0, callbacks=[training.PrintEvery(2)])
    assert len(run.history["loss"]) == len(run.history["val_loss"]) == 4
    assert run.seconds_per_epoch > 0
    assert run.model.optimizer.clipnorm == 1.0
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in printed] == ["epoch    2", "epoch    4"]
    assert not run.model.run_eagerly
    eager = training.fit(models.rnn_forecaster(ElmanCell(4), num_features=2), x, y[:, None],
                         validation_data=None, epochs=1, loss="mse", verbose=0,
                         run_eagerly=True)
    assert eager.model.run_eagerly and len(eager.history["loss"]) == 1
