"""Hard (stochastic) attention on the attention encoder-decoder (Xu et al. 2015)."""

from __future__ import annotations

import keras
from keras import ops

from seqkeras import arguments
from seqkeras.models.translation import AttentionSeq2Seq


@keras.saving.register_keras_serializable(package="seqkeras")
class HardAttentionSeq2Seq(AttentionSeq2Seq):
    """Hard (stochastic) attention, after Xu et al. (2015, section 4.1), on ``AttentionSeq2Seq``.

    Instead of the average c_i = sum_j alpha_ij h_j, the decoder reads *one* annotation,
    c_i = h_{z_i} with z_i ~ Multinoulli(alpha_i). Sampling has no gradient, so the score's
    weights learn by REINFORCE (Williams 1992): the gradient of the expected log-likelihood is
    estimated by (r_i - b) d log alpha_{i z_i}, where the reward r_i is the log-probability the
    decoder gave the right word at position i and the baseline b is the batch's mean reward
    (Xu et al. used a moving average; both reduce the estimator's variance without biasing it).
    Because the context enters only the output at position i, r_i is exactly the reward of the
    choice z_i. At evaluation (``training=False``) the decoder reads the most probable position.

    Args: those of ``AttentionSeq2Seq``, plus ``seed`` for the sampling.

    Returns:
        ``decode`` returns what every translation model's does (logits, and alpha with
        ``return_weights``), sampling z_i when ``training=True``; ``decode_step`` reads the
        most probable position. Only a training step's ``call`` returns
        ``reinforce_outputs``, ``(logits, log alpha_{i z_i})``, for ``compute_loss``.

    References:
        Xu et al. (2015), Show, attend and tell, https://arxiv.org/abs/1502.03044
    """

    def __init__(self, *args, seed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.seed = None if seed is None else arguments.integer("seed", seed, 0,
                                                                what="None or an integer >= 0")
        self.seed_generator = keras.random.SeedGenerator(seed)

    def hard_readout(self, states, annotations, source_mask, training=None):
        """``(logits, alpha, log alpha_{i z_i})``: z_i sampled from alpha_i in training, the
        most probable position otherwise."""
        _, alpha = self.attention(states, annotations, values_mask=source_mask)
        log_alpha = ops.log(ops.maximum(alpha, 1e-9))
        if training:
            flat = ops.reshape(log_alpha, (-1, ops.shape(alpha)[-1]))
            chosen = ops.reshape(keras.random.categorical(flat, 1, seed=self.seed_generator),
                                 ops.shape(alpha)[:2])
        else:
            chosen = ops.argmax(alpha, axis=-1)
        one_hot = ops.one_hot(chosen, ops.shape(alpha)[-1], dtype=annotations.dtype)
        logits = self.output_logits(ops.matmul(one_hot, annotations), states,
                                    training=training)
        return logits, alpha, ops.sum(one_hot * log_alpha, axis=-1)

    def readout(self, states, annotations, source_mask, training=None):
        """``(logits, alpha)`` of the hard context h_{z_i} (sampled only when ``training``)."""
        logits, alpha, _ = self.hard_readout(states, annotations, source_mask, training)
        return logits, alpha

    def reinforce_outputs(self, decoder_input_ids, encoded):
        """What a training step's loss needs: ``(logits, log alpha_{i z_i})``, z_i sampled."""
        annotations, source_mask, _, _ = encoded
        states = self.decoder_states(decoder_input_ids, encoded, training=True)
        logits, _, log_alpha_chosen = self.hard_readout(states, annotations, source_mask,
                                                        training=True)
        return logits, log_alpha_chosen

    def call(self, inputs, training=False):
        """Logits, like the other models; in a training step ``reinforce_outputs`` instead,
        whose second element the REINFORCE term of ``compute_loss`` needs."""
        source_ids, decoder_input_ids = inputs
        encoded = self.encode(source_ids, training=training)
        if training:
            return self.reinforce_outputs(decoder_input_ids, encoded)
        return self.decode(decoder_input_ids, encoded)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Masked cross-entropy (padding, id 0, ignored; ``sample_weight`` weighs rows or
        tokens as Keras' losses do), plus the REINFORCE term in training steps."""
        logits, log_alpha_chosen = y_pred if isinstance(y_pred, tuple | list) else (y_pred, None)
        real = ops.cast(ops.not_equal(y, 0), "float32")
        weight = real
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            if len(sample_weight.shape) == 1:  # one weight per sentence
                sample_weight = ops.expand_dims(sample_weight, -1)
            weight = real * sample_weight
        token_nll = keras.losses.sparse_categorical_crossentropy(
            y, ops.cast(logits, "float32"), from_logits=True)
        count = ops.maximum(ops.sum(real), 1.0)
        nll = ops.sum(token_nll * weight) / count
        if log_alpha_chosen is None:
            return nll
        reward = ops.stop_gradient(-token_nll)
        baseline = ops.sum(reward * weight) / ops.maximum(ops.sum(weight), 1e-9)
        reinforce = -ops.sum((reward - baseline) * log_alpha_chosen * weight) / count
        return nll + reinforce

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
