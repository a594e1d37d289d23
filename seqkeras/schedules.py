"""Learning-rate schedules."""

from __future__ import annotations

import keras
from keras import ops

from seqkeras import arguments


@keras.saving.register_keras_serializable(package="seqkeras")
class TransformerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The warm-up schedule of Vaswani et al. (2017, eq. 3):

        lrate = scale * d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5)

    The rate rises linearly for ``warmup_steps`` steps, peaks at
    scale / sqrt(d_model * warmup_steps), then decays as 1 / sqrt(step). A post-LN Transformer
    trained at its peak rate from the first step diverges: the warm-up lets Adam's second-moment
    estimates settle first (Xiong et al. 2020).

    Args:
        d_model: the model width.
        warmup_steps: steps of linear warm-up (the paper: 4000, for 100k steps in all).
        scale: a factor on the whole schedule (1 in the paper).

    Example:

    >>> schedule = TransformerSchedule(128, warmup_steps=400)
    >>> optimizer = keras.optimizers.Adam(schedule, beta_2=0.98, epsilon=1e-9)
    >>> peak = 128 ** -0.5 * 400 ** -0.5   # Keras counts steps from 0: step 399 is the 400th
    >>> rates = [float(schedule(step)) for step in (0, 199, 399, 3999)]
    >>> bool(np.isclose(rates[2], peak)), rates[0] < rates[1] < rates[2] > rates[3]
    (True, True)
    """

    def __init__(self, d_model, warmup_steps=4000, scale=1.0):
        self.d_model = arguments.positive_int("d_model", d_model)
        self.warmup_steps = arguments.positive_int("warmup_steps", warmup_steps)
        self.scale = arguments.positive_number("scale", scale)

    def __call__(self, step):
        step = ops.cast(step, "float32") + 1.0  # Keras counts optimizer steps from 0
        return (self.scale * self.d_model ** -0.5
                * ops.minimum(ops.rsqrt(step), step * self.warmup_steps ** -1.5))

    def get_config(self):
        return {"d_model": self.d_model, "warmup_steps": self.warmup_steps, "scale": self.scale}
