"""seqkeras layers: one module per concept, each checked against its Keras twin."""

from seqkeras.layers.attention import (
    BahdanauAttention,
    LocalAttention,
    LuongAttention,
    SoftAttention,
)
from seqkeras.layers.bert import (
    BertEmbeddings,
    MaskedLMHead,
    NextSentenceHead,
    SpanBoundaryHead,
    gelu_approximate,
)
from seqkeras.layers.gru import GRUCell
from seqkeras.layers.lstm import LSTMCell
from seqkeras.layers.masks import keras_mask, masked_softmax
from seqkeras.layers.multi_head import (
    MultiHeadAttention,
    attention_weights,
    causal_mask,
    scaled_dot_product_attention,
)
from seqkeras.layers.position import PositionEmbedding, SinusoidalPositionalEncoding
from seqkeras.layers.recurrent import ElmanCell, RecurrentCell
from seqkeras.layers.transformer import (
    TransformerDecoderBlock,
    TransformerEncoderBlock,
    padding_attention_mask,
)

__all__ = ["BahdanauAttention", "BertEmbeddings", "ElmanCell", "GRUCell", "LSTMCell",
           "LocalAttention", "LuongAttention", "MaskedLMHead", "MultiHeadAttention",
           "NextSentenceHead", "PositionEmbedding", "RecurrentCell",
           "SinusoidalPositionalEncoding", "SoftAttention", "SpanBoundaryHead",
           "TransformerDecoderBlock", "TransformerEncoderBlock", "attention_weights",
           "causal_mask", "gelu_approximate", "keras_mask", "masked_softmax",
           "padding_attention_mask",
           "scaled_dot_product_attention"]
