"""Attention against word alignments: agreement with a reference alignment and the
reorderings a translation makes (chapter 6)."""

from __future__ import annotations

import numpy as np

from seqkeras.data.translation import tokenize


def alignment_agreement(attention_weights, alignments) -> tuple[float, float]:
    """How often attention's most weighted source position is a reference alignment's.

    Args:
        attention_weights: ``(n, T, S)`` weights, row i of sentence k being where the decoder
            looked to write target word i (``AttentionSeq2Seq.alignment`` on the references).
        alignments: for each sentence, one source position (or None, unaligned) per target
            word, e.g. ``baselines.WordLexicon.align``; words past ``T`` are ignored.

    Returns:
        ``(agreement, chance)``: the share of aligned target words whose attention argmax is
        the reference position, and the same share expected of a uniformly random position
        among the sentence's real source words (the mean of 1 / S_k).
    """
    weights = np.asarray(attention_weights)
    if weights.ndim != 3 or len(weights) != len(alignments):
        raise ValueError(f"attention_weights must be (n, T, S) with n = len(alignments) = "
                         f"{len(alignments)}, got shape {weights.shape}")
    hits, chance, total = 0, 0.0, 0
    for sentence_weights, alignment in zip(weights, alignments, strict=True):
        source_length = int((sentence_weights.sum(axis=0) > 0).sum()) or weights.shape[2]
        looked_at = sentence_weights.argmax(axis=-1)
        for i, position in enumerate(alignment[:weights.shape[1]]):
            if position is not None:
                hits += int(looked_at[i] == position)
                chance += 1.0 / source_length
                total += 1
    if total == 0:
        raise ValueError("alignments hold no aligned target word")
    return hits / total, chance / total


def swapped_neighbours(alignment) -> set[int]:
    """Target positions i whose words i and i+1 translate source positions j+1 and j.

    The two neighbouring target words come in the reverse of their source order, as French
    noun-adjective becomes English adjective-noun ("les lieux élevés" -> "high places").

    Args:
        alignment: one source position (or None, unaligned) per target word, e.g. the argmax
            of each row of attention weights, or ``baselines.WordLexicon.align``.

    Returns:
        The set of such i.

    Example:
        >>> sorted(swapped_neighbours([0, 2, 1, None, 3]))
        [1]
    """
    return {i for i, (a, b) in enumerate(zip(alignment, alignment[1:], strict=False))
            if a is not None and b is not None and a == b + 1}


FUNCTION_WORDS = frozenset(
    "a an the of to in unto and or but that which who i me my thee thou thy ye you your he him "
    "his she her it its we us our they them their is was be not all".split())


def confirmed_swaps(words, attention_alignment, lexicon, source, min_probability=0.2) -> set[int]:
    """Where a translation reorders two content words, by its attention and by IBM Model 1.

    Positions i where the translation's words i and i+1, neither a function word
    (``FUNCTION_WORDS``) nor punctuation, come in the reverse order of the source words they
    translate (``swapped_neighbours``) by the attention's alignment *and* by Model 1's Viterbi
    alignment of the translation, each word a likely translation of its source word under Model
    1 (t(e | f) >= ``min_probability``): a mistranslated word attaches to some source word by
    default, and its "swap" would be noise.

    Args:
        words: the translation's tokens.
        attention_alignment: one source position per word (the argmax of each attention row).
        lexicon: a fitted ``baselines.WordLexicon``.
        source: the source sentence.
        min_probability: the least t(e | f) that counts as a translation.

    Returns:
        The set of such i.
    """
    model1_alignment = lexicon.align(source, " ".join(words))
    source_words = tokenize(source)

    def content_swaps(alignment):
        return {i for i in swapped_neighbours(alignment)
                if words[i].isalpha() and words[i + 1].isalpha()
                and not {words[i], words[i + 1]} & FUNCTION_WORDS}

    def translates(i):
        return lexicon.translation_probs.get(
            (words[i], source_words[model1_alignment[i]]), 0.0) >= min_probability

    return {i for i in content_swaps(list(attention_alignment)) & content_swaps(model1_alignment)
            if translates(i) and translates(i + 1)}
