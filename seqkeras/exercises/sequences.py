"""Write it yourself: running recurrent layers over a padded batch. Chapter 4's bidirectional
merge (Schuster & Paliwal 1997) and chapter 5's fixed vector (Sutskever et al. 2014: the
encoder's state after the last real word), each checked against the Keras built-in that
computes it (``keras.layers.Bidirectional``; ``keras.layers.RNN(..., return_state=True)``).

A learner's function receives the layers or cell and tensors; the catalogues hold the common
mistakes written the same way, so that a checker can run each one and name the one whose output
equals the learner's.
"""

from __future__ import annotations

import keras
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
from seqkeras.layers import LSTMCell


def _flip(x):
    return None if x is None else ops.flip(x, axis=1)


def _backward(backward, inputs, mask, flip_mask=True, flip_back=True):
    outputs = backward(_flip(inputs), mask=_flip(mask) if flip_mask else mask)
    return _flip(outputs) if flip_back else outputs


BIDIRECTIONAL_MISTAKES = {
    "the backward outputs are not flipped back: position t must hold the backward state that "
    "has read x_T .. x_t":
        lambda f, b, x, m: ops.concatenate([f(x, mask=m), _backward(b, x, m, flip_back=False)],
                                           -1),
    "the mask is not flipped with the inputs: the backward RNN skips the wrong steps":
        lambda f, b, x, m: ops.concatenate([f(x, mask=m), _backward(b, x, m, flip_mask=False)],
                                           -1),
    "the mask is not passed to the backward RNN: it reads the padding before the last real word":
        lambda f, b, x, m: ops.concatenate([f(x, mask=m), _flip(b(_flip(x)))], -1),
    "the backward RNN reads the inputs in their own order: it is a second forward RNN":
        lambda f, b, x, m: ops.concatenate([f(x, mask=m), b(x, mask=m)], -1),
    "the halves are in the order [backward ; forward]: the forward outputs come first":
        lambda f, b, x, m: ops.concatenate([_backward(b, x, m), f(x, mask=m)], -1),
    "the forward RNN runs both directions: the backward one has its own weights":
        lambda f, b, x, m: ops.concatenate([f(x, mask=m), _backward(f, x, m)], -1),
    "the two directions are summed: merge_mode='concat' concatenates them":
        lambda f, b, x, m: f(x, mask=m) + _backward(b, x, m),
}


class FunctionLayer(keras.layers.Layer):
    """A learner's ``fn(*layers, inputs, mask)`` as a layer of a model: the layers (RNNs, a
    cell) are tracked, so that their weights train; ``output`` picks one item of a list result
    (the fixed vector's h_T). The mask stops here."""

    def __init__(self, fn, layers, output=None, **kwargs):
        super().__init__(**kwargs)
        self.fn, self.inner, self.output_index = fn, list(layers), output

    def call(self, inputs, mask=None):
        result = self.fn(*self.inner, inputs, mask)
        return result if self.output_index is None else result[self.output_index]

    def compute_mask(self, inputs, mask=None):
        return None


def _recurrent_inputs(rng, input_dim, length=6):
    x = float32(rng, (4, length, input_dim))
    mask = np.ones((4, length), dtype=bool)
    mask[1, 4:] = False
    mask[2, 2:] = False
    return x, mask


def check_bidirectional(fn, units=3, input_dim=4):
    """Check ``fn(forward, backward, inputs, mask) -> (batch, T, 2 units)``: the bidirectional
    layer's concatenated outputs [forward_t ; backward_t], where ``forward`` and ``backward`` are
    ``keras.layers.RNN(cell, return_sequences=True)`` layers, ``inputs`` is ``(batch, T, d)`` and
    ``mask`` ``(batch, T)`` is True at real positions, padding at the end (or None). Compared
    with ``keras.layers.Bidirectional`` at the real positions; returns a ``CheckReport``."""
    piece = "bidirectional RNN"
    if not callable(fn):
        raise TypeError(f"check the function itself, not {type(fn).__name__}")
    rng = np.random.default_rng(0)
    x, mask = _recurrent_inputs(rng, input_dim)
    forward = keras.layers.RNN(LSTMCell(units), return_sequences=True)
    backward = keras.layers.RNN(LSTMCell(units), return_sequences=True)
    reference = keras.layers.Bidirectional(
        keras.layers.RNN(LSTMCell(units), return_sequences=True),
        backward_layer=keras.layers.RNN(LSTMCell(units), return_sequences=True,
                                        go_backwards=True))
    for layer in (forward, backward, reference):
        layer.build((None, None, input_dim))
    forward.set_weights([float32(rng, w.shape, 0.7) for w in forward.get_weights()])
    backward.set_weights([float32(rng, w.shape, 0.7) for w in backward.get_weights()])
    reference.set_weights(forward.get_weights() + backward.get_weights())
    cases = {"padding masks": (x, mask), "no mask": (x, None),
             "a batch of one": (x[1:2], mask[1:2])}
    try:
        for what, (inputs, case_mask) in cases.items():
            real = np.ones(inputs.shape[:2], bool) if case_mask is None else case_mask
            expected = as_array(reference(inputs, mask=case_mask), "reference")[real]
            tensor_mask = None if case_mask is None else ops.convert_to_tensor(case_mask)
            got = as_array(run_learner(fn, forward, backward, ops.convert_to_tensor(inputs),
                                       tensor_mask), "the output")
            if got.shape[:2] != inputs.shape[:2]:
                raise LearnerError(f"the output has shape {got.shape}; expected (batch, T, "
                                   f"2 units) = {(*inputs.shape[:2], 2 * units)}")
            got = got[real]
            if problem := compare(got, expected, "the output at the real positions"):
                for mistake, compute in BIDIRECTIONAL_MISTAKES.items():
                    if matches(as_array(compute(forward, backward, ops.convert_to_tensor(
                            inputs), tensor_mask), "mistake")[real], got, 1e-4):
                        return report(piece, False, f"with {what}: {mistake}.")
                half = compare(got[:, :units], expected[:, :units], "the forward half")
                return report(piece, False, f"with {what}: {problem}" + (
                    f"; {half}." if half else "; the forward half is right, look at the "
                                              "backward one."))
        inputs = keras.Input((x.shape[1], input_dim))
        model = keras.Model(inputs, FunctionLayer(fn, (forward, backward))(inputs))
        got = as_array(run_learner(model.predict, x, verbose=0), "the output")
        if problem := compare(got, as_array(reference(x), "reference"), "the output"):
            return report(piece, False, f"inside a compiled keras.Model: {problem}.")
    except NotImplementedError:
        return not_implemented(piece)
    except LearnerError as error:
        return report(piece, False, str(error))
    return report(piece, True, "equal to keras.layers.Bidirectional at every real position, "
                               "with padding masks, without a mask, for a batch of one and "
                               "inside a compiled model.")


