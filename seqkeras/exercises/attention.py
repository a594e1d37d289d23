"""Write it yourself: scaled dot-product attention and the sinusoidal positional encoding, with
checkers that test their properties and name the usual mistakes."""

from __future__ import annotations

import math

import numpy as np
from keras import ops

from seqkeras.exercises.report import (
    LearnerError,
    as_array,
    compare,
    float32,
    matches,
    not_implemented,
    report,
    run_learner,
)
from seqkeras.layers import (
    BahdanauAttention,
    LuongAttention,
    SinusoidalPositionalEncoding,
    scaled_dot_product_attention,
)


def _softmax(scores, axis=-1):
    scores = scores - scores.max(axis=axis, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=axis, keepdims=True)


def _attention(q, k, v, mask, scale="sqrt", axis=-1, masking="exclude"):
    d_k = q.shape[-1]
    divisor = {"sqrt": math.sqrt(d_k), "none": 1.0, "d_k": d_k}[scale]
    scores = q @ np.swapaxes(k, -1, -2) / divisor
    if mask is not None:
        mask = np.broadcast_to(mask, scores.shape)
        if masking == "exclude":
            scores = np.where(mask, scores, -1e9)
        elif masking == "zero":
            scores = np.where(mask, scores, 0.0)
        elif masking == "inverted":
            scores = np.where(mask, -1e9, scores)
    weights = _softmax(scores, axis)
    if mask is not None and masking == "exclude":
        weights = np.where(mask, weights, 0.0)
    return weights @ v, weights


ATTENTION_MISTAKES = {
    "the scores are not divided by sqrt(d_k)": dict(scale="none"),
    "the scores are divided by d_k instead of sqrt(d_k)": dict(scale="d_k"),
    "the softmax runs over the queries (axis -2), not over the keys (axis -1)": dict(axis=-2),
    "the mask is ignored": dict(masking="ignored"),
    "masked scores are set to 0 (they must get -inf, i.e. weight 0)": dict(masking="zero"),
    "the mask is inverted (True means 'may attend')": dict(masking="inverted"),
}


def check_attention(fn):
    """Check ``fn(query, key, value, mask=None) -> (output, weights)``, scaled dot-product
    attention as ``seqkeras.layers.scaled_dot_product_attention`` computes it; returns a
    ``CheckReport`` (also printed)."""
    piece = "scaled dot-product attention"
    if not callable(fn):
        raise TypeError(f"check the function itself, not {type(fn).__name__}")
    rng = np.random.default_rng(0)
    batch, t_q, t_k, d_k, d_v = 2, 4, 5, 8, 3
    q, k, v = (float32(rng, (batch, t, d)) for t, d in ((t_q, d_k), (t_k, d_k), (t_k, d_v)))
    padding = np.ones((batch, 1, t_k), dtype=bool)
    padding[1, 0, 3:] = False
    causal = np.tril(np.ones((t_q, t_q), dtype=bool))[None]
    heads = [float32(rng, (batch, 2, t_q, d_k)) for _ in range(2)] + \
        [float32(rng, (batch, 2, t_q, d_v))]
    cases = {"no mask": (q, k, v, None), "a padding mask (batch, 1, T_k)": (q, k, v, padding),
             "a causal mask, queries = keys": (q, q, v[:, :t_q], causal),
             "leading axes (batch, heads, T, d)": (*heads, None)}
    try:
        for what, (query, key, value, mask) in cases.items():
            expected = [as_array(x, "reference") for x in scaled_dot_product_attention(
                query, key, value, mask)]
            outputs = run_learner(fn, ops.convert_to_tensor(query), ops.convert_to_tensor(key),
                                  ops.convert_to_tensor(value),
                                  None if mask is None else ops.convert_to_tensor(mask))
            if not isinstance(outputs, tuple | list) or len(outputs) != 2:
                raise LearnerError("fn must return (output, weights)")
            output, weights = (as_array(x, n) for x, n in zip(outputs, ("output", "weights"),
                                                               strict=True))
            problems = [p for p in (compare(weights, expected[1], "the weights"),
                                    compare(output, expected[0], "the output")) if p]
            if not problems:
                continue
            hint = _attention_hint(query, key, value, mask, weights)
            return report(piece, False, f"with {what}: " + (hint or "; ".join(problems) + "."))
    except NotImplementedError:
        return not_implemented(piece)
    except LearnerError as error:
        return report(piece, False, str(error))
    return report(piece, True, "outputs and weights equal the reference with no mask, a "
                               "padding mask, a causal mask and extra leading axes.")


def _attention_hint(query, key, value, mask, weights):
    """The catalogued mistake that reproduces ``weights``, else a property that fails."""
    for mistake, options in ATTENTION_MISTAKES.items():
        if matches(weights, _attention(query.astype("float64"), key.astype("float64"),
                                       value.astype("float64"), mask, **options)[1], 1e-4):
            return mistake + "."
    if weights.shape[-1] != key.shape[-2]:
        return f"the weights have shape {weights.shape}: one row per query, one column per key."
    if not np.allclose(weights.sum(-1), 1.0, atol=1e-4):
        return "a row of weights does not sum to 1 (the softmax belongs over the keys)."
    if mask is not None and np.abs(np.where(np.broadcast_to(mask, weights.shape), 0.0,
                                            weights)).max() > 0:
        return "a masked key gets a weight above 0: it must get exactly 0."
    return None


