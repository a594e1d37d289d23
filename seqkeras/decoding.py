"""Decoding: sampling text from a language model; greedy and beam search for translation."""

from __future__ import annotations

import numpy as np
from keras import ops

from seqkeras import arguments


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
        for (s, tokens, lp), row in zip(rows, log_probs, strict=True):
            best = np.argsort(-row, kind="stable")[:beam_width]
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


def translation_log_probs(model, source_ids, banned_ids=(0, 1, 2)):
    """Adapter: a translation model and its source sentences -> a batched ``next_log_probs``.

    The source is encoded once (``model.encode``); each call gathers the encodings of the
    requested sentences and runs ``model.decode(..., last_only=True)`` over the prefixes: only
    the last position goes through the output softmax.
    ``banned_ids`` (padding, [UNK] and [START] by default) get probability 0: an [UNK] in a
    translation tells a reader nothing, so the decoder takes its best real word instead.

    Args:
        model: a model with ``encode(source_ids)`` and
            ``decode(decoder_input_ids, encoded, last_only=True)``, e.g. ``models.Seq2Seq``.
        source_ids: int ``(num_sources, S)``.

    Returns:
        ``f(source_index, prefixes) -> (n, vocab_size)`` log-probabilities, for
        ``batch_beam_search`` / ``batch_greedy_search``. For one sentence,
        ``lambda prefixes: f(np.zeros(len(prefixes), "int32"), prefixes)`` is the
        ``next_log_probs`` of ``beam_search``.
    """
    encoded = model.encode(ops.convert_to_tensor(np.asarray(source_ids, dtype="int32")))

    def next_log_probs(source_index, prefixes):
        index = ops.convert_to_tensor(np.asarray(source_index, dtype="int32"))
        rows = tuple(ops.take(x, index, axis=0) for x in encoded)
        logits = model.decode(ops.convert_to_tensor(prefixes), rows, last_only=True)
        logits = ops.convert_to_numpy(ops.cast(logits[:, -1], "float32")).astype("float64")
        logits[:, list(banned_ids)] = -np.inf
        logits -= logits.max(axis=-1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))

    return next_log_probs


def translate(model, source_ids, target_vocab, beam_width=1, max_length=20,
              length_penalty=0.0, batch_size=200):
    """Translate every row of ``source_ids``: greedy (``beam_width=1``) or beam search.

    Sentences are decoded ``batch_size`` at a time, grouped by source length: a batch stops
    when its longest translation ends, so short sentences do not wait for long ones.

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
        next_log_probs = translation_log_probs(model, chunk)
        if beam_width == 1:
            best = batch_greedy_search(next_log_probs, len(chunk), start_id, end_id, max_length)
        else:
            best = [hypotheses[0] for hypotheses in batch_beam_search(
                next_log_probs, len(chunk), start_id, end_id, beam_width, max_length,
                length_penalty)]
        for row, (tokens, log_prob) in zip(rows, best, strict=True):
            results[row] = (target_vocab.decode(tokens), log_prob)
    return results
