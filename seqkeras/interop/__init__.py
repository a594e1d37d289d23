"""Weight converters between seqkeras layers and their Keras twins.

``to_keras(layer)`` returns the built-in twin of a seqkeras layer, built, with the same weights;
``from_keras(twin)`` does the reverse. Both copy weights, never share them. A chapter uses them
to prove a hand-built layer computes exactly what the built-in computes.

Supported pairs (each later chapter adds its own):

============================================  =========================================
seqkeras                                      Keras
============================================  =========================================
``ElmanCell``                                 ``keras.layers.SimpleRNNCell``
``keras.layers.RNN(ElmanCell(...))``          ``keras.layers.SimpleRNN``
``LSTMCell``                                  ``keras.layers.LSTMCell``
``keras.layers.RNN(LSTMCell(...))``           ``keras.layers.LSTM``
``GRUCell`` (either ``reset_after``)          ``keras.layers.GRUCell``
``keras.layers.RNN(GRUCell(...))``            ``keras.layers.GRU``
``MultiHeadAttention``                        ``keras.layers.MultiHeadAttention``
``SinusoidalPositionalEncoding``              ``keras_hub.layers.SinePositionEncoding``
``PositionEmbedding``                         ``keras_hub.layers.PositionEmbedding``
``TransformerEncoderBlock``                   ``keras_hub.layers.TransformerEncoder``
``TransformerDecoderBlock``                   ``keras_hub.layers.TransformerDecoder``
``models.BertEncoder``                        ``keras_hub.models.BertBackbone``
``MaskedLMHead``                              ``keras_hub.layers.MaskedLMHead``
============================================  =========================================

``keras_attention(layer)`` gives the Keras computation of the attention layers of chapters 6-7;
``load_bert_preset(preset)`` a KerasHub BERT preset as a ``BertEncoder`` and its tokenizer
(``save_random_bert_preset`` writes an offline stand-in).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import ops

from seqkeras.interop import bert as _bert
from seqkeras.interop import transformer as _transformer
from seqkeras.interop.presets import load_bert_preset as load_bert_preset
from seqkeras.interop.presets import save_random_bert_preset as save_random_bert_preset
from seqkeras.layers.attention import BahdanauAttention, LuongAttention
from seqkeras.layers.gru import GRUCell
from seqkeras.layers.lstm import LSTMCell
from seqkeras.layers.position import SinusoidalPositionalEncoding
from seqkeras.layers.recurrent import ElmanCell
from seqkeras.models.bert import BertEncoder

# Flags that keras.layers.RNN and its built-in subclasses (SimpleRNN, LSTM, GRU) share.
_RNN_FLAGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")


@dataclass(frozen=True)
class _CellTwin:
    """A seqkeras cell, its Keras twin cell and layer, the weights' names on each side and the
    constructor arguments both take with the same meaning."""

    cell: type
    keras_cell: type
    keras_layer: type
    weights: tuple  # (seqkeras name, Keras name); the paper's symbols on the left
    options: tuple


_CELL_TWINS = (
    _CellTwin(ElmanCell, keras.layers.SimpleRNNCell, keras.layers.SimpleRNN,
              (("W_xh", "kernel"), ("W_hh", "recurrent_kernel"), ("b_h", "bias")),
              ("units", "activation", "use_bias")),
    _CellTwin(LSTMCell, keras.layers.LSTMCell, keras.layers.LSTM,
              (("W_x", "kernel"), ("W_h", "recurrent_kernel"), ("b", "bias")),
              ("units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias")),
    _CellTwin(GRUCell, keras.layers.GRUCell, keras.layers.GRU,
              (("W_x", "kernel"), ("W_h", "recurrent_kernel"), ("b", "bias")),
              ("units", "activation", "recurrent_activation", "use_bias", "reset_after")),
)


def _require_built(layer):
    if not layer.built:
        raise ValueError(f"{type(layer).__name__} {layer.name!r} must be built before its weights "
                         "can be converted: call it on an input first, or call build(input_shape)")


def _no_dropout(twin):
    for name in ("dropout", "recurrent_dropout"):
        if getattr(twin, name, 0.0):
            raise ValueError(f"{type(twin).__name__} has {name}={getattr(twin, name)}; the "
                             "seqkeras cell has no dropout, so the two would not be equal")


def _convert_cell(source, target_type, names):
    """A built ``target_type`` cell with the source's options and copies of its weights;
    ``names`` pairs each source weight's name with the target's. Missing weights (no bias)
    are skipped."""
    twin = next(t for t in _CELL_TWINS if target_type in (t.cell, t.keras_cell))
    target = target_type(**{option: getattr(source, option) for option in twin.options},
                         dtype=source.dtype_policy)
    target.build((None, getattr(source, names[0][0]).shape[0]))
    for source_name, target_name in names:
        weight = getattr(source, source_name)
        if weight is not None:
            getattr(target, target_name).assign(weight)
    return target


def _rnn_flags(layer):
    return {flag: getattr(layer, flag) for flag in _RNN_FLAGS}


def to_keras(layer):
    """The Keras twin of a seqkeras layer, built, with copies of its weights.

    Args:
        layer: a built seqkeras cell (``ElmanCell``, ``LSTMCell``, ``GRUCell``), or a built
            ``keras.layers.RNN`` wrapping one (converted to ``SimpleRNN``, ``LSTM`` or ``GRU``
            with the same return_sequences, return_state, go_backwards, stateful and unroll),
            or a built Transformer layer of the table above.

    Returns:
        The built twin.

    Raises:
        ValueError: the layer is not built.
        TypeError: the layer has no Keras twin.
    """
    # A positional encoding has no weights; a BertEncoder is built on conversion.
    if not isinstance(layer, SinusoidalPositionalEncoding | BertEncoder):
        _require_built(layer)
    for module in (_transformer, _bert):
        converted = module.to_keras(layer)
        if converted is not None:
            return converted
    for twin in _CELL_TWINS:
        if isinstance(layer, twin.cell):
            return _convert_cell(layer, twin.keras_cell, twin.weights)
        if type(layer) is keras.layers.RNN and isinstance(layer.cell, twin.cell):
            keras_cell = _convert_cell(layer.cell, twin.keras_cell, twin.weights)
            keras_layer = twin.keras_layer(
                **{option: getattr(keras_cell, option) for option in twin.options},
                dtype=layer.dtype_policy, **_rnn_flags(layer))
            keras_layer.build((None, None, keras_cell.kernel.shape[0]))
            keras_layer.set_weights(keras_cell.get_weights())
            return keras_layer
    raise TypeError(f"to_keras does not know a Keras twin of {type(layer).__name__}"
                    + (f" around {type(layer.cell).__name__}" if hasattr(layer, "cell") else ""))


def from_keras(twin):
    """The seqkeras equivalent of a Keras built-in layer, built, with copies of its weights.

    Args:
        twin: a built ``keras.layers.SimpleRNNCell``, ``LSTMCell`` or ``GRUCell``, or a built
            ``keras.layers.SimpleRNN``, ``LSTM`` or ``GRU`` (returned as
            ``keras.layers.RNN(<seqkeras cell>)`` with the same return_sequences, return_state,
            go_backwards, stateful and unroll), or a built twin of the table above.

    Returns:
        The built seqkeras layer.

    Raises:
        ValueError: the twin is not built, or uses a feature the seqkeras layer lacks (dropout).
        TypeError: no seqkeras layer corresponds to the twin.
    """
    if type(twin).__name__ != "SinePositionEncoding":  # it has no weights
        _require_built(twin)
    for module in (_transformer, _bert):
        converted = module.from_keras(twin)
        if converted is not None:
            return converted
    for pair in _CELL_TWINS:
        inverse = [(keras_name, ours) for ours, keras_name in pair.weights]
        if isinstance(twin, pair.keras_layer):
            _no_dropout(twin.cell)
            cell = _convert_cell(twin.cell, pair.cell, inverse)
            layer = keras.layers.RNN(cell, dtype=twin.dtype_policy, **_rnn_flags(twin))
            layer.build((None, None, twin.cell.kernel.shape[0]))
            return layer
        if isinstance(twin, pair.keras_cell):
            _no_dropout(twin)
            return _convert_cell(twin, pair.cell, inverse)
    raise TypeError(f"from_keras does not know a seqkeras equivalent of {type(twin).__name__}")


def keras_attention(layer):
    """The Keras built-in computation of a seqkeras attention layer, with the layer's weights.

    ===========================================  ==============================================
    seqkeras                                     Keras (tests/test_attention.py)
    ===========================================  ==============================================
    ``LuongAttention("dot")``                    ``Attention()([q, h])``
    ``LuongAttention("general")``                ``Attention()([q W_a, h])``
    ``BahdanauAttention``                        ``AdditiveAttention()([q W_a, h, h U_a])``,
                                                 ``scale`` = v_a
    ``LuongAttention("concat")``                 the same with ``W_a[:d_q]`` and ``W_a[d_q:]``
    ===========================================  ==============================================

    Args:
        layer: a built ``BahdanauAttention`` or ``LuongAttention`` with a dot, general or
            concat score (location and local attention have no Keras counterpart).

    Returns:
        ``f(query, values, values_mask=None) -> (context, weights)``, computed by Keras' layers.
    """
    _require_built(layer)
    if isinstance(layer, LuongAttention) and layer.score_name in ("dot", "general"):
        twin = keras.layers.Attention()

        def attend(query, values, values_mask=None):
            if layer.score_name == "general":
                query = ops.matmul(query, layer.W_a)
            return twin([query, values], mask=[None, values_mask], return_attention_scores=True)

        return attend
    if not (isinstance(layer, BahdanauAttention)
            or (isinstance(layer, LuongAttention) and layer.score_name == "concat")):
        raise ValueError(f"{type(layer).__name__} with score "
                         f"{getattr(layer, 'score_name', None)!r} has no Keras counterpart; "
                         "supported: BahdanauAttention and LuongAttention dot/general/concat")
    twin = keras.layers.AdditiveAttention(use_scale=True)

    def attend(query, values, values_mask=None):
        if isinstance(layer, BahdanauAttention):
            w_query, w_values = layer.W_a, layer.U_a
        else:  # tanh([q; h] W_a) v_a = tanh(q W_a[:d_q] + h W_a[d_q:]) v_a
            d_q = query.shape[-1]
            w_query, w_values = layer.W_a[:d_q], layer.W_a[d_q:]
        inputs = [ops.matmul(query, w_query), values, ops.matmul(values, w_values)]
        if not twin.built:
            twin(inputs)
        twin.scale.assign(layer.v_a)
        return twin(inputs, mask=[None, values_mask], return_attention_scores=True)

    return attend
