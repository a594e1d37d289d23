"""The attention layers against keras.layers.Attention / AdditiveAttention, their masks, errors
and serialisation."""

import keras
import numpy as np
import pytest
from keras import ops

from seqkeras import interop
from seqkeras.layers import BahdanauAttention, LocalAttention, LuongAttention, masked_softmax

from conftest import to_numpy

BATCH, T_Q, T_V, D = 5, 4, 7, 6


@pytest.fixture
def inputs(rng):
    query = rng.normal(size=(BATCH, T_Q, D)).astype("float32")
    values = rng.normal(size=(BATCH, T_V, D)).astype("float32")
    lengths = rng.integers(1, T_V + 1, size=(BATCH, 1))
    lengths[0] = T_V
    mask = np.arange(T_V)[None, :] < lengths
    return query, values, mask


def randomise(layer, rng):
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                       for w in layer.get_weights()])


def assert_close(a, b):
    assert np.abs(to_numpy(a) - to_numpy(b)).max() <= 1e-5


TWINNED = {
    "bahdanau": lambda: BahdanauAttention(8),
    "dot": lambda: LuongAttention("dot"),
    "general": lambda: LuongAttention("general"),
    "concat": lambda: LuongAttention("concat", units=8),
}


@pytest.mark.parametrize("name", TWINNED)
@pytest.mark.parametrize("with_mask", [False, True])
def test_layers_equal_keras_attention_and_additive_attention(inputs, rng, name, with_mask):
    """dot/general vs keras.layers.Attention, Bahdanau/concat vs AdditiveAttention."""
    query, values, mask = inputs
    values_mask = mask if with_mask else None
    layer = TWINNED[name]()
    layer(query, values)
    randomise(layer, rng)
    twin = interop.keras_attention(layer)
    ours, theirs = layer(query, values, values_mask=values_mask), twin(query, values, values_mask)
    assert_close(ours[0], theirs[0])
    assert_close(ours[1], theirs[1])


def test_keras_attention_needs_a_counterpart_and_a_built_layer(inputs):
    query, values, _ = inputs
    with pytest.raises(ValueError, match="must be built"):
        interop.keras_attention(LuongAttention("dot"))
    for layer in (LuongAttention("location"), LocalAttention(2)):
        layer(query, values)
        with pytest.raises(ValueError, match="no Keras counterpart"):
            interop.keras_attention(layer)


LAYERS = {
    "bahdanau": lambda: BahdanauAttention(8),
    "dot": lambda: LuongAttention("dot"),
    "general": lambda: LuongAttention("general"),
    "concat": lambda: LuongAttention("concat", units=8),
    "location": lambda: LuongAttention("location"),
    "local": lambda: LocalAttention(2),
}


@pytest.mark.parametrize("name", LAYERS)
def test_padded_positions_get_zero_weight_and_rows_are_distributions(inputs, rng, name):
    query, values, mask = inputs
    layer = LAYERS[name]()
    layer(query, values, values_mask=mask)
    randomise(layer, rng)
    context, weights = layer(query, values, values_mask=mask)
    weights = to_numpy(weights)
    assert context.shape == (BATCH, T_Q, D) and weights.shape == (BATCH, T_Q, T_V)
    assert np.all(weights[np.broadcast_to(~mask[:, None, :], weights.shape)] == 0.0)
    assert np.all(weights >= 0)
    sums = weights.sum(-1)
    if name == "local":  # the Gaussian factor leaves each row at most 1
        assert np.all(sums <= 1 + 1e-6) and np.all(sums > 0)
    else:
        np.testing.assert_allclose(sums, 1.0, atol=1e-5)
    # padding content never reaches the context
    noisy = values.copy()
    noisy[~mask] = 100.0
    assert_close(layer(query, noisy, values_mask=mask)[0], context)


def numpy_predicted_position(layer, query, mask):
    """Luong et al.'s eq. (9) in NumPy from the layer's weights, p_t = S sigmoid(v_p tanh(W_p h_t))
    with S the real source length; independent of ``LocalAttention.predicted_position``."""
    W_p, v_p = to_numpy(layer.W_p), to_numpy(layer.v_p)
    gate = 1.0 / (1.0 + np.exp(-(np.tanh(query @ W_p) @ v_p)))
    return mask.sum(-1)[:, None] * gate


