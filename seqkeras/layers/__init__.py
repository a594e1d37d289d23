"""seqkeras layers: one module per concept, each checked against its Keras twin."""

from seqkeras.layers.recurrent import ElmanCell

__all__ = ["ElmanCell"]