def check_positional_encoding(fn):
    """Check ``fn(length, depth) -> (length, depth)``, the sinusoidal encoding in the
    interleaved layout of ``SinusoidalPositionalEncoding`` (PE[p, 2i] = sin(p / 10000^(2i/d)),
    PE[p, 2i+1] = cos(...)); returns a ``CheckReport`` (also printed)."""
    piece = "sinusoidal positional encoding"
    if not callable(fn):
        raise TypeError(f"check the function itself, not {type(fn).__name__}")
    try:
        for length, depth in ((7, 16), (50, 64), (1, 2)):
            expected = as_array(SinusoidalPositionalEncoding()(
                np.zeros((1, length, depth), dtype="float32"))[0], "reference")
            got = as_array(run_learner(fn, length, depth), "the encoding")
            if problem := compare(got, expected, f"the encoding for length {length}, depth "
                                                 f"{depth}", 1e-4):
                hint = next((m for m, f in POSITION_MISTAKES.items()
                             if matches(got, f(length, depth), 1e-4)), None)
                return report(piece, False, hint + "." if hint else problem + ".")
    except NotImplementedError:
        return not_implemented(piece)
    except LearnerError as error:
        return report(piece, False, str(error))
    return report(piece, True, "equal to SinusoidalPositionalEncoding at three sizes.")


