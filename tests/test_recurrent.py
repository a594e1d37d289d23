"""ElmanCell against keras.layers.SimpleRNNCell / SimpleRNN, its errors, and serialisation."""

import keras
import numpy as np
import pytest

from seqkeras import interop
from seqkeras.layers import ElmanCell

from conftest import to_numpy

BATCH, STEPS, FEATURES, UNITS = 6, 12, 5, 7


def padding_mask(rng, kind):
    lengths = rng.integers(1, STEPS + 1, size=(BATCH, 1))
    positions = np.arange(STEPS)[None, :]
    if kind == "right":
        return positions < lengths
    if kind == "left":
        return positions >= STEPS - lengths
    if kind == "holes":
        mask = rng.random((BATCH, STEPS)) > 0.3
        mask[:, 0] = True
        return mask
    return None


def randomise(layer, rng):
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                       for w in layer.get_weights()])


def assert_close(ours, theirs):
    ours = ours if isinstance(ours, (list, tuple)) else [ours]
    theirs = theirs if isinstance(theirs, (list, tuple)) else [theirs]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert np.abs(to_numpy(a) - to_numpy(b)).max() <= 1e-5


@pytest.mark.parametrize("mask_kind", ["none", "right", "left", "holes"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_rnn_of_elman_cell_equals_simple_rnn(rng, mask_kind, go_backwards):
    layer = keras.layers.RNN(ElmanCell(UNITS), return_sequences=True, return_state=True,
                             go_backwards=go_backwards)
    layer.build((None, None, FEATURES))
    randomise(layer, rng)
    twin = interop.to_keras(layer)
    assert isinstance(twin, keras.layers.SimpleRNN)
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    mask = padding_mask(rng, mask_kind)
    assert_close(layer(x, mask=mask), twin(x, mask=mask))


@pytest.mark.parametrize("activation,use_bias", [("tanh", True), ("relu", False),
                                                 ("sigmoid", True)])
def test_from_keras_simple_rnn_gives_an_equal_layer(rng, activation, use_bias):
    twin = keras.layers.SimpleRNN(UNITS, activation=activation, use_bias=use_bias,
                                  return_sequences=False)
    twin.build((None, None, FEATURES))
    randomise(twin, rng)
    layer = interop.from_keras(twin)
    assert type(layer) is keras.layers.RNN and isinstance(layer.cell, ElmanCell)
    assert layer.return_sequences is False
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    mask = padding_mask(rng, "right")
    assert_close(layer(x, mask=mask), twin(x, mask=mask))


def test_cell_step_equals_simple_rnn_cell_and_the_equation(rng):
    twin = keras.layers.SimpleRNNCell(UNITS)
    twin.build((None, FEATURES))
    randomise(twin, rng)
    cell = interop.from_keras(twin)
    x_t = rng.normal(size=(BATCH, FEATURES)).astype("float32")
    h_prev = rng.normal(size=(BATCH, UNITS)).astype("float32")
    h_t, (h_state,) = cell(x_t, [h_prev])
    assert_close(h_t, twin(x_t, [h_prev])[0])
    W_xh, W_hh, b_h = (to_numpy(w) for w in (cell.W_xh, cell.W_hh, cell.b_h))
    np.testing.assert_allclose(to_numpy(h_t), np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h),
                               atol=1e-5)
    assert_close(h_t, h_state)
    back = interop.to_keras(cell)
    assert_close(back(x_t, [h_prev])[0], h_t)


def test_padding_never_changes_a_real_position(rng):
    layer = keras.layers.RNN(ElmanCell(UNITS), return_sequences=True)
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    mask = padding_mask(rng, "right")
    garbage = np.where(mask[..., None], x, 1e3 * rng.normal(size=x.shape)).astype("float32")
    clean, dirty = to_numpy(layer(x, mask=mask)), to_numpy(layer(garbage, mask=mask))
    np.testing.assert_allclose(clean[mask], dirty[mask], atol=1e-6)


@pytest.mark.parametrize("units", [0, -3, 2.5, "8", True])
def test_bad_units_are_rejected(units):
    with pytest.raises(ValueError, match="units must be a positive integer"):
        ElmanCell(units)


def test_unknown_activation_is_rejected():
    with pytest.raises(ValueError, match="tanhh"):
        ElmanCell(4, activation="tanhh")


def test_sequence_input_to_the_cell_is_rejected_with_a_hint():
    with pytest.raises(ValueError, match="Wrap the cell in keras.layers.RNN"):
        ElmanCell(4).build((2, 10, 3))


def test_interop_errors():
    with pytest.raises(ValueError, match="must be built"):
        interop.to_keras(ElmanCell(4))
    dense = keras.layers.Dense(3)
    dense.build((None, 2))
    with pytest.raises(TypeError, match="Dense"):
        interop.to_keras(dense)
    with pytest.raises(TypeError, match="Dense"):
        interop.from_keras(dense)
    twin = keras.layers.SimpleRNN(4, dropout=0.2)
    twin.build((None, None, 3))
    with pytest.raises(ValueError, match="dropout"):
        interop.from_keras(twin)


def test_get_config_round_trip():
    cell = ElmanCell(9, activation="relu", use_bias=False, recurrent_initializer="identity")
    clone = ElmanCell.from_config(cell.get_config())
    assert clone.get_config() == cell.get_config()


def test_save_and_load_keras_file_with_safe_mode(tmp_path, rng):
    inputs = keras.Input((None, FEATURES))
    h = keras.layers.RNN(ElmanCell(UNITS, activation="relu"), return_sequences=True)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(h))
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    path = tmp_path / "elman.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded.layers[1].cell, ElmanCell)
    np.testing.assert_array_equal(to_numpy(model(x)), to_numpy(loaded(x)))
