"""Greedy and beam search over any function from prefixes to next-token log-probabilities:
model-independent, NumPy only."""

from __future__ import annotations

import numpy as np
from keras import ops

from seqkeras import arguments


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
