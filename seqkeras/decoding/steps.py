"""A translation model as a function from prefixes to next-word log-probabilities: its state
carried from word to word where the model allows it (``start_decoding`` / ``decode_step``),
each step compiled once per model; the prefix re-read otherwise."""

from __future__ import annotations

import weakref

import keras
import numpy as np
from keras import ops

from seqkeras import arguments


def carries_state(model):
    """Whether ``model``'s step interface (``start_decoding`` / ``decode_step``) can stand for
    its ``decode``: it has one, and no subclass overrode, after the class that wrote the steps,
    a method the steps must agree with: ``decode``, ``encode`` and those the model lists in
    ``STEP_MIRRORS`` (the Transformer's ``embed``, say). Such a subclass, e.g. one with input
    feeding or without positional encodings, decodes otherwise than the inherited steps would.
    """
    def owner(name):
        return next((c for c in type(model).__mro__ if name in vars(c)), None)

    steps = [owner("decode_step"), owner("start_decoding")]
    if None in steps:
        return False
    mirrored = ("decode", "encode", *getattr(model, "STEP_MIRRORS", ()))
    return all(owner(name) is None or issubclass(step, owner(name))
               for step in steps for name in mirrored)


_COMPILED = weakref.WeakKeyDictionary()  # model -> {what: compiled function}


def compiled(model, function, name):
    """``function`` (of tensors, reading ``model``'s weights) compiled for the backend, once per
    model and ``name``: a decoding step of a small model is a few hundred tiny ops, whose
    one-by-one dispatch would cost more than their arithmetic.

    On TensorFlow a ``tf.function`` with ``reduce_retracing`` (a shrinking batch or a longer
    prefix reuses the trace); on JAX a ``jax.jit`` that takes the weights as arguments (a traced
    function would keep their values at the first call as constants and miss any training
    after it); elsewhere the function itself.
    """
    functions = _COMPILED.setdefault(model, {})
    if name in functions:
        return functions[name]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        functions[name] = tf.function(function, reduce_retracing=True)
    elif backend == "jax":
        import jax

        def stateless(values, *args):
            with keras.StatelessScope(state_mapping=list(zip(model.variables, values,
                                                             strict=True))):
                return function(*args)

        jitted = jax.jit(stateless)
        functions[name] = lambda *args: jitted([v.value for v in model.variables], *args)
    else:
        functions[name] = function
    return functions[name]


def _normalised(logits, banned):
    return ops.log_softmax(ops.cast(logits, "float64") + banned, axis=-1)


def log_prob_step(model):
    """``f(state, rows, token_ids, banned) -> (log_probs, new_state)``, compiled (see
    ``compiled``): gather the ``rows`` of ``state``, run ``model.decode_step`` on
    ``token_ids``, and normalise the logits plus ``banned`` (0, or -inf for a word never
    written) into log-probabilities (float64 where the backend has it)."""
    def step(state, rows, token_ids, banned):
        state = tuple(ops.take(x, rows, axis=0) for x in state)
        logits, state = model.decode_step(token_ids, state)
        return _normalised(logits, banned), state

    return compiled(model, step, "decode_step")


def log_prob_rerun(model):
    """``f(encoded, rows, prefixes, banned) -> log_probs``: the reference path, the decoder
    over each whole prefix (``model.decode(..., last_only=True)``). Compiled (see ``compiled``)
    for the models of seqkeras, whose ``decode`` takes a prefix of any length; run op by op
    for a subclass with its own ``decode`` (a Python loop over the positions, say)."""
    def rerun(encoded, rows, prefixes, banned):
        encoded = tuple(ops.take(x, rows, axis=0) for x in encoded)
        return _normalised(model.decode(prefixes, encoded, last_only=True)[:, -1], banned)

    loops = getattr(model, "DECODES_IN_A_PYTHON_LOOP", False)  # e.g. models.RNNsearch
    return compiled(model, rerun, "decode") if carries_state(model) and not loops else rerun


def _padded_rows(n):
    """Rows to run for n: JAX compiles once per shape, so round n up to a power of two."""
    return 2 ** int(np.ceil(np.log2(max(n, 1)))) if keras.backend.backend() == "jax" else n


