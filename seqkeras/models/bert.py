"""BERT's encoder: the Transformer's encoder stack under BERT's input embeddings."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from seqkeras import arguments
from seqkeras.layers.bert import (
    BertEmbeddings,
    MaskedLMHead,
    NextSentenceHead,
    SpanBoundaryHead,
    bert_initializer,
    gelu_approximate,
)
from seqkeras.layers.transformer import TransformerEncoderBlock


def example_inputs(mask_positions=False, length=2, span_boundary=False):
    """A tiny input dict for the BERT models (every weight's shape is independent of it)."""
    ids = np.zeros((1, length), "int32")
    inputs = {"token_ids": ids, "segment_ids": ids, "padding_mask": np.ones((1, length), "int32")}
    if mask_positions or span_boundary:
        inputs["mask_positions"] = np.zeros((1, 1), "int32")
    if span_boundary:
        inputs["span_boundaries"] = np.zeros((1, 1, 2), "int32")
        inputs["span_relative_positions"] = np.zeros((1, 1), "int32")
    return inputs


class _BuiltOnLoad:
    """Create every variable when rebuilt from a saved file, before the weights are loaded:
    the sub-layers create theirs on the first call."""

    def example_inputs(self):
        return example_inputs()

    def build_from_config(self, config):
        self(self.example_inputs())


@keras.saving.register_keras_serializable(package="seqkeras")
class BertEncoder(_BuiltOnLoad, keras.Model):
    """The BERT encoder (Devlin et al. 2018, section 3), built from chapter 8's blocks.

        x      = BertEmbeddings(token_ids, segment_ids)
        h      = TransformerEncoderBlock^L(x, padding_mask)          post-LN, GELU
        pooled = tanh(h[:, 0] W_p + b_p)                             the [CLS] position

    Inputs and outputs are those of keras_hub's ``BertBackbone``: a dict of ``token_ids``,
    ``segment_ids`` and ``padding_mask`` to a dict of ``sequence_output`` ``(batch, T, H)`` and
    ``pooled_output`` ``(batch, H)``; ``seqkeras.interop`` converts both ways.

    ALBERT (Lan et al. 2019) is a configuration of the same code: ``embedding_dim`` < H
    factorises the embedding, and ``share_layers=True`` runs one block L times. So is the
    left-to-right model of BERT's ablation (its Table 5, "LTR"): ``causal=True`` lets position i
    attend to positions 1..i only, as in a Transformer decoder without cross-attention; its
    ``[CLS]`` output then sees only ``[CLS]``, so a classifier on it pools the tokens instead
    (``BertClassifier(pooling="mean")``).

    Args:
        vocabulary_size: V.
        num_layers: L.
        num_heads: attention heads per block (dividing ``hidden_dim``).
        hidden_dim: H.
        intermediate_dim: the feed-forward networks' hidden size (BERT: 4 H).
        dropout: rate of every dropout.
        max_sequence_length: learned positions.
        num_segments: segment ids.
        embedding_dim: E, ALBERT's factorised embedding size (default H).
        share_layers: ALBERT's cross-layer parameter sharing.
        causal: attend only to the left (the LTR ablation); default bidirectional.

    Call arguments:
        inputs: dict with int ``token_ids``, ``segment_ids`` and ``padding_mask`` (1 = a real
            token), each ``(batch, T)``.

    Returns:
        dict with ``sequence_output`` and ``pooled_output``.

    Example:

    >>> encoder = BertEncoder(1000, num_layers=2, num_heads=2, hidden_dim=128,
    ...                       intermediate_dim=512)  # bert_tiny_en_uncased's shape, 30,522 words
    >>> ids = np.array([[2, 45, 67, 3, 88, 3, 0, 0]])        # [CLS] a b [SEP] c [SEP] padding
    >>> segments = np.array([[0, 0, 0, 0, 1, 1, 0, 0]])
    >>> outputs = encoder({"token_ids": ids, "segment_ids": segments, "padding_mask": ids != 0})
    >>> tuple(outputs["sequence_output"].shape), tuple(outputs["pooled_output"].shape)
    ((1, 8, 128), (1, 128))

    References:
        Devlin et al. (2018), https://arxiv.org/abs/1810.04805
    """

    def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                 dropout=0.1, max_sequence_length=512, num_segments=2, embedding_dim=None,
                 share_layers=False, causal=False, **kwargs):
        super().__init__(**kwargs)
        self.num_layers = arguments.positive_int("num_layers", num_layers)
        self.num_heads = arguments.positive_int("num_heads", num_heads)
        self.hidden_dim = arguments.positive_int("hidden_dim", hidden_dim)
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim={hidden_dim} must be divisible by "
                             f"num_heads={num_heads}")
        self.vocabulary_size = vocabulary_size  # the other sizes are checked by the layers
        self.intermediate_dim = intermediate_dim
        self.dropout, self.max_sequence_length = float(dropout), max_sequence_length
        self.num_segments, self.embedding_dim = num_segments, embedding_dim
        self.share_layers = arguments.boolean("share_layers", share_layers)
        self.causal = arguments.boolean("causal", causal)
        self.embeddings = BertEmbeddings(vocabulary_size, hidden_dim, max_sequence_length,
                                         num_segments, embedding_dim, dropout,
                                         name="embeddings")
        distinct = 1 if self.share_layers else num_layers
        self.blocks = [TransformerEncoderBlock(
            num_heads, intermediate_dim, dropout=dropout, activation=gelu_approximate,
            layer_norm_epsilon=1e-12, kernel_initializer=bert_initializer(),
            name=f"block_{k}") for k in range(distinct)]
        self.pooler = keras.layers.Dense(hidden_dim, activation="tanh",
                                         kernel_initializer=bert_initializer(), name="pooler")

    @property
    def token_embedding(self):
        """The token embedding layer (what a masked-LM head ties its output weights to)."""
        return self.embeddings.token_embedding

    def call(self, inputs, training=None):
        h = self.embeddings(inputs["token_ids"], inputs["segment_ids"], training=training)
        padding_mask = keras.ops.cast(inputs["padding_mask"], "bool")
        attention_mask = None
        if self.causal:  # (1, T, T), combined with the padding mask: query i sees keys 1..i
            positions = ops.arange(ops.shape(h)[1])
            attention_mask = ops.expand_dims(
                ops.expand_dims(positions, 1) >= ops.expand_dims(positions, 0), 0)
        for k in range(self.num_layers):
            block = self.blocks[0 if self.share_layers else k]
            h = block(h, padding_mask=padding_mask, attention_mask=attention_mask,
                      training=training)
        return {"sequence_output": h, "pooled_output": self.pooler(h[:, 0])}

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "num_layers": self.num_layers, "num_heads": self.num_heads,
                "hidden_dim": self.hidden_dim, "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout, "max_sequence_length": self.max_sequence_length,
                "num_segments": self.num_segments, "embedding_dim": self.embedding_dim,
                "share_layers": self.share_layers, "causal": self.causal}


