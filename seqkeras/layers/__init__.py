"""seqkeras layers: one module per concept, each checked against its Keras twin."""

from seqkeras.layers.gru import GRUCell
from seqkeras.layers.lstm import LSTMCell
from seqkeras.layers.recurrent import ElmanCell, RecurrentCell

__all__ = ["ElmanCell", "GRUCell", "LSTMCell", "RecurrentCell"]
