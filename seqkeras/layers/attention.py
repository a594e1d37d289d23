"""Soft attention for encoder-decoder translation: Bahdanau's additive score and Luong's family.

Every layer here is called as ``layer(query, values, values_mask=None)`` and returns
``(context, weights)``:

    e_ij     = score(q_i, h_j)                                     alignment scores
    alpha_ij = exp(e_ij) / sum_k exp(e_ik)   (over real positions)  attention weights
    c_i      = sum_j alpha_ij h_j                                   context vector

q_i is the decoder's state at target position i (the query), h_j the encoder's annotation of
source position j (the values). Only the score differs from layer to layer. The mask argument
is called ``values_mask``, not ``mask``: Keras fills an argument named ``mask`` with the Keras
mask of the *first* input (the query), which would silently mask the wrong sequence. Keras
masks are read as ``keras.layers.Attention`` reads them: the values' mask hides padded source
positions, the query's mask zeroes the context at padded target positions, and the output
carries the query's mask on. An explicit ``values_mask`` wins over the values' Keras mask.
"""

from __future__ import annotations

import keras
from keras import ops

from seqkeras import arguments
from seqkeras.layers.masks import check_padding_mask, masked_softmax


class SoftAttention(keras.layers.Layer):
    """Base of the attention layers: mask checks, masked softmax, context vector.

    Subclasses implement ``score(query, values) -> (batch, T_q, T_v)``, and may override
    ``attention_weights`` when the weights are more than a masked softmax of the scores.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_shapes(self, query_shape, values_shape):
        for name, shape in (("query", query_shape), ("values", values_shape)):
            if len(shape) != 3:
                raise ValueError(f"{self.__class__.__name__} expects {name} of rank 3 "
                                 f"(batch, time, features), got shape {tuple(shape)}")
        if None not in (query_shape[0], values_shape[0]) and query_shape[0] != values_shape[0]:
            raise ValueError(f"query and values must have the same batch size, got "
                             f"{query_shape[0]} and {values_shape[0]}")

    def build(self, query_shape, values_shape, values_mask_shape=None):
        self._check_shapes(query_shape, values_shape)
        self.build_score(tuple(query_shape), tuple(values_shape))

    def build_score(self, query_shape, values_shape):
        """Create the score's weights (none by default)."""

    def score(self, query, values):
        raise NotImplementedError

    def attention_weights(self, query, values, values_mask=None):
        """alpha: ``(batch, T_q, T_v)``, a softmax of the scores over the real positions."""
        mask = None if values_mask is None else ops.expand_dims(values_mask, 1)
        return masked_softmax(self.score(query, values), mask)

    def call(self, query, values, values_mask=None, query_mask=None):
        self._check_shapes(query.shape, values.shape)
        values_mask = check_padding_mask("values_mask", values_mask, values)
        query_mask = check_padding_mask("query_mask", query_mask, query)
        weights = self.attention_weights(query, values, values_mask)
        context = ops.matmul(ops.cast(weights, values.dtype), values)
        if query_mask is not None:  # as keras.layers.Attention: no context at padded targets
            context = ops.where(ops.expand_dims(query_mask, -1), context,
                                ops.zeros_like(context))
        return context, weights

    def compute_mask(self, query, previous_mask=None):
        # The query's mask suits both outputs: their rows are the query's positions.
        return (previous_mask, previous_mask)

    def compute_output_shape(self, query_shape, values_shape, values_mask_shape=None,
                             query_mask_shape=None):
        return ((query_shape[0], query_shape[1], values_shape[2]),
                (query_shape[0], query_shape[1], values_shape[1]))


