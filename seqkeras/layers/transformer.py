"""The Transformer's encoder and decoder blocks (Vaswani et al. 2017, section 3.1 and figure 1).

Every block is a stack of sub-layers, each wrapped the same way (section 5.4, "residual
dropout"):

    post-LN (the paper):   x = LayerNorm(x + Dropout(Sublayer(x)))
    pre-LN (option):       x = x + Dropout(Sublayer(LayerNorm(x)))

Pre-LN (Xiong et al. 2020) keeps an un-normalised residual path from input to output and
trains deep stacks without the learning-rate warm-up post-LN needs. The sub-layers are
multi-head self-attention, cross-attention (decoder only) and the position-wise feed-forward
network FFN(x) = max(0, x W_1 + b_1) W_2 + b_2 (eq. 2).
"""

from __future__ import annotations

import keras
from keras import ops

from seqkeras import arguments
from seqkeras.layers.masks import check_padding_mask, keras_mask
from seqkeras.layers.multi_head import MultiHeadAttention


def padding_attention_mask(padding_mask, attention_mask=None):
    """Combine a padding mask ``(batch, T_k)`` (True = a real token) with an optional
    ``(batch, T_q, T_k)`` attention mask: ``(batch, 1 or T_q, T_k)`` boolean, or None.

    Padding masks only the keys: a padded query position still computes an output (which
    nothing real reads), as in keras_hub.
    """
    mask = None
    if padding_mask is not None:
        if len(padding_mask.shape) != 2:
            raise ValueError(f"a padding mask must have shape (batch, T), got "
                             f"{tuple(padding_mask.shape)}")
        mask = ops.expand_dims(ops.cast(padding_mask, "bool"), 1)
    if attention_mask is not None:
        if len(attention_mask.shape) != 3:
            raise ValueError(f"attention_mask must have shape (batch, T_q, T_k), got "
                             f"{tuple(attention_mask.shape)}")
        attention_mask = ops.cast(attention_mask, "bool")
        mask = attention_mask if mask is None else ops.logical_and(mask, attention_mask)
    return mask


class TransformerBlock(keras.layers.Layer):
    """What both blocks share: the arguments, the feed-forward network, the sub-layer wrapper."""

    def __init__(self, num_heads, intermediate_dim, dropout=0.0, activation="relu",
                 layer_norm_epsilon=1e-5, normalize_first=False,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.num_heads = arguments.positive_int("num_heads", num_heads)
        self.intermediate_dim = arguments.positive_int("intermediate_dim", intermediate_dim)
        self.dropout = arguments.rate("dropout", dropout)
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = arguments.positive_number("layer_norm_epsilon",
                                                            layer_norm_epsilon)
        self.normalize_first = arguments.boolean("normalize_first", normalize_first)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def _check_model_dim(self, shape):
        if len(shape) != 3:
            raise ValueError(f"{type(self).__name__} expects inputs of rank 3 (batch, time, "
                             f"d_model), got shape {tuple(shape)}")
        d_model = shape[-1]
        if d_model % self.num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads="
                             f"{self.num_heads}: each head gets d_model / num_heads dimensions")
        return d_model

    def _initializers(self):
        # Every sub-layer gets its own copy: one initializer object shared by several weights
        # would draw the same values for all of them when it is seeded.
        return {"kernel_initializer": self.kernel_initializer.__class__.from_config(
                    self.kernel_initializer.get_config()),
                "bias_initializer": self.bias_initializer.__class__.from_config(
                    self.bias_initializer.get_config())}

    def _attention(self, name, query_shape, value_shape, d_model):
        layer = MultiHeadAttention(self.num_heads, d_model // self.num_heads,
                                   dropout=self.dropout, name=name, **self._initializers())
        layer.build(query_shape, value_shape)
        return layer

    def _norm(self, name, shape):
        layer = keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon, name=name)
        layer.build(shape)
        return layer

    def _build_feedforward(self, shape):
        d_model = shape[-1]
        self.feedforward_intermediate = keras.layers.Dense(
            self.intermediate_dim, activation=self.activation, name="feedforward_intermediate",
            **self._initializers())
        self.feedforward_intermediate.build(shape)
        self.feedforward_output = keras.layers.Dense(d_model, name="feedforward_output",
                                                     **self._initializers())
        self.feedforward_output.build((*shape[:-1], self.intermediate_dim))
        self.feedforward_norm = self._norm("feedforward_norm", shape)
        self.residual_dropout = keras.layers.Dropout(self.dropout)

    def sublayer(self, x, norm, function, training=None):
        """The residual wrapper around one sub-layer, post-LN or pre-LN."""
        residual = x
        if self.normalize_first:
            x = norm(x)
        x = residual + self.residual_dropout(function(x), training=training)
        return x if self.normalize_first else norm(x)

    def feedforward(self, x):
        """FFN(x) = activation(x W_1 + b_1) W_2 + b_2, at every position independently."""
        return self.feedforward_output(self.feedforward_intermediate(x))

    @staticmethod
    def padding_mask(name, padding_mask, sequence):
        """The padding mask given, else the Keras mask ``sequence`` carries (keras_hub's rule:
        an explicit padding mask wins), checked against ``sequence``'s shape."""
        return check_padding_mask(name, keras_mask(sequence) if padding_mask is None
                                  else padding_mask, sequence)

    def compute_output_shape(self, inputs_shape, *args, **kwargs):
        return inputs_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim, "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "normalize_first": self.normalize_first,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}


