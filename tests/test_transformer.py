"""Chapter 8's layers against their Keras / keras_hub twins; masks, causality, errors,
serialisation; the warm-up schedule and the label-smoothed loss."""

import keras
import keras_hub
import numpy as np
import pytest

from seqkeras import interop
from seqkeras.layers import (
    MultiHeadAttention,
    PositionEmbedding,
    SinusoidalPositionalEncoding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
    scaled_dot_product_attention,
)
from seqkeras.losses import SmoothedCrossEntropy
from seqkeras.models import Transformer
from seqkeras.schedules import TransformerSchedule

from conftest import to_numpy

BATCH, T, S, D, HEADS = 4, 6, 7, 16, 4


def randomise(layer, rng):
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                       for w in layer.get_weights()])


def converted_pair(direction, make_ours, make_twin, build, rng):
    """``(ours, twin)`` with equal random weights: built and randomised on the side named by
    ``direction`` ("to_keras": ours first), then converted with ``interop``."""
    if direction == "to_keras":
        ours = make_ours()
        build(ours)
        randomise(ours, rng)
        return ours, interop.to_keras(ours)
    twin = make_twin()
    build(twin)
    randomise(twin, rng)
    return interop.from_keras(twin), twin


def max_diff(a, b):
    return float(np.abs(to_numpy(a) - to_numpy(b)).max())


def padding_mask(rng, batch, length):
    lengths = rng.integers(1, length + 1, size=(batch, 1))
    lengths[0] = length
    return np.arange(length)[None, :] < lengths


@pytest.fixture
def sequences(rng):
    x = rng.normal(size=(BATCH, T, D)).astype("float32")
    z = rng.normal(size=(BATCH, S, D)).astype("float32")
    return x, z, padding_mask(rng, BATCH, T), padding_mask(rng, BATCH, S)


# --- scaled dot-product and multi-head attention ------------------------------------------------

def test_scaled_dot_product_attention_is_the_formula(rng):
    q, k, v = (rng.normal(size=(2, n, d)).astype("float32") for n, d in ((3, 8), (5, 8), (5, 4)))
    mask = np.array([[True] * 5, [True, True, False, False, False]])[:, None, :]
    output, weights = scaled_dot_product_attention(q, k, v, mask)
    scores = np.where(mask, q @ k.transpose(0, 2, 1) / np.sqrt(8), -np.inf)
    expected = np.exp(scores - scores.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    assert max_diff(weights, expected) <= 1e-6
    assert max_diff(output, expected @ v) <= 1e-5
    assert np.all(to_numpy(weights)[1, :, 2:] == 0.0)  # masked keys: exactly zero


# keras.layers.MultiHeadAttention itself fails on JAX when value_dim != key_dim (its fused
# kernel reshapes the values to key_dim); ours is checked there against the formula below.
KERAS_TWIN_HAS_UNEQUAL_HEADS = keras.backend.backend() == "tensorflow"


@pytest.mark.parametrize("value_dim", [None, pytest.param(3, marks=pytest.mark.skipif(
    not KERAS_TWIN_HAS_UNEQUAL_HEADS, reason="keras' own MultiHeadAttention fails on JAX with "
    "value_dim != key_dim; see test_multi_head_attention_with_unequal_head_sizes"))])
@pytest.mark.parametrize("masking", ["none", "padding", "causal", "both"])
@pytest.mark.parametrize("direction", ["to_keras", "from_keras"])
def test_multi_head_attention_equals_keras(sequences, rng, value_dim, masking, direction):
    x, z, _, z_mask = sequences
    query, value = (x, x) if masking in ("causal", "both") else (x, z)
    options = dict(num_heads=HEADS, key_dim=5, value_dim=value_dim, output_shape=None)
    ours, twin = converted_pair(direction, lambda: MultiHeadAttention(**options),
                                lambda: keras.layers.MultiHeadAttention(**options),
                                lambda layer: layer(query, value), rng)
    attention_mask = None
    if masking in ("padding", "both"):
        key_mask = z_mask if value is z else padding_mask(rng, BATCH, T)
        attention_mask = np.broadcast_to(key_mask[:, None, :], (BATCH, T, value.shape[1]))
    causal = masking in ("causal", "both")
    kwargs = dict(attention_mask=attention_mask, use_causal_mask=causal)
    expected, expected_weights = twin(query, value, return_attention_scores=True, **kwargs)
    fast = ours(query, value, **kwargs)  # keras.ops.dot_product_attention
    plain, weights = ours(query, value, return_attention_scores=True, **kwargs)
    assert max_diff(fast, expected) <= 1e-5
    assert max_diff(plain, expected) <= 1e-5
    assert max_diff(weights, expected_weights) <= 1e-5


def test_multi_head_attention_with_a_separate_key_and_no_bias(rng, sequences):
    x, z, _, _ = sequences
    key = rng.normal(size=(BATCH, S, 9)).astype("float32")
    ours = MultiHeadAttention(2, 4, use_bias=False, output_shape=6)
    ours(x, z, key)
    randomise(ours, rng)
    twin = interop.to_keras(ours)
    assert ours(x, z, key).shape == (BATCH, T, 6)
    assert max_diff(ours(x, z, key), twin(x, z, key)) <= 1e-5
    assert max_diff(interop.from_keras(twin)(x, z, key), twin(x, z, key)) <= 1e-5


def test_multi_head_attention_errors(sequences):
    x, z, _, _ = sequences
    with pytest.raises(ValueError, match="num_heads must be a positive integer"):
        MultiHeadAttention(0, 4)
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0.0, 1.0\)"):
        MultiHeadAttention(2, 4, dropout=1.5)
    with pytest.raises(ValueError, match="rank 3"):
        MultiHeadAttention(2, 4)(x[0], z[0])
    with pytest.raises(ValueError, match="attention_mask must have shape"):
        MultiHeadAttention(2, 4)(x, z, attention_mask=np.ones((BATCH, S), bool))
    with pytest.raises(ValueError, match="must be built"):
        interop.to_keras(MultiHeadAttention(2, 4))
    twin = keras.layers.MultiHeadAttention(2, 4, use_gate=True)
    twin(x, z)
    with pytest.raises(ValueError, match="use_gate"):
        interop.from_keras(twin)