def _encoder(encoder):
    if isinstance(encoder, dict):
        encoder = keras.saving.deserialize_keras_object(encoder)
    if not isinstance(encoder, BertEncoder):
        raise TypeError(f"encoder must be a seqkeras BertEncoder, got {type(encoder).__name__}")
    return encoder


@keras.saving.register_keras_serializable(package="seqkeras")
class BertPretrainer(_BuiltOnLoad, keras.Model):
    """BERT's pretraining model: the encoder, the masked-LM head tied to its token embedding,
    and (optionally) the next-sentence head (Devlin et al. 2018, section 3.1).

    The family are configurations of it: RoBERTa drops the next-sentence task
    (``next_sentence=False``); ALBERT trains the same head on sentence-order pairs; SpanBERT
    adds the span-boundary objective (``span_boundary=True``) and drops next sentence.

    Args:
        encoder: a ``BertEncoder``.
        next_sentence: add the next-sentence (or sentence-order) head.
        span_boundary: add SpanBERT's ``SpanBoundaryHead``, tied to the token embedding.
        max_span_length: the span-boundary head's relative positions.

    Call arguments:
        inputs: the encoder's dict plus ``mask_positions`` int ``(batch, M)``; with the
            span-boundary head also ``span_boundaries`` ``(batch, M, 2)`` and
            ``span_relative_positions`` ``(batch, M)`` (``seqkeras.data.mask_spans``); without
            them only the masked LM is computed (to score it on token-masked data).

    Returns:
        dict with ``mlm`` logits ``(batch, M, V)``; with the heads, ``nsp`` logits
        ``(batch, 2)`` and ``sbo`` logits ``(batch, M, V)``. Train with the masked-LM losses
        weighted by ``mask_weights`` (``seqkeras.data.MaskedLMBatches`` yields them).
    """

    def __init__(self, encoder, next_sentence=True, span_boundary=False, max_span_length=10,
                 **kwargs):
        super().__init__(**kwargs)
        self.encoder = _encoder(encoder)
        self.next_sentence = arguments.boolean("next_sentence", next_sentence)
        self.span_boundary = arguments.boolean("span_boundary", span_boundary)
        self.max_span_length = arguments.positive_int("max_span_length", max_span_length)
        self.mlm_head = MaskedLMHead(token_embedding=self.encoder.token_embedding,
                                     name="mlm_head")
        self.nsp_head = NextSentenceHead(name="nsp_head") if self.next_sentence else None
        self.sbo_head = (SpanBoundaryHead(max_span_length,
                                          token_embedding=self.encoder.token_embedding,
                                          name="sbo_head") if self.span_boundary else None)

    def example_inputs(self):
        return example_inputs(mask_positions=True, span_boundary=self.span_boundary)

    def call(self, inputs, training=None):
        encoded = self.encoder(inputs, training=training)
        h = encoded["sequence_output"]
        outputs = {"mlm": self.mlm_head(h, inputs["mask_positions"])}
        if self.nsp_head is not None:
            outputs["nsp"] = self.nsp_head(encoded["pooled_output"])
        if self.sbo_head is not None and "span_boundaries" in inputs:
            outputs["sbo"] = self.sbo_head(h, inputs["span_boundaries"],
                                           inputs["span_relative_positions"])
        return outputs

    def get_config(self):
        return {**super().get_config(),
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "next_sentence": self.next_sentence, "span_boundary": self.span_boundary,
                "max_span_length": self.max_span_length}


