"""Encoder-decoder translation models: Sutskever's fixed vector and the attention decoder.

Both are ``keras.Model`` subclasses with the same interface, so training, decoding
(``seqkeras.decoding.translation_log_probs``) and evaluation code serves every chapter:

- ``model((source_ids, decoder_input_ids))`` -> logits ``(batch, T, target_vocab_size)``, the
  teacher-forced form used by ``fit``: position i sees the source and y_0..y_i, predicts y_{i+1};
- ``model.encode(source_ids)`` -> a tuple of tensors with the batch first (what the decoder needs
  from the source), computed once per sentence when decoding;
- ``model.decode(decoder_input_ids, encoded)`` -> logits; with ``last_only=True`` only the last
  position's, ``(batch, 1, target_vocab_size)``: decoding needs no more, and the output softmax
  is most of the cost;
- ``model.start_decoding(encoded, max_length)`` -> a decoding state for up to ``max_length``
  target words, and ``model.decode_step(token_ids, state)`` -> ``(logits, new_state)``: the
  decoder one token at a time, carrying its state (an RNN's (h, c), a Transformer's cached
  keys and values), so that writing T words costs T decoder steps instead of re-reading the
  prefix at each of them. A state is a tuple of tensors with the batch first:
  ``ops.take(x, rows, axis=0)`` on each selects, reorders or repeats sentences (beam search).
  Fed a prefix token by token, ``decode_step`` gives the logits that ``decode(prefix,
  encoded)`` gives at its positions.

Id 0 is padding in both languages (``seqkeras.data.translation.WordVocabulary``); the
embeddings mask it, so the encoders' final states are those of each sentence's last real word.
"""

from __future__ import annotations

import inspect

import keras
from keras import ops

from seqkeras import arguments


def reverse_padded(ids):
    """Reverse each right-padded row's real tokens, keeping the padding at the end.

    ``[[5, 6, 7, 0]] -> [[7, 6, 5, 0]]``: Sutskever et al.'s reversed source order.
    """
    length = ops.sum(ops.cast(ops.not_equal(ids, 0), "int32"), axis=1, keepdims=True)
    index = length - 1 - ops.expand_dims(ops.arange(ops.shape(ids)[1], dtype="int32"), 0)
    reversed_ids = ops.take_along_axis(ids, ops.maximum(index, 0), axis=1)
    return ops.where(index >= 0, reversed_ids, ops.zeros_like(reversed_ids))


def _check_ids(name, ids, vocab_size):
    if len(ids.shape) != 2:
        raise ValueError(f"{name} must have shape (batch, T), got {tuple(ids.shape)}")
    arguments.index_range(name, ids, vocab_size, "ids")