def test_attention_dropout_trains_only_in_training(sequences):
    x, z, _, _ = sequences
    layer = MultiHeadAttention(2, 4, dropout=0.5)
    inference = to_numpy(layer(x, z))
    np.testing.assert_allclose(to_numpy(layer(x, z, training=False)), inference, atol=1e-6)
    assert max_diff(layer(x, z, training=True), inference) > 1e-3


# --- positions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("d_model", [16, 7])
def test_sinusoidal_encoding_is_the_formula_and_equals_keras_hub(d_model):
    x = np.zeros((2, 50, d_model), "float32")
    encoding = to_numpy(SinusoidalPositionalEncoding()(x))
    pos, i = np.arange(50)[:, None], np.arange(d_model)[None, :]
    angle = pos / 10000 ** (2 * (i // 2) / d_model)
    expected = np.where(i % 2 == 0, np.sin(angle), np.cos(angle))
    assert np.abs(encoding - expected).max() <= 1e-5
    twin = interop.to_keras(SinusoidalPositionalEncoding())
    assert isinstance(twin, keras_hub.layers.SinePositionEncoding)
    assert max_diff(encoding, twin(x)) <= 1e-5
    ours = interop.from_keras(keras_hub.layers.SinePositionEncoding(max_wavelength=500.0))
    assert max_diff(ours(x), keras_hub.layers.SinePositionEncoding(500.0)(x)) <= 1e-5
    assert max_diff(SinusoidalPositionalEncoding()(x[:, :10], start_index=40),
                    encoding[:, 40:]) <= 1e-5


def test_position_embedding_equals_keras_hub(rng):
    x = np.zeros((2, 9, 6), "float32")
    twin = keras_hub.layers.PositionEmbedding(12)
    twin(x)
    randomise(twin, rng)
    ours = interop.from_keras(twin)
    assert max_diff(ours(x), twin(x)) <= 1e-6
    assert max_diff(interop.to_keras(ours)(x), twin(x)) <= 1e-6
    np.testing.assert_allclose(to_numpy(ours(x[:, :3], start_index=4)),
                               to_numpy(ours.embeddings)[None, 4:7].repeat(2, 0), atol=1e-7)
    with pytest.raises(ValueError, match="more than sequence_length"):
        PositionEmbedding(4)(x)


# --- blocks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("normalize_first", [False, True])
@pytest.mark.parametrize("direction", ["to_keras", "from_keras"])
def test_encoder_block_equals_keras_hub(sequences, rng, normalize_first, direction):
    x, _, x_mask, _ = sequences
    options = dict(num_heads=HEADS, intermediate_dim=24, normalize_first=normalize_first,
                   activation="gelu")
    ours, twin = converted_pair(direction, lambda: TransformerEncoderBlock(**options),
                                lambda: keras_hub.layers.TransformerEncoder(**options),
                                lambda layer: layer(x), rng)
    for mask in (None, x_mask):
        assert max_diff(ours(x, padding_mask=mask), twin(x, padding_mask=mask)) <= 1e-5
    attention_mask = rng.random((BATCH, T, T)) < 0.7
    attention_mask[:, :, 0] = True
    assert max_diff(ours(x, x_mask, attention_mask), twin(x, x_mask, attention_mask)) <= 1e-5
    _, ours_scores = ours(x, x_mask, return_attention_scores=True)
    _, hub_scores = twin(x, x_mask, return_attention_scores=True)
    assert max_diff(ours_scores, hub_scores) <= 1e-5


@pytest.mark.parametrize("normalize_first", [False, True])
@pytest.mark.parametrize("direction", ["to_keras", "from_keras"])
def test_decoder_block_equals_keras_hub(sequences, rng, normalize_first, direction):
    x, z, x_mask, z_mask = sequences
    options = dict(num_heads=HEADS, intermediate_dim=24, normalize_first=normalize_first)
    ours, twin = converted_pair(direction, lambda: TransformerDecoderBlock(**options),
                                lambda: keras_hub.layers.TransformerDecoder(**options),
                                lambda layer: layer(x, z), rng)
    for kwargs in ({}, {"encoder_padding_mask": z_mask},
                   {"encoder_padding_mask": z_mask, "decoder_padding_mask": x_mask},
                   {"encoder_padding_mask": z_mask, "use_causal_mask": False}):
        assert max_diff(ours(x, z, **kwargs), twin(x, z, **kwargs)) <= 1e-5, kwargs


@pytest.mark.parametrize("direction", ["to_keras", "from_keras"])
def test_decoder_block_without_cross_attention_equals_keras_hub(sequences, rng, direction):
    x, z, x_mask, _ = sequences
    ours, twin = converted_pair(direction, lambda: TransformerDecoderBlock(2, 8),
                                lambda: keras_hub.layers.TransformerDecoder(8, 2),
                                lambda layer: layer(x), rng)
    assert ours.cross_attention is None
    assert max_diff(ours(x, decoder_padding_mask=x_mask),
                    twin(x, decoder_padding_mask=x_mask)) <= 1e-5
    with pytest.raises(ValueError, match="the way it was built"):
        ours(x, z)


def test_padding_never_changes_a_real_position(sequences, rng):
    x, z, x_mask, z_mask = sequences
    encoder, decoder = TransformerEncoderBlock(HEADS, 24), TransformerDecoderBlock(HEADS, 24)
    noise = rng.normal(scale=10.0, size=z.shape).astype("float32")
    z_changed = np.where(z_mask[..., None], z, noise)  # only padded positions differ
    out, out_changed = (to_numpy(encoder(v, padding_mask=z_mask)) for v in (z, z_changed))
    np.testing.assert_array_equal(out[z_mask], out_changed[z_mask])
    y, y_changed = (to_numpy(decoder(x, v, encoder_padding_mask=z_mask))
                    for v in (z, z_changed))
    np.testing.assert_allclose(y, y_changed, atol=1e-6)


def test_causal_mask_hides_the_future_bit_for_bit(sequences):
    x, z, _, _ = sequences
    decoder = TransformerDecoderBlock(HEADS, 24)
    changed = x.copy()
    changed[:, 4:] += 5.0
    before, after = to_numpy(decoder(x, z)), to_numpy(decoder(changed, z))
    np.testing.assert_array_equal(before[:, :4], after[:, :4])
    assert np.abs(before[:, 4:] - after[:, 4:]).max() > 1e-3
    attention = MultiHeadAttention(HEADS, 4)
    before = to_numpy(attention(x, x, use_causal_mask=True))
    after = to_numpy(attention(changed, changed, use_causal_mask=True))
    np.testing.assert_array_equal(before[:, :4], after[:, :4])


def test_transformer_decoder_never_sees_a_later_target_word(rng):
    model = Transformer(11, 13, d_model=8, num_heads=2, num_layers=2, intermediate_dim=12)
    source = rng.integers(1, 11, size=(3, 6)).astype("int32")
    target = rng.integers(1, 13, size=(3, 5)).astype("int32")
    changed = target.copy()
    changed[:, 3:] = (changed[:, 3:] % 12) + 1
    before, after = to_numpy(model((source, target))), to_numpy(model((source, changed)))
    np.testing.assert_array_equal(before[:, :3], after[:, :3])


def test_d_model_not_divisible_by_heads_is_an_error():
    with pytest.raises(ValueError, match="d_model=30 must be divisible by num_heads=4"):
        Transformer(10, 10, d_model=30, num_heads=4)
    x = np.zeros((2, 3, 10), "float32")
    with pytest.raises(ValueError, match="d_model=10 is not divisible by num_heads=4"):
        TransformerEncoderBlock(4, 16)(x)
    with pytest.raises(ValueError, match="d_model=10 is not divisible by num_heads=3"):
        TransformerDecoderBlock(3, 16)(x, x)


def test_block_argument_errors(sequences):
    x, z, _, _ = sequences
    with pytest.raises(ValueError, match="intermediate_dim must be a positive integer"):
        TransformerEncoderBlock(2, 0)
    with pytest.raises(ValueError, match="rank 3"):
        TransformerEncoderBlock(2, 8)(x[0])
    with pytest.raises(ValueError, match="padding_mask must have shape"):
        TransformerEncoderBlock(2, 8)(x, padding_mask=np.ones((BATCH, T, T), bool))
    with pytest.raises(ValueError, match="encoder_sequence has 5 features"):
        TransformerDecoderBlock(2, 8)(x, z[..., :5])


# --- serialisation -------------------------------------------------------------------------------

LAYERS = {
    "mha": (lambda: MultiHeadAttention(2, 4, value_dim=4), lambda x, z: ((x, z), {})),
    "sinusoid": (SinusoidalPositionalEncoding, lambda x, z: ((x,), {})),
    "position embedding": (lambda: PositionEmbedding(10), lambda x, z: ((x,), {})),
    "encoder": (lambda: TransformerEncoderBlock(2, 8, dropout=0.1), lambda x, z: ((x,), {})),
    "decoder": (lambda: TransformerDecoderBlock(2, 8, normalize_first=True),
                lambda x, z: ((x, z), {})),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layers_round_trip_through_keras_files(tmp_path, sequences, name):
    x, z, _, _ = sequences
    make, arguments = LAYERS[name]
    args, kwargs = arguments(x, z)
    inputs = [keras.Input(shape=a.shape[1:]) for a in args]
    model = keras.Model(inputs, make()(*inputs, **kwargs))
    path = tmp_path / "layer.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(to_numpy(loaded(list(args))), to_numpy(model(list(args))))


# --- schedule and loss -------------------------------------------------------------------------

def test_warmup_schedule_is_equation_3_and_serialises():
    schedule = TransformerSchedule(512, warmup_steps=4000)
    steps = np.array([0, 999, 3999, 9999, 99999])
    got = np.array([float(schedule(s)) for s in steps])
    n = steps + 1.0
    np.testing.assert_allclose(got, 512 ** -0.5 * np.minimum(n ** -0.5, n * 4000 ** -1.5),
                               rtol=1e-5)
    assert got.argmax() == 2  # the peak is at the end of the warm-up
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert float(again(123)) == pytest.approx(float(schedule(123)))
    with pytest.raises(ValueError, match="warmup_steps"):
        TransformerSchedule(512, warmup_steps=0)


def test_smoothed_cross_entropy(rng):
    y = rng.integers(1, 9, size=(3, 5))
    y[1, 2:] = 0
    logits = rng.normal(size=(3, 5, 9)).astype("float32")
    builtin = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    assert float(SmoothedCrossEntropy(0.0)(y, logits)) == pytest.approx(
        float(builtin(y, logits)), rel=1e-5)
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_p, y[..., None], -1)[..., 0]
    token = 0.9 * nll + 0.1 * -log_p.mean(-1)
    assert float(SmoothedCrossEntropy(0.1)(y, logits)) == pytest.approx(
        token[y != 0].mean(), rel=1e-5)
    with pytest.raises(ValueError, match="label_smoothing"):
        SmoothedCrossEntropy(1.0)


def test_transformer_trains_with_the_schedule_and_round_trips(tmp_path, rng):
    model = Transformer(11, 13, d_model=8, num_heads=2, num_layers=1, intermediate_dim=12)
    source = rng.integers(1, 11, size=(6, 6)).astype("int32")
    target = rng.integers(1, 13, size=(6, 5)).astype("int32")
    model.compile(optimizer=keras.optimizers.Adam(TransformerSchedule(8, 10)),
                  loss=SmoothedCrossEntropy(0.1))
    # The decoder reads the target it must predict, so the causal mask still lets position i copy
    # token i: 30 steps take the loss from about 3 (3.00 on TF, 2.86 on JAX in the runs that set
    # these bounds; ln 13 = 2.56 is a uniform guess) to near the smoothed floor, H(0.9 one-hot +
    # 0.1 uniform) = 0.54 (0.66 and 0.63 there). With a schedule of zero it never moves.
    history = model.fit((source, target), target, epochs=30, verbose=0)
    assert history.history["loss"][0] > 2.0 and history.history["loss"][-1] < 1.0, history.history
    copied = np.argmax(to_numpy(model((source, target))), axis=-1) == target
    assert copied.mean() >= 0.9, copied.mean()
    path = tmp_path / "transformer.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(to_numpy(loaded((source, target))),
                                  to_numpy(model((source, target))))
    maps = model.attention_maps(source, target)
    assert maps["encoder"][0].shape == (6, 2, 6, 6) and maps["cross"][0].shape == (6, 2, 5, 6)
    np.testing.assert_allclose(maps["cross"][0].sum(-1), 1.0, atol=1e-5)



@pytest.mark.parametrize("use_causal_mask", [False, True])
def test_multi_head_attention_with_unequal_head_sizes(rng, use_causal_mask):
    """value_dim != key_dim, on every backend, against the paper's formula in NumPy."""
    x = rng.normal(size=(2, 5, 6)).astype("float32")
    layer = MultiHeadAttention(num_heads=2, key_dim=4, value_dim=3)
    layer(x, x)
    randomise(layer, rng)
    mask = np.array([[True] * 5, [True, True, True, False, False]])
    output = to_numpy(layer(x, x, attention_mask=np.broadcast_to(mask[:, None], (2, 5, 5)),
                            use_causal_mask=use_causal_mask))
    w = {v.path.split("/")[-1]: to_numpy(v) for v in layer.weights}
    q = np.einsum("btd,dhk->bhtk", x, w["W_Q"]) + w["b_Q"][None, :, None]
    k = np.einsum("btd,dhk->bhtk", x, w["W_K"]) + w["b_K"][None, :, None]
    v = np.einsum("btd,dhk->bhtk", x, w["W_V"]) + w["b_V"][None, :, None]
    allowed = np.broadcast_to(mask[:, None, None, :], (2, 2, 5, 5))
    if use_causal_mask:
        allowed = allowed & np.tril(np.ones((5, 5), bool))
    scores = np.where(allowed, q @ k.swapaxes(-1, -2) / np.sqrt(4), -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    expected = np.einsum("bhtv,hvo->bto", weights @ v, w["W_O"]) + w["b_O"]
    np.testing.assert_allclose(output, expected, atol=1e-5)
