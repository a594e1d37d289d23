"""Synthetic tasks, only where the paper itself used them: the long-time-lag problems of the
LSTM paper."""

from __future__ import annotations

import numpy as np

from seqkeras import arguments


def adding_problem(num_sequences: int, length: int, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber 1997, experiment 4), in its common modern form.

    Each sequence has two channels: channel 0 holds values drawn uniformly from [0, 1]; channel 1
    is a marker, 1 at exactly two positions (one in the first half of the sequence, one in the
    second) and 0 elsewhere. The target is the sum of the two marked values. To solve it a model
    must remember the first marked value across up to ``length - 1`` steps of distractors; the
    trivial predictor, always 1.0 (the mean of the sum), scores an MSE of 1/6 (the variance of
    the sum of two uniforms).

    Args:
        num_sequences: how many sequences.
        length: T, the number of time steps, at least 2.
        seed: seed of the NumPy generator; the same seed gives the same data.

    Returns:
        ``(inputs, targets)``: float32 arrays of shapes ``(num_sequences, length, 2)`` and
        ``(num_sequences,)``.
    """
    arguments.positive_int("num_sequences", num_sequences)
    arguments.integer("length", length, 2, what="an integer >= 2 (one marker in each half)")
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(num_sequences, length))
    half = length // 2
    first = rng.integers(0, half, size=num_sequences)
    second = rng.integers(half, length, size=num_sequences)
    rows = np.arange(num_sequences)
    markers = np.zeros((num_sequences, length))
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    inputs = np.stack([values, markers], axis=-1).astype("float32")
    targets = (values[rows, first] + values[rows, second]).astype("float32")
    return inputs, targets
