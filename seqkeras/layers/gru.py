"""The gated recurrent unit: two gates and no separate cell state."""

from __future__ import annotations

import keras
from keras import ops

from seqkeras import arguments
from seqkeras.layers.recurrent import RecurrentCell


@keras.saving.register_keras_serializable(package="seqkeras")
class GRUCell(RecurrentCell):
    """Gated recurrent unit (Cho et al. 2014), one time step.

    An update gate z_t and a reset gate r_t; the state h_t is itself the memory (no c_t):

        z_t  = sigmoid(x_t W_xz + h_{t-1} W_hz + b_z)              update gate
        r_t  = sigmoid(x_t W_xr + h_{t-1} W_hr + b_r)              reset gate
        h~_t = tanh(x_t W_xh + (r_t * h_{t-1}) W_hh + b_h)         reset_after=False (Cho et al.)
        h~_t = tanh(x_t W_xh + b_xh + r_t * (h_{t-1} W_hh + b_hh)) reset_after=True (cuDNN's)
        h_t  = z_t * h_{t-1} + (1 - z_t) * h~_t

    h_t interpolates between keeping the old state (z_t = 1) and replacing it (z_t = 0): the
    LSTM's forget and input gates tied together as f = z, i = 1 - z. ``reset_after`` chooses
    where r_t acts: before the recurrent product (the paper) or after it. The second form lets
    h_{t-1} W_h be one product for all three blocks, which is why cuDNN (and Keras by default)
    uses it; it needs a second bias, b_hh, because r_t multiplies it.

    Weights, in the twin's block order [z | r | h]: ``W_x = [W_xz | W_xr | W_xh]`` of shape
    ``(input_dim, 3 units)``, ``W_h = [W_hz | W_hr | W_hh]`` of shape ``(units, 3 units)``, and
    ``b``: shape ``(3 units,)`` = [b_z | b_r | b_h] when ``reset_after=False``; shape
    ``(2, 3 units)`` when ``reset_after=True``, row 0 the input biases [b_xz | b_xr | b_xh]
    and row 1 the recurrent biases [b_hz | b_hr | b_hh] (the gates use their sum).

    Keras twin: ``keras.layers.GRUCell`` with the same ``reset_after`` (``kernel``,
    ``recurrent_kernel``, ``bias`` are ``W_x``, ``W_h``, ``b``); ``seqkeras.interop`` converts
    both ways. The constructor defaults are the twin's. Unlike the twin, no dropout.

    Args:
        units: dimension of h_t.
        activation: the squashing of h~_t (``"tanh"``).
        recurrent_activation: the gates' function (``"sigmoid"``).
        use_bias: whether the cell has b.
        kernel_initializer: initializer of W_x.
        recurrent_initializer: initializer of W_h.
        bias_initializer: initializer of b.
        reset_after: ``True`` or ``False``, where the reset gate is applied (see above).

    Call arguments:
        inputs: x_t, shape ``(batch, input_dim)``.
        states: ``[h_{t-1}]``, shape ``(batch, units)``, or that tensor alone.
        training: unused; accepted for the RNN layer's signature.

    Returns:
        ``(h_t, [h_t])`` (the state unwrapped if ``states`` was).

    Example:

    >>> gru = keras.layers.RNN(GRUCell(16, reset_after=False), return_sequences=True)
    >>> tuple(gru(np.zeros((2, 10, 8))).shape)
    (2, 10, 16)

    References:
        - Cho, K. et al. (2014). Learning phrase representations using RNN encoder-decoder for
          statistical machine translation. EMNLP, eq. 5-8.
        - Chung, J., Gulcehre, C., Cho, K. & Bengio, Y. (2014). Empirical evaluation of gated
          recurrent neural networks on sequence modeling. arXiv:1412.3555.
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
        reset_after=True,
        **kwargs,
    ):
        # True: the reset gate after the recurrent product (Keras' default); False: before it,
        # as in Cho et al. 2014.
        arguments.boolean("reset_after", reset_after)
        super().__init__(units, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.reset_after = reset_after
        self.state_size = units

    def build(self, input_shape):
        input_dim = self._input_dim(input_shape)
        self.W_x = self.add_weight(shape=(input_dim, 3 * self.units), name="W_x",
                                   initializer=self.kernel_initializer)
        self.W_h = self.add_weight(shape=(self.units, 3 * self.units), name="W_h",
                                   initializer=self.recurrent_initializer)
        bias_shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        self.b = (self.add_weight(shape=bias_shape, name="b", initializer=self.bias_initializer)
                  if self.use_bias else None)

    def call(self, inputs, states, training=None):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        x_proj = ops.matmul(inputs, self.W_x)  # [x W_xz | x W_xr | x W_xh] in one product
        if self.use_bias:
            x_proj = x_proj + (self.b[0] if self.reset_after else self.b)
        x_z, x_r, x_h = ops.split(x_proj, 3, axis=-1)
        if self.reset_after:
            h_proj = ops.matmul(h_prev, self.W_h)  # all three blocks in one product
            if self.use_bias:
                h_proj = h_proj + self.b[1]
            h_z, h_r, h_h = ops.split(h_proj, 3, axis=-1)
            z = self.recurrent_activation(x_z + h_z)
            r = self.recurrent_activation(x_r + h_r)
            h_candidate = self.activation(x_h + r * h_h)
        else:
            W_h_gates, W_hh = self.W_h[:, :2 * self.units], self.W_h[:, 2 * self.units:]
            h_z, h_r = ops.split(ops.matmul(h_prev, W_h_gates), 2, axis=-1)
            z = self.recurrent_activation(x_z + h_z)
            r = self.recurrent_activation(x_r + h_r)
            h_candidate = self.activation(x_h + ops.matmul(r * h_prev, W_hh))
        h = z * h_prev + (1 - z) * h_candidate
        return h, ([h] if isinstance(states, (list, tuple)) else h)

    def get_config(self):
        return {
            **super().get_config(),
            "activation": keras.activations.serialize(self.activation),
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }
