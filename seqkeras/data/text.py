"""Character vocabularies and language-model training windows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from seqkeras import arguments

PADDING_ID = 0


class CharVocabulary:
    """A fixed character vocabulary: id 0 is padding, ids 1..n are the characters, sorted.

    Args:
        characters: the characters the vocabulary knows (duplicates are ignored).

    Example:

    >>> vocab = CharVocabulary.from_text("abba cab")
    >>> vocab.encode("cab").tolist()
    [4, 2, 3]
    >>> vocab.decode([4, 2, 3])
    'cab'
    """

    def __init__(self, characters: Iterable[str]):
        chars = sorted(set(characters))
        if not chars:
            raise ValueError("characters must contain at least one character, got none")
        bad = [c for c in chars if len(c) != 1]
        if bad:
            raise ValueError(f"characters must be single characters, got {bad[:5]!r}")
        self.characters = tuple(chars)
        self._ids = {c: i + 1 for i, c in enumerate(chars)}
        # A dense code-point table turns encoding 4 M characters into one NumPy gather.
        self._table = np.full(max(map(ord, chars)) + 1, -1, dtype=np.int32)
        for c, i in self._ids.items():
            self._table[ord(c)] = i
        self._chars = np.array(["", *chars])

    @classmethod
    def from_text(cls, text: str) -> CharVocabulary:
        """The vocabulary of every distinct character in ``text``."""
        return cls(set(text))

    def __len__(self) -> int:
        """Vocabulary size, padding id included (the size an Embedding layer needs)."""
        return len(self.characters) + 1

    def __contains__(self, char: str) -> bool:
        return char in self._ids

    def __repr__(self) -> str:
        return f"CharVocabulary({len(self.characters)} characters + padding)"

    def encode(self, text: str) -> np.ndarray:
        """Character ids of ``text`` as an int32 array.

        Raises:
            ValueError: ``text`` has characters the vocabulary does not know; the message names
                them and where the first one is.
        """
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        in_table = codes < len(self._table)
        ids = np.where(in_table, self._table[np.where(in_table, codes, 0)], -1)
        unknown = np.flatnonzero(ids < 0)
        if unknown.size:
            chars = sorted({text[i] for i in unknown})
            first = unknown[0]
            raise ValueError(
                f"text has {unknown.size} character(s) not in the vocabulary: {chars[:10]!r} "
                f"(first at position {first}: {text[max(0, first - 20):first + 1]!r})"
            )
        return ids.astype(np.int32)

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """The text of ``ids``; padding ids decode to nothing."""
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must be in [0, {len(self)}), got values in "
                             f"[{ids.min()}, {ids.max()}]")
        return "".join(self._chars[ids.ravel()])


def char_lm_windows(ids: np.ndarray, sequence_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut a long id sequence into next-character training pairs.

    Consecutive, non-overlapping windows: ``x[i] = ids[i*L : (i+1)*L]`` and ``y[i]`` is the same
    window shifted one character to the right, so the model predicts ``ids[t+1]`` from
    ``ids[:t+1]`` at every position.

    Args:
        ids: 1-D array of character ids.
        sequence_length: ``L``, the length of each window (the BPTT truncation length).

    Returns:
        ``(x, y)``, two int32 arrays of shape ``(num_windows, sequence_length)``.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {ids.shape}")
    arguments.positive_int("sequence_length", sequence_length)
    num_windows = (len(ids) - 1) // sequence_length
    if num_windows < 1:
        raise ValueError(f"ids has {len(ids)} elements: too short for one window of "
                         f"sequence_length={sequence_length} plus its target")
    span = num_windows * sequence_length
    x = ids[:span].reshape(num_windows, sequence_length)
    y = ids[1:span + 1].reshape(num_windows, sequence_length)
    return x.astype(np.int32), y.astype(np.int32)


def remove_spaces(text: str) -> tuple[str, np.ndarray]:
    """The word-boundary task of chapter 4: ``text`` with its spaces removed, and where they were.

    ``"In the beginning"`` becomes ``"Inthebeginning"`` with labels 1 at the "t" of "the" and
    the "b" of "beginning" (a space stood just before them) and 0 elsewhere. A model that reads
    the unspaced characters and predicts the labels restores the spaces; other whitespace
    (newlines between verses) stays in the text, as a character with label 0.

    Args:
        text: text whose words are separated by single spaces.

    Returns:
        ``(unspaced, starts)``: the text without spaces, and an int32 array of the same length,
        1 where a space was removed just before the character.
    """
    is_space = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) == ord(" ")
    after_space = np.concatenate([[False], is_space[:-1]])
    return text.replace(" ", ""), after_space[~is_space].astype(np.int32)


def restore_spaces(unspaced: str, starts) -> str:
    """The inverse of ``remove_spaces``: insert a space before every character labelled 1."""
    starts = np.asarray(starts)
    if starts.shape != (len(unspaced),):
        raise ValueError(f"starts must have one label per character, shape ({len(unspaced)},); "
                         f"got shape {starts.shape}")
    return "".join(" " + c if s else c for c, s in zip(unspaced, starts, strict=True))


def tagging_windows(ids: np.ndarray, labels: np.ndarray, sequence_length: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Cut a long sequence of ids and its per-position labels into aligned windows.

    Consecutive, non-overlapping windows of ``sequence_length``; the remainder is dropped.

    Returns:
        ``(x, y)``, two int32 arrays of shape ``(num_windows, sequence_length)``.
    """
    ids, labels = np.asarray(ids), np.asarray(labels)
    if ids.ndim != 1 or ids.shape != labels.shape:
        raise ValueError(f"ids and labels must be 1-D and of equal length, got shapes "
                         f"{ids.shape} and {labels.shape}")
    arguments.positive_int("sequence_length", sequence_length)
    num_windows = len(ids) // sequence_length
    if num_windows < 1:
        raise ValueError(f"{len(ids)} positions are too few for one window of "
                         f"sequence_length={sequence_length}")
    span = num_windows * sequence_length
    return (ids[:span].reshape(num_windows, -1).astype(np.int32),
            labels[:span].reshape(num_windows, -1).astype(np.int32))
