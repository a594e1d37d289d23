"""BLEU, as sacrebleu computes it (13a tokenisation, corpus level), overall and by sentence
length (chapters 5-8)."""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

_TOKENIZE_13A = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
]


def tokenize_13a(line: str) -> list[str]:
    """Split a detokenised sentence into BLEU tokens the way mteval-v13a (and sacrebleu) does."""
    line = line.rstrip().replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = (line.replace("&quot;", '"').replace("&amp;", "&")
                .replace("&lt;", "<").replace("&gt;", ">"))
    line = f" {line} "
    for pattern, replacement in _TOKENIZE_13A:
        line = pattern.sub(replacement, line)
    return line.split()


def _ngram_counts(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(hypotheses, references, max_order: int = 4) -> float:
    """Corpus BLEU (Papineni et al. 2002) in percent, as sacrebleu reports it by default.

        BLEU = BP * exp( (1/N) sum_n log p_n ),   BP = min(1, exp(1 - r / c))

    where p_n is the clipped n-gram precision summed over the whole corpus (each hypothesis
    n-gram counts at most as often as it occurs in its reference), c the total hypothesis length
    and r the total reference length, all after 13a tokenisation. A precision with no match at
    all is smoothed the NIST way ("exp"): the k-th such order gets 1 / (2^k * total_n).

    Args:
        hypotheses: list of detokenised output sentences.
        references: list of detokenised reference sentences, one per hypothesis.
        max_order: N, the longest n-gram.

    Returns:
        BLEU in [0, 100]; equal to ``sacrebleu.corpus_bleu(hypotheses, [references]).score``.
    """
    hypotheses, references = list(hypotheses), list(references)
    if len(hypotheses) != len(references):
        raise ValueError(f"need one reference per hypothesis, got {len(hypotheses)} hypotheses "
                         f"and {len(references)} references")
    correct, total = [0] * max_order, [0] * max_order
    hypothesis_length = reference_length = 0
    for hypothesis, reference in zip(hypotheses, references, strict=True):
        hyp_tokens, ref_tokens = tokenize_13a(hypothesis), tokenize_13a(reference)
        hypothesis_length += len(hyp_tokens)
        reference_length += len(ref_tokens)
        for n in range(1, max_order + 1):
            hyp_ngrams, ref_ngrams = _ngram_counts(hyp_tokens, n), _ngram_counts(ref_tokens, n)
            correct[n - 1] += sum(min(c, ref_ngrams[g]) for g, c in hyp_ngrams.items())
            total[n - 1] += max(len(hyp_tokens) - n + 1, 0)
    if not any(correct):
        return 0.0
    brevity_penalty = 1.0
    if hypothesis_length < reference_length:
        brevity_penalty = math.exp(1 - reference_length / hypothesis_length)
    log_precisions, halvings = [], 1.0
    for n in range(max_order):
        if total[n] == 0:  # hypotheses too short to hold any n-gram of this order
            log_precisions.append(-9999999999.0)
            continue
        if correct[n] == 0:
            halvings *= 2
            log_precisions.append(math.log(100.0 / (halvings * total[n])))
        else:
            log_precisions.append(math.log(100.0 * correct[n] / total[n]))
    return brevity_penalty * math.exp(sum(log_precisions) / max_order)


def bleu_by_length(translations, references, lengths, edges=(1, 11, 21, 31, 41, 51, 61)):
    """Corpus BLEU of each system on the sentences whose length falls in each bucket.

    Args:
        translations: ``{system name: list of hypotheses}``, each list aligned with references.
        references: the references, as for ``corpus_bleu``.
        lengths: one integer per sentence, e.g. the source's number of tokens.
        edges: increasing bucket boundaries; bucket k is [edges[k], edges[k+1]). The default
            buckets of ten tokens reach 60, twice the training length of chapters 5-8.

    Returns:
        One row per non-empty bucket, ready for ``utils.format_table`` and
        ``plots.plot_bleu_by_length``: ``{"source tokens": "5-7", "sentences": n,
        <system name>: BLEU, ...}``.
    """
    lengths = np.asarray(lengths)
    rows = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        chosen = np.flatnonzero((lengths >= low) & (lengths < high))
        if len(chosen):
            chosen_references = [references[i] for i in chosen]
            rows.append({"source tokens": f"{low}-{high - 1}", "sentences": len(chosen),
                         **{name: corpus_bleu([hypotheses[i] for i in chosen],
                                              chosen_references)
                            for name, hypotheses in translations.items()}})
    return rows
