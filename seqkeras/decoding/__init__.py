"""Decoding: sampling text from a language model; greedy and beam search for translation.

- ``sampling``: ``sample_text`` from a character language model;
- ``search``: ``greedy_search`` / ``beam_search`` (and their batched forms) over any function
  from prefixes to next-token log-probabilities;
- ``steps``: ``translation_log_probs``, that function for a translation model, its decoder
  state carried from word to word (``carries_state``, ``compiled``);
- ``translate``: ``translate`` and ``translate_and_score`` (BLEU) for a batch of sentences.
"""

from seqkeras.decoding.sampling import sample_text
from seqkeras.decoding.search import (
    batch_beam_search,
    batch_greedy_search,
    beam_search,
    greedy_search,
)
from seqkeras.decoding.steps import (
    carries_state,
    compiled,
    log_prob_rerun,
    log_prob_step,
    translation_log_probs,
)
from seqkeras.decoding.translate import ScoredTranslations, translate, translate_and_score

__all__ = ["ScoredTranslations", "batch_beam_search", "batch_greedy_search", "beam_search",
           "carries_state", "compiled", "greedy_search", "log_prob_rerun", "log_prob_step",
           "sample_text", "translate", "translate_and_score", "translation_log_probs"]
