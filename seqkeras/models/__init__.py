"""Whole models assembled from seqkeras layers."""

from seqkeras.models.recurrent import rnn_forecaster, rnn_language_model, rnn_tagger

__all__ = ["rnn_forecaster", "rnn_language_model", "rnn_tagger"]
