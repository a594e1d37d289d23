"""BERT's input embeddings and its masked-language-model head (Devlin et al. 2018).

    input representation (section 3, figure 2):
        E = LayerNorm(E_token[w_t] + E_position[t] + E_segment[s_t]),  then dropout
    masked LM head (appendix A; the output weights are the token embedding, transposed):
        p(w | h_t) = softmax(LayerNorm(gelu(h_t W + b)) E_token^T + b_out)
"""

from __future__ import annotations

import keras
from keras import ops

from seqkeras import arguments
from seqkeras.layers.position import PositionEmbedding, _check_sequence_shape


@keras.saving.register_keras_serializable(package="seqkeras")
def gelu_approximate(x):
    """GELU with the tanh approximation that BERT's code uses (Hendrycks & Gimpel 2016):
    0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))."""
    return keras.activations.gelu(x, approximate=True)


def bert_initializer():
    """BERT's weight initialiser: a normal of standard deviation 0.02, truncated at 2 sd."""
    return keras.initializers.TruncatedNormal(stddev=0.02)


@keras.saving.register_keras_serializable(package="seqkeras")
class BertEmbeddings(keras.layers.Layer):
    """BERT's input representation: token + position + segment embeddings, normalised.

        x_t = Dropout(LayerNorm(E_token[w_t] + P[t] + E_segment[s_t]))      (BERT, figure 2)

    With ``embedding_dim`` E smaller than ``hidden_dim`` H this is ALBERT's factorised
    embedding (Lan et al. 2019, section 3.1): the three embeddings have size E, and a dense
    projection maps the normalised sum to H, so the vocabulary costs V E + E H parameters
    instead of V H.

    Args:
        vocabulary_size: V.
        hidden_dim: H, the size of the output.
        max_sequence_length: number of learned positions.
        num_segments: number of segment ids (2: sentence A and sentence B).
        embedding_dim: E (default H: no projection).
        dropout: rate of the dropout on the output.
        layer_norm_epsilon: epsilon of the layer normalisation (BERT: 1e-12).

    Call arguments:
        token_ids: int ``(batch, T)``; segment_ids: int ``(batch, T)``; training.

    Returns:
        ``(batch, T, H)``.

    References:
        Devlin et al. (2018), BERT, https://arxiv.org/abs/1810.04805; Lan et al. (2019),
        ALBERT, https://arxiv.org/abs/1909.11942
    """

    def __init__(self, vocabulary_size, hidden_dim, max_sequence_length=512, num_segments=2,
                 embedding_dim=None, dropout=0.1, layer_norm_epsilon=1e-12, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = arguments.positive_int("vocabulary_size", vocabulary_size)
        self.hidden_dim = arguments.positive_int("hidden_dim", hidden_dim)
        self.max_sequence_length = arguments.positive_int("max_sequence_length",
                                                          max_sequence_length)
        self.num_segments = arguments.positive_int("num_segments", num_segments)
        self.embedding_dim = arguments.optional_positive_int("embedding_dim", embedding_dim)
        self.dropout = arguments.rate("dropout", dropout)
        self.layer_norm_epsilon = arguments.positive_number("layer_norm_epsilon",
                                                            layer_norm_epsilon)
        size = embedding_dim or hidden_dim
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size, size, embeddings_initializer=bert_initializer(),
            name="token_embedding")
        self.position_embedding = PositionEmbedding(max_sequence_length,
                                                    initializer=bert_initializer(),
                                                    name="position_embedding")
        self.segment_embedding = keras.layers.Embedding(
            num_segments, size, embeddings_initializer=bert_initializer(),
            name="segment_embedding")
        self.norm = keras.layers.LayerNormalization(epsilon=layer_norm_epsilon, name="norm")
        self.dropout_layer = keras.layers.Dropout(dropout)
        self.projection = (keras.layers.Dense(hidden_dim, kernel_initializer=bert_initializer(),
                                              name="projection")
                           if embedding_dim and embedding_dim != hidden_dim else None)

    def build(self, token_ids_shape, segment_ids_shape=None):
        size = self.embedding_dim or self.hidden_dim
        self.token_embedding.build(token_ids_shape)
        self.segment_embedding.build(token_ids_shape)
        self.position_embedding.build((None, None, size))
        self.norm.build((None, None, size))
        if self.projection is not None:
            self.projection.build((None, None, size))

    def call(self, token_ids, segment_ids, training=None):
        if len(token_ids.shape) != 2 or tuple(segment_ids.shape) != tuple(token_ids.shape):
            raise ValueError(f"token_ids and segment_ids must both have shape (batch, T), got "
                             f"{tuple(token_ids.shape)} and {tuple(segment_ids.shape)}")
        # Keras' Embedding on JAX reads the last row for an id past the end: check eagerly.
        arguments.index_range("token_ids", token_ids, self.vocabulary_size, "ids")
        arguments.index_range("segment_ids", segment_ids, self.num_segments, "segment ids")
        tokens = self.token_embedding(token_ids)
        x = tokens + self.position_embedding(tokens) + self.segment_embedding(segment_ids)
        x = self.dropout_layer(self.norm(x), training=training)
        return x if self.projection is None else self.projection(x)

    def compute_output_shape(self, token_ids_shape, segment_ids_shape=None):
        return (*token_ids_shape, self.hidden_dim)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "hidden_dim": self.hidden_dim, "max_sequence_length": self.max_sequence_length,
                "num_segments": self.num_segments, "embedding_dim": self.embedding_dim,
                "dropout": self.dropout, "layer_norm_epsilon": self.layer_norm_epsilon}


