"""Using a learner's piece for real once its check passes (the last cells of a lab): a short
training run on a task where the piece matters. Each helper prints what it measured; when the
piece's check has not passed it says so and trains nothing."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from seqkeras import data, metrics, models, training
from seqkeras.exercises.report import waits_for
from seqkeras.exercises.sequences import FunctionLayer
from seqkeras.layers import LSTMCell
from seqkeras.models.translation import reverse_padded


def train_on_adding_problem(report, cell_class, length, sequences, epochs, units):
    """Train ``keras.layers.RNN(cell_class(units))`` on the adding problem of chapter 2 (the
    sum of two marked values among ``length`` steps) and print its best validation MSE against
    the 1/6 of always answering 1.0. Returns the ``TrainingRun``, or None."""
    if waits_for(report, f"{cell_class.__name__}.call", "trains it"):
        return None
    x, y = data.adding_problem(sequences, length, seed=0)
    x_val, y_val = data.adding_problem(500, length, seed=1)
    model = models.rnn_forecaster(cell_class(units), num_features=2)
    run = training.fit(model, x, y[:, None], (x_val, y_val[:, None]), epochs, "mse",
                       batch_size=64, learning_rate=3e-3, verbose=2)
    print(f"validation MSE {min(run.history['val_loss']):.4f} against 0.1667 for always 1.0")
    return run


def tag_word_ends(report, fn, characters, epochs, units=32, sequence_length=50):
    """Chapter 4's task (where do words end in the KJV with its spaces removed?) for two taggers
    of the same size and budget: a forward LSTM, and your ``fn`` (see ``check_bidirectional``)
    around a forward and a backward LSTM. Prints both test F1 scores; returns them."""
    if waits_for(report, "the bidirectional function", "trains it"):
        return None
    vocab = data.CharVocabulary.from_text(data.bible_text("kjv"))
    windows = {}
    for split, size in (("train", characters), ("test", characters // 4)):
        chars, starts = data.remove_spaces(data.bible_text("kjv", split=split)[:size])
        ends = np.append(starts[1:], 0)  # a word ends where the next character starts one
        windows[split] = data.tagging_windows(vocab.encode(chars), ends, sequence_length)

    def tagger(recurrent):
        ids = keras.Input((None,), dtype="int32")
        x = recurrent(keras.layers.Embedding(len(vocab), 32)(ids))
        p = keras.layers.Dense(1, activation="sigmoid")(x)
        return keras.Model(ids, keras.layers.Reshape((-1,))(p))

    def rnn():
        return keras.layers.RNN(LSTMCell(units), return_sequences=True)

    scores = {}
    for name, recurrent in (("forward LSTM", rnn()),
                            ("your bidirectional LSTM", FunctionLayer(fn, (rnn(), rnn())))):
        x, y = windows["train"]
        run = training.fit(tagger(recurrent), x, y, windows["test"], epochs,
                           "binary_crossentropy", verbose=0)
        x_test, y_test = windows["test"]
        predicted = (run.model.predict(x_test, verbose=0) > 0.5).astype(int)
        scores[name] = metrics.precision_recall_f1(y_test, predicted)["f1"]
        print(f"{name:<24} test F1 of word ends {scores[name]:.3f} "
              f"({run.model.count_params():,} parameters, {epochs} epochs)")
    return scores


def recall_first_word(report, fn, sequences, epochs, units=32, vocabulary_size=20,
                      max_length=20):
    """Sutskever et al.'s reversed source, on a task made to show it: read a padded sequence of
    4..``max_length`` random words with your encoder (``fn``, see ``check_fixed_vector``) and
    predict its first word from the fixed vector h_T alone. Trained on the words as written and
    reversed (``reverse_padded``: the first word is then read last); prints the held-out
    accuracy of each after every epoch, against 1/``vocabulary_size`` for a guess. Returns
    ``{order: accuracy by epoch}``."""
    if waits_for(report, "the encoder function", "trains it"):
        return None
    rng = np.random.default_rng(0)
    total = sequences + 1000
    ids = rng.integers(1, vocabulary_size + 1, size=(total, max_length)).astype("int32")
    lengths = rng.integers(4, max_length + 1, size=(total, 1))
    ids[np.arange(max_length)[None] >= lengths] = 0
    first = ids[:, 0] - 1
    accuracies = {}
    for order, source in (("as written", ids),
                          ("reversed", ops.convert_to_numpy(reverse_padded(ids)))):
        words = keras.Input((max_length,), dtype="int32")
        x = keras.layers.Embedding(vocabulary_size + 1, 16, mask_zero=True)(words)
        h_T = FunctionLayer(fn, (LSTMCell(units),), output=0)(x)
        model = keras.Model(words, keras.layers.Dense(vocabulary_size)(h_T))
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        run = training.fit(model, source[:sequences], first[:sequences],
                           (source[sequences:], first[sequences:]), epochs, loss,
                           metrics=["accuracy"], verbose=0)
        accuracies[order] = curve = [float(a) for a in run.history["val_accuracy"]]
        print(f"source {order:<10}: first word recalled in {curve[-1]:.1%} of held-out "
              f"sequences after {epochs} epochs (by epoch: "
              f"{', '.join(f'{a:.0%}' for a in curve)}; a guess: {1 / vocabulary_size:.0%})")
    return accuracies
