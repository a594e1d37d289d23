"""The training recipe the chapters share, so that a chapter states its experiment, not its loop:
Adam with gradient clipping (chapter 1 showed why), per-epoch timing, progress output."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from seqkeras import arguments
from seqkeras.data.batching import LengthSortedBatches
from seqkeras.losses import SmoothedCrossEntropy
from seqkeras.utils import seed_offset


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time of every training epoch in ``seconds`` (a list)."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


class PrintEvery(keras.callbacks.Callback):
    """Prints the logs every ``epochs`` epochs: progress for long runs trained with verbose=0.

    Args:
        epochs: how often to print.
        scale: factor applied to every logged value before printing (e.g. back to data units).
    """

    def __init__(self, epochs=50, scale=1.0):
        super().__init__()
        self.every = arguments.positive_int("epochs", epochs)
        self.scale = arguments.number("scale", scale)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            shown = ", ".join(f"{k} {v * self.scale:.4g}" for k, v in (logs or {}).items())
            print(f"epoch {epoch + 1:>4}: {shown}", flush=True)


class TimeBudget(keras.callbacks.Callback):
    """Stops training once ``seconds`` of wall time have passed since training began (checked
    after every batch; the epoch under way ends there and is still validated): gives models
    of different speeds the same training time. ``elapsed`` holds the time actually trained."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = arguments.positive_number("seconds", seconds)
        self.elapsed = 0.0

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.elapsed = time.perf_counter() - self._start
        if self.elapsed >= self.seconds:
            self.model.stop_training = True


@dataclass
class TrainingRun:
    """What ``fit`` returns: the trained model, its History's logs, the median epoch time, and
    (where the caller timed it, e.g. ``bert_recipes.pretrain``) the whole run's seconds."""

    model: keras.Model
    history: dict
    seconds_per_epoch: float
    seconds: float | None = None


def fit(model, x, y, validation_data, epochs, loss, metrics=(), batch_size=64,
        learning_rate=3e-3, clipnorm=1.0, verbose=2, callbacks=(), optimizer=None,
        run_eagerly=False, sample_weight=None) -> TrainingRun:
    """Compile ``model`` with Adam(``learning_rate``, ``clipnorm``) and train it, timing epochs.

    Args:
        model: an uncompiled Keras model.
        x, y: training inputs and targets; or x a dataset of ``(inputs, targets)`` batches
            (such as ``data.LengthSortedBatches(...).dataset()``) and y None.
        validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, weights_val)``, scored after
            every epoch.
        epochs: number of epochs.
        loss: a Keras loss.
        metrics: Keras metrics to report.
        batch_size: sequences per step.
        learning_rate: Adam's step size.
        clipnorm: gradient-norm clipping threshold (Pascanu et al. 2013); None disables it.
        verbose: 2 prints a line per epoch; 0 prints nothing (add ``PrintEvery``).
        callbacks: more Keras callbacks.
        optimizer: a Keras optimizer to use instead (then learning_rate and clipnorm are unused).
        run_eagerly: skip compiling the train and test steps; faster for a handful of steps
            (the chapters' fast modes), far slower for real training.
        sample_weight: weights of the training targets, e.g. ``(batch, T)`` per position for a
            loss that returns one value per position (0 leaves a position out).

    Returns:
        A ``TrainingRun``.
    """
    timer = EpochTimer()
    if optimizer is None:
        optimizer = keras.optimizers.Adam(learning_rate, clipnorm=clipnorm)
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics), run_eagerly=run_eagerly)
    arrays = isinstance(x, (np.ndarray, tuple, list, dict))
    if not arrays:  # a dataset (e.g. data.LengthSortedBatches') makes and shuffles its batches
        batch_size = None
    history = model.fit(x, y, sample_weight=sample_weight, batch_size=batch_size, epochs=epochs,
                        shuffle=arrays,
                        validation_data=validation_data, verbose=verbose,
                        callbacks=[timer, *callbacks])
    return TrainingRun(model, history.history, float(np.median(timer.seconds)))


def predict_in_batches(model, x, batch_size=512) -> np.ndarray:
    """``model``'s outputs on ``x``, called eagerly batch by batch, as a NumPy array.

    ``keras.Model.predict`` compiles a predict function per model (and traces it again for a
    smaller last batch); called on several models in a loop, TensorFlow then warns about
    "excessive retracing". For scoring a handful of trained models on held-out data the
    eager calls are as fast and print nothing.

    Example:

    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> predict_in_batches(model, np.ones((5, 3)), batch_size=2).shape
    (5, 2)
    """
    batch_size = arguments.integer("batch_size", batch_size, 1)
    return np.concatenate([keras.ops.convert_to_numpy(model(x[start:start + batch_size]))
                           for start in range(0, len(x), batch_size)])