class VocabularyOutput:
    """The output layer the masked-LM and span-boundary heads share: logits x E^T + b_out over
    the vocabulary, with E the tied token embedding (``self.token_embedding``) or a weight
    ``W_out`` of the layer's own."""

    @staticmethod
    def tied_vocabulary_size(vocabulary_size, token_embedding):
        """The vocabulary size: given, or the tied embedding's rows (which it must equal)."""
        if token_embedding is None:
            if vocabulary_size is None:
                raise ValueError("give vocabulary_size, a positive integer, or token_embedding")
            return arguments.integer("vocabulary_size", vocabulary_size, minimum=1,
                                     what="a positive integer (or give token_embedding)")
        if not isinstance(token_embedding, keras.layers.Embedding):
            raise TypeError(f"token_embedding must be a keras.layers.Embedding, got "
                            f"{type(token_embedding).__name__}")
        if vocabulary_size is not None and vocabulary_size != token_embedding.input_dim:
            raise ValueError(f"vocabulary_size={vocabulary_size!r} differs from the tied "
                             f"embedding's {token_embedding.input_dim} rows")
        return token_embedding.input_dim

    def build_vocabulary_output(self, size):
        if self.token_embedding is None:
            self.W_out = self.add_weight(name="W_out", shape=(size, self.vocabulary_size),
                                         initializer=bert_initializer())
        self.b_out = self.add_weight(name="b_out", shape=(self.vocabulary_size,),
                                     initializer="zeros")

    def vocabulary_logits(self, x):
        kernel = (ops.transpose(self.token_embedding.embeddings)
                  if self.token_embedding is not None else self.W_out)
        return ops.matmul(x, kernel) + self.b_out


