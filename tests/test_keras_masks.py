"""Keras masks: every seqkeras attention layer and block reads the mask that
``Embedding(mask_zero=True)`` attaches, as its Keras or KerasHub twin does, and an explicit
padding mask wins over it. Run on TensorFlow and JAX."""

import keras
import keras_hub
import numpy as np
import pytest

from seqkeras import interop
from seqkeras.layers import (
    BahdanauAttention,
    LocalAttention,
    LuongAttention,
    MultiHeadAttention,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
    keras_mask,
)

from conftest import to_numpy

D = 8
IDS = np.array([[3, 4, 5, 6, 0, 0], [7, 8, 0, 0, 0, 0]], "int32")
TARGET_IDS = np.array([[2, 9, 4, 0, 0], [5, 6, 7, 8, 0]], "int32")
REAL = IDS != 0
TARGET_REAL = TARGET_IDS != 0


def embedding():
    layer = keras.layers.Embedding(12, D, mask_zero=True)
    layer.build((None, None))
    layer.set_weights([np.random.default_rng(0).normal(size=(12, D)).astype("float32")])
    return layer


def padded(ids, extra=4):
    return np.pad(ids, ((0, 0), (0, extra)))


def randomise(layer, rng):
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                       for w in layer.get_weights()])


def test_embedding_attaches_a_keras_mask():
    np.testing.assert_array_equal(to_numpy(keras_mask(embedding()(IDS))), REAL)


SOFT_LAYERS = {
    "bahdanau": lambda: BahdanauAttention(5),
    "dot": lambda: LuongAttention("dot"),
    "general": lambda: LuongAttention("general"),
    "concat": lambda: LuongAttention("concat", units=4),
    "local-p": lambda: LocalAttention(2),
}


@pytest.mark.parametrize("name", SOFT_LAYERS)
def test_soft_attention_reads_the_values_mask_and_ignores_more_padding(rng, name):
    embed = embedding()
    layer = SOFT_LAYERS[name]()
    layer(embed(TARGET_IDS), embed(IDS))  # builds the weights
    randomise(layer, rng)
    context, weights = (to_numpy(t) for t in layer(embed(TARGET_IDS), embed(IDS)))
    assert np.all(weights[~np.broadcast_to(REAL[:, None], weights.shape)] == 0.0)
    longer_context, longer_weights = (to_numpy(t) for t in layer(embed(TARGET_IDS),
                                                                 embed(padded(IDS))))
    np.testing.assert_allclose(longer_context, context, atol=1e-6)
    np.testing.assert_allclose(longer_weights[..., :IDS.shape[1]], weights, atol=1e-6)
    assert np.all(context[~TARGET_REAL] == 0.0)  # the query's mask: no context at padding
    # the same weights as an explicit values_mask on unmasked inputs
    plain = keras.layers.Embedding(12, D)
    plain.build((None, None))
    plain.set_weights(embed.get_weights())
    _, explicit = layer(plain(TARGET_IDS), plain(IDS), values_mask=REAL)
    np.testing.assert_allclose(to_numpy(explicit), weights, atol=1e-6)


def test_luong_dot_attention_with_keras_masks_equals_keras_attention():
    embed = embedding()
    query, values = embed(TARGET_IDS), embed(IDS)
    expected = to_numpy(keras.layers.Attention()([query, values]))  # reads both masks too
    np.testing.assert_allclose(to_numpy(LuongAttention("dot")(query, values)[0]), expected,
                               atol=1e-5)


@pytest.mark.parametrize("cross", [False, True])
def test_multi_head_attention_with_keras_masks_equals_keras(rng, cross):
    embed = embedding()
    query = embed(TARGET_IDS)
    value = embed(IDS) if cross else query
    ours = MultiHeadAttention(num_heads=2, key_dim=4)
    ours(query, value)
    randomise(ours, rng)
    twin = interop.to_keras(ours)
    got = to_numpy(ours(query, value))
    # Keras' layer deletes the masks of its inputs once it has read them: embed afresh.
    query = embed(TARGET_IDS)
    value = embed(IDS) if cross else query
    expected = to_numpy(twin(query, value))
    query = embed(TARGET_IDS)
    value = embed(IDS) if cross else query
    np.testing.assert_allclose(got[TARGET_REAL], expected[TARGET_REAL], atol=1e-5)
    np.testing.assert_array_equal(to_numpy(keras_mask(ours(query, value))), TARGET_REAL)
    longer = embed(padded(IDS)) if cross else embed(padded(TARGET_IDS))
    query_longer = query if cross else longer
    again = to_numpy(ours(query_longer, longer))[:, :TARGET_IDS.shape[1]]
    np.testing.assert_allclose(again[TARGET_REAL], got[TARGET_REAL], atol=1e-5)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_encoder_block_with_keras_masks_equals_keras_hub(rng, normalize_first):
    embed = embedding()
    x = embed(IDS)
    ours = TransformerEncoderBlock(2, 16, normalize_first=normalize_first)
    ours(x)
    randomise(ours, rng)
    twin = interop.to_keras(ours)
    assert isinstance(twin, keras_hub.layers.TransformerEncoder)
    got = to_numpy(ours(x))
    np.testing.assert_allclose(got[REAL], to_numpy(twin(embed(IDS)))[REAL], atol=1e-5)
    x = embed(IDS)
    longer = to_numpy(ours(embed(padded(IDS))))[:, :IDS.shape[1]]
    np.testing.assert_allclose(longer[REAL], got[REAL], atol=1e-5)
    np.testing.assert_array_equal(to_numpy(keras_mask(ours(x))), REAL)


def test_encoder_block_explicit_padding_mask_wins(rng):
    embed = embedding()
    ours = TransformerEncoderBlock(2, 16)
    ours(embed(IDS))
    randomise(ours, rng)
    shorter = REAL.copy()
    shorter[0, 3] = False  # hide one more real token than the Keras mask does
    plain = keras.ops.convert_to_tensor(to_numpy(embed(IDS)))  # the same values, no mask
    assert keras_mask(plain) is None
    # the keys follow the explicit mask; padded query rows (never read) may differ
    np.testing.assert_allclose(to_numpy(ours(embed(IDS), padding_mask=shorter))[REAL],
                               to_numpy(ours(plain, padding_mask=shorter))[REAL], atol=1e-6)
    assert np.abs(to_numpy(ours(embed(IDS), padding_mask=shorter))
                  - to_numpy(ours(embed(IDS)))).max() > 1e-4


def test_decoder_block_with_keras_masks_equals_keras_hub(rng):
    embed = embedding()
    y, z = embed(TARGET_IDS), embed(IDS)
    ours = TransformerDecoderBlock(2, 16)
    ours(y, z)
    randomise(ours, rng)
    twin = interop.to_keras(ours)
    got = to_numpy(ours(y, z))
    expected = to_numpy(twin(embed(TARGET_IDS), embed(IDS), use_causal_mask=True))
    np.testing.assert_allclose(got[TARGET_REAL], expected[TARGET_REAL], atol=1e-5)
    # more padding on the encoder side changes nothing at the real target positions
    longer = to_numpy(ours(y, embed(padded(IDS))))
    np.testing.assert_allclose(longer[TARGET_REAL], got[TARGET_REAL], atol=1e-5)
