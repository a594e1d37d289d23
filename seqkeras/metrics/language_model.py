"""Language-model scores: bits per character and perplexity (chapters 1-3, 5), and the
cross-entropy of a translation model's next target words (chapters 5-8)."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

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


def translation_cross_entropy(model, batch, batch_size=256) -> float:
    """Mean cross-entropy in nats per real target word of ``batch``, with no label smoothing:
    the one validation loss that compares models trained with different losses (chapter 8's
    Transformer trains on a smoothed one, which reads higher for the same predictions).

    Args:
        model: a translation model called as ``model((source_ids, decoder_input_ids))``,
            returning next-word logits ``(batch, target_length, vocabulary_size)``.
        batch: a ``data.TranslationBatch``; padding (target id 0) is left out.
        batch_size: verses per forward pass (memory, not the result).

    Returns:
        -mean ln p(y_i | y_<i, x) over every real target word, as a float.
    """
    total, words = 0.0, 0
    for start in range(0, len(batch), batch_size):
        rows = slice(start, start + batch_size)
        targets = batch.target_ids[rows]
        logits = model((batch.source_ids[rows], batch.decoder_input_ids[rows]), training=False)
        log_probs = ops.take_along_axis(ops.log_softmax(logits, axis=-1),
                                        ops.convert_to_tensor(targets[..., None]), axis=-1)
        real = targets != 0
        total -= float(np.sum(ops.convert_to_numpy(log_probs)[..., 0][real]))
        words += int(real.sum())
    return total / words


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