@keras.saving.register_keras_serializable(package="seqkeras")
class MaskedLMHead(VocabularyOutput, keras.layers.Layer):
    """The masked-language-model head: a distribution over the vocabulary at chosen positions.

        x   = LayerNorm(activation(h[mask_positions] W + b))
        out = x E^T + b_out                                       (logits over the vocabulary)

    With ``token_embedding`` (a built ``keras.layers.Embedding``) the output weights are the
    embedding matrix E, shared with the input: the model reads and writes tokens in one space
    (Press & Wolf 2017), and V x H parameters are saved. Without it the head has its own
    ``W_out`` ``(H, vocabulary_size)``. Twin: keras_hub's ``MaskedLMHead``.

    Args:
        vocabulary_size: V (taken from ``token_embedding`` when given).
        token_embedding: the embedding layer whose weights to tie, or None.
        intermediate_activation: activation of the hidden dense layer (BERT: GELU).
        activation: applied to the logits (None: logits).
        layer_norm_epsilon: epsilon of the layer normalisation.

    Call arguments:
        inputs: ``(batch, T, H)``, the encoder's output.
        mask_positions: int ``(batch, M)``, the positions to predict.

    Returns:
        ``(batch, M, V)``.

    References:
        Devlin et al. (2018), https://arxiv.org/abs/1810.04805, section 3.1 and appendix A.
    """

    def __init__(self, vocabulary_size=None, token_embedding=None,
                 intermediate_activation=gelu_approximate, activation=None,
                 layer_norm_epsilon=1e-12, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = self.tied_vocabulary_size(vocabulary_size, token_embedding)
        self.token_embedding = token_embedding
        self.intermediate_activation = keras.activations.get(intermediate_activation)
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = arguments.positive_number("layer_norm_epsilon",
                                                            layer_norm_epsilon)

    def build(self, inputs_shape, mask_positions_shape=None):
        hidden = inputs_shape[-1]
        size = self.token_embedding.output_dim if self.token_embedding is not None else hidden
        self.dense = keras.layers.Dense(size, activation=self.intermediate_activation,
                                        kernel_initializer=bert_initializer(), name="dense")
        self.dense.build((None, None, hidden))
        self.norm = keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon,
                                                    name="norm")
        self.norm.build((None, None, size))
        self.build_vocabulary_output(size)

    def call(self, inputs, mask_positions):
        _check_sequence_shape(self, inputs.shape)
        arguments.index_range("mask_positions", mask_positions, inputs.shape[1], "positions")
        gathered = ops.take_along_axis(inputs, ops.expand_dims(mask_positions, -1), axis=1)
        x = self.norm(self.dense(gathered))
        return self.activation(self.vocabulary_logits(x))

    def compute_output_shape(self, inputs_shape, mask_positions_shape):
        return (*mask_positions_shape, self.vocabulary_size)

    def get_config(self):
        # A tied embedding is not part of the config: the model that owns both layers ties
        # them again when it is rebuilt from its own config.
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "intermediate_activation": keras.activations.serialize(
                    self.intermediate_activation),
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon}


@keras.saving.register_keras_serializable(package="seqkeras")
class NextSentenceHead(keras.layers.Layer):
    """Next-sentence prediction (BERT, section 3.1, task 2): is segment B the sentence that
    follows A? Logits of (random, next) from the pooled [CLS] representation, ``C W + b``.
    ALBERT's sentence-order prediction uses the same head on other pairs (B before A).

    Call arguments:
        pooled_output: ``(batch, H)``.

    Returns:
        ``(batch, 2)`` logits.
    """

    def build(self, pooled_output_shape):
        self.classifier = keras.layers.Dense(2, kernel_initializer=bert_initializer(),
                                             name="classifier")
        self.classifier.build(pooled_output_shape)

    def call(self, pooled_output):
        return self.classifier(pooled_output)

    def compute_output_shape(self, pooled_output_shape):
        return (pooled_output_shape[0], 2)