@keras.saving.register_keras_serializable(package="seqkeras")
class TransformerEncoderBlock(TransformerBlock):
    """One encoder layer of the Transformer (Vaswani et al. 2017, section 3.1):

        x = SublayerConnection(x, MultiHead(x, x, x))      every token attends to every token
        x = SublayerConnection(x, FFN(x))

    with SublayerConnection post-LN (the paper) or pre-LN (``normalize_first=True``), see the
    module docstring. Twin: keras_hub's ``TransformerEncoder``, with the same arguments, call
    signature and sub-layers (``seqkeras.interop`` converts both ways, in both LN orders).

    Args:
        num_heads: h; d_model (the inputs' last dimension) must be divisible by it.
        intermediate_dim: d_ff, the hidden size of the feed-forward network.
        dropout: rate of the residual dropout and of the dropout on the attention weights.
        activation: of the feed-forward network's hidden layer (the paper: ReLU).
        layer_norm_epsilon: epsilon of the layer normalisations.
        normalize_first: pre-LN instead of the paper's post-LN.
        kernel_initializer, bias_initializer: of the attention and dense layers.

    Call arguments:
        inputs: ``(batch, T, d_model)``.
        padding_mask: boolean ``(batch, T)``, True at real tokens; padding is never attended to.
            Default: the Keras mask of ``inputs`` (e.g. from ``Embedding(mask_zero=True)``).
        attention_mask: boolean ``(batch, T, T)``, combined with the padding mask.
        training: whether dropout is active.
        return_attention_scores: also return the self-attention weights ``(batch, h, T, T)``.

    Returns:
        ``(batch, T, d_model)`` (and the weights).

    Example:

    >>> token_ids = np.array([[5, 7, 9, 0], [4, 0, 0, 0]])
    >>> x = keras.layers.Embedding(100, 32)(token_ids)
    >>> block = TransformerEncoderBlock(num_heads=4, intermediate_dim=64)
    >>> h = block(x, padding_mask=token_ids != 0)
    >>> tuple(h.shape)
    (2, 4, 32)

    References:
        Vaswani et al. (2017), https://arxiv.org/abs/1706.03762; Xiong et al. (2020), On layer
        normalization in the Transformer architecture, https://arxiv.org/abs/2002.04745
    """

    def build(self, inputs_shape):
        d_model = self._check_model_dim(inputs_shape)
        self.self_attention = self._attention("self_attention", inputs_shape, inputs_shape,
                                              d_model)
        self.self_attention_norm = self._norm("self_attention_norm", inputs_shape)
        self._build_feedforward(inputs_shape)

    def call(self, inputs, padding_mask=None, attention_mask=None, training=None,
             return_attention_scores=False):
        padding_mask = self.padding_mask("padding_mask", padding_mask, inputs)
        mask = padding_attention_mask(padding_mask, attention_mask)
        scores = []

        def attend(x):
            # value_mask given explicitly: the Keras mask x may carry must not override an
            # explicit padding_mask. The query's Keras mask, as in keras_hub, is read.
            output = self.self_attention(x, x, value_mask=padding_mask,
                                         attention_mask=mask, training=training,
                                         return_attention_scores=return_attention_scores)
            if return_attention_scores:
                output, weights = output
                scores.append(weights)
            return output

        x = self.sublayer(inputs, self.self_attention_norm, attend, training)
        x = self.sublayer(x, self.feedforward_norm, self.feedforward, training)
        return (x, scores[0]) if return_attention_scores else x


