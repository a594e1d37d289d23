"""Metrics: bits per character and perplexity for language models, F1 for tagging, BLEU for
translation."""

from __future__ import annotations

import math
import re
from collections import Counter

import keras
import numpy as np

LN2 = math.log(2.0)


def bits_per_character(cross_entropy_nats: float) -> float:
    """Mean cross-entropy in nats (what Keras' losses report) converted to bits per character.

    BPC = H / ln 2, where H = -mean_t ln p(x_t | x_<t). A model that knows nothing about a
    63-character alphabet scores log2 63 = 5.98 bits.
    """
    return float(cross_entropy_nats) / LN2


def perplexity(cross_entropy_nats: float) -> float:
    """exp(H): the number of equally likely choices the model is as unsure as."""
    return math.exp(float(cross_entropy_nats))


@keras.saving.register_keras_serializable(package="seqkeras")
class BitsPerCharacter(keras.metrics.Mean):
    """Mean next-character cross-entropy in bits, as a Keras metric for ``compile()``.

    Args:
        from_logits: whether ``y_pred`` holds logits (True) or probabilities.
        name: metric name shown by ``fit``.

    Call arguments (``update_state``):
        y_true: integer targets, shape ``(batch, time)``.
        y_pred: scores, shape ``(batch, time, vocab_size)``.
        sample_weight: optional weights, shape ``(batch, time)``.
    """

    def __init__(self, from_logits=True, name="bpc", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.from_logits = from_logits

    def update_state(self, y_true, y_pred, sample_weight=None):
        nats = keras.losses.sparse_categorical_crossentropy(y_true, y_pred,
                                                            from_logits=self.from_logits)
        return super().update_state(nats / LN2, sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


def precision_recall_f1(true_labels, predicted_labels) -> dict[str, float]:
    """Precision, recall and F1 of the positive class (label 1) of a binary tagging.

    precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = their harmonic mean; each is 0.0
    where its denominator is 0.

    Args:
        true_labels: array of 0/1 labels, any shape.
        predicted_labels: array of 0/1 predictions, the same shape.

    Returns:
        ``{"precision": ..., "recall": ..., "f1": ...}``.
    """
    true_labels, predicted_labels = np.asarray(true_labels), np.asarray(predicted_labels)
    if true_labels.shape != predicted_labels.shape:
        raise ValueError(f"true_labels and predicted_labels must have the same shape, got "
                         f"{true_labels.shape} and {predicted_labels.shape}")
    true_positive = int(np.sum((true_labels == 1) & (predicted_labels == 1)))
    predicted, actual = int(np.sum(predicted_labels == 1)), int(np.sum(true_labels == 1))
    precision = true_positive / predicted if predicted else 0.0
    recall = true_positive / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


# mteval-v13a's tokenisation, in the order sacrebleu applies it: split off most ASCII punctuation,
# then periods and commas that are not inside a number, then a dash after a digit.
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


def _masked_predictions(model, batches):
    """For each batch of a ``data.MaskedLMBatches``: its inputs, the original tokens at the
    selected positions, their weights, and the ``model``'s most probable token there."""
    for index in range(len(batches)):
        inputs, targets, weights = batches[index]
        if isinstance(targets, dict):
            targets, weights = targets["mlm"], weights["mlm"]
        logits = model.predict_on_batch(inputs)["mlm"]
        yield (inputs, np.asarray(targets), np.asarray(weights),
               np.argmax(keras.ops.convert_to_numpy(logits), axis=-1))


def masked_lm_accuracy(model, batches) -> float:
    """Share of the masked tokens of ``batches`` (a ``data.MaskedLMBatches``; give it
    ``dynamic=False`` so that every model is scored on the same masks) whose original token is
    the ``model``'s most probable one. ``model`` returns a dict with ``"mlm"`` logits
    ``(batch, M, V)``: every pretraining model of chapters 9 and 11 does.
    """
    correct = total = 0.0
    for _, targets, weights, predicted in _masked_predictions(model, batches):
        correct += float(((predicted == targets) * weights).sum())
        total += float(weights.sum())
    if total == 0:
        raise ValueError("the batches hold no masked token")
    return correct / total


MASKED_KINDS = ("[MASK]", "random", "unchanged")


def masked_lm_accuracy_by_kind(model, batches, mask_token_id, guess_id=None) -> dict:
    """``masked_lm_accuracy`` split by what the model saw at each selected position, beside a
    baseline that knows BERT's 80/10/10 rule.

    BERT scores a selected token whatever became of it: ``[MASK]`` (80%), a random token (10%)
    or the token itself, unchanged (10%). At an unchanged position the answer is in the input,
    so the overall accuracy rewards copying. The **copy-aware baseline** copies the input token
    wherever it is not ``[MASK]`` (right at every unchanged position, wrong at every random one)
    and guesses ``guess_id`` at ``[MASK]``.

    Args:
        model: returns a dict with ``"mlm"`` logits ``(batch, M, V)`` (as ``masked_lm_accuracy``).
        batches: a ``data.MaskedLMBatches`` (``dynamic=False``: the same masks for every model).
        mask_token_id: the id of ``[MASK]``.
        guess_id: the baseline's guess at ``[MASK]``; default the most frequent original token
            at the ``[MASK]`` positions of these batches (the best constant guess there, a
            generous baseline).

    Returns:
        dict from kind (``MASKED_KINDS`` and ``"all"``) to a dict with ``share`` (of the
        selected tokens), ``accuracy`` (the model's) and ``copy-aware baseline``.
    """
    kinds, correct, originals = [], [], []
    for inputs, targets, weights, predicted in _masked_predictions(model, batches):
        seen = np.take_along_axis(np.asarray(inputs["token_ids"]),
                                  np.asarray(inputs["mask_positions"]), axis=1)
        real = weights > 0
        kind = np.where(seen == mask_token_id, 0, np.where(seen == targets, 2, 1))
        kinds.append(kind[real])
        correct.append((predicted == targets)[real])
        originals.append(np.stack([np.asarray(targets), seen], -1)[real])
    kinds, correct, originals = map(np.concatenate, (kinds, correct, originals))
    if not len(kinds):
        raise ValueError("the batches hold no masked token")
    if guess_id is None:
        at_mask = originals[kinds == 0, 0]
        guess_id = int(np.bincount(at_mask).argmax()) if len(at_mask) else 0
    baseline = np.where(kinds == 0, originals[:, 0] == guess_id, originals[:, 0] == originals[:, 1])
    report = {}
    for k, name in enumerate((*MASKED_KINDS, "all")):
        chosen = kinds == k if name != "all" else np.ones_like(kinds, bool)
        report[name] = {"share": float(chosen.mean()),
                        "accuracy": float(correct[chosen].mean()) if chosen.any() else float("nan"),
                        "copy-aware baseline": float(baseline[chosen].mean()) if chosen.any()
                        else float("nan")}
    return report


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
