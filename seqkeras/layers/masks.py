"""Masks: the softmax restricted to real positions, and the Keras masks layers pass along.

A Keras mask is a boolean ``(batch, T)`` tensor that a layer such as
``keras.layers.Embedding(mask_zero=True)`` attaches to its output (True at real tokens). Keras
hands it to the next layer's call argument named ``<argument>_mask`` (``query_mask``,
``value_mask``, ...) or ``mask``; the attention layers of seqkeras read it there, as their
Keras and KerasHub twins do.
"""

from __future__ import annotations

from keras import ops


def masked_softmax(scores, mask=None):
    """Softmax over the last axis restricted to ``mask``; masked positions get exactly 0.

    Args:
        scores: ``(..., T_v)``.
        mask: boolean, broadcastable to ``scores``; True = a position that may be attended.
    """
    if mask is None:
        return ops.softmax(scores, axis=-1)
    mask = ops.cast(mask, "bool")
    large_negative = -65000.0 if scores.dtype == "float16" else -1e9
    weights = ops.softmax(ops.where(mask, scores, large_negative), axis=-1)
    return ops.where(mask, weights, ops.zeros_like(weights))


def keras_mask(x):
    """The Keras mask attached to ``x`` (e.g. by ``Embedding(mask_zero=True)``), or None."""
    try:
        from keras.src.backend import get_keras_mask
    except ImportError:  # Keras before 3.6 kept the mask as an attribute
        return getattr(x, "_keras_mask", None)
    return get_keras_mask(x)


def check_padding_mask(name, mask, sequence):
    """Raise ``ValueError`` unless ``mask`` is None or ``(batch, T)`` for ``sequence``
    ``(batch, T, d)``; return it as a boolean tensor (or None)."""
    if mask is None:
        return None
    expected = tuple(sequence.shape[:2])
    if len(mask.shape) != 2 or any(a is not None and b is not None and a != b
                                   for a, b in zip(mask.shape, expected, strict=True)):
        raise ValueError(f"{name} must have shape (batch, T) = {expected}, got "
                         f"{tuple(mask.shape)}")
    return ops.cast(mask, "bool")


def query_key_mask(query_mask=None, key_mask=None, attention_mask=None):
    """Merge padding masks and an attention mask the way ``keras.layers.MultiHeadAttention``
    does: ``query_mask[:, :, None] & key_mask[:, None, :] & attention_mask``, a boolean
    ``(batch, T_q, T_k)`` (or broadcastable) tensor, or None when all three are None."""
    mask = None
    if query_mask is not None:
        mask = ops.expand_dims(ops.cast(query_mask, "bool"), -1)
    if key_mask is not None:
        keys = ops.expand_dims(ops.cast(key_mask, "bool"), -2)
        mask = keys if mask is None else ops.logical_and(mask, keys)
    if attention_mask is not None:
        attention_mask = ops.cast(attention_mask, "bool")
        mask = attention_mask if mask is None else ops.logical_and(mask, attention_mask)
    return mask
