"""Losses."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqkeras")
class SmoothedCrossEntropy(keras.losses.Loss):
    """Cross-entropy against label-smoothed targets, averaged over the non-padding tokens.

    Label smoothing (Szegedy et al. 2016; the Transformer used epsilon = 0.1, section 5.4)
    trains against q = (1 - epsilon) one_hot(y) + epsilon / V instead of one_hot(y):

        loss = (1 - epsilon) (-log p_y) + epsilon mean_v(-log p_v)

    "This hurts perplexity, as the model learns to be more unsure, but improves accuracy and
    BLEU score" (Vaswani et al.). With epsilon = 0 it equals
    ``SparseCategoricalCrossentropy(from_logits=True, ignore_class=ignore_class)``.

    Args:
        label_smoothing: epsilon in [0, 1).
        ignore_class: target id that is padding (excluded from the mean), or None.
        from_logits: whether ``y_pred`` are logits (else probabilities).

    Call arguments:
        y_true: int ``(batch, T)``; y_pred: ``(batch, T, V)``.

    Example:

    >>> model.compile(optimizer, loss=SmoothedCrossEntropy(0.1))
    """

    def __init__(self, label_smoothing=0.1, ignore_class=0, from_logits=True,
                 name="smoothed_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
        self.label_smoothing, self.ignore_class = float(label_smoothing), ignore_class
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        log_p = (ops.log_softmax(y_pred, axis=-1) if self.from_logits
                 else ops.log(ops.clip(y_pred, 1e-7, 1.0)))
        y_true = ops.cast(y_true, "int32")
        real = (ops.ones_like(y_true, dtype="float32") if self.ignore_class is None
                else ops.cast(ops.not_equal(y_true, self.ignore_class), "float32"))
        nll = -ops.sum(ops.one_hot(ops.maximum(y_true, 0), ops.shape(log_p)[-1]) * log_p, -1)
        uniform = -ops.mean(log_p, axis=-1)
        token_loss = (1.0 - self.label_smoothing) * nll + self.label_smoothing * uniform
        # Keras divides the returned values by their number; rescale so that the result is the
        # mean over real tokens, as ignore_class does for the built-in loss.
        count = ops.sum(ops.ones_like(real))
        return token_loss * real * count / ops.maximum(ops.sum(real), 1.0)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing,
                "ignore_class": self.ignore_class, "from_logits": self.from_logits}
