"""Whole models assembled from seqkeras layers."""

from seqkeras.models.bert import BertClassifier, BertEncoder, BertPretrainer
from seqkeras.models.distillation import DistillationPretrainer, distil_student
from seqkeras.models.hard_attention import HardAttentionSeq2Seq
from seqkeras.models.recurrent import rnn_forecaster, rnn_language_model, rnn_tagger
from seqkeras.models.rnnsearch import RNNsearch
from seqkeras.models.transformer import Transformer
from seqkeras.models.translation import AttentionSeq2Seq, Seq2Seq, reverse_padded

__all__ = ["AttentionSeq2Seq", "BertClassifier", "BertEncoder", "BertPretrainer",
           "DistillationPretrainer", "HardAttentionSeq2Seq", "RNNsearch", "Seq2Seq", "Transformer",
           "distil_student", "reverse_padded", "rnn_forecaster", "rnn_language_model",
           "rnn_tagger"]
