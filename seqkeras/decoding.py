"""Decoding: sampling text from a language model; greedy and beam search for translation."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from seqkeras import arguments, metrics


def sample_text(model, vocab, prompt, length=200, temperature=1.0, seed=0):
    """Sample ``length`` characters after ``prompt``, one step of the recurrence at a time.

    The prompt is fed through the cell to build up h_t; then each step draws
    x_{t+1} ~ softmax(logits_t / temperature) and feeds it back in. Low temperatures sharpen
    the distribution towards the most likely character (repetitive text); high ones flatten
    it (creative, then garbled).

    Args:
        model: a model from ``seqkeras.models.rnn_language_model`` (layers ``embedding``,
            ``rnn`` and ``logits``).
        vocab: the ``CharVocabulary`` the model was trained with.
        prompt: non-empty text to start from.
        length: number of characters to generate.
        temperature: positive float.
        seed: seed of the NumPy generator that draws the characters.

    Returns:
        The generated text (without the prompt).
    """
    if not prompt:
        raise ValueError("prompt must be a non-empty string")
    arguments.positive_number("temperature", temperature)
    embedding, rnn, readout = (model.get_layer(n) for n in ("embedding", "rnn", "logits"))
    rng = np.random.default_rng(seed)
    states = rnn.get_initial_state(1)

    def step(char_id, states):
        h, states = rnn.cell(embedding(ops.convert_to_tensor([char_id])), states)
        return h, list(states) if isinstance(states, (list, tuple)) else [states]

    for char_id in vocab.encode(prompt):
        h, states = step(char_id, states)
    generated = []
    for _ in range(length):
        logits = ops.convert_to_numpy(readout(h))[0].astype("float64") / temperature
        probs = np.exp(logits - logits.max())
        probs[0] = 0.0  # the padding id is never a character
        generated.append(rng.choice(len(probs), p=probs / probs.sum()))
        h, states = step(generated[-1], states)
    return vocab.decode(generated)


# Translation: a model-independent search over next-token distributions (chapters 5-8).
#
# ``next_log_probs(prefixes)`` takes an int32 array (n, t) of prefixes, each starting with the
# start token, and returns log p(y_{t+1} | prefix, source) as an array (n, vocab_size). The batched
# forms take ``next_log_probs(source_index, prefixes)``, where source_index (n,) says which source
# sentence each row belongs to, so that one model call serves every sentence of a batch.


def _check_search_arguments(beam_width, max_length, length_penalty):
    arguments.positive_int("beam_width", beam_width)
    arguments.positive_int("max_length", max_length)
    arguments.number("length_penalty", length_penalty, 0)


def _log_probs_array(next_log_probs, source_index, prefixes):
    log_probs = np.asarray(ops.convert_to_numpy(next_log_probs(source_index, prefixes)),
                           dtype="float64")
    if log_probs.ndim != 2 or log_probs.shape[0] != prefixes.shape[0]:
        raise ValueError(f"next_log_probs must return an array (n, vocab_size) for n = "
                         f"{prefixes.shape[0]} prefixes, got shape {log_probs.shape}")
    return log_probs


def _top_k(log_probs, k):
    """The k largest entries' columns of each row, largest first, ties to the lower id (as a
    stable argsort of -row would give them, without sorting the whole vocabulary)."""
    if k >= log_probs.shape[1]:
        return np.argsort(-log_probs, axis=1, kind="stable")
    part = np.argpartition(-log_probs, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(log_probs, part, axis=1)
    # rows whose k-th value is tied with an entry left out: fall back to the stable sort
    kth = values.min(axis=1, keepdims=True)
    tied = (log_probs == kth).sum(axis=1) > (values == kth).sum(axis=1)
    order = np.lexsort((part, -values), axis=1)
    best = np.take_along_axis(part, order, axis=1)
    if tied.any():
        best[tied] = np.argsort(-log_probs[tied], axis=1, kind="stable")[:, :k]
    return best


def batch_beam_search(next_log_probs, num_sources, start_id, end_id, beam_width, max_length,
                      length_penalty=0.0):
    """Beam search for ``num_sources`` sentences at once, one model call per step.

    Each sentence keeps its own beam of at most ``beam_width`` live prefixes. At every step each
    live prefix is extended by its ``beam_width`` most probable tokens, and the ``beam_width``
    best extensions by total log-probability survive; an extension that ends with ``end_id``
    leaves the beam as a finished hypothesis (so the beam narrows as hypotheses finish, and
    width 1 is greedy decoding). Search stops when no prefix is live, when ``max_length`` tokens
    were generated (live prefixes then count as hypotheses, cut), or, with no length penalty,
    when the best finished hypothesis beats every live prefix: a prefix's log-probability only
    falls as it grows, so none of them can overtake it.

    Finished hypotheses are ranked by log_prob / length^alpha (Wu et al. 2016's idea in its
    simplest form), where length counts the tokens including ``end_id`` and alpha is
    ``length_penalty``; alpha = 0 ranks by the raw sum, which favours short outputs.

    Args:
        next_log_probs: ``f(source_index, prefixes) -> (n, vocab_size)`` log-probabilities.
        num_sources: number of source sentences.
        start_id, end_id: ids of the start and end tokens.
        beam_width: prefixes kept per sentence.
        max_length: most tokens generated per hypothesis, ``end_id`` included.
        length_penalty: alpha >= 0.

    Returns:
        One list per sentence of ``(token_ids, log_prob)``, best first: token_ids omits
        ``start_id`` and ends with ``end_id`` unless max_length cut it.
    """
    _check_search_arguments(beam_width, max_length, length_penalty)
    live = [[((), 0.0)] for _ in range(num_sources)]
    finished = [[] for _ in range(num_sources)]

    def rank(hypothesis):
        tokens, log_prob = hypothesis
        return log_prob / max(len(tokens), 1) ** length_penalty

    for _step in range(max_length):
        rows = [(s, tokens, lp) for s in range(num_sources) for tokens, lp in live[s]]
        if not rows:
            break
        source_index = np.array([s for s, _, _ in rows], dtype="int32")
        prefixes = np.array([(start_id, *tokens) for _, tokens, _ in rows], dtype="int32")
        log_probs = _log_probs_array(next_log_probs, source_index, prefixes)
        candidates = [[] for _ in range(num_sources)]
        for (s, tokens, lp), row, best in zip(rows, log_probs, _top_k(log_probs, beam_width),
                                              strict=True):
            candidates[s].extend(((*tokens, int(t)), lp + row[t]) for t in best)
        for s in range(num_sources):
            kept = sorted(candidates[s], key=lambda c: -c[1])[:beam_width]
            finished[s].extend(c for c in kept if c[0][-1] == end_id)
            live[s] = [c for c in kept if c[0][-1] != end_id]
            if (length_penalty == 0 and finished[s] and live[s]
                    and max(lp for _, lp in finished[s]) >= max(lp for _, lp in live[s])):
                live[s] = []
    results = []
    for s in range(num_sources):
        hypotheses = finished[s] + live[s]  # live ones were cut by max_length
        hypotheses = sorted(hypotheses, key=lambda h: -rank(h))
        results.append([(list(tokens), float(lp)) for tokens, lp in hypotheses])
    return results


def beam_search(next_log_probs, start_id, end_id, beam_width, max_length, length_penalty=0.0):
    """Beam search for one sentence: ``next_log_probs(prefixes) -> (n, vocab_size)``.

    See ``batch_beam_search`` for the algorithm. Returns the list of ``(token_ids, log_prob)``
    hypotheses, best first.

    Example:

    A toy model over five ids that writes word 4 and then ``[END]`` (id 3), each with
    probability 0.8. For a translation model, ``batched = translation_log_probs(model,
    source_ids[:1])`` and ``lambda prefixes: batched(np.zeros(len(prefixes), "int32"),
    prefixes)`` is ``next_log_probs``.

    >>> def next_log_probs(prefixes):
    ...     probs = np.full((len(prefixes), 5), 0.05)
    ...     for row, prefix in enumerate(prefixes):
    ...         probs[row, 4 if len(prefix) == 1 else 3] = 0.8
    ...     return np.log(probs)
    >>> hypotheses = beam_search(next_log_probs, start_id=2, end_id=3, beam_width=2,
    ...                          max_length=5)
    >>> best_tokens, best_log_prob = hypotheses[0]
    >>> best_tokens, round(float(np.exp(best_log_prob)), 2)
    ([4, 3], 0.64)
    """
    return batch_beam_search(lambda _source_index, prefixes: next_log_probs(prefixes), 1,
                             start_id, end_id, beam_width, max_length, length_penalty)[0]


def batch_greedy_search(next_log_probs, num_sources, start_id, end_id, max_length):
    """Greedy decoding of ``num_sources`` sentences: take the most probable token at each step.

    Returns one ``(token_ids, log_prob)`` per sentence, in the form of ``batch_beam_search``.
    """
    _check_search_arguments(1, max_length, 0.0)
    tokens = [[] for _ in range(num_sources)]
    log_prob = np.zeros(num_sources)
    live = list(range(num_sources))
    for _step in range(max_length):
        if not live:
            break
        prefixes = np.array([[start_id, *tokens[s]] for s in live], dtype="int32")
        log_probs = _log_probs_array(next_log_probs, np.array(live, dtype="int32"), prefixes)
        best = np.argmax(log_probs, axis=-1)
        for s, token, row in zip(live, best, log_probs, strict=True):
            tokens[s].append(int(token))
            log_prob[s] += row[token]
        live = [s for s in live if tokens[s][-1] != end_id]
    return [(tokens[s], float(log_prob[s])) for s in range(num_sources)]


def greedy_search(next_log_probs, start_id, end_id, max_length):
    """Greedy decoding of one sentence; returns ``(token_ids, log_prob)``."""
    return batch_greedy_search(lambda _source_index, prefixes: next_log_probs(prefixes), 1,
                               start_id, end_id, max_length)[0]


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

    return compiled(model, rerun, "decode") if carries_state(model) else rerun


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


def translate(model, source_ids, target_vocab, beam_width=1, max_length=20,
              length_penalty=0.0, batch_size=200, carry_state=None):
    """Translate every row of ``source_ids``: greedy (``beam_width=1``) or beam search.

    Sentences are decoded ``batch_size`` at a time, grouped by source length: a batch stops
    when its longest translation ends, so short sentences do not wait for long ones. The
    decoder carries its state from word to word where the model allows it (``carry_state``:
    see ``translation_log_probs``; False re-reads each prefix, the slow reference path).

    Returns:
        A list of ``(text, log_prob)``, one per source sentence, in the order of
        ``source_ids``: the best hypothesis decoded with ``target_vocab`` and its total
        log-probability.
    """
    source_ids = np.asarray(source_ids, dtype="int32")
    start_id, end_id = target_vocab.start_id, target_vocab.end_id
    order = np.argsort((source_ids != 0).sum(axis=1), kind="stable")
    results = [None] * len(source_ids)
    for first in range(0, len(source_ids), batch_size):
        rows = order[first:first + batch_size]
        chunk = source_ids[rows]
        chunk = chunk[:, :max(1, int((chunk != 0).sum(axis=1).max()))]  # drop all-padding columns
        next_log_probs = translation_log_probs(model, chunk, carry_state=carry_state,
                                               max_length=max_length)
        if beam_width == 1:
            best = batch_greedy_search(next_log_probs, len(chunk), start_id, end_id, max_length)
        else:
            best = [hypotheses[0] for hypotheses in batch_beam_search(
                next_log_probs, len(chunk), start_id, end_id, beam_width, max_length,
                length_penalty)]
        for row, (tokens, log_prob) in zip(rows, best, strict=True):
            results[row] = (target_vocab.decode(tokens), log_prob)
    return results


@dataclass
class ScoredTranslations:
    """What ``translate_and_score`` returns: one text and log-probability per source sentence,
    in the batch's order, and their corpus BLEU against the batch's references."""

    texts: list[str]
    log_probs: np.ndarray
    bleu: float


def translate_and_score(model, batch, target_vocab, beam_width=1, max_length=None,
                        **kwargs) -> ScoredTranslations:
    """Translate every source sentence of ``batch`` and score the translations with corpus
    BLEU (``metrics.corpus_bleu``, sacrebleu's): the measurement every translation chapter
    makes of every model.

    Args:
        model: a translation model (see ``translate``).
        batch: a ``data.TranslationBatch``: its ``source_ids`` are translated, its
            ``references`` score them.
        target_vocab: the ``WordVocabulary`` that decodes the model's target ids.
        beam_width: 1 for greedy decoding, more for beam search.
        max_length: the longest translation, ``[END]`` included; by default the batch's
            ``target_ids`` width (room for its longest reference).
        **kwargs: passed on to ``translate`` (``length_penalty``, ``batch_size``,
            ``carry_state``).

    Returns:
        A ``ScoredTranslations``.
    """
    if max_length is None:
        max_length = batch.target_ids.shape[1]
    outputs = translate(model, batch.source_ids, target_vocab, beam_width=beam_width,
                        max_length=max_length, **kwargs)
    texts = [text for text, _ in outputs]
    return ScoredTranslations(texts, np.array([log_prob for _, log_prob in outputs]),
                              metrics.corpus_bleu(texts, batch.references))
