"""Converters between seqkeras' BERT pieces and keras_hub's.

=====================================  ==============================================
seqkeras                               keras_hub
=====================================  ==============================================
``models.BertEncoder``                 ``keras_hub.models.BertBackbone``
``layers.MaskedLMHead``                ``keras_hub.layers.MaskedLMHead``
=====================================  ==============================================
"""

from __future__ import annotations

import keras

from seqkeras.interop.transformer import _hub, copy_block_weights
from seqkeras.layers.bert import MaskedLMHead
from seqkeras.models.bert import BertEncoder, example_inputs

_BACKBONE_OPTIONS = ("vocabulary_size", "num_layers", "num_heads", "hidden_dim",
                     "intermediate_dim", "dropout", "max_sequence_length", "num_segments")
# Our embedding sub-layers -> the backbone's.
_EMBEDDING_LAYERS = (("token_embedding", "token_embedding"),
                     ("position_embedding", "position_embedding"),
                     ("segment_embedding", "segment_embedding"),
                     ("norm", "embeddings_layer_norm"))


def build_encoder(encoder):
    """Build a ``BertEncoder`` by calling it on a tiny input."""
    if not encoder.built:
        encoder(example_inputs())
    return encoder


def _copy_backbone(encoder, backbone, to_backbone):
    pairs = [(getattr(encoder.embeddings, ours), getattr(backbone, theirs))
             for ours, theirs in _EMBEDDING_LAYERS]
    pairs.append((encoder.pooler, backbone.pooled_dense))
    for mine, other in pairs:
        if to_backbone:
            other.set_weights(mine.get_weights())
        else:
            mine.set_weights(other.get_weights())
    for block, twin in zip(encoder.blocks, backbone.transformer_layers, strict=True):
        copy_block_weights(block, twin, to_twin=to_backbone)


def encoder_to_keras(encoder):
    """keras_hub's BertBackbone with a BertEncoder's configuration and weights."""
    if encoder.embedding_dim not in (None, encoder.hidden_dim) or encoder.share_layers:
        raise ValueError("BertBackbone has no factorised embedding or shared layers (ALBERT): "
                         "only a plain BERT configuration converts to it")
    if encoder.causal:
        raise ValueError("BertBackbone attends in both directions: a causal (left-to-right) "
                         "encoder has no keras_hub BERT twin")
    backbone = _hub().models.BertBackbone(
        **{option: getattr(encoder, option) for option in _BACKBONE_OPTIONS})
    _copy_backbone(build_encoder(encoder), backbone, to_backbone=True)
    return backbone


def encoder_from_keras(backbone):
    """A BertEncoder with a keras_hub BertBackbone's configuration and weights."""
    encoder = build_encoder(BertEncoder(
        **{option: getattr(backbone, option) for option in _BACKBONE_OPTIONS}))
    _copy_backbone(encoder, backbone, to_backbone=False)
    return encoder


def _head_sublayers(head):
    return (("dense", "_intermediate_dense"), ("norm", "_intermediate_layer_norm"))


def head_to_keras(head):
    """keras_hub's MaskedLMHead with a seqkeras head's weights. A tied head's twin is tied to
    a new ``keras_hub.layers.ReversibleEmbedding`` holding the same embedding matrix."""
    embedding = None
    hidden = head.dense.kernel.shape[0]
    if head.token_embedding is not None:
        matrix = keras.ops.convert_to_numpy(head.token_embedding.embeddings)
        embedding = _hub().layers.ReversibleEmbedding(*matrix.shape)
        embedding.build((None, None))
        embedding.embeddings.assign(matrix)
    twin = _hub().layers.MaskedLMHead(
        vocabulary_size=head.vocabulary_size, token_embedding=embedding,
        intermediate_activation=head.intermediate_activation, activation=head.activation,
        layer_norm_epsilon=head.layer_norm_epsilon)
    twin.build((None, None, hidden))
    for ours, theirs in _head_sublayers(head):
        getattr(twin, theirs).set_weights(getattr(head, ours).get_weights())
    if embedding is None:
        twin._kernel.assign(head.W_out)
    twin._bias.assign(head.b_out)
    return twin


def head_from_keras(twin):
    """A seqkeras MaskedLMHead with a keras_hub head's weights; a tied twin gives a head tied
    to a new ``keras.layers.Embedding`` holding the same matrix (``head.token_embedding``)."""
    embedding = None
    hidden = twin._intermediate_dense.kernel.shape[0]
    if twin.token_embedding is not None:
        matrix = keras.ops.convert_to_numpy(twin.token_embedding.embeddings)
        embedding = keras.layers.Embedding(*matrix.shape)
        embedding.build((None, None))
        embedding.embeddings.assign(matrix)
    head = MaskedLMHead(twin.vocabulary_size, token_embedding=embedding,
                        intermediate_activation=twin.intermediate_activation,
                        activation=twin.activation, layer_norm_epsilon=twin.layer_norm_epsilon)
    head.build((None, None, hidden))
    for ours, theirs in _head_sublayers(head):
        getattr(head, ours).set_weights(getattr(twin, theirs).get_weights())
    if embedding is None:
        head.W_out.assign(twin._kernel)
    head.b_out.assign(twin._bias)
    return head


def to_keras(layer):
    """The keras_hub twin of a BERT piece, or None when ``layer`` is not one."""
    if isinstance(layer, BertEncoder):
        return encoder_to_keras(layer)
    if isinstance(layer, MaskedLMHead):
        return head_to_keras(layer)
    return None


def from_keras(twin):
    """The seqkeras equivalent of a keras_hub BERT piece, or None."""
    if not type(twin).__module__.startswith(("keras_hub", "keras_nlp")):
        return None
    if isinstance(twin, _hub().models.BertBackbone):
        return encoder_from_keras(twin)
    if isinstance(twin, _hub().layers.MaskedLMHead):
        return head_from_keras(twin)
    return None
