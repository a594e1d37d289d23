"""Masked-LM accuracy, overall and by what the selected token became (chapters 9 and 11)."""

from __future__ import annotations

import keras
import numpy as np


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
