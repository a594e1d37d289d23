"""Labelled text derived from the corpus, for fine-tuning: each verse's division of the Bible."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqkeras.data.corpora import load_bible

# The traditional divisions of the 66 books (Protestant canon order), as (name, last book).
DIVISIONS = (("law", 5), ("history", 17), ("poetry", 22), ("prophets", 39),
             ("gospels and acts", 44), ("epistles", 66))


def division_of(book: int) -> int:
    """Index in ``DIVISIONS`` of a book number (1 Genesis ... 66 Revelation)."""
    if not 1 <= book <= 66:
        raise ValueError(f"book must be a number from 1 to 66, got {book!r}")
    return next(k for k, (_, last) in enumerate(DIVISIONS) if book <= last)


@dataclass
class LabelledVerses:
    """Verse texts and their division labels (ints indexing ``class_names``)."""

    texts: list[str]
    labels: np.ndarray
    class_names: tuple[str, ...]

    def __len__(self):
        return len(self.texts)

    def subset(self, n, seed=0):
        """``n`` verses drawn at random without replacement (a smaller label budget); the
        draws of a smaller ``n`` are the first of a larger one with the same seed."""
        order = np.random.default_rng(seed).permutation(len(self))[:n]
        return LabelledVerses([self.texts[i] for i in order], self.labels[order],
                              self.class_names)


def verse_divisions(split: str | None = None, translation: str = "kjv") -> LabelledVerses:
    """Every verse of ``split`` (the chapter-level split of ``load_bible``) labelled with its
    division: law, history, poetry, prophets, gospels and acts, epistles (Revelation with the
    epistles). Six classes, real labels, and a split that never puts two verses of one chapter
    on both sides."""
    verses = load_bible(translation, split)
    return LabelledVerses([v.text for v in verses],
                          np.array([division_of(v.book) for v in verses], "int32"),
                          tuple(name for name, _ in DIVISIONS))