@keras.saving.register_keras_serializable(package="seqkeras")
class BertClassifier(_BuiltOnLoad, keras.Model):
    """A classifier on the pooled [CLS] output, for fine-tuning (BERT, section 4.1):
    ``softmax(Dropout(C) W + b)``. Freeze ``encoder`` (``encoder.trainable = False``) for the
    feature-based approach.

    Args:
        encoder: a ``BertEncoder`` (pretrained or not).
        num_classes: number of labels.
        dropout: rate of the dropout on C.
        pooling: ``"cls"``: C is the pooled ``[CLS]`` output (BERT's); ``"mean"``: C is the
            mean of the last layer's outputs over the real tokens, features a frozen encoder
            gives more of than its ``[CLS]``, which only next-sentence prediction trained.

    Returns:
        Logits ``(batch, num_classes)``.
    """

    POOLINGS = ("cls", "mean")

    def __init__(self, encoder, num_classes, dropout=0.1, pooling="cls", **kwargs):
        super().__init__(**kwargs)
        self.num_classes = arguments.integer("num_classes", num_classes, 2)
        if pooling not in self.POOLINGS:
            raise ValueError(f"pooling must be one of {self.POOLINGS}, got {pooling!r}")
        self.pooling = pooling
        self.encoder, self.dropout = _encoder(encoder), arguments.rate("dropout", dropout)
        self.dropout_layer = keras.layers.Dropout(dropout)
        self.classifier = keras.layers.Dense(num_classes, kernel_initializer=bert_initializer(),
                                             name="classifier")

    def call(self, inputs, training=None):
        outputs = self.encoder(inputs, training=training)
        if self.pooling == "cls":
            pooled = outputs["pooled_output"]
        else:
            tokens = outputs["sequence_output"]
            real = ops.cast(ops.expand_dims(inputs["padding_mask"], -1), tokens.dtype)
            pooled = ops.sum(tokens * real, axis=1) / ops.maximum(ops.sum(real, axis=1), 1.0)
        return self.classifier(self.dropout_layer(pooled, training=training))

    def get_config(self):
        return {**super().get_config(),
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "num_classes": self.num_classes, "dropout": self.dropout,
                "pooling": self.pooling}
