"""Tagging: precision, recall and F1 of the positive class (chapter 4)."""

from __future__ import annotations

import numpy as np


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
