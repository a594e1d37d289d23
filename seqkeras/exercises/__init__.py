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
from seqkeras.exercises.masking import MASKING_MISTAKES, check_masking
from seqkeras.exercises.practice import train_on_adding_problem
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

__all__ = ["ADDITIVE_MISTAKES", "ATTENTION_MISTAKES", "BahdanauAttentionExercise",
           "LUONG_MISTAKES", "LuongAttentionExercise", "check_additive_score",
           "check_luong_scores", "CheckReport", "ELMAN_MISTAKES", "ElmanCellExercise",
           "GRU_MISTAKES", "GRUCellExercise", "LSTM_MISTAKES", "LSTMCellExercise",
           "POSITION_MISTAKES", "check_attention", "check_elman_cell", "check_gru_cell",
           "check_lstm_cell", "check_masking", "check_positional_encoding", "MASKING_MISTAKES",
           "train_on_adding_problem"]
