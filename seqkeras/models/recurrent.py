"""Recurrent models: a character language model, a one-step-ahead forecaster and a tagger.

Each takes the recurrent cell as an argument, so chapter 1 passes an ``ElmanCell`` and later
chapters pass an LSTM or GRU cell into the same model.
"""

from __future__ import annotations

import keras

from seqkeras import arguments


def rnn_language_model(vocab_size, cell, embedding_dim=32, name="rnn_language_model"):
    """Next-character model: embedding -> RNN(cell) -> logits over the vocabulary.

    p(x_{t+1} | x_1..x_t) = softmax(h_t W_hy + b_y),  h_t = cell(E[x_t], h_{t-1}).

    The embedding row E[x_t] is the one-hot vector of x_t times a matrix: the same input Elman
    used, stored compactly. Layers are named ``embedding``, ``rnn`` and ``logits``;
    ``seqkeras.decoding.sample_text`` steps through them one character at a time.

    Args:
        vocab_size: number of character ids (padding included).
        cell: a recurrent cell, e.g. ``seqkeras.layers.ElmanCell(256)``.
        embedding_dim: size of E's rows.
        name: model name.

    Returns:
        A ``keras.Model`` from int ids ``(batch, time)`` to logits ``(batch, time, vocab_size)``.
    """
    arguments.integer("vocab_size", vocab_size, 2)
    arguments.positive_int("embedding_dim", embedding_dim)
    char_ids = keras.Input(shape=(None,), dtype="int32", name="char_ids")
    x = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")(char_ids)
    h = keras.layers.RNN(cell, return_sequences=True, name="rnn")(x)
    logits = keras.layers.Dense(vocab_size, name="logits")(h)
    return keras.Model(char_ids, logits, name=name)


def rnn_forecaster(cell, num_features=1, name="rnn_forecaster"):
    """One-step-ahead forecaster: RNN(cell) over a window of past values -> next value.

    Args:
        cell: a recurrent cell.
        num_features: values per time step.
        name: model name.

    Returns:
        A ``keras.Model`` from ``(batch, window, num_features)`` to ``(batch, num_features)``.
    """
    arguments.positive_int("num_features", num_features)
    window = keras.Input(shape=(None, num_features), name="window")
    h_last = keras.layers.RNN(cell, name="rnn")(window)
    forecast = keras.layers.Dense(num_features, name="forecast")(h_last)
    return keras.Model(window, forecast, name=name)


def rnn_tagger(vocab_size, cell, num_layers=1, bidirectional=False, merge_mode="concat",
               embedding_dim=32, name="rnn_tagger"):
    """One binary label per input character: embedding -> stacked (bi)RNN(cell) -> sigmoid.

    A unidirectional layer's output at step t has read x_1..x_t; a bidirectional one
    (Schuster & Paliwal 1997) runs a second copy of the cell from x_T back to x_t and merges the
    two states, so its output at t has read the whole sequence. Stacked layers (Graves et al.
    2013) feed each layer's output sequence to the next.

    Args:
        vocab_size: number of character ids (padding included).
        cell: a recurrent cell, e.g. ``seqkeras.layers.LSTMCell(64)``; every layer and direction
            gets a fresh copy of it (same configuration, its own weights).
        num_layers: how many recurrent layers to stack.
        bidirectional: wrap each layer in ``keras.layers.Bidirectional``.
        merge_mode: how Bidirectional merges the forward and backward outputs: ``"concat"``
            (2 x units features), ``"sum"``, ``"mul"`` or ``"ave"``.
        embedding_dim: size of the embedding's rows.
        name: model name.

    Returns:
        A ``keras.Model`` from int ids ``(batch, time)`` to probabilities ``(batch, time)``.
    """
    arguments.positive_int("num_layers", num_layers)
    arguments.boolean("bidirectional", bidirectional)
    char_ids = keras.Input(shape=(None,), dtype="int32", name="char_ids")
    x = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")(char_ids)
    for layer_index in range(1, num_layers + 1):
        rnn = keras.layers.RNN(cell.from_config(cell.get_config() | {"name": None}),
                               return_sequences=True, name=f"rnn_{layer_index}")
        if bidirectional:
            rnn = keras.layers.Bidirectional(rnn, merge_mode=merge_mode,
                                             name=f"bidirectional_{layer_index}")
        x = rnn(x)
    probabilities = keras.layers.Dense(1, activation="sigmoid", name="label")(x)
    probabilities = keras.layers.Reshape((-1,), name="per_position")(probabilities)
    return keras.Model(char_ids, probabilities, name=name)