def fit_translation(model, train, validation, epochs, batch_size=64, learning_rate=3e-3,
                    verbose=2, optimizer=None, label_smoothing=0.0,
                    run_eagerly=False, callbacks=(), length_sorted=False,
                    seed=0) -> TrainingRun:
    """Teacher-forced training of a translation model on ``TranslationBatch`` arrays.

    The loss is the cross-entropy of each next target word, averaged over real (non-padding)
    target positions: ``SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)``, or
    with ``label_smoothing`` > 0 ``losses.SmoothedCrossEntropy`` (then the logged losses are the
    smoothed ones, higher than the plain cross-entropy). ``optimizer`` replaces the default
    Adam(learning_rate, clipnorm=1), e.g. to use ``schedules.TransformerSchedule``;
    ``run_eagerly`` and ``callbacks`` (e.g. ``TimeBudget``) are ``fit``'s. ``length_sorted``
    trains on ``data.LengthSortedBatches(train, batch_size)``: batches of similar lengths, each
    as wide as its longest pair (the same pairs every epoch, less padding), shuffled with
    ``seed`` moved by ``utils.seed_offset()`` as every other seed of a chapter is.
    """
    if length_sorted:
        batches = LengthSortedBatches(train, batch_size, seed=seed + seed_offset())
        x, y = batches.dataset(), None
    else:
        x, y = train.inputs, train.target_ids
    return fit(model, x, y, (validation.inputs, validation.target_ids),
               epochs, translation_loss(label_smoothing), batch_size=batch_size,
               learning_rate=learning_rate, verbose=verbose, optimizer=optimizer,
               run_eagerly=run_eagerly, callbacks=callbacks)


def continue_translation(start, make_model, train, validation, epochs, **kwargs) -> TrainingRun:
    """Train a fresh ``make_model()`` from ``start``'s weights for ``epochs`` more epochs.

    The way to branch one run into several (chapter 6 goes on from the same weights with
    short and with long verses) and to give every branch the same treatment: a new model and a
    new optimizer (Adam's moments start again), the weights copied, ``start`` left as it was.

    Args:
        start: a ``TrainingRun`` of ``fit_translation`` (or of this function).
        make_model: builds an uncompiled model of ``start.model``'s configuration.
        train, validation: ``TranslationBatch`` arrays, as for ``fit_translation``.
        epochs: epochs to train on (at least 1).
        **kwargs: ``fit_translation``'s other arguments.

    Returns:
        A ``TrainingRun`` whose history is ``start``'s followed by these epochs', and whose
        ``seconds_per_epoch`` is these epochs' median.
    """
    arguments.positive_int("epochs", epochs)
    model = make_model()
    model(tuple(inputs[:1] for inputs in train.inputs))  # builds the weights
    model.set_weights(start.model.get_weights())
    more = fit_translation(model, train, validation, epochs, **kwargs)
    history = {name: list(start.history.get(name, [])) + list(values)
               for name, values in more.history.items()}
    return TrainingRun(model, history, more.seconds_per_epoch)


def translation_loss(label_smoothing=0.0):
    """``fit_translation``'s loss: the cross-entropy of each next target word over the real
    (non-padding, id 0) positions, label-smoothed by ``losses.SmoothedCrossEntropy`` when
    ``label_smoothing`` > 0."""
    if label_smoothing:
        return SmoothedCrossEntropy(label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)


def fit_pretraining(model, batches, epochs, validation=None, verbose=2) -> TrainingRun:
    """Train a compiled pretraining model on ``data.MaskedLMBatches``, one ``fit`` call per
    epoch on that epoch's whole arrays (freshly masked when the batches are dynamic).

    Handing ``fit`` arrays instead of the ``PyDataset`` itself is what makes this worth a
    function: on the TensorFlow backend ``fit`` wraps a ``PyDataset`` in a Python generator,
    which on a 2-core CPU made each step of chapter 11's BERT twice as slow.

    Args:
        model: a compiled model taking the batches' inputs (``BertPretrainer``,
            ``DistillationPretrainer``).
        batches: the training ``MaskedLMBatches``; rows are shuffled within each epoch.
        epochs: number of epochs.
        validation: optional ``MaskedLMBatches`` scored after every epoch.
        verbose: 0 prints nothing; otherwise a line per epoch.

    Returns:
        A ``TrainingRun`` whose history holds the logs of every epoch.
    """
    history, seconds = {}, []
    validation_data = validation.arrays() if validation is not None else None
    for epoch in range(epochs):
        start = time.perf_counter()
        inputs, targets, weights = batches.arrays()
        logs = model.fit(inputs, targets, sample_weight=weights, batch_size=batches.batch_size,
                         epochs=epoch + 1, initial_epoch=epoch, shuffle=True,
                         validation_data=validation_data, verbose=0).history
        seconds.append(time.perf_counter() - start)
        for name, values in logs.items():
            history.setdefault(name, []).extend(values)
        if verbose:
            print(f"epoch {epoch + 1}/{epochs} - {seconds[-1]:.0f} s - " + " - ".join(
                f"{name}: {values[-1]:.4f}" for name, values in logs.items()), flush=True)
        batches.on_epoch_end()
    return TrainingRun(model, history, float(np.median(seconds)))


