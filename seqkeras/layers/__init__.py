"""seqkeras layers: one module per concept, each checked against its Keras twin."""

from seqkeras.layers.attention import (
    BahdanauAttention,
    LocalAttention,
    LuongAttention,
    SoftAttention,
    masked_softmax,
)
from seqkeras.layers.gru import GRUCell
from seqkeras.layers.lstm import LSTMCell
from seqkeras.layers.recurrent import ElmanCell, RecurrentCell

__all__ = ["BahdanauAttention", "ElmanCell", "GRUCell", "LSTMCell", "LocalAttention",
           "LuongAttention", "RecurrentCell", "SoftAttention", "masked_softmax"]
