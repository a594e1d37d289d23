"""Write it yourself: the Elman, LSTM and GRU cells, and checkers that name the mistake.

Each exercise class is the seqkeras cell with its ``build()`` written (the same weights, names,
shapes and gate order) and its ``call`` left to the learner. A checker copies random weights
into the learner's cell and the reference, compares one step, then whole sequences run by
``keras.layers.RNN`` (padding masks, ``go_backwards``, a batch of one, a compiled model); on a
mismatch it tries a catalogue of the usual mistakes and names the one that reproduces the
learner's output, or else says which output and which weights disagree.
"""

from __future__ import annotations

import keras
import numpy as np

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
from seqkeras.layers import ElmanCell, GRUCell, LSTMCell


class ElmanCellExercise(ElmanCell):
    """``ElmanCell`` with weights ``W_xh`` (input_dim, units), ``W_hh`` (units, units) and
    ``b_h`` (units,) built for you. Write ``call(inputs, states, training=None)`` returning
    ``(h_t, [h_t])`` for h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h); ``states`` is ``[h_{t-1}]``.
    """

    def call(self, inputs, states, training=None):
        raise NotImplementedError("write h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)")


class LSTMCellExercise(LSTMCell):
    """``LSTMCell`` with ``W_x`` (input_dim, 4 units), ``W_h`` (units, 4 units) and ``b``
    (4 units,) built for you, the four blocks in the order i, f, g, o (input gate, forget gate,
    candidate, output gate). Write ``call(inputs, states, training=None)``: ``states`` is
    ``[h_{t-1}, c_{t-1}]``; return ``(h_t, [h_t, c_t])``."""

    def call(self, inputs, states, training=None):
        raise NotImplementedError("write c_t = f * c_{t-1} + i * g and h_t = o * tanh(c_t)")


class GRUCellExercise(GRUCell):
    """``GRUCell`` as Cho et al. (2014) wrote it (``reset_after=False``), with ``W_x``
    (input_dim, 3 units), ``W_h`` (units, 3 units) and ``b`` (3 units,) built for you, blocks
    in the order z, r, h (update gate, reset gate, candidate). Write ``call(inputs, states,
    training=None)``: ``states`` is ``[h_{t-1}]``; return ``(h_t, [h_t])`` with
    h_t = z * h_{t-1} + (1 - z) * h~_t."""

    def __init__(self, units, **kwargs):
        kwargs["reset_after"] = False
        super().__init__(units, **kwargs)

    def call(self, inputs, states, training=None):
        raise NotImplementedError("write z, r, h~_t = tanh(x W_xh + (r * h_{t-1}) W_hh + b_h) "
                                  "and h_t = z * h_{t-1} + (1 - z) * h~_t")


# --- the catalogues: what a cell computes with a common mistake, in NumPy -------------------

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _blocks(w, x, h, count):
    return np.split(x @ w["W_x"] + h @ w["W_h"] + w["b"], count, axis=-1)


def _lstm(w, x, states, order="ifgo", forget_on="c", candidate=np.tanh, squash_c=True,
          swap_i_f=False, h_from_previous_c=False):
    h_prev, c_prev = states
    blocks = dict(zip(order, _blocks(w, x, h_prev, 4), strict=True))
    i, f, o = (_sigmoid(blocks[k]) for k in "ifo")
    g = candidate(blocks["g"])
    if swap_i_f:
        i, f = f, i
    c = f * (c_prev if forget_on == "c" else h_prev) + i * g
    read = c_prev if h_from_previous_c else c
    h = o * (np.tanh(read) if squash_c else read)
    return [h, c]


LSTM_MISTAKES = {
    "the forget gate multiplies h_{t-1} instead of c_{t-1}":
        lambda w, x, s: _lstm(w, x, s, forget_on="h"),
    "tanh is missing on c_t in h_t = o * tanh(c_t)":
        lambda w, x, s: _lstm(w, x, s, squash_c=False),
    "i and f are swapped (c_t = i * c_{t-1} + f * g)":
        lambda w, x, s: _lstm(w, x, s, swap_i_f=True),
    "the blocks are read in the order i, f, o, g (Keras' order is i, f, g, o)":
        lambda w, x, s: _lstm(w, x, s, order="ifog"),
    "the candidate g uses sigmoid instead of tanh":
        lambda w, x, s: _lstm(w, x, s, candidate=_sigmoid),
    "h_t reads c_{t-1} instead of the new c_t":
        lambda w, x, s: _lstm(w, x, s, h_from_previous_c=True),
}


