"""Write it yourself: skeletons of each chapter's core piece and checkers that name the bug.

A checker builds the learner's piece and the seqkeras reference with the same random weights,
compares them on inputs of several shapes (padding masks, ``go_backwards``, a batch of one, a
compiled ``keras.Model``), and on a mismatch names the catalogued mistake that reproduces the
learner's output, or the part (output, weight matrix, property) that is wrong. It returns a
``CheckReport`` (``.passed``, ``.message``) and prints it; it raises only for misuse (not a
class, not derived from the exercise's base class), never for a wrong implementation: an
exception in the learner's code becomes a message naming their line.

    from seqkeras import exercises

    class MyLSTMCell(exercises.LSTMCellExercise):
        def call(self, inputs, states, training=None):
            ...

    exercises.check_lstm_cell(MyLSTMCell)
"""

from seqkeras.exercises.alignment import reversal_task, train_on_reversal
from seqkeras.exercises.attention import (
    ADDITIVE_MISTAKES,
    ATTENTION_MISTAKES,
    LUONG_MISTAKES,
    POSITION_MISTAKES,
    BahdanauAttentionExercise,
    LuongAttentionExercise,
    check_additive_score,
    check_attention,
    check_luong_scores,
    check_positional_encoding,
)
from seqkeras.exercises.bert import (
    EMBEDDING_MISTAKES,
    SOFT_TARGET_MISTAKES,
    BertEmbeddingsExercise,
    check_bert_embeddings,
    check_soft_target_loss,
)
from seqkeras.exercises.masking import MASKING_MISTAKES, check_masking
from seqkeras.exercises.multi_head import (
    MULTI_HEAD_MISTAKES,
    MultiHeadAttentionExercise,
    check_multi_head_attention,
)
from seqkeras.exercises.practice import recall_first_word, tag_word_ends, train_on_adding_problem
from seqkeras.exercises.practice_bert import distil_with, inside_keras_hub_bert
from seqkeras.exercises.recurrent import (
    ELMAN_MISTAKES,
    GRU_MISTAKES,
    LSTM_MISTAKES,
    ElmanCellExercise,
    GRUCellExercise,
    LSTMCellExercise,
    check_elman_cell,
    check_gru_cell,
    check_lstm_cell,
)
from seqkeras.exercises.report import CheckReport
from seqkeras.exercises.sequences import (
    BIDIRECTIONAL_MISTAKES,
    FIXED_VECTOR_MISTAKES,
    FunctionLayer,
    check_bidirectional,
    check_fixed_vector,
)

__all__ = [
    "ADDITIVE_MISTAKES", "ATTENTION_MISTAKES", "BIDIRECTIONAL_MISTAKES",
    "BahdanauAttentionExercise", "BertEmbeddingsExercise", "CheckReport", "ELMAN_MISTAKES",
    "EMBEDDING_MISTAKES", "ElmanCellExercise", "FIXED_VECTOR_MISTAKES", "FunctionLayer",
    "GRUCellExercise", "GRU_MISTAKES", "LSTMCellExercise", "LSTM_MISTAKES", "LUONG_MISTAKES",
    "LuongAttentionExercise", "MASKING_MISTAKES", "MULTI_HEAD_MISTAKES",
    "MultiHeadAttentionExercise", "POSITION_MISTAKES", "SOFT_TARGET_MISTAKES",
    "check_additive_score", "check_attention", "check_bert_embeddings", "check_bidirectional",
    "check_elman_cell", "check_fixed_vector", "check_gru_cell", "check_lstm_cell",
    "check_luong_scores", "check_masking", "check_multi_head_attention",
    "check_positional_encoding", "check_soft_target_loss", "distil_with",
    "inside_keras_hub_bert", "recall_first_word", "reversal_task", "tag_word_ends",
    "train_on_adding_problem", "train_on_reversal",
]
