"""Converters between the Transformer layers of seqkeras and their Keras / keras_hub twins.

=====================================  ==============================================
seqkeras                               twin
=====================================  ==============================================
``MultiHeadAttention``                 ``keras.layers.MultiHeadAttention``
``SinusoidalPositionalEncoding``       ``keras_hub.layers.SinePositionEncoding``
``PositionEmbedding``                  ``keras_hub.layers.PositionEmbedding``
``TransformerEncoderBlock``            ``keras_hub.layers.TransformerEncoder``
``TransformerDecoderBlock``            ``keras_hub.layers.TransformerDecoder``
=====================================  ==============================================

Both sides store the attention weights per head in the same layout, so a conversion copies
arrays one to one; for the blocks, sub-layer by sub-layer.
"""

from __future__ import annotations

import keras

from seqkeras.layers.multi_head import MultiHeadAttention
from seqkeras.layers.position import PositionEmbedding, SinusoidalPositionalEncoding
from seqkeras.layers.transformer import TransformerDecoderBlock, TransformerEncoderBlock

# Our sub-layer attribute -> keras_hub's (private, stable since keras-nlp 0.4).
_BLOCK_SUBLAYERS = (
    ("self_attention", "_self_attention_layer"),
    ("self_attention_norm", "_self_attention_layer_norm"),
    ("cross_attention", "_cross_attention_layer"),
    ("cross_attention_norm", "_cross_attention_layer_norm"),
    ("feedforward_intermediate", "_feedforward_intermediate_dense"),
    ("feedforward_output", "_feedforward_output_dense"),
    ("feedforward_norm", "_feedforward_layer_norm"),
)
_BLOCK_OPTIONS = ("intermediate_dim", "num_heads", "dropout", "activation",
                  "layer_norm_epsilon", "normalize_first")


def _hub():
    import keras_hub  # imported on first use: it takes seconds

    return keras_hub


def _mha_options(config):
    options = {name: config[name] for name in ("num_heads", "key_dim", "value_dim", "dropout",
                                               "use_bias", "output_shape")}
    output_shape = options["output_shape"]
    if isinstance(output_shape, tuple | list):  # Keras keeps output_shape=6 as (6,)
        if len(output_shape) != 1:
            raise ValueError(f"an output_shape of {len(output_shape)} dimensions has no "
                             "seqkeras equivalent")
        options["output_shape"] = int(output_shape[0])
    return options


def _keras_order(layer):
    """The names of our MultiHeadAttention's weights in the order Keras keeps its own."""
    if layer.use_bias:
        return ("W_Q", "b_Q", "W_K", "b_K", "W_V", "b_V", "W_O", "b_O")
    return ("W_Q", "W_K", "W_V", "W_O")


def _ours_weights_in_keras_order(layer):
    return [keras.ops.convert_to_numpy(getattr(layer, name)) for name in _keras_order(layer)]


def _mha_to_keras(layer):
    twin = keras.layers.MultiHeadAttention(**_mha_options(layer.get_config()),
                                           dtype=layer.dtype_policy)
    twin.build((None, None, layer.W_Q.shape[0]), (None, None, layer.W_V.shape[0]),
               (None, None, layer.W_K.shape[0]))
    twin.set_weights(_ours_weights_in_keras_order(layer))
    return twin


def _mha_from_keras(twin):
    config = twin.get_config()
    # After build, Keras records attention over the time axis as attention_axes=(1,).
    for option, supported in (("attention_axes", (None, (1,), [1], (-2,), [-2])),
                              ("use_gate", (False,)), ("sliding_window", (None,))):
        if config.get(option, supported[0]) not in supported:
            raise ValueError(f"keras MultiHeadAttention with {option}={config[option]!r} has no "
                             "seqkeras equivalent")
    weights = twin.get_weights()
    step = 2 if config["use_bias"] else 1
    layer = MultiHeadAttention(**_mha_options(config), dtype=twin.dtype_policy)
    layer.build((None, None, weights[0].shape[0]), (None, None, weights[2 * step].shape[0]),
                (None, None, weights[step].shape[0]))
    for name, value in zip(_keras_order(layer), weights, strict=True):
        getattr(layer, name).assign(value)
    return layer