def _gru(w, x, states, order="zrh", swap_z=False, reset="before", squash=np.tanh):
    h_prev = states[0]
    u = h_prev.shape[-1]
    x_blocks = dict(zip(order, np.split(x @ w["W_x"] + w["b"], 3, axis=-1), strict=True))
    h_gates = dict(zip(order[:2], np.split(h_prev @ w["W_h"][:, :2 * u], 2, axis=-1),
                       strict=True))
    z, r = (_sigmoid(x_blocks[k] + h_gates[k]) for k in "zr")
    W_hh = w["W_h"][:, 2 * u:]
    recurrent = {"before": (r * h_prev) @ W_hh, "after": r * (h_prev @ W_hh),
                 "none": h_prev @ W_hh}[reset]
    candidate = squash(x_blocks["h"] + recurrent)
    if swap_z:
        z = 1 - z
    return [z * h_prev + (1 - z) * candidate]


GRU_MISTAKES = {
    "z and 1 - z are swapped (the paper's h_t = z * h_{t-1} + (1 - z) * h~_t)":
        lambda w, x, s: _gru(w, x, s, swap_z=True),
    "the reset gate multiplies h_{t-1} W_hh (reset after the product) instead of h_{t-1}":
        lambda w, x, s: _gru(w, x, s, reset="after"),
    "the reset gate is missing from the candidate":
        lambda w, x, s: _gru(w, x, s, reset="none"),
    "z and r are read in the order r, z (the blocks are z, r, h)":
        lambda w, x, s: _gru(w, x, s, order="rzh"),
    "tanh is missing on the candidate h~_t":
        lambda w, x, s: _gru(w, x, s, squash=lambda v: v),
}


def _elman(w, x, states, squash=np.tanh, recurrent=True, bias=True, previous=False):
    h_prev = states[0]
    if previous:
        return [h_prev]
    z = x @ w["W_xh"] + (h_prev @ w["W_hh"] if recurrent else 0) + (w["b_h"] if bias else 0)
    return [squash(z)]


ELMAN_MISTAKES = {
    "tanh is missing (h_t = x_t W_xh + h_{t-1} W_hh + b_h)":
        lambda w, x, s: _elman(w, x, s, squash=lambda v: v),
    "sigmoid instead of tanh": lambda w, x, s: _elman(w, x, s, squash=_sigmoid),
    "the recurrent term h_{t-1} W_hh is missing": lambda w, x, s: _elman(w, x, s, recurrent=False),
    "the bias b_h is missing": lambda w, x, s: _elman(w, x, s, bias=False),
    "it returns h_{t-1} instead of the new h_t": lambda w, x, s: _elman(w, x, s, previous=True),
}


# --- the checker ----------------------------------------------------------------------------

def _cell_outputs(cell, x, states, state_names):
    """``[h_t, *new_states]`` of ``cell.call`` as arrays, or ``LearnerError`` on a wrong form."""
    outputs = run_learner(cell.call, x, [keras.ops.convert_to_tensor(s) for s in states])
    if not isinstance(outputs, tuple | list) or len(outputs) != 2:
        raise LearnerError(f"call must return (h_t, [{', '.join(state_names)}]), got "
                           f"{type(outputs).__name__}")
    h, new_states = outputs
    if not isinstance(new_states, tuple | list):
        new_states = [new_states]
    if len(new_states) != len(state_names):
        raise LearnerError(f"call must return the new states [{', '.join(state_names)}], got "
                           f"{len(new_states)} of them")
    return [as_array(h, "h_t"), *(as_array(s, n) for s, n in zip(new_states, state_names,
                                                                   strict=True))]


def _copy_weights(source, target):
    target.set_weights(source.get_weights())


def _sequence_differences(cls, reference, units, input_dim, rng):
    """The sequence tests: each ``(what, problem)`` that failed."""
    def rnn(cell, **kwargs):
        layer = keras.layers.RNN(cell, return_sequences=True, **kwargs)
        layer.build((None, None, input_dim))
        return layer

    x = float32(rng, (4, 6, input_dim))
    mask = np.ones((4, 6), dtype=bool)
    mask[1, 4:] = False
    mask[2, 2:] = False
    mask[3, 3] = False  # a hole: Keras carries the state over a masked step
    failed, expected = [], {}
    cases = {"a sequence of 6 steps": (x, None, {}),
             "a sequence with padding masks": (x, mask, {}),
             "go_backwards=True": (x, None, {"go_backwards": True}),
             "a batch of one": (x[:1], None, {})}
    for what, (inputs, case_mask, kwargs) in cases.items():
        ours = rnn(reference.__class__.from_config(reference.get_config()), **kwargs)
        theirs = rnn(cls(units), **kwargs)
        _copy_weights(reference, ours.cell)
        _copy_weights(reference, theirs.cell)
        expected[what] = as_array(ours(inputs, mask=case_mask), "output")
        got = as_array(run_learner(theirs, inputs, mask=case_mask), "output")
        if problem := compare(got, expected[what], "the output"):
            failed.append((what, problem))
    inputs = keras.Input((None, input_dim))
    layer = keras.layers.RNN(cls(units), return_sequences=True)
    model = keras.Model(inputs, run_learner(layer, inputs))
    _copy_weights(reference, layer.cell)
    got = as_array(run_learner(model.predict, x, verbose=0), "output")
    if problem := compare(got, expected["a sequence of 6 steps"], "the output"):
        failed.append(("inside a compiled keras.Model (model.predict)", problem))
    return failed