# --- chapter 5: the encoder's fixed vector --------------------------------------------------

def _run(cell, inputs, mask, carry="keep", order="forward", carry_state=True):
    """The encoder loop with adjustable mistakes; returns ``[h_T, c_T]``."""
    batch, length = ops.shape(inputs)[0], inputs.shape[1]
    state = [ops.zeros((batch, cell.units)), ops.zeros((batch, cell.units))]
    steps = range(length) if order == "forward" else reversed(range(length))
    for t in steps:
        start = state if carry_state else [ops.zeros_like(s) for s in state]
        _, new = cell(inputs[:, t], start)
        if mask is None or carry == "ignore":
            state = list(new)
            continue
        real = ops.expand_dims(mask[:, t], -1)
        fallback = state if carry == "keep" else [ops.zeros_like(s) for s in state]
        state = [ops.where(real, n, s) for n, s in zip(new, fallback, strict=True)]
    return state


FIXED_VECTOR_MISTAKES = {
    "the state runs on over the padding: where the mask is False, keep the previous state":
        lambda cell, x, m: _run(cell, x, m, carry="ignore"),
    "padding resets the state to zeros: where the mask is False, keep the previous state":
        lambda cell, x, m: _run(cell, x, m, carry="zeros"),
    "h and c are swapped: return [h_T, c_T]":
        lambda cell, x, m: _run(cell, x, m)[::-1],
    "the state is not carried: each step starts again from zeros":
        lambda cell, x, m: _run(cell, x, m, carry_state=False),
    "the loop runs from the last position to the first (reversing the source is done on the "
    "ids, before the encoder)":
        lambda cell, x, m: _run(cell, x, m, order="backward"),
}


def check_fixed_vector(fn, units=3, input_dim=4):
    """Check ``fn(cell, inputs, mask) -> [h_T, c_T]``: an LSTM encoder run step by step with
    ``cell(x_t, [h, c]) -> (h, [h, c])`` over ``inputs`` ``(batch, T, d)``, whose result is the
    state after each row's last real word (``mask`` ``(batch, T)``, True at real words, padding at
    the end; or None). Compared with ``keras.layers.RNN(cell, return_state=True)``; returns a
    ``CheckReport``."""
    piece = "the encoder's fixed vector"
    if not callable(fn):
        raise TypeError(f"check the function itself, not {type(fn).__name__}")
    rng = np.random.default_rng(0)
    x, mask = _recurrent_inputs(rng, input_dim)
    cell = LSTMCell(units)
    reference = keras.layers.RNN(cell, return_state=True)
    reference.build((None, None, input_dim))
    cell.set_weights([float32(rng, w.shape, 0.7) for w in cell.get_weights()])
    cases = {"padding masks": (x, mask), "no mask": (x, None),
             "a batch of one": (x[2:3], mask[2:3])}
    try:
        for what, (inputs, case_mask) in cases.items():
            expected = [as_array(s, "reference") for s in reference(inputs, mask=case_mask)[1:]]
            tensor_mask = None if case_mask is None else ops.convert_to_tensor(case_mask)
            outputs = run_learner(fn, cell, ops.convert_to_tensor(inputs), tensor_mask)
            if not isinstance(outputs, tuple | list) or len(outputs) != 2:
                raise LearnerError(f"fn must return [h_T, c_T], got {type(outputs).__name__}")
            got = [as_array(s, n) for s, n in zip(outputs, ("h_T", "c_T"), strict=True)]
            problems = [p for g, e, n in zip(got, expected, ("h_T", "c_T"), strict=True)
                        if (p := compare(g, e, n))]
            if problems:
                for mistake, compute in FIXED_VECTOR_MISTAKES.items():
                    candidate = compute(cell, ops.convert_to_tensor(inputs), tensor_mask)
                    if all(matches(g, as_array(c, "mistake"), 1e-4)
                           for g, c in zip(got, candidate, strict=True)):
                        return report(piece, False, f"with {what}: {mistake}.")
                return report(piece, False, f"with {what}: " + "; ".join(problems) + ".")
    except NotImplementedError:
        return not_implemented(piece)
    except LearnerError as error:
        return report(piece, False, str(error))
    return report(piece, True, "[h_T, c_T] equal keras.layers.RNN's final states with padding "
                               "masks, without a mask and for a batch of one.")
