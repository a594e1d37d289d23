"""Diagnostics of recurrent models: how much of a loss's gradient reaches each earlier time
step, and what each character costs a language model with and without its carried state."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from seqkeras.metrics import LN2


def _gradient(fn, x):
    """d fn(x) / d x for a scalar function built from keras.ops, on the active backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        return tape.gradient(y, x)
    if backend == "jax":
        import jax

        return jax.grad(fn)(x)
    if backend == "torch":
        import torch

        x = torch.tensor(np.asarray(x), requires_grad=True)
        fn(x).backward()
        return x.grad
    raise NotImplementedError(f"gradients are not implemented for the {backend!r} backend")


def state_gradient_norms(cell, inputs, loss_fn=None, initial_state=None):
    """||dL/dh_t|| for every step t of a recurrent cell unrolled over ``inputs`` (BPTT).

    The cell runs step by step; a zero perturbation eps_t is added to each hidden state,
    h_t <- h_t + eps_t, so dL/d eps_t = dL/dh_t: the gradient that backpropagation through time
    carries back to step t. For an Elman cell, dL/dh_t = dL/dh_{t+1} diag(1 - h_{t+1}^2) W_hh^T,
    a product of T - t Jacobians that shrinks or grows geometrically (Bengio et al. 1994).

    Args:
        cell: a built recurrent cell (``state_size`` and ``call(x_t, states)``); for cells with
            several states (LSTM's [h, c]) the first state h_t is the one measured.
        inputs: array of shape ``(batch, T, input_dim)``.
        loss_fn: scalar function of the last hidden state h_T; default ``sum(h_T)``.
        initial_state: list of initial states; default zeros.

    Returns:
        NumPy array of shape ``(T,)``: the batch mean of ||dL/dh_t||_2 for t = 1..T. Index -1
        is the last step; ``norms[-1 - k]`` is the gradient k steps back.
    """
    inputs = ops.convert_to_tensor(inputs)
    if len(inputs.shape) != 3:
        raise ValueError(f"inputs must have shape (batch, T, input_dim), got {inputs.shape}")
    batch, steps = inputs.shape[0], inputs.shape[1]
    if not cell.built:
        cell.build((batch, inputs.shape[2]))
    if initial_state is None:
        initial_state = list(cell.get_initial_state(batch_size=batch))
    loss_fn = loss_fn or ops.sum
    units = initial_state[0].shape[-1]

    def loss_of_perturbations(eps):
        states = list(initial_state)
        for t in range(steps):
            _, states = cell(inputs[:, t], states)
            states = list(states) if isinstance(states, (list, tuple)) else [states]
            states[0] = states[0] + eps[t]
        return loss_fn(states[0])

    eps = ops.zeros((steps, batch, units), dtype=inputs.dtype)
    grads = ops.convert_to_numpy(_gradient(loss_of_perturbations, eps))
    return np.linalg.norm(grads, axis=-1).mean(axis=1)


def gradient_ratio(norms, distance: int) -> float:
    """||dL/dh_(T-distance)|| / ||dL/dh_T||: the share of the last step's gradient that reaches
    ``distance`` steps further back. Below 1 it vanishes, above 1 it explodes.

    Args:
        norms: the output of ``state_gradient_norms`` (index -1 is step T).
        distance: how many steps back, at most ``len(norms) - 1``.
    """
    norms = np.asarray(norms)
    if not 0 <= distance < len(norms):
        raise ValueError(f"distance must be in [0, {len(norms) - 1}] for {len(norms)} steps, "
                         f"got {distance}")
    return float(norms[-1 - distance] / norms[-1])


def spectral_radius(matrix) -> float:
    """Largest absolute eigenvalue of a square matrix (a weight, a tensor or an array)."""
    matrix = np.asarray(ops.convert_to_numpy(matrix), dtype="float64")
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square, got shape {matrix.shape}")
    return float(np.abs(np.linalg.eigvals(matrix)).max())


def carried_state_bits(model, ids, lanes=32, window=100):
    """The cost in bits of every next character of ``ids`` under a language model of
    ``models.rnn_language_model`` (layers ``embedding``, ``rnn``, ``logits``), read in two ways.

    ``ids`` is cut into ``lanes`` contiguous streams read side by side, ``window`` characters at
    a time. ``"carried"``: each window starts from the state the previous one ended in, as Elman
    (1990) and Mikolov et al. (2010) ran their networks over continuous text. ``"zero"``: each
    window starts from a zero state, as the model was trained and as ``model.evaluate`` on
    windows scores it, so that the first characters of a window are predicted blind.

    Args:
        model: the language model.
        ids: int array, a long text.
        lanes: streams read in parallel (the batch).
        window: characters per step of the loop.

    Returns:
        ``{"carried": bits, "zero": bits}``, float arrays ``(lanes, steps)``: entry ``[l, t]``
        is the cost of character ``ids[l * steps + t + 1]`` given everything before it in its
        lane (``steps`` is ``len(ids) // lanes`` rounded down to whole windows).
    """
    cell = model.get_layer("rnn").cell
    sizes = cell.state_size if isinstance(cell.state_size, list | tuple) else [cell.state_size]
    steps = (len(ids) - 1) // lanes // window * window
    if steps == 0:
        raise ValueError(f"{len(ids)} ids are too few for {lanes} lanes of {window} characters")
    ids = np.asarray(ids)
    inputs = ids[:lanes * steps].reshape(lanes, steps)
    targets = ids[1:lanes * steps + 1].reshape(lanes, steps)
    # One compiled step: a window and a starting state -> each character's loss, the end state.
    window_ids = keras.Input((window,), batch_size=lanes, dtype="int32")
    window_targets = keras.Input((window,), batch_size=lanes, dtype="int32")
    starts = [keras.Input((size,), batch_size=lanes) for size in sizes]
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    h, *ends = rnn(model.get_layer("embedding")(window_ids), initial_state=starts)
    nats = keras.losses.sparse_categorical_crossentropy(
        window_targets, model.get_layer("logits")(h), from_logits=True)
    step = keras.Model([window_ids, window_targets, *starts], [nats, *ends])
    zeros = [np.zeros((lanes, size), "float32") for size in sizes]
    carried, bits = zeros, {"carried": [], "zero": []}
    for first in range(0, steps, window):
        chunk = [inputs[:, first:first + window], targets[:, first:first + window]]
        nats_zero, *_ = step.predict_on_batch([*chunk, *zeros])
        nats_carried, *carried = step.predict_on_batch([*chunk, *carried])
        bits["zero"].append(np.asarray(nats_zero) / LN2)
        bits["carried"].append(np.asarray(nats_carried) / LN2)
    return {name: np.concatenate(chunks, axis=1) for name, chunks in bits.items()}