def translation_log_probs(model, source_ids, banned_ids=(0, 1, 2), carry_state=None,
                          max_length=32):
    """Adapter: a translation model and its source sentences -> a batched ``next_log_probs``.

    The source is encoded once (``model.encode``). Two ways to score the next word, with the
    same result (up to float rounding):

    - carrying the decoder's state (the default where the model has ``decode_step``): the
      adapter keeps the state after each prefix of its last call; a new prefix extends one of
      them by a token, so each call runs one decoder step per row: T words cost T steps.
      Rows are gathered from their parents' states, so beam search may reorder, repeat and
      drop them. A prefix whose parent was not in the last call is replayed from the start;
    - re-reading the prefix (``carry_state=False``, the reference path): each call runs
      ``model.decode(prefixes, ..., last_only=True)`` over the whole prefix again: T words
      cost about T^2 / 2 steps.

    Only the last position goes through the output softmax either way. ``banned_ids``
    (padding, [UNK] and [START] by default) get probability 0: an [UNK] in a translation tells
    a reader nothing, so the decoder takes its best real word instead.

    Args:
        model: a model with ``encode(source_ids)`` and
            ``decode(decoder_input_ids, encoded, last_only=True)``, e.g. ``models.Seq2Seq``,
            and for the carried state ``start_decoding(encoded, max_length)`` and
            ``decode_step(token_ids, state)``.
        source_ids: int ``(num_sources, S)``.
        banned_ids: target ids that are never written.
        carry_state: True, False, or None (default): True where ``carries_state(model)``.
        max_length: the longest prefix expected (a Transformer's cache size); a longer one
            doubles it and replays the prefixes, so it is a hint, not a limit.

    Returns:
        ``f(source_index, prefixes) -> (n, vocab_size)`` log-probabilities, for
        ``batch_beam_search`` / ``batch_greedy_search``. For one sentence,
        ``lambda prefixes: f(np.zeros(len(prefixes), "int32"), prefixes)`` is the
        ``next_log_probs`` of ``beam_search``.
    """
    if carry_state is None:
        carry_state = carries_state(model)
    elif carry_state and not carries_state(model):
        raise ValueError(f"{type(model).__name__} has no step interface that matches its "
                         "decode() (start_decoding/decode_step); use carry_state=False")
    encoded = model.encode(ops.convert_to_tensor(np.asarray(source_ids, dtype="int32")))
    banned = np.zeros(model.target_vocab_size)
    banned[list(banned_ids)] = -np.inf
    banned = ops.convert_to_tensor(banned, "float64")

    def run(function, tensors, rows, ids):
        """``function`` on ``rows`` of ``tensors`` and ``ids`` (padded rows dropped again)."""
        rows, ids = np.asarray(rows, dtype="int32"), np.asarray(ids, dtype="int32")
        n = len(rows)
        padding = [(0, _padded_rows(n) - n)] + [(0, 0)] * (ids.ndim - 1)
        rows, ids = np.pad(rows, padding[0]), np.pad(ids, padding)
        outputs = function(tensors, ops.convert_to_tensor(rows), ops.convert_to_tensor(ids),
                           banned)
        log_probs, state = outputs if isinstance(outputs, tuple) else (outputs, None)
        return np.asarray(ops.convert_to_numpy(log_probs), dtype="float64")[:n], state

    if not carry_state:
        rerun = log_prob_rerun(model)

        def rerun_log_probs(source_index, prefixes):
            return run(rerun, encoded, source_index, prefixes)[0]

        return rerun_log_probs

    step = log_prob_step(model)
    last = {"rows": {}, "state": None, "max_length": arguments.positive_int(
        "max_length", max_length), "initial_state": model.start_decoding(encoded, max_length)}

    def step_log_probs(source_index, prefixes):
        source_index = np.asarray(source_index, dtype="int32")
        prefixes = np.ascontiguousarray(prefixes, dtype="int32")
        keys = [(int(s), prefix.tobytes()) for s, prefix in zip(source_index, prefixes,
                                                                  strict=True)]
        parents = [last["rows"].get((s, key[:-4])) for s, key in keys]  # 4 bytes a token
        extends_last_call = prefixes.shape[1] > 1 and None not in parents
        if prefixes.shape[1] > last["max_length"]:  # more room, then replay from the start
            while prefixes.shape[1] > last["max_length"]:
                last["max_length"] *= 2
            last["initial_state"] = model.start_decoding(encoded, last["max_length"])
            extends_last_call = False
        if extends_last_call:
            log_probs, last["state"] = run(step, last["state"], parents, prefixes[:, -1])
        else:  # the first word, or not an extension of the last call: from the start
            state, rows = last["initial_state"], source_index
            for position in range(prefixes.shape[1]):
                log_probs, state = run(step, state, rows, prefixes[:, position])
                rows = np.arange(len(prefixes))
            last["state"] = state
        last["rows"] = {key: row for row, key in enumerate(keys)}
        return log_probs

    return step_log_probs