def copy_block_weights(block, twin, to_twin):
    """Copy the weights of a seqkeras block to its keras_hub twin (``to_twin``) or back."""
    for ours, theirs in _BLOCK_SUBLAYERS:
        if getattr(block, ours, None) is None:
            continue
        mine, other = getattr(block, ours), getattr(twin, theirs)
        if isinstance(mine, MultiHeadAttention):
            if to_twin:
                other.set_weights(_ours_weights_in_keras_order(mine))
            else:
                mine.set_weights(_mha_from_keras(other).get_weights())
        elif to_twin:
            other.set_weights(mine.get_weights())
        else:
            mine.set_weights(other.get_weights())


def _build_block(layer, d_model, cross_attention):
    if isinstance(layer, TransformerDecoderBlock) or type(layer).__name__ == "TransformerDecoder":
        layer.build((None, None, d_model), (None, None, d_model) if cross_attention else None)
    else:
        layer.build((None, None, d_model))


def _block_to_keras(block, twin_type):
    twin = twin_type(**{option: getattr(block, option) for option in _BLOCK_OPTIONS},
                     dtype=block.dtype_policy)
    _build_block(twin, block.self_attention.W_Q.shape[0],
                 getattr(block, "cross_attention", None) is not None)
    copy_block_weights(block, twin, to_twin=True)
    return twin


def _block_from_keras(twin, block_type):
    block = block_type(**{option: getattr(twin, option) for option in _BLOCK_OPTIONS},
                       dtype=twin.dtype_policy)
    _build_block(block, twin._self_attention_layer_norm.gamma.shape[0],
                 getattr(twin, "_cross_attention_layer", None) is not None)
    copy_block_weights(block, twin, to_twin=False)
    return block


def to_keras(layer):
    """The twin of a Transformer layer, or None when ``layer`` is not one of them."""
    if isinstance(layer, MultiHeadAttention):
        return _mha_to_keras(layer)
    if isinstance(layer, SinusoidalPositionalEncoding):
        return _hub().layers.SinePositionEncoding(max_wavelength=layer.max_wavelength,
                                                 dtype=layer.dtype_policy)
    if isinstance(layer, PositionEmbedding):
        twin = _hub().layers.PositionEmbedding(layer.sequence_length, dtype=layer.dtype_policy)
        twin.build((None, layer.sequence_length, layer.embeddings.shape[1]))
        twin.set_weights(layer.get_weights())
        return twin
    if isinstance(layer, TransformerEncoderBlock):
        return _block_to_keras(layer, _hub().layers.TransformerEncoder)
    if isinstance(layer, TransformerDecoderBlock):
        return _block_to_keras(layer, _hub().layers.TransformerDecoder)
    return None


def from_keras(twin):
    """The seqkeras equivalent of a Keras / keras_hub Transformer layer, or None."""
    if isinstance(twin, keras.layers.MultiHeadAttention):
        return _mha_from_keras(twin)
    if not type(twin).__module__.startswith(("keras_hub", "keras_nlp")):
        return None
    layers = _hub().layers
    if isinstance(twin, layers.SinePositionEncoding):
        return SinusoidalPositionalEncoding(twin.max_wavelength, dtype=twin.dtype_policy)
    if isinstance(twin, layers.PositionEmbedding):
        layer = PositionEmbedding(twin.sequence_length, dtype=twin.dtype_policy)
        embeddings = twin.get_weights()[0]
        layer.build((None, embeddings.shape[0], embeddings.shape[1]))
        layer.set_weights([embeddings])
        return layer
    if isinstance(twin, layers.TransformerEncoder):
        return _block_from_keras(twin, TransformerEncoderBlock)
    if isinstance(twin, layers.TransformerDecoder):
        return _block_from_keras(twin, TransformerDecoderBlock)
    return None
