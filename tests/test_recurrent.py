"""The seqkeras cells against their Keras twins (SimpleRNN, LSTM, GRU), the equations, their
errors, serialisation, and Keras' own layer-test harness."""

import keras
import numpy as np
import pytest
from absl.testing import parameterized
from keras.src import testing

from seqkeras import interop
from seqkeras.layers import ElmanCell, GRUCell, LSTMCell

from conftest import to_numpy

BATCH, STEPS, FEATURES, UNITS = 6, 12, 5, 7

# name -> (make a seqkeras cell, the Keras twin layer it converts to)
CELLS = {
    "elman": (lambda **kw: ElmanCell(UNITS, **kw), keras.layers.SimpleRNN),
    "lstm": (lambda **kw: LSTMCell(UNITS, **kw), keras.layers.LSTM),
    "gru": (lambda **kw: GRUCell(UNITS, **kw), keras.layers.GRU),
    "gru_reset_before": (lambda **kw: GRUCell(UNITS, reset_after=False, **kw), keras.layers.GRU),
}
TWIN_LAYERS = {
    "elman": lambda **kw: keras.layers.SimpleRNN(UNITS, **kw),
    "lstm": lambda **kw: keras.layers.LSTM(UNITS, **kw),
    "gru": lambda **kw: keras.layers.GRU(UNITS, **kw),
    "gru_reset_before": lambda **kw: keras.layers.GRU(UNITS, reset_after=False, **kw),
}


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


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("mask_kind", ["none", "right", "left", "holes"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_rnn_of_seqkeras_cell_equals_its_keras_twin(rng, name, mask_kind, go_backwards):
    make_cell, twin_type = CELLS[name]
    layer = keras.layers.RNN(make_cell(), return_sequences=True, return_state=True,
                             go_backwards=go_backwards)
    layer.build((None, None, FEATURES))
    randomise(layer, rng)
    twin = interop.to_keras(layer)
    assert type(twin) is twin_type
    assert twin.go_backwards is go_backwards and twin.return_state
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    mask = padding_mask(rng, mask_kind)
    assert_close(layer(x, mask=mask), twin(x, mask=mask))


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("mask_kind", ["right", "left", "holes"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_from_keras_gives_an_equal_layer(rng, name, mask_kind, use_bias):
    twin = TWIN_LAYERS[name](use_bias=use_bias, return_sequences=False, go_backwards=True)
    twin.build((None, None, FEATURES))
    randomise(twin, rng)
    layer = interop.from_keras(twin)
    assert type(layer) is keras.layers.RNN and isinstance(layer.cell, type(CELLS[name][0]()))
    assert layer.return_sequences is False and layer.go_backwards is True
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    mask = padding_mask(rng, mask_kind)
    assert_close(layer(x, mask=mask), twin(x, mask=mask))
    assert_close(interop.to_keras(layer)(x, mask=mask), twin(x, mask=mask))


@pytest.mark.parametrize("name", ["lstm", "gru", "gru_reset_before"])
def test_twins_built_with_the_same_initialisers_compute_the_same_function(rng, name):
    """The constructor defaults are the twins': same seeds, same weights, same outputs."""
    init = {"kernel_initializer": keras.initializers.GlorotUniform(seed=1),
            "recurrent_initializer": keras.initializers.Orthogonal(seed=2),
            "bias_initializer": keras.initializers.RandomNormal(seed=3)}
    ours = keras.layers.RNN(CELLS[name][0](**init), return_sequences=True)
    theirs = TWIN_LAYERS[name](return_sequences=True, **init)
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    assert_close(ours(x), theirs(x))


def test_lstm_step_equals_the_equations(rng):
    twin = keras.layers.LSTMCell(UNITS)
    twin.build((None, FEATURES))
    randomise(twin, rng)
    cell = interop.from_keras(twin)
    x_t, h_prev, c_prev = (rng.normal(size=(BATCH, d)).astype("float32")
                           for d in (FEATURES, UNITS, UNITS))
    h_t, (h_state, c_t) = cell(x_t, [h_prev, c_prev])
    W_x, W_h, b = (to_numpy(w) for w in (cell.W_x, cell.W_h, cell.b))
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    z_i, z_f, z_g, z_o = np.split(x_t @ W_x + h_prev @ W_h + b, 4, axis=-1)
    c_expected = sigmoid(z_f) * c_prev + sigmoid(z_i) * np.tanh(z_g)
    np.testing.assert_allclose(to_numpy(c_t), c_expected, atol=1e-5)
    np.testing.assert_allclose(to_numpy(h_t), sigmoid(z_o) * np.tanh(c_expected), atol=1e-5)
    assert_close(h_t, h_state)
    assert_close([h_t, c_t], twin(x_t, [h_prev, c_prev])[1])
    i, f, g, o = cell.gates(x_t, h_prev)
    assert_close([i, f, g, o], [sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)])


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_step_equals_the_equations(rng, reset_after):
    twin = keras.layers.GRUCell(UNITS, reset_after=reset_after)
    twin.build((None, FEATURES))
    randomise(twin, rng)
    cell = interop.from_keras(twin)
    x_t, h_prev = (rng.normal(size=(BATCH, d)).astype("float32") for d in (FEATURES, UNITS))
    h_t, _ = cell(x_t, [h_prev])
    W_x, W_h, b = (to_numpy(w) for w in (cell.W_x, cell.W_h, cell.b))
    W_hz, W_hr, W_hh = np.split(W_h, 3, axis=-1)
    b_x, b_h = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
    x_z, x_r, x_h = np.split(x_t @ W_x + b_x, 3, axis=-1)
    b_hz, b_hr, b_hh = np.split(b_h, 3)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    z = sigmoid(x_z + h_prev @ W_hz + b_hz)
    r = sigmoid(x_r + h_prev @ W_hr + b_hr)
    candidate = (np.tanh(x_h + r * (h_prev @ W_hh + b_hh)) if reset_after
                 else np.tanh(x_h + (r * h_prev) @ W_hh))
    np.testing.assert_allclose(to_numpy(h_t), z * h_prev + (1 - z) * candidate, atol=1e-5)
    assert_close(h_t, twin(x_t, [h_prev])[0])


def test_elman_step_equals_simple_rnn_cell_and_the_equation(rng):
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


@pytest.mark.parametrize("name", CELLS)
def test_cells_convert_to_cells_and_back(rng, name):
    cell = CELLS[name][0]()
    cell.build((None, FEATURES))
    randomise(cell, rng)
    twin = interop.to_keras(cell)
    assert isinstance(twin, keras.layers.Layer) and not isinstance(twin, keras.layers.RNN)
    again = interop.from_keras(twin)
    assert type(again) is type(cell)
    for ours, back in zip(cell.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, back)


def test_unit_forget_bias_starts_the_forget_gate_at_one():
    cell = LSTMCell(3, bias_initializer="zeros")
    cell.build((None, 2))
    np.testing.assert_array_equal(to_numpy(cell.b), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    plain = LSTMCell(3, unit_forget_bias=False)
    plain.build((None, 2))
    assert not np.any(to_numpy(plain.b))


@pytest.mark.parametrize("name", CELLS)
def test_padding_never_changes_a_real_position(rng, name):
    layer = keras.layers.RNN(CELLS[name][0](), return_sequences=True)
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    mask = padding_mask(rng, "right")
    garbage = np.where(mask[..., None], x, 1e3 * rng.normal(size=x.shape)).astype("float32")
    clean, dirty = to_numpy(layer(x, mask=mask)), to_numpy(layer(garbage, mask=mask))
    np.testing.assert_allclose(clean[mask], dirty[mask], atol=1e-6)


@pytest.mark.parametrize("cell_type", [ElmanCell, LSTMCell, GRUCell])
@pytest.mark.parametrize("units,error", [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                         ("8", TypeError), (True, TypeError)])
def test_bad_units_are_rejected(cell_type, units, error):
    with pytest.raises(error, match="units must be a positive integer"):
        cell_type(units)


@pytest.mark.parametrize("reset_after", ["yes", 1, None])
def test_unknown_reset_after_is_rejected(reset_after):
    with pytest.raises(TypeError, match="reset_after must be True or False"):
        GRUCell(4, reset_after=reset_after)


@pytest.mark.parametrize("cell_type", [ElmanCell, LSTMCell, GRUCell])
def test_unknown_activation_is_rejected(cell_type):
    with pytest.raises(ValueError, match="tanhh"):
        cell_type(4, activation="tanhh")


@pytest.mark.parametrize("cell_type", [ElmanCell, LSTMCell, GRUCell])
def test_sequence_input_to_the_cell_is_rejected_with_a_hint(cell_type):
    with pytest.raises(ValueError, match=f"{cell_type.__name__} expects one time step.*"
                                         "Wrap the cell in keras.layers.RNN"):
        cell_type(4).build((2, 10, 3))


def test_interop_errors():
    with pytest.raises(ValueError, match="must be built"):
        interop.to_keras(LSTMCell(4))
    dense = keras.layers.Dense(3)
    dense.build((None, 2))
    with pytest.raises(TypeError, match="Dense"):
        interop.to_keras(dense)
    with pytest.raises(TypeError, match="Dense"):
        interop.from_keras(dense)
    for twin in (keras.layers.SimpleRNN(4, dropout=0.2), keras.layers.LSTM(4, dropout=0.2),
                 keras.layers.GRU(4, recurrent_dropout=0.1)):
        twin.build((None, None, 3))
        with pytest.raises(ValueError, match="dropout"):
            interop.from_keras(twin)


@pytest.mark.parametrize("cell", [
    ElmanCell(9, activation="relu", use_bias=False, recurrent_initializer="identity"),
    LSTMCell(9, recurrent_activation="hard_sigmoid", unit_forget_bias=False),
    GRUCell(9, reset_after=False, use_bias=False),
], ids=["elman", "lstm", "gru"])
def test_get_config_round_trip(cell, rng):
    """A clone from the config, given the same weights, computes the same function: a config
    that dropped or misnamed any of these non-default arguments (an activation, the bias, the
    GRU's reset position) would build a different cell or other weights."""
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    original = keras.layers.RNN(cell, return_sequences=True)
    expected = to_numpy(original(x))
    clone = keras.layers.RNN(type(cell).from_config(cell.get_config()), return_sequences=True)
    clone(x)
    clone.set_weights(original.get_weights())
    np.testing.assert_allclose(to_numpy(clone(x)), expected, atol=1e-6)
    # the same cell with its default arguments computes something else
    default = keras.layers.RNN(type(cell)(cell.units), return_sequences=True)
    default(x)
    if [w.shape for w in default.get_weights()] == [w.shape for w in original.get_weights()]:
        default.set_weights(original.get_weights())
        assert np.abs(to_numpy(default(x)) - expected).max() > 1e-3


@pytest.mark.parametrize("name", CELLS)
def test_save_and_load_keras_file_with_safe_mode(tmp_path, rng, name):
    inputs = keras.Input((None, FEATURES))
    h = keras.layers.RNN(CELLS[name][0](), return_sequences=True)(inputs)
    h = keras.layers.Bidirectional(keras.layers.RNN(CELLS[name][0]()))(h)
    model = keras.Model(inputs, keras.layers.Dense(2)(h))
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded.layers[1].cell) is type(model.layers[1].cell)
    np.testing.assert_array_equal(to_numpy(model(x)), to_numpy(loaded(x)))


HARNESS_CELLS = {"elman": lambda: ElmanCell(3), "lstm": lambda: LSTMCell(3),
                 "gru": lambda: GRUCell(3),
                 "gru_reset_before": lambda: GRUCell(3, reset_after=False)}
HARNESS_FLAGS = {"last": ({}, (3, 3)), "sequences": ({"return_sequences": True}, (3, 2, 3)),
                 "unrolled_backwards": ({"unroll": True, "go_backwards": True}, (3, 3))}
EACH_CELL = [{"testcase_name": name, "make": make} for name, make in HARNESS_CELLS.items()]


class KerasLayerTests(testing.TestCase):
    """Keras' own harness, as it tests LSTM and GRU: config round trips, symbolic calls, masking,
    a training step and mixed precision, plus stateful, unrolled and bidirectional use. One test
    per cell (and per RNN flags), so a failure names its case and none hides another."""

    custom_objects = {c.__name__: c for c in (ElmanCell, LSTMCell, GRUCell)}

    @parameterized.named_parameters(
        {"testcase_name": f"{cell}_{flags}", "make": make, "flags": HARNESS_FLAGS[flags][0],
         "output_shape": HARNESS_FLAGS[flags][1]}
        for cell, make in HARNESS_CELLS.items() for flags in HARNESS_FLAGS)
    def test_run_layer_test(self, make, flags, output_shape):
        self.run_layer_test(
            keras.layers.RNN, init_kwargs={"cell": make(), **flags},
            input_shape=(3, 2, 4), expected_output_shape=output_shape,
            expected_num_trainable_weights=3, supports_masking=True,
            custom_objects=self.custom_objects)

    @parameterized.named_parameters(EACH_CELL)
    def test_stateful_carries_the_state_across_calls(self, make):
        x = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
        layer = keras.layers.RNN(make(), stateful=True)
        first, second = to_numpy(layer(x)), to_numpy(layer(x))
        assert not np.allclose(first, second)
        layer.reset_states()
        np.testing.assert_allclose(to_numpy(layer(x)), first, atol=1e-6)
        # Running both halves statefully equals one pass over the whole sequence.
        whole = keras.layers.RNN(make())
        whole.build((None, None, 3))
        whole.set_weights(layer.get_weights())
        layer.reset_states()
        layer(x[:, :2])
        np.testing.assert_allclose(to_numpy(layer(x[:, 2:])), to_numpy(whole(x)),
                                   atol=1e-5)

    @parameterized.named_parameters(EACH_CELL)
    def test_bidirectional_equals_the_twins_bidirectional(self, make):
        rng = np.random.default_rng(1)
        x = rng.normal(size=(2, 5, 3)).astype("float32")
        ours = keras.layers.Bidirectional(keras.layers.RNN(make(),
                                                           return_sequences=True))
        ours.build((None, None, 3))
        # Bidirectional copies the layer it wraps by its config: fresh weights, which
        # the twin then receives from ours, direction by direction.
        theirs = keras.layers.Bidirectional(interop.to_keras(ours.forward_layer))
        theirs.build((None, None, 3))
        for direction in ("forward_layer", "backward_layer"):
            getattr(theirs, direction).set_weights(
                interop.to_keras(getattr(ours, direction)).get_weights())
        assert theirs.backward_layer.go_backwards
        assert_close(ours(x), theirs(x))

    @parameterized.named_parameters(EACH_CELL)
    def test_mixed_precision_outputs_float16_under_the_rnn_policy(self, make):
        x = np.random.default_rng(2).normal(size=(2, 5, 3)).astype("float32")
        layer = keras.layers.RNN(make(), dtype="mixed_float16")
        assert keras.backend.standardize_dtype(layer(x).dtype) == "float16"
        assert keras.backend.standardize_dtype(layer.cell.weights[0].dtype) == "float32"
