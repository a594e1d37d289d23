"""Write it yourself: BERT's masked-LM corruption (15% of the tokens; of those 80% [MASK], 10% a
random word, 10% unchanged), checked by its statistics on many verses-worth of tokens."""

from __future__ import annotations

import numpy as np

from seqkeras.exercises.report import (
    LearnerError,
    not_implemented,
    report,
    run_learner,
)

VOCABULARY_SIZE, MASK_ID, SPECIAL_IDS = 1000, 4, (0, 1, 2)


def _corrupt(token_ids, rng, selection=0.15, rates=(0.8, 0.1), specials=False,
             everywhere=False):
    """A corruption with adjustable mistakes; returns ``(corrupted, selected)``."""
    selectable = np.ones_like(token_ids, dtype=bool) if specials else ~np.isin(token_ids,
                                                                                SPECIAL_IDS)
    selected = selectable & (rng.random(token_ids.shape) < selection)
    draw = rng.random(token_ids.shape)
    corrupted = token_ids.copy()
    where = np.ones_like(selected) if everywhere else selected
    corrupted[where & (draw < rates[0])] = MASK_ID
    random = where & (draw >= rates[0]) & (draw < rates[0] + rates[1])
    corrupted[random] = rng.integers(0, VOCABULARY_SIZE, size=int(random.sum()))
    return corrupted, selected


MASKING_MISTAKES = {  # name: (corruption, statistic it breaks)
    "every selected token becomes [MASK]: BERT keeps 10% unchanged and replaces 10% by a "
    "random word, so that the model cannot rely on seeing [MASK]":
        lambda ids, rng: _corrupt(ids, rng, rates=(1.0, 0.0)),
    "[PAD], [CLS] and [SEP] are selected too: special tokens are never selected":
        lambda ids, rng: _corrupt(ids, rng, specials=True),
    "the 80/10/10 replacement is applied to every token, not only the 15% selected":
        lambda ids, rng: _corrupt(ids, rng, everywhere=True),
    "the split is 10% [MASK] / 80% random: it is 80% [MASK], 10% random, 10% unchanged":
        lambda ids, rng: _corrupt(ids, rng, rates=(0.1, 0.8)),
    "12% of the tokens are selected (0.15 x 0.8): 15% are selected, 80% of those masked":
        lambda ids, rng: _corrupt(ids, rng, selection=0.12),
}


def statistics(token_ids, corrupted, selected):
    """The shares a check reads: selection among selectable tokens, special tokens touched,
    unselected tokens changed, and [MASK] / random / unchanged among the selected."""
    special = np.isin(token_ids, SPECIAL_IDS)
    chosen = selected & ~special
    changed = corrupted != token_ids
    return {
        "selected, of the selectable tokens": chosen.sum() / max((~special).sum(), 1),
        "special tokens selected or changed": (special & (selected | changed)).mean(),
        "tokens outside the selection changed": (~selected & changed).sum() / max(
            (~selected).sum(), 1),
        "[MASK], of the selected": (corrupted[chosen] == MASK_ID).mean() if chosen.any() else 0,
        "unchanged, of the selected": (~changed[chosen]).mean() if chosen.any() else 0,
    }


EXPECTED = {"selected, of the selectable tokens": (0.15, 0.005),
            "special tokens selected or changed": (0.0, 0.0),
            "tokens outside the selection changed": (0.0, 0.0),
            "[MASK], of the selected": (0.8, 0.015),
            "unchanged, of the selected": (0.1 + 0.1 / VOCABULARY_SIZE, 0.012)}


def check_masking(fn):
    """Check ``fn(token_ids, vocabulary_size, mask_token_id, rng) -> (corrupted, selected)``,
    BERT's masked-LM corruption (ids 0, 1, 2 are [PAD], [CLS], [SEP]); returns a
    ``CheckReport`` (also printed)."""
    piece = "masked-LM corruption"
    if not callable(fn):
        raise TypeError(f"check the function itself, not {type(fn).__name__}")
    rng = np.random.default_rng(0)
    token_ids = rng.integers(5, VOCABULARY_SIZE, size=(400, 128))
    token_ids[:, 0], token_ids[:, -1] = 1, 2  # [CLS] ... [SEP]
    token_ids[::3, 100:-1] = 0  # padding in a third of the rows
    try:
        outputs = run_learner(fn, token_ids.copy(), VOCABULARY_SIZE, MASK_ID,
                              np.random.default_rng(1))
        if not isinstance(outputs, tuple | list) or len(outputs) != 2:
            raise LearnerError("fn must return (corrupted_ids, selected)")
        corrupted, selected = (np.asarray(x) for x in outputs)
        if corrupted.shape != token_ids.shape or selected.shape != token_ids.shape:
            raise LearnerError(f"both outputs must have the shape of token_ids, "
                               f"{token_ids.shape}; got {corrupted.shape} and {selected.shape}")
        selected = selected.astype(bool)
    except NotImplementedError:
        return not_implemented(piece)
    except LearnerError as error:
        return report(piece, False, str(error))
    got = statistics(token_ids, corrupted, selected)
    wrong = {k: v for k, v in got.items()
             if abs(v - EXPECTED[k][0]) > EXPECTED[k][1] + 1e-12}
    if not wrong:
        return report(piece, True, "; ".join(f"{k} {v:.3f}" for k, v in got.items()) + ".")
    for mistake, corrupt in MASKING_MISTAKES.items():
        mistaken = statistics(token_ids, *corrupt(token_ids.copy(), np.random.default_rng(1)))
        if all(abs(mistaken[k] - got[k]) < 0.02 for k in got):
            return report(piece, False, mistake + ".")
    return report(piece, False, "; ".join(f"{k} {v:.3f} (expected {EXPECTED[k][0]:.3f})"
                                          for k, v in wrong.items()) + ".")
