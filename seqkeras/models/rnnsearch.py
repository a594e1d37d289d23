"""Bahdanau et al.'s own attention decoder, RNNsearch: the previous state asks where to look,
and what it finds goes into the next state."""

from __future__ import annotations

import keras
from keras import ops

from seqkeras.models.translation import AttentionSeq2Seq


@keras.saving.register_keras_serializable(package="seqkeras")
class RNNsearch(AttentionSeq2Seq):
    """The attention encoder-decoder as Bahdanau, Cho & Bengio wrote it (section 3.1 and
    appendix A.2.2), with an LSTM where they used a gated unit:

        annotations  h_j = [forward h_j ; backward h_j]      bidirectional LSTM encoder
        attention    c_i, alpha_i = attention(s_{i-1}, h_1..h_S)
        output       t_i = tanh([s_{i-1} ; E y_{i-1} ; c_i] W_t),  p(y_i | ...) = softmax(t_i W_y)
        recurrence   s_i = LSTM([E y_{i-1} ; c_i], s_{i-1}),  s_0 = [forward h_S ; backward h_1]

    Against ``AttentionSeq2Seq`` (Luong's decoder, query s_i, context only in the output): the
    query is the state *before* the decoder reads y_{i-1}, and the context enters the
    recurrence, so the next state knows where the decoder looked. The price is a loop over
    target positions in training (each c_i needs s_{i-1}); decoding carries (h, c) from word to
    word as before. The paper's output layer is a maxout over U_o s_{i-1} + V_o E y_{i-1} +
    C_o c_i; here one tanh layer over the same three inputs.

    Args and call arguments: ``AttentionSeq2Seq``'s.

    Returns:
        Logits ``(batch, T, target_vocab_size)``; ``decode(..., return_weights=True)`` also the
        attention weights ``(batch, T, S)``, row i queried by s_{i-1}.

    Example:

    >>> from seqkeras.layers import BahdanauAttention
    >>> model = RNNsearch(50, 60, BahdanauAttention(8), embedding_dim=8, units=16)
    >>> tuple(model((np.ones((2, 5), "int32"), np.ones((2, 7), "int32"))).shape)
    (2, 7, 60)

    References:
        Bahdanau, Cho & Bengio (2014), https://arxiv.org/abs/1409.0473
    """

    # ``decode`` is a Python loop over the target positions: decoding's reference path (which
    # re-reads whole prefixes) must run it op by op, not compiled for prefixes of any length.
    DECODES_IN_A_PYTHON_LOOP = True

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", "rnnsearch")  # not Keras's "rn_nsearch"
        super().__init__(*args, **kwargs)

    def step(self, embedded, state, annotations, source_mask, training=None):
        """One target position: from the embedding of y_{i-1} ``(batch, dim)`` and the state
        s_{i-1} ``[h, c]``, the logits of y_i, its attention weights and the state s_i."""
        previous = state[0]
        context, weights = self.attention(previous[:, None], annotations,
                                          values_mask=source_mask)
        context = context[:, 0]
        output = self.attentional(ops.concatenate([previous, embedded, context], axis=-1))
        logits = self.logits(self.dropout_layer(output, training=training))
        _, state = self.decoder.cell(ops.concatenate([embedded, context], axis=-1), state)
        return logits, weights[:, 0], state

    def decode(self, decoder_input_ids, encoded, return_weights=False, last_only=False,
               training=None):
        annotations, source_mask, h_0, c_0 = encoded
        _known_length(decoder_input_ids)
        embedded = self.dropout_layer(self.embed_target(decoder_input_ids), training=training)
        state, logits, weights = [h_0, c_0], [], []
        for i in range(decoder_input_ids.shape[1]):
            step_logits, step_weights, state = self.step(embedded[:, i], state, annotations,
                                                         source_mask, training=training)
            logits.append(step_logits)
            weights.append(step_weights)
        if last_only:
            logits, weights = logits[-1:], weights[-1:]
        logits, weights = ops.stack(logits, axis=1), ops.stack(weights, axis=1)
        return (logits, weights) if return_weights else logits

    def decoder_states(self, decoder_input_ids, encoded, training=None):
        """s_1..s_T while reading ``decoder_input_ids``, ``(batch, T, units)``."""
        annotations, source_mask, h_0, c_0 = encoded
        _known_length(decoder_input_ids)
        embedded = self.dropout_layer(self.embed_target(decoder_input_ids), training=training)
        state, states = [h_0, c_0], []
        for i in range(decoder_input_ids.shape[1]):
            _, _, state = self.step(embedded[:, i], state, annotations, source_mask)
            states.append(state[0])
        return ops.stack(states, axis=1)

    def start_decoding(self, encoded, max_length=None):
        """The state before the first target word: ``(annotations, source_mask, h_0, c_0)``."""
        return super().start_decoding(encoded, max_length)

    def decode_step(self, token_ids, state):
        """One decoder step for the last token of each row: ``(logits, new_state)``."""
        annotations, source_mask, h, c = state
        logits, _, (h, c) = self.step(self.embed_last_tokens(token_ids), [h, c], annotations,
                                      source_mask)
        return logits, (annotations, source_mask, h, c)


def _known_length(decoder_input_ids):
    if decoder_input_ids.shape[1] is None:
        raise ValueError("RNNsearch loops over the target positions in Python, so it needs "
                         "batches of a known length: train it on padded arrays "
                         "(fit_translation(..., length_sorted=False))")
