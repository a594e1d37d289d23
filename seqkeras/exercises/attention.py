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
from seqkeras.layers import SinusoidalPositionalEncoding, scaled_dot_product_attention


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