def _encoding(length, depth, exponent="pairs", swap=False, layout="interleaved", first=0):
    position = np.arange(first, first + length, dtype="float64")[:, None]
    j = np.arange(depth)
    power = {"pairs": 2 * (j // 2) / depth, "index": j / depth, "double": 2 * j / depth}[exponent]
    angle = position / 10000.0 ** power
    if layout == "halves":
        half = depth // 2
        angle = position / 10000.0 ** (2 * np.arange(half) / depth)
        return np.concatenate([np.sin(angle), np.cos(angle)], axis=-1)
    sine, cosine = (np.cos, np.sin) if swap else (np.sin, np.cos)
    return np.where(j % 2 == 0, sine(angle), cosine(angle))


POSITION_MISTAKES = {
    "sin and cos are swapped (sin on the even dimensions 2i, cos on the odd ones)":
        lambda n, d: _encoding(n, d, swap=True),
    "the exponent is i/d for dimension i; it is 2i/d for the pair (2i, 2i+1)":
        lambda n, d: _encoding(n, d, exponent="index"),
    "the exponent is 2j/d for dimension j; both dimensions of a pair share 2i/d":
        lambda n, d: _encoding(n, d, exponent="double"),
    "sines fill the first half and cosines the second; this layout interleaves them":
        lambda n, d: _encoding(n, d, layout="halves"),
    "positions start at 1; the first position is 0":
        lambda n, d: _encoding(n, d, first=1),
}


# --- the scores of chapters 6 and 7 ---------------------------------------------------------

class BahdanauAttentionExercise(BahdanauAttention):
    """``BahdanauAttention`` with ``W_a`` (d_q, units), ``U_a`` (d_v, units) and ``v_a``
    (units,) built for you. Write ``score(self, query, values)``: ``(batch, T_q, d_q)`` and
    ``(batch, T_v, d_v)`` -> e ``(batch, T_q, T_v)``, e_ij = tanh(q_i W_a + h_j U_a) v_a; the
    softmax over real positions and the context are done for you."""

    def score(self, query, values):
        raise NotImplementedError("write e_ij = tanh(q_i W_a + h_j U_a) v_a")


class LuongAttentionExercise(LuongAttention):
    """``LuongAttention`` with its weights built for you (``general``: ``W_a`` (d_q, d_v);
    ``concat``: ``W_a`` (d_q + d_v, units) and ``v_a`` (units,)). Write ``score(self, query,
    values)`` for ``self.score_name`` in "dot", "general" and "concat": e ``(batch, T_q, T_v)``
    = q_i . h_j, q_i W_a h_j^T, or tanh([q_i ; h_j] W_a) v_a."""

    def score(self, query, values):
        raise NotImplementedError("write the dot, general and concat scores")


def _tanh_free(hidden):
    return hidden


def _additive(q, h, w, squash=np.tanh, use_v=True, swapped=False):
    if swapped:
        q_proj, h_proj = q @ w["U_a"], h @ w["W_a"]
    else:
        q_proj, h_proj = q @ w["W_a"], h @ w["U_a"]
    hidden = squash(q_proj[:, :, None, :] + h_proj[:, None, :, :])
    return hidden @ w["v_a"] if use_v else hidden.sum(-1)


ADDITIVE_MISTAKES = {
    "tanh is missing (e_ij = (q_i W_a + h_j U_a) v_a)":
        lambda q, h, w: _additive(q, h, w, squash=_tanh_free),
    "v_a is missing: the hidden units are summed instead of weighted by v_a":
        lambda q, h, w: _additive(q, h, w, use_v=False),
    "W_a and U_a are swapped (W_a projects the query s_i, U_a the annotations h_j)":
        lambda q, h, w: _additive(q, h, w, swapped=True),
    "the scores are scaled by 1/sqrt(d) (that is the Transformer's dot product, not Bahdanau's)":
        lambda q, h, w: _additive(q, h, w) / math.sqrt(q.shape[-1]),
}


def _luong(q, h, w, name, mistake=None):
    if name == "dot":
        e = q @ np.swapaxes(h, 1, 2)
        return e / math.sqrt(q.shape[-1]) if mistake == "scaled" else e
    if name == "general":
        W = w["W_a"].T if mistake == "transposed" else w["W_a"]
        return q @ W @ np.swapaxes(h, 1, 2)
    d_q = q.shape[-1]
    first, second = (w["W_a"][d_q:], w["W_a"][:d_q]) if mistake == "order" else \
        (w["W_a"][:d_q], w["W_a"][d_q:])
    hidden = (q @ first)[:, :, None, :] + (h @ second)[:, None, :, :]
    hidden = hidden if mistake == "no tanh" else np.tanh(hidden)
    return hidden @ w["v_a"]


LUONG_MISTAKES = {
    "dot: the scores are scaled by 1/sqrt(d) (Luong's dot score is the plain q_i . h_j)":
        ("dot", lambda q, h, w: _luong(q, h, w, "dot", "scaled")),
    "general: W_a is transposed (q_i W_a h_j^T with W_a of shape (d_q, d_v))":
        ("general", lambda q, h, w: _luong(q, h, w, "general", "transposed")),
    "concat: tanh is missing (tanh([q_i ; h_j] W_a) v_a)":
        ("concat", lambda q, h, w: _luong(q, h, w, "concat", "no tanh")),
    "concat: the halves of W_a are used in the wrong order (the first d_q rows take q_i)":
        ("concat", lambda q, h, w: _luong(q, h, w, "concat", "order")),
}


def _check_score(cls, base, piece, make, mistakes):
    """Compare a learner's ``score`` (and the attention built on it) with the reference's."""
    if not isinstance(cls, type) or not issubclass(cls, base):
        raise TypeError(f"check a class derived from seqkeras.exercises.{base.__name__}, "
                        f"not {cls!r}")
    rng = np.random.default_rng(0)
    d = 6  # query and annotations of one size, so that a swapped projection still runs
    query, values = float32(rng, (2, 3, d)), float32(rng, (2, 5, d))
    mask = np.ones((2, 5), dtype=bool)
    mask[1, 3:] = False
    try:
        for label, kwargs in make.items():
            reference, learner = base.__mro__[1](**kwargs), run_learner(cls, **kwargs)
            for layer in (reference, learner):
                layer.build(query.shape, values.shape)
            reference.set_weights([float32(rng, w.shape, 0.7) for w in reference.get_weights()])
            learner.set_weights(reference.get_weights())
            weights = {v.name: as_array(v, v.name) for v in reference.weights}
            expected = as_array(reference.score(query, values), "reference")
            got = as_array(run_learner(learner.score, ops.convert_to_tensor(query),
                                       ops.convert_to_tensor(values)), "the scores")
            if problem := compare(got, expected, f"the {label} scores e_ij"):
                q64, h64 = query.astype("float64"), values.astype("float64")
                named = next((m for m, (which, f) in mistakes.items() if which == label
                              and matches(got, f(q64, h64, weights), 1e-4)), None)
                return report(piece, False, (named or problem) + ".")
            context = as_array(run_learner(learner, query, values, values_mask=mask)[0],
                               "the context")
            if problem := compare(context, as_array(reference(query, values,
                                                              values_mask=mask)[0], "ref"),
                                  f"the {label} context with a padding mask"):
                return report(piece, False, problem + ".")
    except NotImplementedError:
        return not_implemented(piece)
    except LearnerError as error:
        return report(piece, False, str(error))
    return report(piece, True, f"the {', '.join(make)} scores and the attention built on them "
                               "(with a padding mask) equal the reference.")


def check_additive_score(cls):
    """Check a subclass of ``BahdanauAttentionExercise``; returns a ``CheckReport``."""
    mistakes = {m: ("additive", f) for m, f in ADDITIVE_MISTAKES.items()}
    return _check_score(cls, BahdanauAttentionExercise, "Bahdanau's additive score",
                        {"additive": {"units": 4}}, mistakes)


def check_luong_scores(cls):
    """Check a subclass of ``LuongAttentionExercise`` on the dot, general and concat scores;
    returns a ``CheckReport``."""
    return _check_score(cls, LuongAttentionExercise, "Luong's scores",
                        {"dot": {"score": "dot"}, "general": {"score": "general"},
                         "concat": {"score": "concat", "units": 4}}, LUONG_MISTAKES)
