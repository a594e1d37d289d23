"""Wall-clock timing of layers, for the chapters' speed comparisons (benchmarks that print
ratios against the Keras twins live in tests/benchmarks/)."""

from __future__ import annotations

import time

import keras
import numpy as np


def timed_call(function, warmup=2):
    """``function`` wrapped to return its wall time in seconds, after ``warmup`` untimed calls
    (tracing and compilation)."""
    for _ in range(warmup):
        function()

    def timed():
        start = time.perf_counter()
        function()
        return time.perf_counter() - start

    return timed


def timed_training_step(model, x, y, warmup=2):
    """A function that runs one ``train_on_batch`` of a compiled model and returns its wall
    time in seconds, after ``warmup`` untimed steps (tracing and compilation)."""
    return timed_call(lambda: model.train_on_batch(x, y), warmup)


def interleaved_step_seconds(models, x, y, repeats=10, warmup=2) -> dict:
    """Median seconds of one ``train_on_batch`` of each compiled model in ``models``
    (``{name: model}``), the models' steps timed in turn within one loop, so that a slow spell
    of a shared machine slows every model alike and their ratio stays meaningful.

    Args:
        models: ``{name: compiled keras.Model}``, all taking ``x`` and ``y``.
        x, y: one batch.
        repeats: timed rounds (after ``warmup`` untimed steps of each model).

    Returns:
        ``{name: median seconds per step}``.
    """
    steps = {name: timed_training_step(model, x, y, warmup) for name, model in models.items()}
    seconds = {name: [] for name in models}
    for _ in range(repeats):
        for name, step in steps.items():
            seconds[name].append(step())
    return {name: float(np.median(values)) for name, values in seconds.items()}


def translation_step_seconds(makers, batch, batch_size=64, repeats=10, run_eagerly=False):
    """Median seconds of one training step of fresh translation models, timed side by side
    (``interleaved_step_seconds``) on the first ``batch_size`` pairs of ``batch``.

    Epoch times on a shared machine vary by a factor of two from one minute to the next, so
    two runs' seconds per epoch cannot say which model's step is faster; this can. Each model
    is compiled as ``training.fit_translation`` compiles it (Adam with gradient clipping, the
    cross-entropy of the real target words), so a step costs what it costs in training.

    Args:
        makers: ``{name: function returning a new, untrained model}``.
        batch: a ``data.TranslationBatch``.
        batch_size, repeats, run_eagerly: the batch's rows, the timed rounds, ``compile``'s.

    Returns:
        ``{name: median seconds per step}``.
    """
    from seqkeras.training import translation_loss

    models = {}
    for name, make in makers.items():
        models[name] = make()
        models[name].compile(optimizer=keras.optimizers.Adam(3e-3, clipnorm=1.0),
                             loss=translation_loss(), run_eagerly=run_eagerly)
    rows = slice(0, batch_size)
    return interleaved_step_seconds(models, (batch.source_ids[rows],
                                             batch.decoder_input_ids[rows]),
                                    batch.target_ids[rows], repeats=repeats)


def training_step_seconds(layer_output, batch, length, width, repeats=5, seed=0):
    """Median seconds of one training step (forward pass, backward pass, Adam update) of a model
    whose output is ``layer_output(inputs)`` for inputs ``(batch, length, width)`` under MSE.

    Args:
        layer_output: ``f(keras.Input) -> symbolic output`` of shape ``(batch, length, width)``,
            e.g. ``lambda x: keras.layers.LSTM(128, return_sequences=True)(x)``.
        batch, length, width: the input's shape.
        repeats: timed steps (after two untimed ones that trace and compile).
        seed: seed of the random inputs.

    Returns:
        The median of the timed steps, in seconds.

    Example:

    >>> seconds = training_step_seconds(lambda x: keras.layers.LSTM(8, return_sequences=True)(x),
    ...                                 batch=2, length=16, width=4, repeats=2)
    >>> 0.0 < seconds < 10.0
    True
    """
    inputs = keras.Input((length, width))
    model = keras.Model(inputs, layer_output(inputs))
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, length, width)).astype("float32")
    y = np.zeros((batch, length, model.output_shape[-1]), "float32")
    step = timed_training_step(model, x, y)
    return float(np.median([step() for _ in range(repeats)]))


def inference_seconds(model, inputs, repeats=10, warmup=2):
    """Median wall time of ``model.predict_on_batch(inputs)``, in seconds, after ``warmup``
    untimed calls (tracing and compilation): the "inference time per batch" of chapter 11."""
    forward = timed_call(lambda: model.predict_on_batch(inputs), warmup)
    return float(np.median([forward() for _ in range(repeats)]))
