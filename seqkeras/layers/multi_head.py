"""Scaled dot-product and multi-head attention (Vaswani et al. 2017, section 3.2).

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V                               (eq. 1)
    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
        head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)

Unlike the attention of chapters 6-7, a query here is compared with *keys* and reads out
*values*, which may differ, and the comparison has no weights of its own: a dot product, divided
by sqrt(d_k) so that its variance does not grow with the head size.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from seqkeras import arguments
from seqkeras.layers.masks import check_padding_mask, masked_softmax, query_key_mask


def causal_mask(query_length, key_length=None):
    """Boolean ``(T_q, T_k)``: True where query position i may see key position j, i.e. j <= i.

    Position i of a decoder predicts token i+1, so it must not see any later position.
    """
    key_length = query_length if key_length is None else key_length
    query_positions = ops.expand_dims(ops.arange(query_length), 1)
    return query_positions >= ops.expand_dims(ops.arange(key_length), 0)


def attention_weights(query, key, mask=None, use_causal_mask=False):
    """softmax(Q K^T / sqrt(d_k)) over the keys a query may see: ``(..., T_q, T_k)``.

    Args: those of ``scaled_dot_product_attention``.
    """
    d_k = query.shape[-1]
    scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) / ops.cast(math.sqrt(d_k), query.dtype)
    if use_causal_mask:
        causal = causal_mask(ops.shape(query)[-2], ops.shape(key)[-2])
        mask = causal if mask is None else ops.logical_and(ops.cast(mask, "bool"), causal)
    return masked_softmax(scores, mask)


def scaled_dot_product_attention(query, key, value, mask=None, use_causal_mask=False):
    """softmax(Q K^T / sqrt(d_k)) V, eq. 1 of the paper, computed plainly (no fused kernel).

    Args:
        query: ``(..., T_q, d_k)``; key: ``(..., T_k, d_k)``; value: ``(..., T_k, d_v)``. The
            leading axes (batch, heads) broadcast.
        mask: optional boolean, broadcastable to ``(..., T_q, T_k)``: True where a query may
            attend to a key (a padding mask of shape ``(batch, 1, T_k)`` masks keys only).
        use_causal_mask: also hide every key after the query's own position.

    Returns:
        ``(output, weights)``: ``(..., T_q, d_v)`` and ``(..., T_q, T_k)``. Masked positions
        get exactly zero weight.
    """
    weights = attention_weights(query, key, mask, use_causal_mask)
    return ops.matmul(ops.cast(weights, value.dtype), value), weights


@keras.saving.register_keras_serializable(package="seqkeras")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention (Vaswani et al. 2017, section 3.2.2), a drop-in for Keras' own.

        head_i = softmax((Q W_i^Q + b_i^Q)(K W_i^K + b_i^K)^T / sqrt(d_k)) (V W_i^V + b_i^V)
        output = Concat(head_1, ..., head_h) W^O + b^O

    Each of the h heads projects the inputs to its own ``key_dim``-sized subspace and attends
    there, so the heads can look for different things at once (one for the previous word, one
    for the verb, ...) at the cost of one attention of the full width.

    The weights are stored per head, as ``keras.layers.MultiHeadAttention`` stores them:
    ``W_Q`` ``(d_q, h, d_k)``, ``W_K`` ``(d_k_in, h, d_k)``, ``W_V`` ``(d_v_in, h, d_v)``,
    ``W_O`` ``(h, d_v, d_out)``, with biases ``b_Q``, ``b_K``, ``b_V`` ``(h, d_k or d_v)`` and
    ``b_O`` ``(d_out,)``; ``seqkeras.interop`` converts both ways.

    Where no attention scores are requested and there is no attention dropout, the call runs
    ``keras.ops.dot_product_attention``, the backend's fused kernel (flash attention on a GPU);
    otherwise ``scaled_dot_product_attention``, the plain computation. Both give the same
    output, except for a query that may see no key at all: the plain path gives it zero weights,
    the fused kernel (like Keras) uniform ones. The fused kernel needs one head size for
    queries, keys and values; with ``value_dim != key_dim`` the plain path runs.

    Keras masks are read as Keras' own layer reads them: the Keras masks of ``query``,
    ``value`` and ``key`` (e.g. from ``Embedding(mask_zero=True)``), or the ``query_mask``,
    ``value_mask`` and ``key_mask`` given instead, are combined with ``attention_mask`` and the
    causal mask by logical and; the output carries the query's mask on.

    Args:
        num_heads: h.
        key_dim: d_k, the size of each head's queries and keys.
        value_dim: d_v, the size of each head's values (default ``key_dim``).
        dropout: dropout rate on the attention weights.
        use_bias: whether the projections have biases.
        output_shape: d_out, the size of the output (default: the query's last dimension).
        kernel_initializer, bias_initializer: initializers of the projections.

    Call arguments:
        query: ``(batch, T_q, d_q)``.
        value: ``(batch, T_v, d_v_in)``.
        key: ``(batch, T_v, d_k_in)``, default ``value``.
        query_mask, value_mask, key_mask: optional boolean ``(batch, T_q)``, ``(batch, T_v)``,
            ``(batch, T_v)``, True at real tokens (default: the inputs' Keras masks).
        attention_mask: boolean ``(batch, T_q, T_v)`` (or broadcastable, e.g. ``(batch, 1,
            T_v)`` for a padding mask): True where query position i may attend to key j.
        return_attention_scores: also return the weights ``(batch, h, T_q, T_v)``.
        training: whether dropout is active.
        use_causal_mask: hide every key position after the query's own.

    Returns:
        ``(batch, T_q, d_out)``, and the weights when ``return_attention_scores``.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(2, 6, 16)).astype("float32")
    >>> padding_mask = np.array([[True] * 6, [True] * 4 + [False] * 2])
    >>> attention = MultiHeadAttention(num_heads=2, key_dim=8)
    >>> output, weights = attention(x, x, attention_mask=padding_mask[:, None, :],
    ...                             return_attention_scores=True)
    >>> tuple(output.shape), tuple(weights.shape)        # weights: (batch, heads, T_q, T_k)
    ((2, 6, 16), (2, 2, 6, 6))
    >>> float(ops.max(weights[1, :, :, 4:]))              # no weight on the padding
    0.0

    References:
        Vaswani et al. (2017), Attention is all you need, https://arxiv.org/abs/1706.03762
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = arguments.positive_int("num_heads", num_heads)
        self.key_dim = arguments.positive_int("key_dim", key_dim)
        self.value_dim = (self.key_dim if value_dim is None
                          else arguments.positive_int("value_dim", value_dim))
        self.dropout = arguments.rate("dropout", dropout)
        self.use_bias = arguments.boolean("use_bias", use_bias)
        self.output_dim = arguments.optional_positive_int("output_shape", output_shape)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        self.supports_masking = True

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(f"MultiHeadAttention expects {name} of rank 3 (batch, time, "
                                 f"features), got shape {tuple(shape)}")
        h, d_k, d_v = self.num_heads, self.key_dim, self.value_dim
        d_out = self.output_dim or query_shape[-1]

        def weight(name, shape, initializer):
            return self.add_weight(name=name, shape=shape, initializer=initializer)

        kernel, bias = self.kernel_initializer, self.bias_initializer
        self.W_Q = weight("W_Q", (query_shape[-1], h, d_k), kernel)
        self.W_K = weight("W_K", (key_shape[-1], h, d_k), kernel)
        self.W_V = weight("W_V", (value_shape[-1], h, d_v), kernel)
        self.W_O = weight("W_O", (h, d_v, d_out), kernel)
        if self.use_bias:
            self.b_Q, self.b_K = weight("b_Q", (h, d_k), bias), weight("b_K", (h, d_k), bias)
            self.b_V, self.b_O = weight("b_V", (h, d_v), bias), weight("b_O", (d_out,), bias)

    def project(self, x, kernel, bias_name):
        """x W (+ b) for every head: ``(batch, T, d) -> (batch, T, h, d_head)``."""
        projected = ops.einsum("btd,dhk->bthk", x, kernel)
        return projected + getattr(self, bias_name) if self.use_bias else projected

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        key = value if key is None else key
        self._check_inputs(query, value, key)
        if attention_mask is not None and len(attention_mask.shape) != 3:
            raise ValueError("attention_mask must have shape (batch, T_q, T_v) or "
                             f"broadcast to it, got shape {tuple(attention_mask.shape)}")
        mask = query_key_mask(check_padding_mask("query_mask", query_mask, query),
                              check_padding_mask("value_mask", value_mask, value),
                              attention_mask)
        if key_mask is not None:
            mask = query_key_mask(None, check_padding_mask("key_mask", key_mask, key), mask)
        if mask is not None:
            mask = ops.expand_dims(mask, 1)  # the same for each head
        q = self.project(query, self.W_Q, "b_Q")
        k = self.project(key, self.W_K, "b_K")
        v = self.project(value, self.W_V, "b_V")
        return self.attend(q, k, v, mask, use_causal_mask, training, return_attention_scores)

    def project_keys_and_values(self, key, value=None):
        """K W^K + b^K and V W^V + b^V for every head, ``(batch, T_v, h, d_k or d_v)``: what
        a decoder caches, so that each key and value is projected once, not at every step."""
        value = key if value is None else value
        return self.project(key, self.W_K, "b_K"), self.project(value, self.W_V, "b_V")

    def call_cached(self, query, projected_key, projected_value, attention_mask=None):
        """The output of ``call`` for keys and values projected already (a decoder's cache).

        Args:
            query: ``(batch, T_q, d_q)``, not yet projected.
            projected_key, projected_value: from ``project_keys_and_values``.
            attention_mask: optional boolean ``(batch, T_q or 1, T_v)``.

        Returns:
            ``(batch, T_q, d_out)``, as ``call(query, value, key, attention_mask=...)``
            returns it (at inference: no dropout).
        """
        mask = None if attention_mask is None else ops.expand_dims(
            ops.cast(attention_mask, "bool"), 1)
        return self.attend(self.project(query, self.W_Q, "b_Q"), projected_key,
                           projected_value, mask)

    def attend(self, q, k, v, mask=None, use_causal_mask=False, training=None,
               return_attention_scores=False):
        """Attention of projected queries, keys and values ``(batch, T, h, d_head)`` and the
        output projection; ``mask`` ``(batch, 1, T_q, T_v)`` is the same for every head."""
        weights = None
        fused_kernel_fits = self.value_dim == self.key_dim
        if return_attention_scores or (self.dropout and training) or not fused_kernel_fits:
            q, k, v = (ops.swapaxes(x, 1, 2) for x in (q, k, v))  # (batch, h, T, d_head)
            weights = attention_weights(q, k, mask, use_causal_mask)
            dropped = self.dropout_layer(weights, training=training)
            heads = ops.swapaxes(ops.matmul(ops.cast(dropped, v.dtype), v), 1, 2)
        else:
            heads = ops.dot_product_attention(q, k, v, mask=mask, is_causal=use_causal_mask,
                                              scale=1.0 / math.sqrt(self.key_dim))
        output = ops.einsum("bthv,hvo->bto", heads, self.W_O)
        if self.use_bias:
            output = output + self.b_O
        return (output, weights) if return_attention_scores else output

    def _check_inputs(self, query, value, key):
        for name, x, weight in (("query", query, self.W_Q), ("value", value, self.W_V),
                                ("key", key, self.W_K)):
            if len(x.shape) != 3:
                raise ValueError(f"MultiHeadAttention expects {name} of rank 3 (batch, time, "
                                 f"features), got shape {tuple(x.shape)}")
            if x.shape[-1] != weight.shape[0]:
                raise ValueError(f"{name} has {x.shape[-1]} features; the layer was built "
                                 f"for {weight.shape[0]}")
        if value.shape[1] is not None and key.shape[1] is not None and \
                value.shape[1] != key.shape[1]:
            raise ValueError(f"key and value must have the same length, got {key.shape[1]} "
                             f"and {value.shape[1]}")

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return (*query_shape[:-1], self.output_dim or query_shape[-1])

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout,
                "use_bias": self.use_bias, "output_shape": self.output_dim,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}
