"""Labelled text derived from the corpus, for fine-tuning: each verse's division of the Bible,
and pairs of verses from two English translations (same verse, or a neighbour)."""

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


@dataclass
class LabelledPairs:
    """Sentence pairs and their labels: BERT's two-segment input (``pack_segments(first,
    second)``)."""

    first: list[str]
    second: list[str]
    labels: np.ndarray
    class_names: tuple[str, ...]

    def __len__(self):
        return len(self.first)

    def subset(self, n, seed=0):
        """``n`` pairs drawn at random without replacement, as ``LabelledVerses.subset``."""
        order = np.random.default_rng(seed).permutation(len(self))[:n]
        return LabelledPairs([self.first[i] for i in order], [self.second[i] for i in order],
                             self.labels[order], self.class_names)


def paraphrase_pairs(split: str | None = None, first: str = "kjv", second: str = "web",
                     different_rate: float = 0.5, seed: int = 0) -> LabelledPairs:
    """A paraphrase task like MRPC from two bundled English translations: is B the same verse
    as A, in other words?

    For every verse of ``split`` in a chapter of at least two verses, A is the verse in
    ``first``; B is the same verse in ``second`` (label 1, "same verse") or, with probability
    ``different_rate``, a neighbouring verse of the same chapter in ``second`` (label 0): same
    book, same topic, often the same names, so that only reading both sentences tells the
    labels apart. A pair task where BERT's two-segment input matters. Verses that one
    translation leaves empty (the World English Bible omits a few) are skipped.

    Args:
        split: ``"train"``, ``"validation"``, ``"test"`` or None (all).
        first, second: two keys of ``BIBLE_TRANSLATIONS``, both English for a paraphrase.
        different_rate: the share of pairs with a neighbouring verse.
        seed: of the draws (which pairs differ, and which neighbour).

    Returns:
        A ``LabelledPairs`` with ``class_names`` ``("different verse", "same verse")``.
    """
    if first == second:
        raise ValueError(f"first and second must be different translations, got {first!r}")
    if not 0.0 <= different_rate <= 1.0:
        raise ValueError(f"different_rate must be in [0, 1], got {different_rate}")
    a_verses, b_verses = load_bible(first, split), load_bible(second, split)
    chapters = {}
    for index, (a, b) in enumerate(zip(a_verses, b_verses, strict=True)):
        if (a.book, a.chapter, a.verse) != (b.book, b.chapter, b.verse):
            raise ValueError(f"{first} and {second} are not verse-aligned at "
                             f"{a.book}:{a.chapter}:{a.verse}")
        if a.text.strip() and b.text.strip():
            chapters.setdefault((a.book, a.chapter), []).append(index)
    rng = np.random.default_rng(seed)
    texts_a, texts_b, labels = [], [], []
    for indices in chapters.values():
        if len(indices) < 2:
            continue
        for k, index in enumerate(indices):
            different = rng.random() < different_rate
            if different:
                neighbours = [indices[j] for j in (k - 1, k + 1) if 0 <= j < len(indices)]
                partner = neighbours[int(rng.integers(len(neighbours)))]
            else:
                partner = index
            texts_a.append(a_verses[index].text)
            texts_b.append(b_verses[partner].text)
            labels.append(0 if different else 1)
    return LabelledPairs(texts_a, texts_b, np.array(labels, "int32"),
                         ("different verse", "same verse"))
