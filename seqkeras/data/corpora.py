"""Loaders for the bundled corpora. No network, no cache: everything is read from the package."""

from __future__ import annotations

import csv
import hashlib
import io
import lzma
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

BIBLE_TRANSLATIONS = {"kjv": "King James Version", "web": "World English Bible",
                      "lsg": "Louis Segond 1910 (French)"}
SPLITS = ("train", "validation", "test")

# The Bible is split by chapter (1,189 chapters): within every run of 20 consecutive chapters,
# the 11th goes to validation and the 16th to test. Every book contributes to every split, so the
# three splits have the same mix of law, history, poetry, prophecy, gospel and epistle.
_CHAPTER_SPLIT = {10: "validation", 15: "test"}


def _files():
    return resources.files("seqkeras.data") / "files"


def _read_bytes(name: str) -> bytes:
    return (_files() / name).read_bytes()


def _read_text(name: str) -> str:
    data = _read_bytes(name)
    if name.endswith(".xz"):
        data = lzma.decompress(data)
    return data.decode("utf-8")


def verify_checksums() -> dict[str, str]:
    """Check every bundled file against ``SHA256SUMS``.

    Returns:
        A dict ``{file name: sha256}`` of the verified files.

    Raises:
        ValueError: a file is missing, unlisted, or its digest differs.
    """
    listed = {}
    for line in _read_bytes("SHA256SUMS").decode().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    present = {p.name for p in _files().iterdir() if p.name != "SHA256SUMS"}
    problems = [f"{name}: not listed in SHA256SUMS" for name in sorted(present - set(listed))]
    problems += [f"{name}: listed but missing" for name in sorted(set(listed) - present)]
    for name in sorted(present & set(listed)):
        actual = hashlib.sha256(_read_bytes(name)).hexdigest()
        if actual != listed[name]:
            problems.append(f"{name}: sha256 {actual} != {listed[name]}")
    if problems:
        raise ValueError("bundled data failed its checksum check:\n" + "\n".join(problems))
    return listed


@dataclass(frozen=True)
class Verse:
    """One verse: ``book`` (1-66), ``chapter``, ``verse`` numbers and its ``text``."""

    book: int
    chapter: int
    verse: int
    text: str


@cache
def bible_books() -> tuple[tuple[int, str, str], ...]:
    """The 66 books as ``(number, name, abbreviation)``, e.g. ``(1, "Genesis", "Gen")``."""
    rows = _read_text("bible_books.tsv").splitlines()
    return tuple((int(n), name, short) for n, name, short in (r.split("\t") for r in rows))


@cache
def _bible(translation: str) -> tuple[Verse, ...]:
    if translation not in BIBLE_TRANSLATIONS:
        raise ValueError(f"translation must be one of {sorted(BIBLE_TRANSLATIONS)}, "
                         f"got {translation!r}")
    return parse_verses(_read_text(f"{translation}.tsv.xz"))


def parse_verses(tsv: str) -> tuple[Verse, ...]:
    """Verses of a bundled Bible file's text: ``book<TAB>chapter<TAB>verse<TAB>text`` lines."""
    verses = []
    for line in tsv.splitlines():
        book, chapter, verse, text = line.split("\t")
        verses.append(Verse(int(book), int(chapter), int(verse), text))
    return tuple(verses)


def _check_split(split):
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} or None, got {split!r}")


def load_bible(translation: str = "kjv", split: str | None = None) -> list[Verse]:
    """Verses of a public-domain Bible translation, in canonical order.

    Args:
        translation: ``"kjv"`` (King James Version, 31,102 verses), ``"web"`` (World English
            Bible) or ``"lsg"`` (Louis Segond 1910, French), all with the same verse numbering.
        split: ``None`` for all verses, or ``"train"``/``"validation"``/``"test"``: a fixed
            split by chapter (about 90/5/5), identical for every translation.

    Returns:
        A list of ``Verse(book, chapter, verse, text)``.
    """
    _check_split(split)
    return split_verses(_bible(translation), split)


def split_verses(verses, split: str | None) -> list[Verse]:
    """The verses of ``split`` (None: all): whole chapters, every 20th chapter from the 11th
    to validation and from the 16th to test, the rest to train."""
    if split is None:
        return list(verses)
    chapter_index, previous, selected = -1, None, []
    for v in verses:
        if (v.book, v.chapter) != previous:
            chapter_index, previous = chapter_index + 1, (v.book, v.chapter)
        if _CHAPTER_SPLIT.get(chapter_index % 20, "train") == split:
            selected.append(v)
    return selected


