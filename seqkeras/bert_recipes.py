"""BERT's recipes, as chapters 9-11 and their solutions run them: the encoder every model starts
from, pretraining with BERT's optimiser, the pair head's accuracy, and fine-tuning.

    encoder = new_encoder(len(vocabulary), seed=2019)
    run = pretrain(BertPretrainer(encoder), batches, epochs=6, peak_learning_rate=1e-3,
                   loss={"mlm": loss, "nsp": loss})
    classifier = fine_tune(encoder, inputs, labels, num_classes=8, learning_rate=1e-4, epochs=5)

Each chapter states its experiment; these are the steps they share.
"""

from __future__ import annotations

import time

import keras
import numpy as np

from seqkeras import arguments, training
from seqkeras.models.bert import BertClassifier, BertEncoder
from seqkeras.utils import set_seed


def new_encoder(vocabulary_size, num_layers=2, num_heads=2, hidden_dim=128,
                max_sequence_length=128, dropout=0.1, seed=None, **options) -> BertEncoder:
    """A ``BertEncoder`` of the chapters' shape: feed-forward width ``4 * hidden_dim`` (BERT's
    ratio), dropout 0.1.

    Args:
        vocabulary_size, num_layers, num_heads, hidden_dim, max_sequence_length, dropout: the
            encoder's configuration.
        seed: when given, ``utils.set_seed(seed)`` first, so that models compared with each
            other start from the same initial weights (under a seed offset, the same shifted
            ones).
        **options: more ``BertEncoder`` arguments (ALBERT's ``embedding_dim``,
            ``share_layers``).

    Returns:
        A ``BertEncoder``, built: Keras draws a layer's weights when it is built, so building
        it here, right after seeding, is what makes ``seed`` fix them.
    """
    if seed is not None:
        set_seed(seed)
    encoder = BertEncoder(vocabulary_size, num_layers, num_heads, hidden_dim, 4 * hidden_dim,
                          dropout=dropout, max_sequence_length=max_sequence_length, **options)
    encoder(encoder.example_inputs())
    return encoder


def pretrain(model, batches, epochs, peak_learning_rate, loss=None, validation=None,
             weighted_metrics=None, run_eagerly=False, name=None, verbose=2):
    """Compile ``model`` with BERT's optimiser and pretrain it on ``batches``.

    Adam with gradient clipping, the learning rate decaying linearly from
    ``peak_learning_rate`` to 0 over the run (Devlin et al., appendix A.2, without the warm-up
    a run of a few epochs does not need); one ``training.fit_pretraining`` epoch after another,
    a line printed per epoch.

    Args:
        model: a pretraining model (``BertPretrainer``, ``DistillationPretrainer``).
        batches: the training ``data.MaskedLMBatches``.
        epochs: number of epochs.
        peak_learning_rate: the first step's learning rate.
        loss: ``compile``'s loss (e.g. ``{"mlm": ..., "nsp": ...}``), or None for a model that
            computes its own.
        validation: optional ``MaskedLMBatches`` scored after every epoch.
        weighted_metrics: ``compile``'s weighted metrics.
        run_eagerly: ``compile``'s (fast modes).
        name: printed before training with the parameter count of the model trained.
        verbose: 0 prints nothing.

    Returns:
        A ``training.TrainingRun``; its ``seconds`` attribute is the whole run's wall time.
    """
    arguments.positive_int("epochs", epochs)
    schedule = keras.optimizers.schedules.PolynomialDecay(
        peak_learning_rate, epochs * len(batches), 0.0)
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0), loss=loss,
                  weighted_metrics=weighted_metrics, run_eagerly=run_eagerly)
    model(model.example_inputs())  # build, to count the parameters
    if verbose and name:
        trained = getattr(model, "student", model)  # a distillation's teacher is not trained
        print(f"--- {name}: {trained.count_params():,} parameters, {epochs} epochs", flush=True)
    start = time.perf_counter()
    run = training.fit_pretraining(model, batches, epochs, validation=validation,
                                   verbose=verbose)
    run.seconds = time.perf_counter() - start
    return run


def pair_accuracy(pretrainer, packed, labels, batch_size=256) -> float:
    """Accuracy of a pretrainer's pair head (next-sentence or sentence-order prediction) on
    ``packed`` pairs (``data.pack_segments``) with 0/1 ``labels``."""
    labels = np.asarray(labels)
    inputs = {**packed, "mask_positions": np.zeros((len(labels), 1), "int32")}
    logits = pretrainer.predict(inputs, batch_size=batch_size, verbose=0)["nsp"]
    return float((logits.argmax(-1) == labels).mean())


def fine_tune(encoder, inputs, labels, num_classes, learning_rate, epochs, batch_size=32,
              seed=None, pooling="cls", frozen=False, dropout=0.1, validation=None,
              patience=2, run_eagerly=False, verbose=0) -> BertClassifier:
    """Fine-tune ``encoder`` under a fresh classifier head (Devlin et al., section 4.1).

    Args:
        encoder: a built ``BertEncoder``, pretrained or not; it is trained in place (copy its
            weights first to start several runs from them).
        inputs, labels: ``data.pack_segments`` inputs and integer labels.
        num_classes: number of labels.
        learning_rate, epochs, batch_size: Adam's step size and the budget.
        seed: when given, ``utils.set_seed(seed)`` before the head is made (its weights,
            dropout and the batches' order).
        pooling: the head's input (``BertClassifier``): ``"cls"`` or ``"mean"``.
        frozen: train only the head (the feature-based approach).
        dropout: the head's dropout rate.
        validation: optional ``(inputs, labels)``: then ``epochs`` is a maximum, training
            stops when the validation accuracy has not improved for ``patience`` epochs, and
            the weights of the best epoch are kept (each method gets the epochs it needs,
            chosen on validation, never on the test set).
        patience: see ``validation``.
        run_eagerly, verbose: ``compile``'s and ``fit``'s.

    Returns:
        The trained ``BertClassifier`` (compiled with an accuracy metric: ``evaluate`` gives
        ``[loss, accuracy]``), with ``epochs_trained`` and ``best_epoch`` set.
    """
    if seed is not None:
        set_seed(seed)
    classifier = BertClassifier(encoder, num_classes=num_classes, dropout=dropout,
                                pooling=pooling)
    encoder.trainable = not frozen
    classifier.compile(optimizer=keras.optimizers.Adam(learning_rate),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                       metrics=["accuracy"], run_eagerly=run_eagerly)
    callbacks, validation_data = [], None
    if validation is not None:
        validation_data = (validation[0], np.asarray(validation[1]))
        callbacks.append(keras.callbacks.EarlyStopping(
            "val_accuracy", mode="max", patience=arguments.positive_int("patience", patience),
            restore_best_weights=True))
    history = classifier.fit(inputs, np.asarray(labels), batch_size=batch_size, epochs=epochs,
                             validation_data=validation_data, callbacks=callbacks,
                             verbose=verbose).history
    classifier.epochs_trained = len(history["loss"])
    classifier.best_epoch = (int(np.argmax(history["val_accuracy"])) + 1
                             if validation is not None else len(history["loss"]))
    return classifier
