"""Write it yourself: multi-head attention (Vaswani et al. 2017, section 3.2.2),

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
    head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V),

checked against ``seqkeras.layers.MultiHeadAttention`` (itself proven equal to
``keras.layers.MultiHeadAttention``) with the same weights.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from seqkeras.exercises.report import (
    LearnerError,
    as_array,
    check_class,
    compare,
    float32,
    matches,
    not_implemented,
    report,
    run_learner,
)
from seqkeras.layers import MultiHeadAttention


class MultiHeadAttentionExercise(MultiHeadAttention):
    """``MultiHeadAttention`` with its weights built for you: ``W_Q`` (d_q, h, d_k), ``W_K``
    (d_k_in, h, d_k), ``W_V`` (d_v_in, h, d_v), ``W_O`` (h, d_v, d_out) and the biases ``b_Q``,
    ``b_K`` (h, d_k), ``b_V`` (h, d_v), ``b_O`` (d_out,). Write ``call(self, query, value,
    key=None, attention_mask=None)``: ``(batch, T_q, d_q)``, ``(batch, T_v, d_v_in)``, key as
    value when None, boolean mask ``(batch, T_q, T_v)`` True where a query may attend; return
    ``(batch, T_q, d_out)``."""

    def call(self, query, value, key=None, attention_mask=None):
        raise NotImplementedError("project per head, attend per head, concatenate, apply W_O")


def _softmax(scores, axis):
    scores = scores - scores.max(axis=axis, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=axis, keepdims=True)


def _multi_head(w, query, value, key, mask, scale="d_k", axis=-1, masking=True,
                swap_key_value=False, shared_softmax=False, output_projection=True):
    """Multi-head attention in NumPy with adjustable mistakes."""
    def project(x, name):
        return np.einsum("btd,dhk->bhtk", x, w[f"W_{name}"]) + w[f"b_{name}"][:, None, :]

    q = project(query, "Q")
    k, v = (project(value, "K"), project(key, "V")) if swap_key_value else \
        (project(key, "K"), project(value, "V"))
    d_k, heads = q.shape[-1], q.shape[1]
    divisor = {"d_k": math.sqrt(d_k), "none": 1.0, "d_model": math.sqrt(heads * d_k)}[scale]
    scores = q @ np.swapaxes(k, -1, -2) / divisor
    if shared_softmax:
        scores = np.broadcast_to(scores.sum(1, keepdims=True), scores.shape)
    if mask is not None and masking:
        scores = np.where(mask[:, None], scores, -1e9)
    attended = _softmax(scores, axis) @ v  # (batch, h, T_q, d_v)
    if not output_projection:
        return np.swapaxes(attended, 1, 2).reshape(*query.shape[:2], -1)
    return np.einsum("bhtv,hvo->bto", attended, w["W_O"]) + w["b_O"]


MULTI_HEAD_MISTAKES = {
    "the scores are divided by sqrt(d_model) = sqrt(h d_k); each head divides by sqrt(d_k)":
        dict(scale="d_model"),
    "the scores are not divided by sqrt(d_k)": dict(scale="none"),
    "the softmax runs over the queries, not over the keys": dict(axis=-2),
    "the attention mask is ignored": dict(masking=False),
    "W_K and W_V are swapped: keys are projected by W_K, values by W_V":
        dict(swap_key_value=True),
    "the heads share one softmax (their dot products summed): each head attends on its own":
        dict(shared_softmax=True),
    "W_O is missing: the concatenated heads go through the output projection W_O":
        dict(output_projection=False),
}


def check_multi_head_attention(cls, num_heads=2, key_dim=4):
    """Check a subclass of ``MultiHeadAttentionExercise``: cross-attention with a padding
    mask, self-attention with a causal mask, a separate key, a batch of one and a compiled model;
    returns a ``CheckReport`` (also printed)."""
    piece = "multi-head attention"
    check_class(cls, MultiHeadAttentionExercise, piece)
    rng = np.random.default_rng(0)
    d_model = num_heads * key_dim  # so that a missing W_O still gives (batch, T_q, d_model)
    query, value, key = (float32(rng, (2, t, d_model)) for t in (3, 5, 5))
    padding = np.ones((2, 3, 5), dtype=bool)
    padding[1, :, 3:] = False
    causal = np.broadcast_to(np.tril(np.ones((3, 3), dtype=bool)), (2, 3, 3)).copy()
    cases = {"cross-attention with a padding mask": (query, value, None, padding),
             "self-attention with a causal mask": (query, query, None, causal),
             "a key different from the value": (query, value, key, None),
             "a batch of one": (query[:1], value[:1], None, padding[:1])}
    reference = MultiHeadAttention(num_heads, key_dim)
    reference.build(query.shape, value.shape)
    reference.set_weights([float32(rng, w.shape, 0.5) for w in reference.get_weights()])
    weights = {v.name: as_array(v, v.name) for v in reference.weights}
    try:
        learner = run_learner(cls, num_heads, key_dim)
        learner.build(query.shape, value.shape)
        learner.set_weights(reference.get_weights())
        for what, (q, v, k, mask) in cases.items():
            expected = as_array(reference(q, v, k, attention_mask=mask), "reference")
            got = as_array(run_learner(
                learner, ops.convert_to_tensor(q), ops.convert_to_tensor(v),
                None if k is None else ops.convert_to_tensor(k),
                attention_mask=None if mask is None else ops.convert_to_tensor(mask)),
                "the output")
            if problem := compare(got, expected, "the output"):
                k64 = (v if k is None else k).astype("float64")
                named = next((m for m, options in MULTI_HEAD_MISTAKES.items() if matches(
                    got, _multi_head(weights, q.astype("float64"), v.astype("float64"), k64,
                                     mask, **options), 1e-4)), None)
                return report(piece, False, f"with {what}: {named or problem}.")
        inputs = keras.Input((3, d_model)), keras.Input((5, d_model))
        model = keras.Model(inputs, run_learner(learner, *inputs))
        got = as_array(run_learner(model.predict, [query, value], verbose=0), "the output")
        if problem := compare(got, as_array(reference(query, value), "reference"),
                              "the output"):
            return report(piece, False, f"inside a compiled keras.Model: {problem}.")
    except NotImplementedError:
        return not_implemented(piece)
    except LearnerError as error:
        return report(piece, False, str(error))
    return report(piece, True, f"{num_heads} heads of {key_dim} equal the reference with a "
                               "padding mask, a causal mask, a separate key, a batch of one "
                               "and inside a compiled model.")