@keras.saving.register_keras_serializable(package="seqkeras")
class BahdanauAttention(SoftAttention):
    """Additive attention (Bahdanau, Cho & Bengio 2014, eq. 6 and appendix A.1.2):

        e_ij = v_a^T tanh(W_a s_i + U_a h_j)    i.e., in row vectors,  tanh(q_i W_a + h_j U_a) v_a

    A one-hidden-layer network scores every (query, annotation) pair, so the query and the
    annotations may have different sizes. In the paper the query is the previous decoder state
    s_{i-1}; the seqkeras attention decoder passes its current state (see
    ``models.AttentionSeq2Seq``).

    Keras twin: ``keras.layers.AdditiveAttention(use_scale=True)`` applied to
    ``[q W_a, h, h U_a]`` with its ``scale`` equal to v_a (it has no projections of its own).

    Args:
        units: size of the hidden layer (columns of W_a and U_a).
        kernel_initializer: initializer of W_a and U_a.
        score_initializer: initializer of v_a.

    Call arguments:
        query: ``(batch, T_q, d_q)``, the decoder states s_i.
        values: ``(batch, T_v, d_v)``, the annotations h_j.
        values_mask: optional boolean ``(batch, T_v)``, True at real source positions
            (default: the values' Keras mask).
        query_mask: optional boolean ``(batch, T_q)``; the context is 0 where it is False
            (default: the query's Keras mask).

    Returns:
        ``(context, weights)``: ``(batch, T_q, d_v)`` and ``(batch, T_q, T_v)``.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> annotations = rng.normal(size=(2, 5, 8)).astype("float32")     # h_1..h_S
    >>> decoder_states = rng.normal(size=(2, 3, 8)).astype("float32")  # one query per word
    >>> source_ids = np.array([[4, 9, 7, 0, 0], [5, 6, 8, 3, 2]])
    >>> attention = BahdanauAttention(64)
    >>> context, weights = attention(decoder_states, annotations, values_mask=source_ids != 0)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 3, 8), (2, 3, 5))
    >>> float(ops.max(weights[0, :, 3:]))                              # padding: no weight
    0.0

    References:
        Bahdanau, Cho & Bengio (2014), Neural machine translation by jointly learning to align
        and translate, https://arxiv.org/abs/1409.0473
    """

    def __init__(self, units, kernel_initializer="glorot_uniform",
                 score_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units = arguments.positive_int("units", units)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.score_initializer = keras.initializers.get(score_initializer)

    def build_score(self, query_shape, values_shape):
        self.W_a = self.add_weight(shape=(query_shape[-1], self.units), name="W_a",
                                   initializer=self.kernel_initializer)
        self.U_a = self.add_weight(shape=(values_shape[-1], self.units), name="U_a",
                                   initializer=self.kernel_initializer)
        self.v_a = self.add_weight(shape=(self.units,), name="v_a",
                                   initializer=self.score_initializer)

    def score(self, query, values):
        return additive_score(ops.matmul(query, self.W_a), ops.matmul(values, self.U_a), self.v_a)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "score_initializer": keras.initializers.serialize(self.score_initializer)}


def additive_score(projected_query, projected_values, v_a):
    """tanh(q W + h U) v_a for every pair: ``(b, T_q, u)``, ``(b, T_v, u)`` -> ``(b, T_q, T_v)``."""
    hidden = ops.tanh(ops.expand_dims(projected_query, 2) + ops.expand_dims(projected_values, 1))
    return ops.sum(hidden * v_a, axis=-1)


LUONG_SCORES = ("dot", "general", "concat", "location")