def save_run(run: TrainingRun, weights_path) -> None:
    """Save a run's weights (``.weights.h5``) and, beside them, its history and epoch time
    (``.json``), for a later chapter to reuse with ``load_run``."""
    weights_path = Path(weights_path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    run.model.save_weights(weights_path)
    _history_path(weights_path).write_text(json.dumps(
        {"history": run.history, "seconds_per_epoch": run.seconds_per_epoch}, indent=1))


def load_run(model, weights_path, example_inputs) -> TrainingRun | None:
    """The ``TrainingRun`` that ``save_run`` saved at ``weights_path``, its weights loaded into
    ``model`` (built first on ``example_inputs``), or None when either file is missing or the
    weights do not fit ``model`` (saved by a different configuration)."""
    weights_path = Path(weights_path)
    if not (weights_path.exists() and _history_path(weights_path).exists()):
        return None
    model(example_inputs)
    try:
        model.load_weights(weights_path)
    except ValueError:
        return None
    saved = json.loads(_history_path(weights_path).read_text())
    return TrainingRun(model, saved["history"], saved["seconds_per_epoch"])


def _history_path(weights_path: Path) -> Path:
    return weights_path.with_name(weights_path.name.removesuffix(".weights.h5") + ".json")


def load_or_pretrain_bert(encoder, weights_path=None, pairs=None, epochs=2, batch_size=64,
                          learning_rate=1e-3, verbose=2):
    """Chapter 9's pretrained encoder, for the chapters that build on it.

    ``encoder`` (a fresh ``BertEncoder`` of chapter 9's shape, over the bundled WordPiece
    vocabulary) gets the weights chapter 9 saved at ``weights_path`` when that file exists.
    Otherwise it is pretrained here, more briefly, by chapter 9's recipe: masked LM (15% of the
    tokens, 80/10/10, masks drawn anew every epoch) and next-sentence prediction, on the verse
    pairs of the KJV's training chapters, with Adam at a constant ``learning_rate``. A causal
    encoder (``BertEncoder(causal=True)``, the left-to-right model of BERT's ablation) is
    pretrained on the same pairs and budget with the next-token objective
    (``data.next_token_targets``) and no pair head.

    Args:
        encoder: the ``BertEncoder`` to fill; its ``max_sequence_length`` is the pairs' length.
        weights_path: chapter 9's saved weights, or None to always pretrain here.
        pairs: the first verse pairs to pretrain on (None: all of them).
        epochs, batch_size, learning_rate: the brief pretraining's budget.
        verbose: ``fit``'s verbosity (2: a line per epoch).

    Returns:
        ``(encoder, source)``: the encoder, and a sentence that says where its weights came
        from.
    """
    from seqkeras import data
    from seqkeras.models import BertPretrainer

    if weights_path is not None and Path(weights_path).exists():
        encoder(encoder.example_inputs())
        encoder.load_weights(weights_path)
        return encoder, f"chapter 9's full run ({weights_path})"
    vocabulary = data.load_wordpiece_vocabulary()
    first, second, is_next = data.next_sentence_pairs(data.bible_chapters("kjv", "train"),
                                                      np.random.default_rng(0))
    length = encoder.max_sequence_length
    packed = data.pack_segments(first[:pairs], second[:pairs], length)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if getattr(encoder, "causal", False):
        batches = data.MaskedLMBatches(packed, data.next_token_targets, batch_size)
        pretrainer, losses = BertPretrainer(encoder, next_sentence=False), {"mlm": loss}
    else:
        mask_id = vocabulary.index("[MASK]")
        batches = data.MaskedLMBatches(
            packed, lambda ids, rng: data.mask_tokens(ids, len(vocabulary), mask_id, rng,
                                                      max_selections=length // 6),
            batch_size, dynamic=True, targets={"nsp": is_next[:pairs]})
        pretrainer, losses = BertPretrainer(encoder), {"mlm": loss, "nsp": loss}
    pretrainer.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                       loss=losses)
    pretrainer.fit(batches, epochs=epochs, verbose=verbose)
    kind = "left-to-right " if getattr(encoder, "causal", False) else ""
    return encoder, (f"a brief {kind}pretraining ({len(first[:pairs]):,} verse pairs, "
                     f"{epochs} epoch{'s' if epochs != 1 else ''})")
