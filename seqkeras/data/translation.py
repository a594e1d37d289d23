"""Text preparation for translation: word tokens, a vocabulary per language, padded id arrays.

The corpus is the Bible in French (Louis Segond 1910) and English (KJV), verse by verse. The
chapters work with lower-cased words and punctuation marks as tokens and a vocabulary of the
words seen at least ``min_count`` times; rarer words become ``[UNK]``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from seqkeras import arguments

PAD, UNK, START, END = "[PAD]", "[UNK]", "[START]", "[END]"
SPECIAL_TOKENS = (PAD, UNK, START, END)

# French elision is a word of its own (l'éternel -> l' éternel, qu'il -> qu' il), as in the
# Moses tokenizer's French rules; any other word keeps its inner apostrophes (don't, lord's);
# every other punctuation mark is a token.
_TOKEN = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)['’](?=\w)"
                    r"|\w+(?:['’]\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:)\]}»“]|['’]s\b)")
_NO_SPACE_AFTER = re.compile(r"([(\[{«„]|\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)['’]) ")


def tokenize(sentence: str) -> list[str]:
    """Lower-cased word and punctuation tokens: ``"L'Éternel te bénira."`` ->
    ``["l'", "éternel", "te", "bénira", "."]``; ``"the LORD's house"`` -> ``["the", "lord's",
    "house"]``."""
    return _TOKEN.findall(sentence.lower())


def detokenize(tokens) -> str:
    """Join tokens into a sentence, with no space before closing punctuation."""
    text = " ".join(tokens)
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", text))


class WordVocabulary:
    """Word <-> id mapping of one language, with the four special tokens first.

    Ids: 0 ``[PAD]`` (so that ``mask_zero=True`` embeddings mask padding), 1 ``[UNK]``,
    2 ``[START]``, 3 ``[END]``, then the words seen at least ``min_count`` times in the training
    sentences, most frequent first (ties alphabetically, so the ids never depend on dict order).

    Args:
        sentences: the training sentences of this language.
        min_count: fewest occurrences for a word to get its own id.
        max_size: largest vocabulary size (special tokens included), or None.

    Example:

    >>> train_pairs = [("Jésus pleura.", "Jesus wept."), ("Jésus dit:", "Jesus said:"),
    ...                ("Et ils pleurèrent.", "And they wept.")]
    >>> english = WordVocabulary([en for fr, en in train_pairs], min_count=2)
    >>> english.decode(english.encode("Jesus wept. Jesus said."))
    'jesus wept. jesus [UNK].'
    """

    def __init__(self, sentences, min_count: int = 2, max_size: int | None = None):
        arguments.positive_int("min_count", min_count)
        if max_size is not None and max_size <= len(SPECIAL_TOKENS):
            raise ValueError(f"max_size must exceed the {len(SPECIAL_TOKENS)} special tokens, "
                             f"got {max_size!r}")
        counts = Counter(token for sentence in sentences for token in tokenize(sentence))
        if not counts:
            raise ValueError("sentences hold no tokens: cannot build a vocabulary")
        words = sorted((w for w, c in counts.items() if c >= min_count),
                       key=lambda w: (-counts[w], w))
        if max_size is not None:
            words = words[:max_size - len(SPECIAL_TOKENS)]
        self.tokens = list(SPECIAL_TOKENS) + words
        self.ids = {token: i for i, token in enumerate(self.tokens)}
        self.pad_id, self.unk_id, self.start_id, self.end_id = range(4)

    def __len__(self):
        return len(self.tokens)

    def encode(self, sentence: str) -> list[int]:
        """Token ids of a sentence, without start or end tokens; unknown words map to [UNK]."""
        return [self.ids.get(token, self.unk_id) for token in tokenize(sentence)]

    def decode(self, ids) -> str:
        """The sentence of a list of ids: stops at [END], drops [PAD] and [START]."""
        return detokenize(self.decode_tokens(ids))

    def decode_tokens(self, ids) -> list[str]:
        """The tokens of a list of ids, up to (not including) [END], without [PAD]/[START]."""
        tokens = []
        for i in ids:
            i = int(i)
            if i == self.end_id:
                break
            if i not in (self.pad_id, self.start_id):
                tokens.append(self.tokens[i])
        return tokens


@dataclass
class TranslationBatch:
    """Padded id arrays for teacher-forced training of a translation model.

    Attributes:
        source_ids: int32 ``(n, source_length)``, the source words, right-padded with 0.
        decoder_input_ids: int32 ``(n, target_length)``: ``[START] y_1 .. y_m`` then padding.
        target_ids: int32 ``(n, target_length)``: ``y_1 .. y_m [END]`` then padding: at every
            position the word the decoder must predict after reading ``decoder_input_ids`` up to
            there (teacher forcing).
        sources, references: the original sentences, for display and BLEU (references
            lower-cased, as the models' outputs are).
    """

    source_ids: np.ndarray
    decoder_input_ids: np.ndarray
    target_ids: np.ndarray
    sources: list[str]
    references: list[str]

    @property
    def inputs(self):
        """What ``model.fit`` feeds a translation model: ``(source_ids, decoder_input_ids)``."""
        return (self.source_ids, self.decoder_input_ids)

    @property
    def source_mask(self):
        """Boolean ``(n, source_length)``: True at a real source word."""
        return self.source_ids != 0

    def __len__(self):
        return len(self.sources)

    def subset(self, n, seed=0):
        """``n`` pairs drawn at random without replacement, in their original order (a smaller
        training set at the same vocabulary); the draws of a smaller ``n`` are among those of a
        larger one with the same seed."""
        arguments.integer("n", n, minimum=1, maximum=len(self))
        return self.select(np.sort(np.random.default_rng(seed).permutation(len(self))[:n]))

    def select(self, rows):
        """The pairs at the indices ``rows``, in that order (the arrays keep their width)."""
        rows = np.asarray(rows, dtype=int)
        if rows.ndim != 1 or (len(rows) and (rows.min() < -len(self) or rows.max() >= len(self))):
            raise ValueError(f"rows must be a 1-D list of indices below {len(self)}, got {rows}")
        return TranslationBatch(self.source_ids[rows], self.decoder_input_ids[rows],
                                self.target_ids[rows], [self.sources[i] for i in rows],
                                [self.references[i] for i in rows])


def encode_pairs(pairs, source_vocab: WordVocabulary, target_vocab: WordVocabulary,
                 max_length: int = 16) -> TranslationBatch:
    """Encode ``(source, target)`` sentence pairs into padded arrays (see ``TranslationBatch``).

    Args:
        pairs: list of ``(source_sentence, target_sentence)``.
        source_vocab, target_vocab: the two vocabularies.
        max_length: length of the padded arrays. The target needs one slot for [START] (or
            [END]), so a target sentence of at most ``max_length - 1`` tokens fits.

    Raises:
        ValueError: for an empty sentence, or one too long for ``max_length`` (filter the pairs
            first, e.g. with ``fits``).
    """
    if not pairs:
        raise ValueError("pairs is empty")
    n = len(pairs)
    source_ids = np.zeros((n, max_length), dtype="int32")
    decoder_input_ids = np.zeros((n, max_length), dtype="int32")
    target_ids = np.zeros((n, max_length), dtype="int32")
    for row, (source, target) in enumerate(pairs):
        src, tgt = source_vocab.encode(source), target_vocab.encode(target)
        for name, sentence, ids, limit in (("source", source, src, max_length),
                                           ("target", target, tgt, max_length - 1)):
            if not ids:
                raise ValueError(f"pair {row}: the {name} sentence {sentence!r} has no tokens")
            if len(ids) > limit:
                raise ValueError(f"pair {row}: the {name} sentence has {len(ids)} tokens, more "
                                 f"than max_length={max_length} allows ({limit}): {sentence!r}")
        source_ids[row, :len(src)] = src
        decoder_input_ids[row, :len(tgt) + 1] = [target_vocab.start_id, *tgt]
        target_ids[row, :len(tgt) + 1] = [*tgt, target_vocab.end_id]
    return TranslationBatch(source_ids, decoder_input_ids, target_ids,
                            [s for s, _ in pairs], [t.lower() for _, t in pairs])


def fits(pair, max_length: int = 16) -> bool:
    """Whether a pair's source has at most ``max_length`` tokens and its target one fewer."""
    source, target = pair
    return 0 < len(tokenize(source)) <= max_length and 0 < len(tokenize(target)) < max_length


@dataclass
class TranslationTask:
    """The French -> English task of chapters 5-8: vocabularies and the three encoded splits.

    ``train`` and ``validation`` hold the verses of at most ``max_length - 1`` English tokens
    (padded to ``max_length``; the French side may fill all ``max_length``); ``test`` holds
    the test verses of every length up to a longer limit (padded to
    ``test.source_ids.shape[1]``), so that quality can be measured past the training length.
    """

    source_vocab: WordVocabulary
    target_vocab: WordVocabulary
    train: TranslationBatch
    validation: TranslationBatch
    test: TranslationBatch
    max_length: int


def load_translation_task(max_tokens: int = 30, max_test_tokens: int = 60, min_count: int = 2,
                          max_target_vocabulary: int | None = None,
                          max_train_pairs: int | None = None,
                          max_test_pairs: int | None = None,
                          max_validation_pairs: int | None = None) -> TranslationTask:
    """Louis Segond 1910 (French) -> King James Version (English), verse by verse, encoded.

    Chapter 5 builds this step by step; later chapters call it. The splits are the course's
    Bible splits (``data.load_bible``), so no chapter trains on a verse another one tests on.
    Training and validation keep the verses of at most ``max_tokens`` English tokens (Bahdanau
    et al.'s "RNNsearch-30" trained on sentences of at most 30 words); the test split keeps
    every verse up to ``max_test_tokens``, to score translations longer than any seen in
    training. Both sides are padded to ``max_tokens + 1`` slots (test: ``max_test_tokens + 1``):
    the English side needs one for [START] or [END], so the French side, which needs none, may
    use all of them (``fits``). Vocabularies come from the training pairs only.

    Args:
        max_tokens: longest training and validation verse, in English tokens (French: one more).
        max_test_tokens: the same for the test verses (at least max_tokens).
        min_count: fewest training occurrences for a word to get its own id.
        max_target_vocabulary: cap on the English vocabulary's size (special tokens included),
            or None. It sets the cost of the output softmax, most of a training step; the
            source vocabulary costs one embedding lookup a word and is not capped.
        max_train_pairs, max_test_pairs, max_validation_pairs: keep only the first pairs of
            those splits (fast runs); the test pairs are then taken evenly across lengths.

    Returns:
        A ``TranslationTask`` whose ``max_length`` is ``max_tokens + 1``, the training arrays'
        padded length (the target needs one slot for [START] or [END]).
    """
    for name, value in (("max_tokens", max_tokens), ("max_test_tokens", max_test_tokens)):
        arguments.positive_int(name, value)
    if max_test_tokens < max_tokens:
        raise ValueError(f"max_test_tokens ({max_test_tokens}) must be at least max_tokens "
                         f"({max_tokens})")
    limits = {"train": max_tokens, "validation": max_tokens, "test": max_test_tokens}
    splits = {split: _fitting_verses(split, limit) for split, limit in limits.items()}
    splits["train"] = splits["train"][:max_train_pairs]
    splits["validation"] = splits["validation"][:max_validation_pairs]
    if max_test_pairs is not None and max_test_pairs < len(splits["test"]):
        by_length = sorted(splits["test"], key=lambda pair: len(tokenize(pair[0])))
        chosen = np.linspace(0, len(by_length) - 1, max_test_pairs).round().astype(int)
        splits["test"] = [by_length[i] for i in sorted(set(chosen))]
    source = WordVocabulary([s for s, _ in splits["train"]], min_count)
    target = WordVocabulary([t for _, t in splits["train"]], min_count, max_target_vocabulary)
    encoded = {k: encode_pairs(v, source, target, limits[k] + 1) for k, v in splits.items()}
    return TranslationTask(source, target, encoded["train"], encoded["validation"],
                           encoded["test"], max_tokens + 1)


def longer_training_verses(task: TranslationTask, max_tokens: int,
                           max_pairs: int | None = None) -> TranslationBatch:
    """The task's training verses of up to ``max_tokens`` English tokens, in its vocabularies.

    Bahdanau et al. trained each model twice, on sentences of at most 30 words ("-30") and of
    at most 50 ("-50"). This gives the second training set of a task built for the first: the
    same training split, longer verses admitted, encoded with the task's vocabularies (built
    from the shorter verses, so a model trained on the task keeps its embeddings and softmax;
    words seen only in the longer verses become ``[UNK]``), padded to ``max_tokens + 1``.

    Args:
        task: a ``TranslationTask`` from ``load_translation_task``.
        max_tokens: longest verse, in English tokens (French: one more), at least the task's.
        max_pairs: keep only the first pairs (fast runs), or None.

    Returns:
        A ``TranslationBatch`` that holds every verse of ``task.train`` and the longer ones.

    Example:

    >>> task = load_translation_task(30, 60)
    >>> train_50 = longer_training_verses(task, 50)
    >>> len(task.train), len(train_50)
    (15335, 25658)
    """
    arguments.positive_int("max_tokens", max_tokens)
    if max_tokens + 1 < task.max_length:
        raise ValueError(f"max_tokens ({max_tokens}) must be at least the task's training "
                         f"length ({task.max_length - 1})")
    pairs = _fitting_verses("train", max_tokens)[:max_pairs]
    return encode_pairs(pairs, task.source_vocab, task.target_vocab, max_tokens + 1)


def _fitting_verses(split, max_tokens):
    """The (French, English) verses of a Bible split with at most ``max_tokens`` English tokens
    and ``max_tokens + 1`` French ones (``fits``)."""
    from seqkeras.data.corpora import load_parallel_verses

    return [pair for pair in load_parallel_verses(split) if fits(pair, max_tokens + 1)]