@keras.saving.register_keras_serializable(package="seqkeras")
class SpanBoundaryHead(VocabularyOutput, keras.layers.Layer):
    """SpanBERT's span-boundary objective (Joshi et al. 2019, section 3.2, eq. 1-2): predict
    each token x_i of a masked span (s, e) from the two tokens just outside it and its place
    in the span only,

        h_0 = [x_{s-1}; x_{e+1}; p_{i-s+1}]
        h_1 = LayerNorm(GeLU(h_0 W_1)),   y_i = LayerNorm(GeLU(h_1 W_2))
        logits_i = y_i E^T + b     (E: the tied token embedding, or a weight of its own)

    so that the boundary tokens' representations must summarise the span between them.

    Args:
        max_span_length: number of relative positions p (SpanBERT: 10 words; counted in tokens
            here).
        vocabulary_size, token_embedding: as for ``MaskedLMHead``.

    Call arguments:
        inputs: ``(batch, T, H)``, the encoder's output.
        boundaries: int ``(batch, M, 2)``, the positions s-1 and e+1 for each target token.
        relative_positions: int ``(batch, M)``, i - s (0 for the span's first token).

    Returns:
        ``(batch, M, V)`` logits.
    """

    def __init__(self, max_span_length=10, vocabulary_size=None, token_embedding=None,
                 layer_norm_epsilon=1e-12, **kwargs):
        super().__init__(**kwargs)
        self.max_span_length = arguments.positive_int("max_span_length", max_span_length)
        self.vocabulary_size = self.tied_vocabulary_size(vocabulary_size, token_embedding)
        self.token_embedding = token_embedding
        self.layer_norm_epsilon = arguments.positive_number("layer_norm_epsilon",
                                                            layer_norm_epsilon)

    def build(self, inputs_shape, boundaries_shape=None, relative_positions_shape=None):
        hidden = inputs_shape[-1]
        size = self.token_embedding.output_dim if self.token_embedding is not None else hidden
        self.position_embedding = keras.layers.Embedding(
            self.max_span_length, hidden, embeddings_initializer=bert_initializer(),
            name="position_embedding")
        self.position_embedding.build((None, None))
        self.dense_1 = keras.layers.Dense(hidden, activation=gelu_approximate,
                                          kernel_initializer=bert_initializer(), name="dense_1")
        self.dense_1.build((None, None, 3 * hidden))
        self.norm_1 = keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon,
                                                      name="norm_1")
        self.norm_1.build((None, None, hidden))
        self.dense_2 = keras.layers.Dense(size, activation=gelu_approximate,
                                          kernel_initializer=bert_initializer(), name="dense_2")
        self.dense_2.build((None, None, hidden))
        self.norm_2 = keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon,
                                                      name="norm_2")
        self.norm_2.build((None, None, size))
        self.build_vocabulary_output(size)

    def call(self, inputs, boundaries, relative_positions):
        _check_sequence_shape(self, inputs.shape)
        if boundaries.shape[-1] != 2 or tuple(boundaries.shape[:-1]) != tuple(
                relative_positions.shape):
            raise ValueError(f"boundaries must have shape (batch, M, 2) and relative_positions "
                             f"(batch, M), got {tuple(boundaries.shape)} and "
                             f"{tuple(relative_positions.shape)}")
        arguments.index_range("boundaries", boundaries, inputs.shape[1], "positions")
        # Positions past max_span_length are clipped below; a negative one has no row.
        arguments.index_range("relative_positions", relative_positions, 2 ** 31, "positions")
        left = ops.take_along_axis(inputs, ops.expand_dims(boundaries[..., 0], -1), axis=1)
        right = ops.take_along_axis(inputs, ops.expand_dims(boundaries[..., 1], -1), axis=1)
        relative_positions = ops.minimum(relative_positions, self.max_span_length - 1)
        h_0 = ops.concatenate([left, right, self.position_embedding(relative_positions)], -1)
        y = self.norm_2(self.dense_2(self.norm_1(self.dense_1(h_0))))
        return self.vocabulary_logits(y)

    def compute_output_shape(self, inputs_shape, boundaries_shape, relative_positions_shape):
        return (*relative_positions_shape, self.vocabulary_size)

    def get_config(self):
        # A tied embedding is re-tied by the model that owns both layers (see MaskedLMHead).
        return {**super().get_config(), "max_span_length": self.max_span_length,
                "vocabulary_size": self.vocabulary_size,
                "layer_norm_epsilon": self.layer_norm_epsilon}