def bible_chapters(translation: str = "kjv", split: str | None = None) -> list[list[str]]:
    """The verse texts of ``load_bible(translation, split)`` grouped by chapter, in order: the
    documents of BERT's sentence-pair tasks (``next_sentence_pairs``, ``sentence_order_pairs``)."""
    chapters = {}
    for v in load_bible(translation, split):
        chapters.setdefault((v.book, v.chapter), []).append(v.text)
    return list(chapters.values())


def bible_text(translation: str = "kjv", split: str | None = None) -> str:
    """The verses of ``load_bible(translation, split)`` joined by newlines (one verse a line)."""
    return "\n".join(v.text for v in load_bible(translation, split)) + "\n"


def load_parallel_verses(split: str | None = None, source: str = "lsg", target: str = "kjv"
                         ) -> list[tuple[str, str]]:
    """The same verses in two translations, as ``(source text, target text)`` pairs.

    The bundled translations share the KJV's numbering (book, chapter, verse), so verse k of one
    is verse k of the other; the split is ``load_bible``'s, by chapter, so a verse held out here is
    held out in every chapter of the course. The default, Louis Segond 1910 (French) against the
    KJV, is the translation corpus of chapters 5-8.

    Args:
        split: ``None`` for all 31,102 verses, or ``"train"``/``"validation"``/``"test"``.
        source, target: two different keys of ``BIBLE_TRANSLATIONS``.

    Returns:
        A list of ``(source, target)`` verse texts, in canonical order.
    """
    if source == target:
        raise ValueError(f"source and target must be different translations, got {source!r} twice")
    source_verses, target_verses = load_bible(source, split), load_bible(target, split)
    for s, t in zip(source_verses, target_verses, strict=True):
        if (s.book, s.chapter, s.verse) != (t.book, t.chapter, t.verse):
            raise ValueError(f"{source} and {target} are not verse-aligned at "
                             f"{s.book}:{s.chapter}:{s.verse}")
    return [(s.text, t.text) for s, t in zip(source_verses, target_verses, strict=True)]


def load_sunspots() -> tuple[np.ndarray, np.ndarray]:
    """Yearly mean sunspot numbers, 1700-2008 (NOAA, public domain).

    Returns:
        ``(years, sunspots)``: int array of 309 years and float32 array of their values.
    """
    rows = list(csv.DictReader(io.StringIO(_read_text("sunspots.csv"))))
    years = np.array([int(float(r["YEAR"])) for r in rows])
    return years, np.array([float(r["SUNACTIVITY"]) for r in rows], dtype="float32")


def load_co2(frequency: str = "monthly") -> tuple[np.ndarray, np.ndarray]:
    """Atmospheric CO2 at Mauna Loa, 1958-2001, in ppm (public domain).

    Args:
        frequency: ``"weekly"`` for the raw series (missing weeks are NaN), or ``"monthly"``
            for the mean of each month's recorded weeks (NaN for the 5 months with none).

    Returns:
        ``(dates, ppm)``: ``datetime64[D]`` dates (the week's date, or the month's first day)
        and float32 values.
    """
    if frequency not in ("weekly", "monthly"):
        raise ValueError(f"frequency must be 'weekly' or 'monthly', got {frequency!r}")
    rows = list(csv.DictReader(io.StringIO(_read_text("co2.csv"))))
    dates = np.array([f"{r['date'][:4]}-{r['date'][4:6]}-{r['date'][6:]}" for r in rows],
                     dtype="datetime64[D]")
    ppm = np.array([float(r["co2"]) if r["co2"] else np.nan for r in rows], dtype="float32")
    if frequency == "weekly":
        return dates, ppm
    unique_months, month_index = np.unique(dates.astype("datetime64[M]"), return_inverse=True)
    recorded = ~np.isnan(ppm)
    totals = np.bincount(month_index[recorded], ppm[recorded], minlength=len(unique_months))
    counts = np.bincount(month_index[recorded], minlength=len(unique_months))
    means = np.full(len(unique_months), np.nan, dtype="float32")
    means[counts > 0] = totals[counts > 0] / counts[counts > 0]
    return unique_months.astype("datetime64[D]"), means