@keras.saving.register_keras_serializable(package="seqkeras")
class TransformerDecoderBlock(TransformerBlock):
    """One decoder layer of the Transformer (Vaswani et al. 2017, section 3.1):

        y = SublayerConnection(y, MultiHead(y, y, y, causal))    masked self-attention
        y = SublayerConnection(y, MultiHead(y, z, z))            cross-attention to the encoder
        y = SublayerConnection(y, FFN(y))

    z is the encoder's output. The causal mask keeps position i from seeing positions after i,
    so that training on whole target sentences at once (teacher forcing) is the same as
    generating them left to right. Without ``encoder_sequence`` at its first call the block
    has no cross-attention (a decoder-only language model, like GPT).

    Twin: keras_hub's ``TransformerDecoder`` (``seqkeras.interop`` converts both ways).

    Args: those of ``TransformerEncoderBlock``.

    Call arguments:
        decoder_sequence: ``(batch, T, d_model)``.
        encoder_sequence: ``(batch, S, d_model)`` or None (then the block must have been
            built without it).
        decoder_padding_mask: boolean ``(batch, T)``; encoder_padding_mask: boolean
            ``(batch, S)``; True at real tokens. Each defaults to its sequence's Keras mask.
        use_causal_mask: apply the causal mask (default True).
        training: whether dropout is active.
        return_attention_scores: also return the self- and cross-attention weights,
            ``(batch, h, T, T)`` and ``(batch, h, T, S)`` (None without cross-attention).

    Returns:
        ``(batch, T, d_model)`` (and the two weight tensors).

    Decoding one token at a time (a "KV cache", as keras_hub's ``CachedMultiHeadAttention``):
    ``start_cache(max_length, encoder_sequence)`` makes room for the keys and values of
    ``max_length`` positions and projects the encoder's once; ``call_cached(y_t, cache, t)``
    runs the block for one new position t, writes its key and value into the cache and
    attends to positions 0..t from there instead of recomputing them. Fed the tokens one by one,
    it gives what ``call`` gives at each position (the causal mask makes both the same). The
    cache has a fixed size so that a compiled step keeps one shape from word to word.

    References:
        Vaswani et al. (2017), https://arxiv.org/abs/1706.03762
    """

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        d_model = self._check_model_dim(decoder_sequence_shape)
        self.self_attention = self._attention("self_attention", decoder_sequence_shape,
                                              decoder_sequence_shape, d_model)
        self.self_attention_norm = self._norm("self_attention_norm", decoder_sequence_shape)
        self.cross_attention = None
        if encoder_sequence_shape is not None:
            if encoder_sequence_shape[-1] != d_model:
                raise ValueError(f"encoder_sequence has {encoder_sequence_shape[-1]} features; "
                                 f"the decoder's d_model is {d_model}")
            self.cross_attention = self._attention("cross_attention", decoder_sequence_shape,
                                                   encoder_sequence_shape, d_model)
            self.cross_attention_norm = self._norm("cross_attention_norm",
                                                   decoder_sequence_shape)
        self._build_feedforward(decoder_sequence_shape)

    def call(self, decoder_sequence, encoder_sequence=None, decoder_padding_mask=None,
             encoder_padding_mask=None, use_causal_mask=True, training=None,
             return_attention_scores=False):
        if (encoder_sequence is None) != (self.cross_attention is None):
            raise ValueError("call the decoder block the way it was built: with an "
                             "encoder_sequence if and only if its first call had one")
        decoder_padding_mask = self.padding_mask("decoder_padding_mask", decoder_padding_mask,
                                                 decoder_sequence)
        if encoder_sequence is not None:
            encoder_padding_mask = self.padding_mask("encoder_padding_mask",
                                                     encoder_padding_mask, encoder_sequence)
        scores = {}

        def attention(layer, name, values, values_mask, causal):
            def attend(x):
                # value_mask given explicitly, so that a Keras mask on x cannot override it.
                output = layer(x, values if values is not None else x, value_mask=values_mask,
                               attention_mask=padding_attention_mask(values_mask),
                               use_causal_mask=causal, training=training,
                               return_attention_scores=return_attention_scores)
                if return_attention_scores:
                    output, scores[name] = output
                return output
            return attend

        y = self.sublayer(decoder_sequence, self.self_attention_norm,
                          attention(self.self_attention, "self", None, decoder_padding_mask,
                                    use_causal_mask), training)
        if self.cross_attention is not None:
            y = self.sublayer(y, self.cross_attention_norm,
                              attention(self.cross_attention, "cross", encoder_sequence,
                                        encoder_padding_mask, False), training)
        y = self.sublayer(y, self.feedforward_norm, self.feedforward, training)
        if return_attention_scores:
            return y, scores["self"], scores.get("cross")
        return y

    def start_cache(self, max_length, encoder_sequence=None, batch_size=None):
        """The cache before the first target position: self-attention keys and values for
        ``max_length`` positions, ``(batch, max_length, h, d_head)``, zero until written, then
        the cross-attention keys and values of ``encoder_sequence``, projected once (absent
        without cross-attention; then give ``batch_size``)."""
        if (encoder_sequence is None) != (self.cross_attention is None):
            raise ValueError("start the cache the way the block was built: with an "
                             "encoder_sequence if and only if it has cross-attention")
        max_length = arguments.positive_int("max_length", max_length)
        attention = self.self_attention
        batch = ops.shape(encoder_sequence)[0] if encoder_sequence is not None else batch_size
        cache = tuple(ops.zeros((batch, max_length, attention.num_heads, size),
                                dtype=self.compute_dtype)
                      for size in (attention.key_dim, attention.value_dim))
        if encoder_sequence is not None:
            cache += self.cross_attention.project_keys_and_values(encoder_sequence)
        return cache

    def call_cached(self, decoder_sequence, cache, position, encoder_padding_mask=None):
        """The block at one new position, ``decoder_sequence`` ``(batch, 1, d_model)`` standing
        at ``position`` (an int scalar, below the cache's ``max_length``), at inference (no
        dropout). Its self-attention writes the position's key and value into the cache and
        reads those of positions 0..position. Returns ``(outputs, new_cache)``.
        ``encoder_padding_mask``: boolean ``(batch, S)``, True at real source tokens."""
        if decoder_sequence.shape[1] != 1:
            raise ValueError(f"call_cached takes one new position, (batch, 1, d_model); got "
                             f"shape {tuple(decoder_sequence.shape)}")
        self_key, self_value, *cross = cache
        max_length = ops.shape(self_key)[1]  # a tensor in a graph traced for any length
        index = arguments.concrete(position)
        if index is not None and isinstance(max_length, int) and \
                not 0 <= int(index) < max_length:
            raise ValueError(f"position {int(index)} is past the cache's {max_length} "
                             "positions: start the cache with a larger max_length")

        def self_attend(x):
            nonlocal self_key, self_value
            new_key, new_value = self.self_attention.project_keys_and_values(x)
            start = (0, position, 0, 0)
            self_key = ops.slice_update(self_key, start, ops.cast(new_key, self_key.dtype))
            self_value = ops.slice_update(self_value, start,
                                          ops.cast(new_value, self_value.dtype))
            written = ops.arange(max_length) <= position  # the keys up to its own position
            return self.self_attention.call_cached(x, self_key, self_value,
                                                   ops.reshape(written, (1, 1, -1)))

        y = self.sublayer(decoder_sequence, self.self_attention_norm, self_attend)
        if self.cross_attention is not None:
            mask = padding_attention_mask(encoder_padding_mask)
            y = self.sublayer(y, self.cross_attention_norm,
                              lambda x: self.cross_attention.call_cached(x, *cross, mask))
        y = self.sublayer(y, self.feedforward_norm, self.feedforward)
        return y, (self_key, self_value, *cross)
