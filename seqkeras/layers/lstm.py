"""The long short-term memory cell: gates around an additive cell state."""

from __future__ import annotations

import keras
from keras import ops

from seqkeras import arguments
from seqkeras.layers.recurrent import RecurrentCell


@keras.saving.register_keras_serializable(package="seqkeras")
class LSTMCell(RecurrentCell):
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers,
    Schmidhuber & Cummins 2000), one time step.

    Three sigmoid gates, each between 0 (closed) and 1 (open), control a cell state c_t that
    is updated by *addition*:

        i_t = sigmoid(x_t W_xi + h_{t-1} W_hi + b_i)      input gate: how much to write
        f_t = sigmoid(x_t W_xf + h_{t-1} W_hf + b_f)      forget gate: how much to keep
        g_t = tanh(x_t W_xg + h_{t-1} W_hg + b_g)         candidate cell input
        o_t = sigmoid(x_t W_xo + h_{t-1} W_ho + b_o)      output gate: how much to show
        c_t = f_t * c_{t-1} + i_t * g_t                   the cell state
        h_t = o_t * tanh(c_t)

    With f_t = 1 and i_t = 0 the cell state is copied unchanged, and so is the gradient:
    dc_t/dc_{t-1} = diag(f_t). That path is the "constant error carousel" of the 1997 paper, which
    had no forget gate at all (in effect f_t = 1 always): its cell could only accumulate, and
    on long streams its state grew without bound until Gers et al. (2000) let it learn to reset.

    The four weight matrices of each kind are stored side by side, in the order [i | f | g | o]
    (the Keras twin's order), so one matrix product computes all four pre-activations:
    ``W_x = [W_xi | W_xf | W_xg | W_xo]`` of shape ``(input_dim, 4 units)``,
    ``W_h = [W_hi | W_hf | W_hg | W_ho]`` of shape ``(units, 4 units)`` and
    ``b = [b_i | b_f | b_g | b_o]`` of shape ``(4 units,)``. The states are ``[h_t, c_t]``.

    Keras twin: ``keras.layers.LSTMCell`` (``kernel``, ``recurrent_kernel``, ``bias`` are our
    ``W_x``, ``W_h``, ``b``); ``seqkeras.interop`` converts both ways. The constructor defaults
    are the twin's. Unlike the twin, this cell has no dropout.

    Args:
        units: dimension of h_t and c_t.
        activation: the squashing of g_t and of c_t in h_t (``"tanh"``).
        recurrent_activation: the gates' function (``"sigmoid"``).
        use_bias: whether the cell has b.
        kernel_initializer: initializer of W_x.
        recurrent_initializer: initializer of W_h.
        bias_initializer: initializer of b.
        unit_forget_bias: if True, b_f starts at 1 instead of ``bias_initializer``'s value
            (Jozefowicz, Zaremba & Sutskever 2015): the forget gate starts mostly open,
            f_t ~ sigmoid(1) = 0.73, so the carousel carries the state (and the gradient) from
            the first step of training.

    Call arguments:
        inputs: x_t, shape ``(batch, input_dim)``.
        states: ``[h_{t-1}, c_{t-1}]``, each of shape ``(batch, units)``.
        training: unused; accepted for the RNN layer's signature.

    Returns:
        ``(h_t, [h_t, c_t])``.

    Example:

    >>> lstm = keras.layers.RNN(LSTMCell(16), return_sequences=True)
    >>> tuple(lstm(np.zeros((2, 10, 8))).shape)
    (2, 10, 16)

    References:
        - Hochreiter, S. & Schmidhuber, J. (1997). Long short-term memory. Neural Computation,
          9(8), 1735-1780.
        - Gers, F. A., Schmidhuber, J. & Cummins, F. (2000). Learning to forget: continual
          prediction with LSTM. Neural Computation, 12(10), 2451-2471.
    """

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(units, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.unit_forget_bias = arguments.boolean("unit_forget_bias", unit_forget_bias)
        self.state_size = [units, units]

    def build(self, input_shape):
        input_dim = self._input_dim(input_shape)
        self.W_x = self.add_weight(shape=(input_dim, 4 * self.units), name="W_x",
                                   initializer=self.kernel_initializer)
        self.W_h = self.add_weight(shape=(self.units, 4 * self.units), name="W_h",
                                   initializer=self.recurrent_initializer)
        self.b = (self.add_weight(shape=(4 * self.units,), name="b",
                                  initializer=self._bias_initializer)
                  if self.use_bias else None)

    def _bias_initializer(self, shape, dtype=None):
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype=dtype)
        b_i, b_g_and_o = (self.bias_initializer((n * self.units,), dtype=dtype) for n in (1, 2))
        b_f = ops.ones((self.units,), dtype=dtype)
        return ops.concatenate([b_i, b_f, b_g_and_o])

    def gates(self, inputs, h_prev):
        """The input, forget and output gates and the candidate, ``(i_t, f_t, g_t, o_t)``, for
        inputs x_t and the previous output h_{t-1}; ``call`` uses them, and a chapter can
        read them to see what the cell keeps and what it forgets."""
        z = ops.matmul(inputs, self.W_x) + ops.matmul(h_prev, self.W_h)  # 4 pre-activations
        if self.use_bias:
            z = z + self.b
        z_i, z_f, z_g, z_o = ops.split(z, 4, axis=-1)
        return (self.recurrent_activation(z_i), self.recurrent_activation(z_f),
                self.activation(z_g), self.recurrent_activation(z_o))

    def call(self, inputs, states, training=None):
        h_prev, c_prev = states
        i, f, g, o = self.gates(inputs, h_prev)
        c = f * c_prev + i * g
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {
            **super().get_config(),
            "activation": keras.activations.serialize(self.activation),
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }
