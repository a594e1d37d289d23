"""Bundled real data, loaded offline: text corpora, parallel verses, time series, vocabularies;
the tasks built from them (translation pairs, BERT's WordPiece packing and masking); and the
synthetic tasks of the papers that used them.

Every file lives in ``seqkeras/data/files`` with its licence beside it; ``course/data/build.py``
rebuilds each one byte for byte from a package registry, and ``SHA256SUMS`` pins them.
"""

from seqkeras.data.batching import LengthSortedBatches
from seqkeras.data.corpora import (
    BIBLE_TRANSLATIONS,
    Verse,
    bible_books,
    bible_chapters,
    bible_text,
    load_bible,
    load_co2,
    load_parallel_verses,
    load_sunspots,
    verify_checksums,
)
from seqkeras.data.labels import (
    DIVISIONS,
    LabelledPairs,
    LabelledVerses,
    division_of,
    paraphrase_pairs,
    verse_divisions,
)
from seqkeras.data.laboratory import (
    LABORATORY_MAX_TEST_TOKENS,
    LABORATORY_MAX_TOKENS,
    load_laboratory_task,
)
from seqkeras.data.masking import (
    mask_spans,
    mask_tokens,
    next_token_targets,
    span_lengths_distribution,
    word_starts,
)
from seqkeras.data.pretraining import (
    END_PUNCTUATION,
    MaskedLMBatches,
    next_sentence_pairs,
    sentence_order_pairs,
)
from seqkeras.data.series import ForecastingWindows, sunspot_windows
from seqkeras.data.synthetic import adding_problem
from seqkeras.data.text import (
    CharVocabulary,
    char_lm_windows,
    remove_spaces,
    restore_spaces,
    tagging_windows,
)
from seqkeras.data.translation import (
    TranslationBatch,
    TranslationTask,
    WordVocabulary,
    detokenize,
    encode_pairs,
    load_translation_task,
    longer_training_verses,
    tokenize,
)
from seqkeras.data.wordpiece import (
    RESERVED_TOKENS,
    load_wordpiece_vocabulary,
    pack_segments,
    special_token_ids,
    wordpiece_tokenizer,
)

__all__ = [
    "BIBLE_TRANSLATIONS",
    "CharVocabulary",
    "ForecastingWindows",
    "LengthSortedBatches",
    "adding_problem",
    "Verse",
    "bible_books",
    "bible_chapters",
    "bible_text",
    "char_lm_windows",
    "load_bible",
    "load_co2",
    "load_parallel_verses",
    "load_sunspots",
    "remove_spaces",
    "restore_spaces",
    "sunspot_windows",
    "tagging_windows",
    "TranslationBatch",
    "TranslationTask",
    "WordVocabulary",
    "detokenize",
    "encode_pairs",
    "load_translation_task",
    "load_laboratory_task",
    "LABORATORY_MAX_TOKENS",
    "LABORATORY_MAX_TEST_TOKENS",
    "longer_training_verses",
    "tokenize",
    "verify_checksums",
    "DIVISIONS",
    "LabelledPairs",
    "LabelledVerses",
    "division_of",
    "paraphrase_pairs",
    "verse_divisions",
    "END_PUNCTUATION",
    "MaskedLMBatches",
    "RESERVED_TOKENS",
    "load_wordpiece_vocabulary",
    "mask_spans",
    "mask_tokens",
    "next_token_targets",
    "next_sentence_pairs",
    "pack_segments",
    "sentence_order_pairs",
    "span_lengths_distribution",
    "special_token_ids",
    "word_starts",
    "wordpiece_tokenizer",
]