class EncoderDecoder(keras.Model):
    """What both translation models share: the two embeddings, dropout, the output layer,
    the teacher-forced ``call`` and the configuration. Subclasses define ``encode``/``decode``.
    """

    def __init__(self, source_vocab_size, target_vocab_size, embedding_dim, units, dropout,
                 **kwargs):
        super().__init__(**kwargs)
        # Each vocabulary needs [PAD] (0) and at least one word.
        self.source_vocab_size = arguments.integer("source_vocab_size", source_vocab_size, 2)
        self.target_vocab_size = arguments.integer("target_vocab_size", target_vocab_size, 2)
        self.embedding_dim = arguments.positive_int("embedding_dim", embedding_dim)
        self.units = arguments.positive_int("units", units)
        self.dropout = arguments.rate("dropout", dropout)
        self.dropout_layer = keras.layers.Dropout(self.dropout, name="dropout")
        self.source_embedding = keras.layers.Embedding(source_vocab_size, embedding_dim,
                                                       mask_zero=True, name="source_embedding")
        # No mask on the target side: the loss ignores padding, and a causal decoder's real
        # positions never see the padding after them.
        self.target_embedding = keras.layers.Embedding(target_vocab_size, embedding_dim,
                                                       name="target_embedding")
        self.logits = keras.layers.Dense(target_vocab_size, name="logits")

    def call(self, inputs, training=None):
        # ``training`` is passed on by hand, down to every dropout: Keras' ``fit`` gives it
        # only to a ``call`` that takes it, and on JAX it calls ``call`` directly (no outer
        # ``__call__``), so the layers inside would not see it otherwise. An override of
        # encode/decode without the argument still runs; its dropout then follows Keras' call
        # context, which TensorFlow sets and JAX does not.
        source_ids, decoder_input_ids = inputs
        encoded = self.encode(source_ids, **_training(self.encode, training))
        return self.decode(decoder_input_ids, encoded, **_training(self.decode, training))

    def embed_source(self, source_ids):
        """The source embeddings, after checking the ids (JAX would read the last row for an
        id past the vocabulary instead of raising)."""
        _check_ids("source_ids", source_ids, self.source_vocab_size)
        return self.source_embedding(source_ids)

    def embed_target(self, decoder_input_ids):
        """The target embeddings of ``decoder_input_ids``, checked like ``embed_source``."""
        _check_ids("decoder_input_ids", decoder_input_ids, self.target_vocab_size)
        return self.target_embedding(decoder_input_ids)

    def build_decoder(self, encoded):
        """Build the decoder's layers by decoding one token, unless built already:
        ``decode_step`` calls them one at a time, which would build them piecemeal."""
        if not self.logits.built:
            self.decode(ops.zeros((ops.shape(encoded[0])[0], 1), "int32"), encoded)

    def embed_last_tokens(self, token_ids):
        """The (dropped-out) embeddings of one token per row, ``(batch,) -> (batch, dim)``:
        the input of ``decode_step``."""
        token_ids = ops.expand_dims(ops.convert_to_tensor(token_ids, "int32"), 1)
        return self.dropout_layer(self.embed_target(token_ids))[:, 0]

    def get_config(self):
        return {**super().get_config(), "source_vocab_size": self.source_vocab_size,
                "target_vocab_size": self.target_vocab_size,
                "embedding_dim": self.embedding_dim, "units": self.units, "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="seqkeras")
class Seq2Seq(EncoderDecoder):
    """The encoder-decoder of Sutskever, Vinyals & Le (2014): the whole source in one vector.

        encoder:  (h_S, c_S) of every layer = LSTM layers over x_1 .. x_S
        decoder:  LSTM layers over y_0 .. y_{T-1}, starting from those states,
                  p(y_{i+1} | y_0..y_i, x) = softmax(s_i W_y + b_y)

    Everything the decoder knows about the source is the encoder's final state of each layer:
    a fixed-size vector, whatever the sentence's length. With ``reverse_source`` the encoder
    reads the source backwards (the paper's trick: the first source words end up close to the
    first target words they translate).

    With ``context_every_step`` the fixed vector c = h_S of the last encoder layer also enters
    every decoder step and the output, as in Cho et al.'s (2014) RNN encoder-decoder, the
    "RNNencdec" baseline of Bahdanau et al.:

        decoder:  s_i = LSTM(s_{i-1}, [y_i; c]),
                  p(y_{i+1} | y_0..y_i, x) = softmax([s_i; c] W_y + b_y)

    so the decoder need not carry the source in its own state as it writes.

    Args:
        source_vocab_size, target_vocab_size: vocabulary sizes (id 0 = padding).
        embedding_dim: size of the word embeddings.
        units: size of every LSTM layer's state.
        num_layers: LSTM layers in the encoder and in the decoder (the paper used 4).
        reverse_source: read the source backwards.
        context_every_step: feed the fixed vector to every decoder step and to the output
            layer (Cho et al. 2014), not only as the decoder's initial state.
        dropout: rate of the dropout on the embeddings and before the output layer (a small
            corpus needs it: Sennrich & Zhang 2019).

    Call arguments:
        inputs: ``(source_ids, decoder_input_ids)``, int ``(batch, S)`` and ``(batch, T)``.
        training: whether dropout is active (``fit`` passes True); handed down to every
            dropout through ``encode`` and ``decode`` (an override of them gets it only if it
            takes a ``training`` argument, and on JAX must hand it down itself).

    Returns:
        Logits ``(batch, T, target_vocab_size)``.

    References:
        Sutskever, Vinyals & Le (2014), Sequence to sequence learning with neural networks,
        https://arxiv.org/abs/1409.3215
        Cho et al. (2014), Learning phrase representations using RNN encoder-decoder for
        statistical machine translation, https://arxiv.org/abs/1406.1078
    """

    def __init__(self, source_vocab_size, target_vocab_size, embedding_dim=128, units=256,
                 num_layers=1, reverse_source=False, dropout=0.0, context_every_step=False,
                 **kwargs):
        super().__init__(source_vocab_size, target_vocab_size, embedding_dim, units, dropout,
                         **kwargs)
        self.num_layers = arguments.positive_int("num_layers", num_layers)
        self.reverse_source = arguments.boolean("reverse_source", reverse_source)
        self.context_every_step = arguments.boolean("context_every_step", context_every_step)
        self.encoder_layers = [
            keras.layers.LSTM(units, return_sequences=True, return_state=True,
                              name=f"encoder_{k}") for k in range(num_layers)]
        self.decoder_layers = [
            keras.layers.LSTM(units, return_sequences=True, return_state=True,
                              name=f"decoder_{k}") for k in range(num_layers)]

    def encode(self, source_ids, training=None):
        """The fixed vector: ``(h, c)`` of every encoder layer, flattened into one tuple."""
        if self.reverse_source:
            source_ids = reverse_padded(source_ids)
        x = self.dropout_layer(self.embed_source(source_ids), training=training)
        states = []
        for layer in self.encoder_layers:
            x, h, c = layer(x)
            states += [h, c]
        return tuple(states)

    def decode(self, decoder_input_ids, encoded, last_only=False, training=None):
        y = self.dropout_layer(self.embed_target(decoder_input_ids), training=training)
        if self.context_every_step:
            # c, repeated along the target positions (broadcast against a zero of y's length)
            context = ops.expand_dims(encoded[-2], 1) + ops.zeros_like(y[..., :1])
            y = ops.concatenate([y, context], axis=-1)
        for k, layer in enumerate(self.decoder_layers):
            y, _, _ = layer(y, initial_state=list(encoded[2 * k:2 * k + 2]))
        if last_only:
            y = y[:, -1:]
        if self.context_every_step:
            y = ops.concatenate([y, context[:, :ops.shape(y)[1]]], axis=-1)
        return self.logits(self.dropout_layer(y, training=training))

    def start_decoding(self, encoded, max_length=None):
        """The state before the first target word: every decoder layer's (h, c), the encoder's
        final ones, and with ``context_every_step`` the fixed vector c after them. (An RNN's
        state has one size at every length: ``max_length`` is the Transformer's.)"""
        self.build_decoder(encoded)
        return (*encoded, encoded[-2]) if self.context_every_step else tuple(encoded)

    def decode_step(self, token_ids, state):
        """One decoder step for the last token of each row: ``(logits, new_state)``."""
        y = self.embed_last_tokens(token_ids)
        if self.context_every_step:
            context = state[-1]
            y = ops.concatenate([y, context], axis=-1)
        new_state = []
        for k, layer in enumerate(self.decoder_layers):
            y, (h, c) = layer.cell(y, list(state[2 * k:2 * k + 2]))
            new_state += [h, c]
        if self.context_every_step:
            y = ops.concatenate([y, context], axis=-1)
            new_state.append(context)
        return self.logits(self.dropout_layer(y)), tuple(new_state)

    def get_config(self):
        return {**super().get_config(), "num_layers": self.num_layers,
                "reverse_source": self.reverse_source,
                "context_every_step": self.context_every_step}


@keras.saving.register_keras_serializable(package="seqkeras")
class AttentionSeq2Seq(EncoderDecoder):
    """An attention encoder-decoder whose score function is the layer you pass in.

        annotations  h_j = [forward h_j ; backward h_j]     bidirectional LSTM encoder
        decoder      s_i = LSTM(y_{i-1}, s_{i-1}),  s_0 = [forward h_S ; backward h_1]
        attention    c_i, alpha_i = attention(s_i, h_1..h_S)
        output       h~_i = tanh([c_i ; s_i] W_c),  p(y_{i+1} | ...) = softmax(h~_i W_y + b_y)

    This is Luong et al.'s global attention without input feeding: the decoder's current state
    s_i is the query, and the context enters the output, not the recurrence, so training runs
    the decoder over all positions at once. Bahdanau et al. instead query with s_{i-1} and feed
    c_i into the recurrence, which forces a step-by-step loop; the scores (``BahdanauAttention``,
    ``LuongAttention``, ``LocalAttention``) are the papers' either way.

    Args:
        source_vocab_size, target_vocab_size: vocabulary sizes (id 0 = padding).
        attention: an attention layer called as ``attention(query, values, values_mask)`` and
            returning ``(context, weights)``, e.g. ``seqkeras.layers.BahdanauAttention(128)``.
        embedding_dim: size of the word embeddings.
        units: size of the decoder state and of the annotations (each encoder direction has
            ``units // 2``).
        dropout: rate of the dropout on the embeddings and before the output layer.

    Call arguments:
        inputs: ``(source_ids, decoder_input_ids)``, int ``(batch, S)`` and ``(batch, T)``.
        training: whether dropout is active (``fit`` passes True); handed down to every
            dropout through ``encode`` and ``decode`` (an override of them gets it only if it
            takes a ``training`` argument, and on JAX must hand it down itself).

    Returns:
        Logits ``(batch, T, target_vocab_size)``. ``decode(..., return_weights=True)`` also
        returns the attention weights ``(batch, T, S)``.

    References:
        Bahdanau, Cho & Bengio (2014), https://arxiv.org/abs/1409.0473;
        Luong, Pham & Manning (2015), https://arxiv.org/abs/1508.04025
    """

    STEP_MIRRORS = ("decoder_states",)  # decode_step runs the decoder's cell itself

    def __init__(self, source_vocab_size, target_vocab_size, attention, embedding_dim=128,
                 units=256, dropout=0.0, **kwargs):
        what = "a positive even integer (half of it per encoder direction)"
        if arguments.integer("units", units, 2, what=what) % 2:
            raise ValueError(f"units must be {what}, got {units!r}")
        super().__init__(source_vocab_size, target_vocab_size, embedding_dim, units, dropout,
                         **kwargs)
        if isinstance(attention, dict):
            attention = keras.saving.deserialize_keras_object(attention)
        if not isinstance(attention, keras.layers.Layer):
            raise TypeError(f"attention must be a seqkeras attention layer (e.g. "
                            f"BahdanauAttention(128)), got {type(attention).__name__}")
        self.attention = attention
        self.encoder = keras.layers.Bidirectional(
            keras.layers.LSTM(units // 2, return_sequences=True, return_state=True),
            name="encoder")
        self.decoder = keras.layers.LSTM(units, return_sequences=True, name="decoder")
        self.attentional = keras.layers.Dense(units, activation="tanh", name="attentional")

    def encode(self, source_ids, training=None):
        """``(annotations, source_mask, h_0, c_0)``: what the decoder reads from the source."""
        annotations, forward_h, forward_c, backward_h, backward_c = self.encoder(
            self.dropout_layer(self.embed_source(source_ids), training=training))
        return (annotations, ops.not_equal(source_ids, 0),
                ops.concatenate([forward_h, backward_h], axis=-1),
                ops.concatenate([forward_c, backward_c], axis=-1))

    def decoder_states(self, decoder_input_ids, encoded, training=None):
        """s_i for every target position: the queries ``(batch, T, units)``."""
        _, _, h_0, c_0 = encoded
        embedded = self.dropout_layer(self.embed_target(decoder_input_ids), training=training)
        return self.decoder(embedded, initial_state=[h_0, c_0])

    def output_logits(self, context, states, training=None):
        """softmax logits of h~_i = tanh([c_i ; s_i] W_c)."""
        attentional = self.attentional(ops.concatenate([context, states], axis=-1))
        return self.logits(self.dropout_layer(attentional, training=training))

    def readout(self, states, annotations, source_mask, training=None):
        """Attention and output for the queries s_i ``(batch, T, units)``:
        ``(logits, alpha)``. The one place where both decoding paths meet the score."""
        context, weights = self.attention(states, annotations, values_mask=source_mask)
        return self.output_logits(context, states, training=training), weights

    def decode(self, decoder_input_ids, encoded, return_weights=False, last_only=False,
               training=None):
        annotations, source_mask, _, _ = encoded
        states = self.decoder_states(decoder_input_ids, encoded, training=training)
        if last_only:
            states = states[:, -1:]
        logits, weights = self.readout(states, annotations, source_mask, training=training)
        return (logits, weights) if return_weights else logits

    def start_decoding(self, encoded, max_length=None):
        """The state before the first target word: ``(annotations, source_mask, h_0, c_0)``
        (``max_length``, the Transformer's cache size, does not matter to an RNN)."""
        self.build_decoder(encoded)
        return tuple(encoded)

    def decode_step(self, token_ids, state):
        """One decoder step for the last token of each row: ``(logits, new_state)``; the
        annotations and the mask ride along unchanged in the state."""
        annotations, source_mask, h, c = state
        s_i, (h, c) = self.decoder.cell(self.embed_last_tokens(token_ids), [h, c])
        logits, _ = self.readout(ops.expand_dims(s_i, 1), annotations, source_mask)
        return logits[:, 0], (annotations, source_mask, h, c)

    def alignment(self, source_ids, decoder_input_ids):
        """The attention weights alpha ``(batch, T, S)`` while reading ``decoder_input_ids``
        (``[START]`` and a translation): row i is where the decoder looked to write word i+1."""
        _, weights = self.decode(decoder_input_ids, self.encode(source_ids), return_weights=True)
        return ops.convert_to_numpy(weights)

    def get_config(self):
        return {**super().get_config(),
                "attention": keras.saving.serialize_keras_object(self.attention)}


def _training(method, training):
    """``{"training": training}`` if ``method`` takes it, else ``{}``."""
    return {"training": training} if "training" in inspect.signature(method).parameters else {}
