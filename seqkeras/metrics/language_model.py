"""Language-model scores: bits per character and perplexity (chapters 1-3, 5)."""

from __future__ import annotations

import math

import keras

LN2 = math.log(2.0)


def bits_per_character(cross_entropy_nats: float) -> float:
    """Mean cross-entropy in nats (what Keras' losses report) converted to bits per character.

    BPC = H / ln 2, where H = -mean_t ln p(x_t | x_<t). A model that knows nothing about a
    63-character alphabet scores log2 63 = 5.98 bits.
    """
    return float(cross_entropy_nats) / LN2


def perplexity(cross_entropy_nats: float) -> float:
    """exp(H): the number of equally likely choices the model is as unsure as."""
    return math.exp(float(cross_entropy_nats))


@keras.saving.register_keras_serializable(package="seqkeras")
class BitsPerCharacter(keras.metrics.Mean):
    """Mean next-character cross-entropy in bits, as a Keras metric for ``compile()``.

    Args:
        from_logits: whether ``y_pred`` holds logits (True) or probabilities.
        name: metric name shown by ``fit``.

    Call arguments (``update_state``):
        y_true: integer targets, shape ``(batch, time)``.
        y_pred: scores, shape ``(batch, time, vocab_size)``.
        sample_weight: optional weights, shape ``(batch, time)``.
    """

    def __init__(self, from_logits=True, name="bpc", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.from_logits = from_logits

    def update_state(self, y_true, y_pred, sample_weight=None):
        nats = keras.losses.sparse_categorical_crossentropy(y_true, y_pred,
                                                            from_logits=self.from_logits)
        return super().update_state(nats / LN2, sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


