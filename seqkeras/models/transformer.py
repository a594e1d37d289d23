"""The Transformer encoder-decoder for translation (Vaswani et al. 2017, figure 1)."""

from __future__ import annotations

import math

import keras
from keras import ops

from seqkeras import arguments
from seqkeras.layers.position import SinusoidalPositionalEncoding
from seqkeras.layers.transformer import TransformerDecoderBlock, TransformerEncoderBlock
from seqkeras.models.translation import EncoderDecoder, _training


@keras.saving.register_keras_serializable(package="seqkeras")
class Transformer(EncoderDecoder):
    """The Transformer of "Attention is all you need", with the interface of chapters 5-7.

        encoder:  z = EncoderBlock^N(E_x[x] sqrt(d_model) + PE)
        decoder:  s = DecoderBlock^N(E_y[y_0..y_{T-1}] sqrt(d_model) + PE, z)     causal
        output:   p(y_{i+1} | y_0..y_i, x) = softmax(s_i W_y + b_y)

    No recurrence: every position of the source, and (thanks to the causal mask) every position
    of the target, is computed at once during training. Like ``Seq2Seq`` and
    ``AttentionSeq2Seq`` it has ``encode(source_ids)`` and ``decode(decoder_input_ids,
    encoded)``, so ``seqkeras.decoding`` translates with it unchanged; its ``decode_step``
    caches every decoder block's keys and values (a "KV cache"). The paper also tied the
    output layer to the target embedding and shared one vocabulary between the languages; here
    each language keeps its own word vocabulary and the output layer is separate.

    Args:
        source_vocab_size, target_vocab_size: vocabulary sizes (id 0 = padding).
        d_model: size of the embeddings and of every block's input and output.
        num_heads: h, dividing d_model.
        num_layers: N, blocks in the encoder and in the decoder (the paper: 6).
        intermediate_dim: d_ff of the feed-forward networks (the paper: 4 d_model).
        dropout: rate of the dropout on the embeddings, in the blocks and before the output.
        normalize_first: pre-LN blocks (then a final LayerNorm closes each stack).

    Call arguments:
        inputs: ``(source_ids, decoder_input_ids)``, int ``(batch, S)`` and ``(batch, T)``.
        training: whether dropout is active (``fit`` passes True); handed down to every
            dropout through ``encode`` and ``decode`` (an override of them gets it only if it
            takes a ``training`` argument, and on JAX must hand it down itself).

    Returns:
        Logits ``(batch, T, target_vocab_size)``.

    Example:

    >>> model = Transformer(500, 400, d_model=32, num_heads=4, intermediate_dim=64)
    >>> source_ids = np.array([[5, 8, 13, 0], [7, 9, 0, 0]])      # French ids, 0 = padding
    >>> decoder_input_ids = np.array([[2, 11, 12], [2, 14, 0]])   # [START] and English ids
    >>> logits = model((source_ids, decoder_input_ids))
    >>> tuple(logits.shape)                                      # a score per English word
    (2, 3, 400)

    References:
        Vaswani et al. (2017), Attention is all you need, https://arxiv.org/abs/1706.03762
    """

    STEP_MIRRORS = ("embed",)  # decode_step embeds as decode does (decoding.carries_state)

    def __init__(self, source_vocab_size, target_vocab_size, d_model=128, num_heads=4,
                 num_layers=2, intermediate_dim=512, dropout=0.1, normalize_first=False,
                 **kwargs):
        super().__init__(source_vocab_size, target_vocab_size, d_model, d_model, dropout,
                         **kwargs)
        if d_model % arguments.positive_int("num_heads", num_heads):
            raise ValueError(f"d_model={d_model} must be divisible by num_heads={num_heads!r} "
                             "(each head gets d_model / num_heads dimensions)")
        self.d_model, self.num_heads = d_model, num_heads
        self.num_layers = arguments.positive_int("num_layers", num_layers)
        self.intermediate_dim = arguments.positive_int("intermediate_dim", intermediate_dim)
        self.normalize_first = arguments.boolean("normalize_first", normalize_first)
        self.positional_encoding = SinusoidalPositionalEncoding(name="positional_encoding")
        block = dict(num_heads=num_heads, intermediate_dim=intermediate_dim, dropout=dropout,
                     normalize_first=normalize_first)
        self.encoder_blocks = [TransformerEncoderBlock(**block, name=f"encoder_{k}")
                               for k in range(num_layers)]
        self.decoder_blocks = [TransformerDecoderBlock(**block, name=f"decoder_{k}")
                               for k in range(num_layers)]
        if self.normalize_first:
            self.encoder_norm = keras.layers.LayerNormalization(name="encoder_norm")
            self.decoder_norm = keras.layers.LayerNormalization(name="decoder_norm")

    def embed(self, embed_ids, ids, start_index=0, training=None):
        """E[ids] sqrt(d_model) + PE (section 3.4: the scaling keeps the embeddings from
        being drowned by the positional encoding, whose entries are of size 1).
        ``embed_ids`` is ``embed_source`` or ``embed_target``; the first of ``ids`` stands at
        position ``start_index``."""
        x = embed_ids(ids)
        x = x * ops.cast(math.sqrt(self.d_model), x.dtype)
        return self.dropout_layer(x + self.positional_encoding(x, start_index=start_index),
                                  training=training)

    def encode(self, source_ids, return_weights=False, training=None):
        """``(z, source_mask)``: the encoder's output and where the real source words are;
        with ``return_weights`` also each block's self-attention weights."""
        source_mask = ops.not_equal(source_ids, 0)
        z = self.embed(self.embed_source, source_ids, **_training(self.embed, training))
        weights = []
        for block in self.encoder_blocks:
            z = block(z, padding_mask=source_mask, training=training,
                      return_attention_scores=return_weights)
            if return_weights:
                z, block_weights = z
                weights.append(block_weights)
        if self.normalize_first:
            z = self.encoder_norm(z)
        return ((z, source_mask), weights) if return_weights else (z, source_mask)

    def decode(self, decoder_input_ids, encoded, return_weights=False, last_only=False,
               training=None):
        z, source_mask = encoded
        y, weights = self.embed(self.embed_target, decoder_input_ids,
                                **_training(self.embed, training)), []
        for block in self.decoder_blocks:
            y = block(y, z, encoder_padding_mask=source_mask, training=training,
                      return_attention_scores=return_weights)
            if return_weights:
                y, _, cross_weights = y
                weights.append(cross_weights)
        if self.normalize_first:
            y = self.decoder_norm(y)
        if last_only:
            y = y[:, -1:]
        logits = self.logits(self.dropout_layer(y, training=training))
        return (logits, weights) if return_weights else logits

    def start_decoding(self, encoded, max_length=64):
        """The state before the first target word: the source mask, the position to write
        next (0, one per row), then per decoder block its cache
        (``TransformerDecoderBlock.start_cache``): room for the self-attention keys and values
        of ``max_length`` target positions, and the cross-attention keys and values of the
        encoder output z, computed once."""
        self.build_decoder(encoded)
        z, source_mask = encoded
        state = [source_mask, ops.zeros((ops.shape(z)[0],), "int32")]
        for block in self.decoder_blocks:
            state += block.start_cache(max_length, z)
        return tuple(state)

    def decode_step(self, token_ids, state):
        """One decoder step for the last token of each row, at the state's position:
        ``(logits, new_state)``, each block's cache holding one more key and value."""
        source_mask, positions, caches = state[0], state[1], state[2:]
        position = positions[0]  # every row stands at the same position
        y = self.embed(self.embed_target, ops.expand_dims(
            ops.convert_to_tensor(token_ids, "int32"), 1), start_index=position)
        new_state = [source_mask, positions + 1]
        for k, block in enumerate(self.decoder_blocks):
            y, cache = block.call_cached(y, caches[4 * k:4 * k + 4], position,
                                         encoder_padding_mask=source_mask)
            new_state += cache
        if self.normalize_first:
            y = self.decoder_norm(y)
        return self.logits(self.dropout_layer(y))[:, 0], tuple(new_state)

    def attention_maps(self, source_ids, decoder_input_ids):
        """The attention weights of every block and head, as NumPy arrays:
        ``{"encoder": [(batch, h, S, S)] * N, "cross": [(batch, h, T, S)] * N}``."""
        encoded, encoder_weights = self.encode(source_ids, return_weights=True)
        _, cross_weights = self.decode(decoder_input_ids, encoded, return_weights=True)
        return {"encoder": [ops.convert_to_numpy(w) for w in encoder_weights],
                "cross": [ops.convert_to_numpy(w) for w in cross_weights]}

    def get_config(self):
        config = super().get_config()
        for name in ("embedding_dim", "units"):
            config.pop(name)
        return {**config, "d_model": self.d_model, "num_heads": self.num_heads,
                "num_layers": self.num_layers, "intermediate_dim": self.intermediate_dim,
                "normalize_first": self.normalize_first}
