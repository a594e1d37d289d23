"""Losses."""

from __future__ import annotations

import keras
from keras import ops

from seqkeras import arguments


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

    >>> loss = SmoothedCrossEntropy(0.1)
    >>> y_true = np.array([[2, 1, 0]])                  # the last position is padding
    >>> uniform_logits = np.zeros((1, 3, 4), "float32")
    >>> round(float(loss(y_true, uniform_logits)), 4)   # ln 4, whatever the smoothing
    1.3863

    In training, ``model.compile(optimizer, loss=SmoothedCrossEntropy(0.1))``.
    """

    def __init__(self, label_smoothing=0.1, ignore_class=0, from_logits=True,
                 name="smoothed_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = arguments.rate("label_smoothing", label_smoothing)
        self.ignore_class = (None if ignore_class is None
                             else arguments.integer("ignore_class", ignore_class))
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


def soft_target_loss(student_logits, teacher_logits, temperature=2.0, weights=None):
    """DistilBERT's distillation loss (Sanh et al. 2019, after Hinton et al. 2015): the
    cross-entropy of the student's softened distribution against the teacher's,

        L_ce = -T^2 mean_rows sum_v softmax(t / T)_v log softmax(s / T)_v

    The T^2 keeps the gradients' size independent of the temperature. Rows are every leading
    position of the logits ``(..., V)``; ``weights`` (the leading shape) makes the mean a
    weighted one, e.g. over the real masked positions only.
    """
    arguments.positive_number("temperature", temperature)
    teacher = ops.softmax(ops.cast(teacher_logits, "float32") / temperature, axis=-1)
    student = ops.log_softmax(ops.cast(student_logits, "float32") / temperature, axis=-1)
    row_loss = -temperature ** 2 * ops.sum(teacher * student, axis=-1)
    if weights is None:
        return ops.mean(row_loss)
    weights = ops.cast(weights, "float32")
    return ops.sum(row_loss * weights) / ops.maximum(ops.sum(weights), 1e-12)


def soft_target_kl(student_logits, teacher_logits, temperature=2.0, weights=None):
    """``soft_target_loss`` less the teacher's own entropy: T^2 KL(teacher_T || student_T),

        T^2 mean_rows sum_v p_v (log p_v - log q_v),   p = softmax(t / T), q = softmax(s / T)

    The same gradients for the student (the entropy does not depend on it), but a number that
    reads: 0 when the student's softened distribution is the teacher's, whatever the
    teacher's entropy. The cross-entropy ``soft_target_loss`` stays near that entropy and
    barely moves as the student learns; report this one.
    """
    arguments.positive_number("temperature", temperature)
    teacher_log = ops.log_softmax(ops.cast(teacher_logits, "float32") / temperature, axis=-1)
    student_log = ops.log_softmax(ops.cast(student_logits, "float32") / temperature, axis=-1)
    row_kl = temperature ** 2 * ops.sum(ops.exp(teacher_log) * (teacher_log - student_log),
                                        axis=-1)
    if weights is None:
        return ops.mean(row_kl)
    weights = ops.cast(weights, "float32")
    return ops.sum(row_kl * weights) / ops.maximum(ops.sum(weights), 1e-12)


def hidden_cosine_loss(student_hidden, teacher_hidden, mask=None):
    """DistilBERT's cosine embedding loss: 1 - cos(h_student, h_teacher), averaged over the
    positions where ``mask`` ``(batch, T)`` is true (all when None); it aligns the directions
    of the two models' hidden states."""
    student = ops.cast(student_hidden, "float32")
    teacher = ops.cast(teacher_hidden, "float32")
    cosine = ops.sum(student * teacher, -1) / ops.maximum(
        ops.sqrt(ops.sum(student * student, -1) * ops.sum(teacher * teacher, -1)), 1e-12)
    if mask is None:
        return ops.mean(1.0 - cosine)
    mask = ops.cast(mask, "float32")
    return ops.sum((1.0 - cosine) * mask) / ops.maximum(ops.sum(mask), 1.0)
