"""What every seqkeras recurrent cell shares, and the Elman cell.

A cell computes one time step; ``keras.layers.RNN`` runs it over a sequence. The gated cells
live in ``seqkeras.layers.lstm`` and ``seqkeras.layers.gru``.
"""

from __future__ import annotations

import keras
from keras import ops

from seqkeras import arguments


class RecurrentCell(keras.layers.Layer):
    """Base of the seqkeras cells: units, initialisers, input checks and a zero initial state.

    Subclasses set ``state_size`` and create their weights in ``build()`` after calling
    ``self._input_dim(input_shape)``, which rejects anything but one time step.

    Args:
        units: dimension of the hidden state h_t, a positive integer.
        use_bias: whether the cell has biases.
        kernel_initializer: initializer of the input weights W_x.
        recurrent_initializer: initializer of the recurrent weights W_h.
        bias_initializer: initializer of the biases.
    """

    def __init__(self, units, use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = arguments.positive_int("units", units)
        self.use_bias = arguments.boolean("use_bias", use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.output_size = units

    def _input_dim(self, input_shape) -> int:
        if len(input_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects one time step, inputs of shape (batch, "
                f"input_dim); got input_shape={tuple(input_shape)}. Wrap the cell in "
                "keras.layers.RNN to run it over (batch, time, input_dim) sequences."
            )
        if input_shape[-1] is None:
            raise ValueError(f"the last dimension of the inputs must be known, got {input_shape}")
        return input_shape[-1]

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@keras.saving.register_keras_serializable(package="seqkeras")
class ElmanCell(RecurrentCell):
    """The simple recurrent network of Elman (1990), one time step.

    The hidden state is a squashed sum of the current input and the previous hidden state
    (Elman's "context units"):

        h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)

    Row-vector convention, as in Keras: ``x_t`` has shape ``(batch, input_dim)``, ``W_xh`` is
    ``(input_dim, units)`` and ``W_hh`` is ``(units, units)``. The output at step t is h_t itself.
    Wrap the cell in ``keras.layers.RNN`` to run it over a sequence; RNN handles masking (a masked
    step carries h_{t-1} forward unchanged), ``go_backwards`` and ``return_state``.

    Keras twin: ``keras.layers.SimpleRNNCell`` computes the same function; its ``kernel``,
    ``recurrent_kernel`` and ``bias`` are our ``W_xh``, ``W_hh`` and ``b_h``
    (``seqkeras.interop`` converts both ways). Unlike the twin, this cell has no dropout.

    Args:
        units: dimension of the hidden state h_t.
        activation: the squashing function; ``"tanh"`` as in the paper (Elman used the logistic
            sigmoid; tanh is the modern choice and the twin's default).
        use_bias: whether to add b_h.
        kernel_initializer: initializer of W_xh.
        recurrent_initializer: initializer of W_hh. ``"orthogonal"`` keeps the spectral radius
            at 1, the border between vanishing and exploding gradients.
        bias_initializer: initializer of b_h.

    Call arguments:
        inputs: x_t, shape ``(batch, input_dim)``.
        states: ``[h_{t-1}]``, shape ``(batch, units)``, or that tensor alone.
        training: unused; accepted for the RNN layer's signature.

    Returns:
        ``(h_t, [h_t])``: the output and the new state (the state unwrapped if ``states`` was).

    Example:

    >>> rnn = keras.layers.RNN(ElmanCell(16), return_sequences=True)
    >>> tuple(rnn(np.zeros((2, 10, 8))).shape)
    (2, 10, 16)

    References:
        - Elman, J. L. (1990). Finding structure in time. Cognitive Science, 14(2), 179-211.
    """

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(units, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.activation = keras.activations.get(activation)
        self.state_size = units

    def build(self, input_shape):
        input_dim = self._input_dim(input_shape)
        self.W_xh = self.add_weight(shape=(input_dim, self.units), name="W_xh",
                                    initializer=self.kernel_initializer)
        self.W_hh = self.add_weight(shape=(self.units, self.units), name="W_hh",
                                    initializer=self.recurrent_initializer)
        self.b_h = (self.add_weight(shape=(self.units,), name="b_h",
                                    initializer=self.bias_initializer)
                    if self.use_bias else None)

    def call(self, inputs, states, training=None):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        pre_activation = ops.matmul(inputs, self.W_xh) + ops.matmul(h_prev, self.W_hh)
        if self.use_bias:
            pre_activation = pre_activation + self.b_h
        h = self.activation(pre_activation)
        return h, ([h] if isinstance(states, (list, tuple)) else h)

    def get_config(self):
        return {**super().get_config(),
                "activation": keras.activations.serialize(self.activation)}
