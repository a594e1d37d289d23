"""Every public layer and model rejects bad arguments and bad inputs with a ValueError or a
TypeError that names the argument. One row per bad input; run on TensorFlow and JAX."""

import keras
import numpy as np
import pytest

from seqkeras import schedules, training
from seqkeras.layers import (
    BahdanauAttention,
    BertEmbeddings,
    ElmanCell,
    GRUCell,
    LocalAttention,
    LSTMCell,
    LuongAttention,
    MaskedLMHead,
    MultiHeadAttention,
    PositionEmbedding,
    SinusoidalPositionalEncoding,
    SpanBoundaryHead,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)
from seqkeras.models import (
    AttentionSeq2Seq,
    BertClassifier,
    BertEncoder,
    BertPretrainer,
    HardAttentionSeq2Seq,
    Seq2Seq,
    Transformer,
    rnn_forecaster,
    rnn_language_model,
    rnn_tagger,
)

CONSTRUCTORS = [
    # (name, call, error, words the message must contain)
    ("ElmanCell units=0", lambda: ElmanCell(0), ValueError, "units"),
    ("ElmanCell units=True", lambda: ElmanCell(True), TypeError, "units"),
    ("LSTMCell units=2.5", lambda: LSTMCell(2.5), TypeError, "units"),
    ("LSTMCell unit_forget_bias='no'", lambda: LSTMCell(4, unit_forget_bias="no"), TypeError,
     "unit_forget_bias"),
    ("GRUCell use_bias=1", lambda: GRUCell(4, use_bias=1), TypeError, "use_bias"),
    ("BahdanauAttention(True)", lambda: BahdanauAttention(True), TypeError, "units"),
    ("BahdanauAttention(-1)", lambda: BahdanauAttention(-1), ValueError, "units"),
    ("LuongAttention score", lambda: LuongAttention("cosine"), ValueError, "score"),
    ("LuongAttention units", lambda: LuongAttention("concat", units=0), ValueError, "units"),
    ("LocalAttention window=0", lambda: LocalAttention(0), ValueError, "window"),
    ("LocalAttention position_units=-1", lambda: LocalAttention(2, position_units=-1),
     ValueError, "position_units"),
    ("LocalAttention units=True", lambda: LocalAttention(2, "concat", units=True), TypeError,
     "units"),
    ("MultiHeadAttention(True, 4)", lambda: MultiHeadAttention(True, 4), TypeError,
     "num_heads"),
    ("MultiHeadAttention key_dim=0", lambda: MultiHeadAttention(2, 0), ValueError, "key_dim"),
    ("MultiHeadAttention dropout=1", lambda: MultiHeadAttention(2, 4, dropout=1.0), ValueError,
     "dropout"),
    ("MultiHeadAttention use_bias='yes'", lambda: MultiHeadAttention(2, 4, use_bias="yes"),
     TypeError, "use_bias"),
    ("TransformerEncoderBlock num_heads=0", lambda: TransformerEncoderBlock(0, 8), ValueError,
     "num_heads"),
    ("TransformerEncoderBlock dropout=-0.1", lambda: TransformerEncoderBlock(2, 8, dropout=-0.1),
     ValueError, "dropout"),
    ("TransformerDecoderBlock normalize_first=1",
     lambda: TransformerDecoderBlock(2, 8, normalize_first=1), TypeError, "normalize_first"),
    ("TransformerDecoderBlock layer_norm_epsilon=0",
     lambda: TransformerDecoderBlock(2, 8, layer_norm_epsilon=0), ValueError,
     "layer_norm_epsilon"),
    ("PositionEmbedding(0)", lambda: PositionEmbedding(0), ValueError, "sequence_length"),
    ("SinusoidalPositionalEncoding(1)", lambda: SinusoidalPositionalEncoding(1), ValueError,
     "max_wavelength"),
    ("BertEmbeddings vocabulary_size=0", lambda: BertEmbeddings(0, 8), ValueError,
     "vocabulary_size"),
    ("BertEmbeddings num_segments=True", lambda: BertEmbeddings(10, 8, num_segments=True),
     TypeError, "num_segments"),
    ("MaskedLMHead without a size", lambda: MaskedLMHead(), ValueError, "vocabulary_size"),
    ("SpanBoundaryHead size mismatch",
     lambda: SpanBoundaryHead(4, 31, token_embedding=keras.layers.Embedding(30, 8)),
     ValueError, "vocabulary_size"),
    ("SpanBoundaryHead max_span_length=0", lambda: SpanBoundaryHead(0, 30), ValueError,
     "max_span_length"),
    ("BertEncoder num_heads=0", lambda: BertEncoder(30, 2, 0, 8, 16), ValueError, "num_heads"),
    ("BertEncoder hidden_dim % num_heads", lambda: BertEncoder(30, 2, 3, 8, 16), ValueError,
     "divisible"),
    ("BertEncoder share_layers='yes'", lambda: BertEncoder(30, 2, 2, 8, 16, share_layers="yes"),
     TypeError, "share_layers"),
    ("BertPretrainer max_span_length=0",
     lambda: BertPretrainer(BertEncoder(30, 1, 2, 8, 16), max_span_length=0), ValueError,
     "max_span_length"),
    ("BertClassifier num_classes=1",
     lambda: BertClassifier(BertEncoder(30, 1, 2, 8, 16), 1), ValueError, "num_classes"),
    ("Seq2Seq num_layers=0", lambda: Seq2Seq(10, 10, 4, 4, num_layers=0), ValueError,
     "num_layers"),
    ("Seq2Seq reverse_source='yes'", lambda: Seq2Seq(10, 10, 4, 4, reverse_source="yes"),
     TypeError, "reverse_source"),
    ("Seq2Seq source_vocab_size=1", lambda: Seq2Seq(1, 10, 4, 4), ValueError,
     "source_vocab_size"),
    ("Seq2Seq dropout=2", lambda: Seq2Seq(10, 10, 4, 4, dropout=2), ValueError, "dropout"),
    ("AttentionSeq2Seq odd units", lambda: AttentionSeq2Seq(10, 10, LuongAttention("dot"), 4, 5),
     ValueError, "units"),
    ("AttentionSeq2Seq attention=str", lambda: AttentionSeq2Seq(10, 10, "dot", 4, 4),
     TypeError, "attention"),
    ("HardAttentionSeq2Seq seed=-1",
     lambda: HardAttentionSeq2Seq(10, 10, LuongAttention("dot"), 4, 4, seed=-1), ValueError,
     "seed"),
    ("Transformer num_heads=3", lambda: Transformer(10, 10, d_model=8, num_heads=3), ValueError,
     "num_heads"),
    ("Transformer num_layers=0", lambda: Transformer(10, 10, d_model=8, num_layers=0),
     ValueError, "num_layers"),
    ("rnn_language_model vocab_size=1", lambda: rnn_language_model(1, ElmanCell(4)), ValueError,
     "vocab_size"),
    ("rnn_forecaster num_features=0", lambda: rnn_forecaster(ElmanCell(4), 0), ValueError,
     "num_features"),
    ("rnn_tagger bidirectional=1", lambda: rnn_tagger(10, ElmanCell(4), bidirectional=1),
     TypeError, "bidirectional"),
    ("PrintEvery(0)", lambda: training.PrintEvery(0), ValueError, "epochs"),
    ("TimeBudget(True)", lambda: training.TimeBudget(True), TypeError, "seconds"),
    ("TransformerSchedule warmup_steps=0", lambda: schedules.TransformerSchedule(8, 0),
     ValueError, "warmup_steps"),
]