def check_cell(cls, base, reference_class, piece, state_names, mistakes, units=3, input_dim=4):
    """Check a learner's recurrent cell class against ``reference_class`` (see the module)."""
    check_class(cls, base, piece)
    rng = np.random.default_rng(0)
    reference = reference_class(units, **({"reset_after": False}
                                          if reference_class is GRUCell else {}))
    reference.build((None, input_dim))
    reference.set_weights([float32(rng, w.shape, 0.7) for w in reference.get_weights()])
    weights = {v.name: as_array(v, v.name) for v in reference.weights}
    try:
        learner = run_learner(cls, units)
        learner.build((None, input_dim))
        _copy_weights(reference, learner)
        x = float32(rng, (5, input_dim))
        states = [float32(rng, (5, units)) for _ in state_names]
        got = _cell_outputs(learner, x, states, state_names)
        expected = _cell_outputs(reference, x, states, state_names)
        names = ["the output h_t", *(f"the new state {n}" for n in state_names)]
        problems = [p for g, e, n in zip(got, expected, names, strict=True)
                    if (p := compare(g, e, n))]
        if problems:
            x64, states64 = x.astype("float64"), [s.astype("float64") for s in states]
            for mistake, compute in mistakes.items():
                candidate = compute(weights, x64, states64)
                if all(matches(g, e, 1e-4) for g, e in zip(got[1:], candidate, strict=True)):
                    return report(piece, False, f"one step is wrong: {mistake}.")
            return report(piece, False, "one step is wrong: " + "; ".join(problems) + ". " +
                          _ablation(cls, reference, units, input_dim, x, states, state_names))
        failed = _sequence_differences(cls, reference, units, input_dim, rng)
    except NotImplementedError:
        return not_implemented(piece)
    except LearnerError as error:
        return report(piece, False, str(error))
    if failed:
        return report(piece, False, "one step is right, but " + "; ".join(
            f"with {what}: {problem}" for what, problem in failed) +
            " (keras.layers.RNN passes states as a list: return the new states as one too).")
    return report(piece, True, "one step and whole sequences (padding masks, go_backwards, a "
                               "batch of one, a compiled model) equal the reference.")


def _ablation(cls, reference, units, input_dim, x, states, state_names):
    """Which weight matrix, left alone with the others zeroed, reproduces the difference."""
    differing = []
    original = reference.get_weights()
    for k, variable in enumerate(reference.weights):
        only = [w if j == k else np.zeros_like(w) for j, w in enumerate(original)]
        ours, theirs = reference.__class__.from_config(reference.get_config()), cls(units)
        for cell in (ours, theirs):
            cell.build((None, input_dim))
            cell.set_weights(only)
        if any(not matches(g, e) for g, e in zip(
                _cell_outputs(theirs, x, states, state_names),
                _cell_outputs(ours, x, states, state_names), strict=True)):
            differing.append(variable.name)
    if not differing:
        return "Each weight matrix alone gives the right output: look at how they combine."
    return (f"With only {' or only '.join(differing)} non-zero the outputs still differ: "
            f"look at the term{'s' if len(differing) > 1 else ''} using "
            f"{', '.join(differing)}.")


def check_elman_cell(cls):
    """Check a subclass of ``ElmanCellExercise``; returns a ``CheckReport`` (also printed)."""
    return check_cell(cls, ElmanCellExercise, ElmanCell, "Elman cell", ["h_t"], ELMAN_MISTAKES)


def check_lstm_cell(cls):
    """Check a subclass of ``LSTMCellExercise``; returns a ``CheckReport`` (also printed)."""
    return check_cell(cls, LSTMCellExercise, LSTMCell, "LSTM cell", ["h_t", "c_t"],
                      LSTM_MISTAKES)


def check_gru_cell(cls):
    """Check a subclass of ``GRUCellExercise``; returns a ``CheckReport`` (also printed)."""
    return check_cell(cls, GRUCellExercise, GRUCell, "GRU cell", ["h_t"], GRU_MISTAKES)