@keras.saving.register_keras_serializable(package="seqkeras")
class LuongAttention(SoftAttention):
    """Global attention with the scores of Luong, Pham & Manning (2015, eq. 8 and 9):

        dot       e_ts = h_t . h_s                       (d_q must equal d_v)
        general   e_ts = h_t W_a h_s^T                   W_a: (d_q, d_v)
        concat    e_ts = tanh([h_t; h_s] W_a) v_a        W_a: (d_q + d_v, units), v_a: (units,)
        location  a_t  = softmax(h_t W_a)                W_a: (d_q, T_v)

    h_t is the decoder state (the query), h_s a source annotation. ``concat`` is Bahdanau's
    additive score with one stacked matrix. ``location`` ignores the source content: the weights
    are a function of the decoder state alone, one learned column of W_a per source *position*.
    Its W_a therefore has as many columns as the padded source length T_v seen at build time;
    a shorter sentence uses the columns of its real positions, renormalised by the masked
    softmax, and a longer padded input is an error.

    Keras twins: ``keras.layers.Attention()`` is ``dot`` and, applied to ``[h_t W_a, h_s]``,
    ``general``; ``keras.layers.AdditiveAttention()`` applied to
    ``[h_t W_a[:d_q], h_s, h_s W_a[d_q:]]`` with ``scale`` = v_a is ``concat``.

    Args:
        score: ``"dot"``, ``"general"``, ``"concat"`` or ``"location"``.
        units: hidden size of the ``concat`` score (required there, unused otherwise).
        kernel_initializer: initializer of W_a (and v_a).

    Call arguments:
        query: ``(batch, T_q, d_q)``; values: ``(batch, T_v, d_v)``; values_mask: optional
        boolean ``(batch, T_v)``, True at real source positions; query_mask: optional
        boolean ``(batch, T_q)``. Both default to the inputs' Keras masks.

    Returns:
        ``(context, weights)``: ``(batch, T_q, d_v)`` and ``(batch, T_q, T_v)``.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> annotations = rng.normal(size=(2, 5, 8)).astype("float32")
    >>> decoder_states = rng.normal(size=(2, 3, 8)).astype("float32")
    >>> source_mask = np.array([[True, True, True, False, False], [True] * 5])
    >>> context, weights = LuongAttention("general")(decoder_states, annotations, source_mask)
    >>> np.allclose(ops.sum(weights, axis=-1), 1.0)
    True

    References:
        Luong, Pham & Manning (2015), Effective approaches to attention-based neural machine
        translation, https://arxiv.org/abs/1508.04025
    """

    def __init__(self, score, units=None, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.score_name = arguments.choice("score", score, LUONG_SCORES)
        self.units = arguments.optional_positive_int("units", units)
        if score == "concat" and units is None:
            raise ValueError("the concat score needs units, a positive integer, got None")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build_score(self, query_shape, values_shape):
        d_q, d_v = query_shape[-1], values_shape[-1]
        if self.score_name == "dot" and d_q != d_v:
            raise ValueError(f"the dot score needs query and values of the same size, got "
                             f"d_q={d_q} and d_v={d_v}; use 'general' to project between them")
        if self.score_name == "general":
            self.W_a = self.add_weight(shape=(d_q, d_v), name="W_a",
                                       initializer=self.kernel_initializer)
        elif self.score_name == "concat":
            self.W_a = self.add_weight(shape=(d_q + d_v, self.units), name="W_a",
                                       initializer=self.kernel_initializer)
            self.v_a = self.add_weight(shape=(self.units,), name="v_a",
                                       initializer=self.kernel_initializer)
        elif self.score_name == "location":
            if values_shape[1] is None:
                raise ValueError("the location score needs a fixed source length: pad the "
                                 "values to a known T_v (e.g. keras.Input(shape=(T_v,)))")
            self.W_a = self.add_weight(shape=(d_q, values_shape[1]), name="W_a",
                                       initializer=self.kernel_initializer)

    def score(self, query, values):
        if self.score_name == "dot":
            return ops.matmul(query, ops.transpose(values, (0, 2, 1)))
        if self.score_name == "general":
            return ops.matmul(ops.matmul(query, self.W_a), ops.transpose(values, (0, 2, 1)))
        if self.score_name == "concat":
            d_q = query.shape[-1]
            return additive_score(ops.matmul(query, self.W_a[:d_q]),
                                  ops.matmul(values, self.W_a[d_q:]), self.v_a)
        # A shorter (less padded) source uses the first columns: position s keeps its weights.
        source_positions = values.shape[1]
        if source_positions is not None and source_positions > self.W_a.shape[1]:
            raise ValueError(f"the location score was built for sources of at most "
                             f"{self.W_a.shape[1]} positions, got {source_positions}")
        if source_positions is None:  # a graph traced for any length
            source_positions = ops.shape(values)[1]
        return ops.matmul(query, self.W_a[:, :source_positions])

    def get_config(self):
        return {**super().get_config(), "score": self.score_name, "units": self.units,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


@keras.saving.register_keras_serializable(package="seqkeras")
class LocalAttention(SoftAttention):
    """Local attention with predicted alignment, "local-p" (Luong, Pham & Manning 2015, eq. 9-10):

        p_t     = S sigmoid(tanh(h_t W_p) v_p)                          predicted source position
        a_t(s)  = align(h_t, h_s) exp(-(s - p_t)^2 / (2 sigma^2)),  sigma = D / 2,
                  for |s - p_t| <= D, and exactly 0 elsewhere

    where S is the real (unpadded) length of each source sentence, D the half-width ``window``
    and align() the softmax of a Luong score over the window's real positions. Positions s are
    counted from 0, so p_t lies in (0, S). The Gaussian makes the weights favour positions near
    p_t, and lets the gradient reach W_p and v_p (the window's edges are not differentiable). As
    in the paper, the weights are not renormalised after the Gaussian: a row sums to at most 1.

    Args:
        window: D, a positive integer (the paper used 10 on WMT sentences).
        score: the align() score, ``"dot"``, ``"general"`` or ``"concat"`` (default general, the
            paper's best local model).
        units: hidden size of the ``concat`` score.
        position_units: columns of W_p (default: the query size).
        kernel_initializer: initializer of W_p, v_p and the score's weights.

    Call arguments:
        query: ``(batch, T_q, d_q)``; values: ``(batch, T_v, d_v)``; values_mask: optional
        boolean ``(batch, T_v)`` (without it every position is real and S = T_v);
        query_mask: optional boolean ``(batch, T_q)``. Both default to the inputs' Keras masks.

    Returns:
        ``(context, weights)``: ``(batch, T_q, d_v)`` and ``(batch, T_q, T_v)``.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> annotations = rng.normal(size=(1, 20, 8)).astype("float32")
    >>> decoder_states = rng.normal(size=(1, 3, 8)).astype("float32")
    >>> source_mask = np.ones((1, 20), dtype=bool)
    >>> context, weights = LocalAttention(window=3)(decoder_states, annotations, source_mask)
    >>> [int(np.count_nonzero(row)) <= 2 * 3 + 1 for row in ops.convert_to_numpy(weights)[0]]
    [True, True, True]

    References:
        Luong, Pham & Manning (2015), https://arxiv.org/abs/1508.04025, section 3.2.
    """

    def __init__(self, window, score="general", units=None, position_units=None,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.window = arguments.positive_int("window", window)
        if score == "location":
            raise ValueError("local attention needs a content score: 'dot', 'general' or "
                             "'concat', got 'location'")
        self.score_name = arguments.choice("score", score, ("dot", "general", "concat"))
        self.units = arguments.optional_positive_int("units", units)
        self.position_units = arguments.optional_positive_int("position_units", position_units)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.align = LuongAttention(score, units=units, kernel_initializer=kernel_initializer,
                                    name="align")

    def build_score(self, query_shape, values_shape):
        self.align.build(query_shape, values_shape)
        position_units = self.position_units or query_shape[-1]
        self.W_p = self.add_weight(shape=(query_shape[-1], position_units), name="W_p",
                                   initializer=self.kernel_initializer)
        self.v_p = self.add_weight(shape=(position_units,), name="v_p",
                                   initializer=self.kernel_initializer)

    def score(self, query, values):
        return self.align.score(query, values)

    def predicted_position(self, query, values_mask=None, source_length=None):
        """p_t: ``(batch, T_q)``, each in (0, S) where S is the sentence's real length."""
        if values_mask is not None:
            source_length = ops.sum(ops.cast(values_mask, query.dtype), axis=-1, keepdims=True)
        gate = ops.sigmoid(ops.matmul(ops.tanh(ops.matmul(query, self.W_p)), self.v_p))
        return ops.cast(source_length, query.dtype) * gate

    def attention_weights(self, query, values, values_mask=None):
        source_positions = ops.shape(values)[1]
        p_t = self.predicted_position(query, values_mask, source_length=source_positions)
        distance = (ops.cast(ops.arange(source_positions), query.dtype)
                    - ops.expand_dims(p_t, -1))
        mask = ops.abs(distance) <= self.window
        if values_mask is not None:
            mask = ops.logical_and(mask, ops.expand_dims(ops.cast(values_mask, "bool"), 1))
        sigma = self.window / 2.0
        gaussian = ops.exp(-ops.square(distance) / (2.0 * sigma * sigma))
        return masked_softmax(self.score(query, values), mask) * gaussian

    def get_config(self):
        return {**super().get_config(), "window": self.window, "score": self.score_name,
                "units": self.units, "position_units": self.position_units,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}
