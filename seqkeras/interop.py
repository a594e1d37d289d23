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
============================================  =========================================
"""

from __future__ import annotations

import keras

from seqkeras.layers.recurrent import ElmanCell

# Flags that keras.layers.RNN and its built-in subclasses (SimpleRNN, LSTM, GRU) share.
_RNN_FLAGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")


def _require_built(layer):
    if not layer.built:
        raise ValueError(f"{type(layer).__name__} {layer.name!r} must be built before its weights "
                         "can be converted: call it on an input first, or call build(input_shape)")


def _no_dropout(twin):
    for name in ("dropout", "recurrent_dropout"):
        if getattr(twin, name, 0.0):
            raise ValueError(f"{type(twin).__name__} has {name}={getattr(twin, name)}; the "
                             "seqkeras cell has no dropout, so the two would not be equal")


# (seqkeras name, Keras name) of each weight; Elman's symbols on the left.
_ELMAN_WEIGHTS = (("W_xh", "kernel"), ("W_hh", "recurrent_kernel"), ("b_h", "bias"))


def _copy_weights(source, target, names):
    """target.<name> := source.<name> for each pair; None weights (no bias) are skipped."""
    for source_name, target_name in names:
        weight = getattr(source, source_name)
        if weight is not None:
            getattr(target, target_name).assign(weight)


def _elman_to_simple_rnn_cell(cell: ElmanCell) -> keras.layers.SimpleRNNCell:
    twin = keras.layers.SimpleRNNCell(cell.units, activation=cell.activation,
                                      use_bias=cell.use_bias, dtype=cell.dtype_policy)
    twin.build((None, cell.W_xh.shape[0]))
    _copy_weights(cell, twin, _ELMAN_WEIGHTS)
    return twin


def _simple_rnn_cell_to_elman(twin: keras.layers.SimpleRNNCell) -> ElmanCell:
    _no_dropout(twin)
    cell = ElmanCell(twin.units, activation=twin.activation, use_bias=twin.use_bias,
                     dtype=twin.dtype_policy)
    cell.build((None, twin.kernel.shape[0]))
    _copy_weights(twin, cell, [(keras_name, ours) for ours, keras_name in _ELMAN_WEIGHTS])
    return cell


def _rnn_flags(layer):
    return {flag: getattr(layer, flag) for flag in _RNN_FLAGS}


def to_keras(layer):
    """The Keras twin of a seqkeras layer, built, with copies of its weights.

    Args:
        layer: a built seqkeras layer (``ElmanCell``) or a built ``keras.layers.RNN`` wrapping
            one (converted to ``keras.layers.SimpleRNN`` with the same flags).

    Returns:
        The built twin.

    Raises:
        ValueError: the layer is not built.
        TypeError: the layer has no Keras twin.
    """
    _require_built(layer)
    if isinstance(layer, ElmanCell):
        return _elman_to_simple_rnn_cell(layer)
    if type(layer) is keras.layers.RNN and isinstance(layer.cell, ElmanCell):
        cell = layer.cell
        twin = keras.layers.SimpleRNN(cell.units, activation=cell.activation,
                                      use_bias=cell.use_bias, dtype=layer.dtype_policy,
                                      **_rnn_flags(layer))
        twin.build((None, None, cell.W_xh.shape[0]))
        twin.set_weights(_elman_to_simple_rnn_cell(cell).get_weights())
        return twin
    raise TypeError(f"to_keras does not know a Keras twin of {type(layer).__name__}"
                    + (f" around {type(layer.cell).__name__}" if hasattr(layer, "cell") else ""))


def from_keras(twin):
    """The seqkeras equivalent of a Keras built-in layer, built, with copies of its weights.

    Args:
        twin: a built ``keras.layers.SimpleRNNCell``, or a built ``keras.layers.SimpleRNN``
            (returned as ``keras.layers.RNN(ElmanCell(...))`` with the same return_sequences,
            return_state, go_backwards, stateful and unroll).

    Returns:
        The built seqkeras layer.

    Raises:
        ValueError: the twin is not built, or uses a feature the seqkeras layer lacks (dropout).
        TypeError: no seqkeras layer corresponds to the twin.
    """
    _require_built(twin)
    if isinstance(twin, keras.layers.SimpleRNN):
        cell = _simple_rnn_cell_to_elman(twin.cell)
        layer = keras.layers.RNN(cell, dtype=twin.dtype_policy, **_rnn_flags(twin))
        layer.build((None, None, cell.W_xh.shape[0]))
        return layer
    if isinstance(twin, keras.layers.SimpleRNNCell):
        return _simple_rnn_cell_to_elman(twin)
    raise TypeError(f"from_keras does not know a seqkeras equivalent of {type(twin).__name__}")