def test_local_attention_is_zero_outside_its_window(inputs, rng):
    query, values, mask = inputs
    layer = LocalAttention(1)
    layer(query, values, values_mask=mask)
    randomise(layer, rng)
    _, weights = layer(query, values, values_mask=mask)
    p_t = numpy_predicted_position(layer, query, mask)
    lengths = mask.sum(-1)
    assert np.all(p_t > 0) and np.all(p_t < lengths[:, None])
    distance = np.abs(np.arange(T_V)[None, None, :] - p_t[..., None])
    assert np.all(to_numpy(weights)[distance > 1] == 0.0)
    assert np.all(to_numpy(weights)[(distance <= 1) & mask[:, None, :]] > 0)


def test_local_attention_equals_its_formula(inputs, rng):
    query, values, mask = inputs
    layer = LocalAttention(2, score="dot")
    layer(query, values, values_mask=mask)
    randomise(layer, rng)
    _, weights = layer(query, values, values_mask=mask)
    p_t = numpy_predicted_position(layer, query, mask)
    scores = np.einsum("bqd,bvd->bqv", query, values)
    distance = np.arange(T_V)[None, None, :] - p_t[..., None]
    allowed = (np.abs(distance) <= 2) & mask[:, None, :]
    exp = np.where(allowed, np.exp(scores - scores.max(-1, keepdims=True)), 0.0)
    expected = exp / exp.sum(-1, keepdims=True) * np.exp(-distance ** 2 / (2 * 1.0 ** 2))
    np.testing.assert_allclose(to_numpy(weights), expected, atol=1e-5)


def test_masked_softmax_of_fully_masked_row_is_zero():
    weights = masked_softmax(ops.ones((1, 2, 3)), np.array([[[True, False, True]],
                                                            [[False, False, False]]]))
    np.testing.assert_allclose(to_numpy(weights)[0, 0], [0.5, 0.0, 0.5])
    assert np.all(to_numpy(weights)[1] == 0.0)


@pytest.mark.parametrize("name", LAYERS)
def test_save_load_round_trip(tmp_path, inputs, rng, name):
    query, values, mask = inputs
    q_in, v_in = keras.Input((T_Q, D)), keras.Input((T_V, D))
    m_in = keras.Input((T_V,), dtype="bool")
    context, weights = LAYERS[name]()(q_in, v_in, values_mask=m_in)
    model = keras.Model([q_in, v_in, m_in], [context, weights])
    for layer in model.layers:
        randomise(layer, rng)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    for a, b in zip(model([query, values, mask]), loaded([query, values, mask]), strict=True):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_unknown_score_and_bad_arguments_are_clear_errors(inputs):
    query, values, mask = inputs
    with pytest.raises(ValueError, match="score must be one of"):
        LuongAttention("cosine")
    with pytest.raises(ValueError, match="concat score needs units"):
        LuongAttention("concat")
    with pytest.raises(ValueError, match="units must be a positive integer"):
        BahdanauAttention(0)
    with pytest.raises(ValueError, match="window must be a positive integer"):
        LocalAttention(0)
    with pytest.raises(ValueError, match="needs a content score"):
        LocalAttention(2, score="location")
    with pytest.raises(ValueError, match="same size"):
        LuongAttention("dot")(query, values[..., :3])
    with pytest.raises(ValueError, match="rank 3"):
        BahdanauAttention(4)(query[:, 0], values)
    with pytest.raises(ValueError, match=r"values_mask must have shape \(batch, T\)"):
        BahdanauAttention(4)(query, values, values_mask=mask[:, :3])
    layer = LuongAttention("location")
    layer(query, values[:, :5])
    with pytest.raises(ValueError, match="built for sources of at most 5 positions"):
        layer(query, values)


def test_location_score_on_a_shorter_source_is_the_padded_source_with_the_tail_masked(rng):
    """A location layer built for T_v positions scores a shorter source with its first columns:
    the same weights as the full-length source whose extra positions are padding."""
    query = rng.normal(size=(2, 3, 4)).astype("float32")
    values = rng.normal(size=(2, 7, 4)).astype("float32")
    layer = LuongAttention("location")
    layer(query, values)
    randomise(layer, rng)
    short_context, short_weights = layer(query, values[:, :5])
    padded_mask = np.arange(7)[None, :] < 5
    padded_context, padded_weights = layer(query, values, values_mask=padded_mask.repeat(2, 0))
    np.testing.assert_allclose(to_numpy(short_weights), to_numpy(padded_weights)[..., :5],
                               atol=1e-6)
    np.testing.assert_allclose(to_numpy(short_context), to_numpy(padded_context), atol=1e-5)
    assert to_numpy(padded_weights)[..., 5:].max() == 0
