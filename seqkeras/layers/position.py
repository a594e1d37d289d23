"""Where a token is: the sinusoidal positional encoding and learned position embeddings.

Self-attention is permutation-equivariant: shuffle the tokens and the outputs shuffle with them.
The Transformer therefore adds a vector that depends on the position to every token embedding
(Vaswani et al. 2017, section 3.5).
"""

from __future__ import annotations

import keras
from keras import ops

from seqkeras import arguments


def _check_sequence_shape(layer, shape):
    if len(shape) != 3:
        raise ValueError(f"{type(layer).__name__} expects inputs of rank 3 (batch, time, "
                         f"features), got shape {tuple(shape)}")


@keras.saving.register_keras_serializable(package="seqkeras")
class SinusoidalPositionalEncoding(keras.layers.Layer):
    """The fixed positional encoding of Vaswani et al. (2017, section 3.5):

        PE(pos, 2i)   = sin(pos / 10000^(2i / d_model))
        PE(pos, 2i+1) = cos(pos / 10000^(2i / d_model))

    Each pair of dimensions is a sine and cosine of one frequency, the wavelengths forming a
    geometric progression from 2 pi to 10000 * 2 pi; PE(pos + k) is a linear function of
    PE(pos), which the paper hoped would let attention find relative positions.

    Like keras_hub's ``SinePositionEncoding`` (its twin: same interleaved layout), the layer
    returns the encoding only, of the shape of its input; the caller adds it to the embeddings.

    Args:
        max_wavelength: the 10000 of the formula.

    Call arguments:
        inputs: ``(batch, T, d_model)``, used for its shape only.
        start_index: position of the first token (for incremental decoding).

    Returns:
        ``(batch, T, d_model)``, PE(start_index + t, :) at every t.

    Example:

    >>> d_model = 16
    >>> token_embedding = keras.layers.Embedding(100, d_model)
    >>> x = token_embedding(np.array([[5, 7, 9, 0]])) * d_model ** 0.5
    >>> x = x + SinusoidalPositionalEncoding()(x)
    >>> tuple(x.shape)
    (1, 4, 16)

    References:
        Vaswani et al. (2017), Attention is all you need, https://arxiv.org/abs/1706.03762
    """

    def __init__(self, max_wavelength=10000.0, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = arguments.number("max_wavelength", max_wavelength, 1,
                                               include_minimum=False)

    def build(self, inputs_shape):
        _check_sequence_shape(self, inputs_shape)

    def call(self, inputs, start_index=0):
        _check_sequence_shape(self, inputs.shape)
        length, d_model = ops.shape(inputs)[1], inputs.shape[-1]
        position = ops.cast(ops.arange(length) + start_index, self.compute_dtype)
        two_i = ops.cast(2 * (ops.arange(d_model) // 2), self.compute_dtype)
        frequency = ops.power(ops.cast(self.max_wavelength, self.compute_dtype),
                              -two_i / d_model)  # 1 / 10000^(2i / d_model)
        angle = ops.expand_dims(position, 1) * ops.expand_dims(frequency, 0)
        is_cosine = ops.arange(d_model) % 2 == 1
        encoding = ops.where(is_cosine, ops.cos(angle), ops.sin(angle))
        return ops.broadcast_to(encoding, ops.shape(inputs))

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength}


@keras.saving.register_keras_serializable(package="seqkeras")
class PositionEmbedding(keras.layers.Layer):
    """Learned absolute position embeddings: one trained vector per position, P[t].

    The Transformer paper found them about as good as the sinusoids (Table 3, row E); BERT and
    GPT use them. They cannot extrapolate: a position beyond ``sequence_length`` has no vector.

    Twin: keras_hub's ``PositionEmbedding`` (one weight, ``embeddings``, sliced to the length).

    Args:
        sequence_length: the largest number of positions.
        initializer: initializer of the embeddings.

    Call arguments:
        inputs: ``(batch, T, d)`` with T <= sequence_length, used for its shape only.
        start_index: position of the first token.

    Returns:
        ``(batch, T, d)``: P[start_index + t] at every t.

    Example:

    >>> embedded = keras.layers.Embedding(100, 16)(np.array([[5, 7, 9, 0]]))
    >>> x = embedded + PositionEmbedding(sequence_length=128)(embedded)
    >>> tuple(x.shape)
    (1, 4, 16)
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = arguments.positive_int("sequence_length", sequence_length)
        self.initializer = keras.initializers.get(initializer)

    def build(self, inputs_shape):
        _check_sequence_shape(self, inputs_shape)
        if inputs_shape[1] is not None and inputs_shape[1] > self.sequence_length:
            raise ValueError(f"inputs have {inputs_shape[1]} positions, more than "
                             f"sequence_length={self.sequence_length}")
        self.embeddings = self.add_weight(name="embeddings",
                                          shape=(self.sequence_length, inputs_shape[-1]),
                                          initializer=self.initializer)

    def call(self, inputs, start_index=0):
        _check_sequence_shape(self, inputs.shape)
        if inputs.shape[-1] != self.embeddings.shape[-1]:
            raise ValueError(f"inputs have {inputs.shape[-1]} features; the layer was built "
                             f"for {self.embeddings.shape[-1]}")
        length = ops.shape(inputs)[1]
        start = arguments.concrete(start_index)
        if isinstance(length, int) and start is not None:
            # JAX clamps a slice past the end instead of raising: check it here.
            if start.ndim != 0 or not 0 <= int(start) <= self.sequence_length - length:
                raise ValueError(f"start_index={start_index!r} with {length} positions "
                                 f"leaves [0, sequence_length={self.sequence_length})")
        positions = ops.slice(ops.convert_to_tensor(self.embeddings), (start_index, 0),
                              (length, inputs.shape[-1]))
        return ops.broadcast_to(ops.cast(positions, inputs.dtype), ops.shape(inputs))

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer)}
