"""Metrics, one module per kind of task:

- ``language_model``: ``bits_per_character``, ``perplexity``, the ``BitsPerCharacter`` metric,
  ``translation_cross_entropy``;
- ``tagging``: ``precision_recall_f1``;
- ``bleu``: ``corpus_bleu`` (sacrebleu's, 13a tokenisation), ``bleu_by_length``;
- ``masked_lm``: ``masked_lm_accuracy``, ``masked_lm_accuracy_by_kind``;
- ``alignment``: ``alignment_agreement``, ``swapped_neighbours``, ``confirmed_swaps``.
"""

from seqkeras.metrics.alignment import (
    FUNCTION_WORDS,
    alignment_agreement,
    confirmed_swaps,
    swapped_neighbours,
)
from seqkeras.metrics.bleu import bleu_by_length, corpus_bleu, tokenize_13a
from seqkeras.metrics.language_model import (
    LN2,
    BitsPerCharacter,
    bits_per_character,
    perplexity,
    translation_cross_entropy,
)
from seqkeras.metrics.masked_lm import masked_lm_accuracy, masked_lm_accuracy_by_kind
from seqkeras.metrics.tagging import precision_recall_f1

__all__ = ["FUNCTION_WORDS", "LN2", "BitsPerCharacter", "alignment_agreement",
           "bits_per_character", "bleu_by_length", "confirmed_swaps", "corpus_bleu",
           "masked_lm_accuracy", "masked_lm_accuracy_by_kind", "perplexity",
           "precision_recall_f1", "swapped_neighbours", "tokenize_13a",
           "translation_cross_entropy"]