@pytest.mark.parametrize("call,error,word", [row[1:] for row in CONSTRUCTORS],
                         ids=[row[0] for row in CONSTRUCTORS])
def test_bad_constructor_arguments(call, error, word):
    with pytest.raises(error, match=word):
        call()


def f32(*shape):
    return np.zeros(shape, "float32")


def built(layer, *inputs):
    layer(*inputs)
    return layer


IDS = np.array([[3, 4, 0]], "int32")

BAD_INPUTS = [
    ("Bahdanau query rank 2", lambda: BahdanauAttention(4)(f32(2, 5), f32(2, 3, 5)), "rank 3"),
    ("Luong batch mismatch", lambda: LuongAttention("dot")(f32(2, 4, 5), f32(3, 3, 5)),
     "batch size"),
    ("Luong values_mask shape",
     lambda: LuongAttention("dot")(f32(2, 4, 5), f32(2, 3, 5), values_mask=np.ones((2, 4), bool)),
     "values_mask"),
    ("Luong dot widths", lambda: LuongAttention("dot")(f32(2, 4, 5), f32(2, 3, 6)), "same size"),
    ("location longer source",
     lambda: built(LuongAttention("location"), f32(1, 2, 4), f32(1, 3, 4))(f32(1, 2, 4),
                                                                              f32(1, 5, 4)),
     "at most 3 positions"),
    ("MHA rank", lambda: MultiHeadAttention(2, 4)(f32(2, 6), f32(2, 6)), "rank 3"),
    ("MHA width after build",
     lambda: built(MultiHeadAttention(2, 4), f32(1, 3, 8), f32(1, 3, 8))(f32(1, 3, 6),
                                                                          f32(1, 3, 8)),
     "features"),
    ("MHA key and value lengths",
     lambda: MultiHeadAttention(2, 4)(f32(1, 3, 8), f32(1, 4, 8), key=f32(1, 5, 8)),
     "same length"),
    ("MHA attention_mask rank",
     lambda: MultiHeadAttention(2, 4)(f32(1, 3, 8), f32(1, 3, 8),
                                      attention_mask=np.ones((1, 3), bool)), "attention_mask"),
    ("encoder padding_mask shape",
     lambda: TransformerEncoderBlock(2, 8)(f32(2, 3, 8), padding_mask=np.ones((2, 4), bool)),
     "padding_mask"),
    ("decoder encoder_padding_mask shape",
     lambda: TransformerDecoderBlock(2, 8)(f32(2, 3, 8), f32(2, 4, 8),
                                           encoder_padding_mask=np.ones((2, 3), bool)),
     "encoder_padding_mask"),
    ("PositionEmbedding too long",
     lambda: built(PositionEmbedding(4), f32(1, 3, 8))(f32(1, 5, 8)), "sequence_length"),
    ("PositionEmbedding start past the end",
     lambda: built(PositionEmbedding(4), f32(1, 3, 8))(f32(1, 3, 8), start_index=2),
     "start_index"),
    ("PositionEmbedding negative start",
     lambda: built(PositionEmbedding(4), f32(1, 3, 8))(f32(1, 3, 8), start_index=-1),
     "start_index"),
    ("BertEmbeddings id past the vocabulary",
     lambda: BertEmbeddings(10, 8)(np.array([[3, 10]]), np.zeros((1, 2), "int32")), "token_ids"),
    ("BertEmbeddings segment id 2",
     lambda: BertEmbeddings(10, 8)(np.array([[3, 4]]), np.array([[0, 2]])), "segment_ids"),
    ("BertEmbeddings shapes differ",
     lambda: BertEmbeddings(10, 8)(np.array([[3, 4]]), np.zeros((1, 3), "int32")),
     "segment_ids"),
    ("MaskedLMHead position past the end",
     lambda: MaskedLMHead(10)(f32(1, 4, 8), np.array([[1, 4]])), "mask_positions"),
    ("MaskedLMHead negative position",
     lambda: MaskedLMHead(10)(f32(1, 4, 8), np.array([[-1]])), "mask_positions"),
    ("SpanBoundaryHead boundary past the end",
     lambda: SpanBoundaryHead(4, 10)(f32(1, 4, 8), np.array([[[0, 4]]]), np.array([[1]])),
     "boundaries"),
    ("SpanBoundaryHead boundaries shape",
     lambda: SpanBoundaryHead(4, 10)(f32(1, 4, 8), np.array([[0, 2]]), np.array([[1]])),
     "boundaries"),
    ("Seq2Seq source id past the vocabulary",
     lambda: Seq2Seq(5, 6, 4, 4)((np.array([[1, 5]]), np.array([[2, 1]]))), "source_ids"),
    ("Seq2Seq decoder id past the vocabulary",
     lambda: Seq2Seq(5, 6, 4, 4)((np.array([[1, 4]]), np.array([[2, 6]]))), "decoder_input_ids"),
    ("AttentionSeq2Seq source rank",
     lambda: AttentionSeq2Seq(5, 6, LuongAttention("dot"), 4, 4)((np.array([1, 2]),
                                                                  np.array([[2, 1]]))),
     "source_ids"),
    ("Transformer negative id",
     lambda: Transformer(5, 6, d_model=8, num_heads=2, num_layers=1,
                         intermediate_dim=8)((np.array([[1, -1]]), np.array([[2, 1]]))),
     "source_ids"),
]


@pytest.mark.parametrize("call,word", [row[1:] for row in BAD_INPUTS],
                         ids=[row[0] for row in BAD_INPUTS])
def test_bad_inputs(call, word):
    with pytest.raises(ValueError, match=word):
        call()
