"""Translating a batch of sentences, and scoring the translations with BLEU."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqkeras import metrics
from seqkeras.decoding.search import batch_beam_search, batch_greedy_search
from seqkeras.decoding.steps import translation_log_probs


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
