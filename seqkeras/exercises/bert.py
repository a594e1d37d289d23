"""Write it yourself: BERT's input embeddings (Devlin et al. 2018, figure 2) and DistilBERT's
soft-target loss (Sanh et al. 2019, after Hinton et al. 2015), checked against
``seqkeras.layers.BertEmbeddings`` and ``seqkeras.losses.soft_target_loss``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from seqkeras.exercises.report import (
    LearnerError,
    as_array,
    check_class,
    compare,
    float32,
    matches,
    not_implemented,
    report,
    run_learner,
)
from seqkeras.layers import BertEmbeddings
from seqkeras.losses import soft_target_loss


class BertEmbeddingsExercise(BertEmbeddings):
    """``BertEmbeddings`` with its sub-layers built for you: ``self.token_embedding`` and
    ``self.segment_embedding`` (``keras.layers.Embedding``, tables ``.embeddings`` of shape
    (V, H) and (2, H)), ``self.position_embedding.embeddings`` (max_sequence_length, H),
    ``self.norm`` (``keras.layers.LayerNormalization``) and ``self.dropout_layer``. Write
    ``call(self, token_ids, segment_ids, training=None)``: int ``(batch, T)`` twice ->
    ``(batch, T, H)`` = Dropout(LayerNorm(E_token[w_t] + P[t] + E_segment[s_t]))."""

    def __init__(self, vocabulary_size, hidden_dim, **kwargs):
        kwargs.pop("embedding_dim", None)  # no ALBERT projection in the exercise
        super().__init__(vocabulary_size, hidden_dim, **kwargs)

    def call(self, token_ids, segment_ids, training=None):
        raise NotImplementedError("sum the token, position and segment embeddings, normalise, "
                                  "drop out")


def _layer_norm(x, gamma, beta, epsilon=1e-12):
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def _embeddings(w, token_ids, segment_ids, segments=True, positions=True, first=0, norm=True,
                norm_tokens_only=False):
    """BERT's input embeddings in NumPy with adjustable mistakes."""
    tokens = w["token_embedding"][token_ids]
    length = token_ids.shape[1]
    if norm_tokens_only:
        tokens = _layer_norm(tokens, w["gamma"], w["beta"])
    x = tokens + (w["position_embedding"][first:first + length] if positions else 0) + \
        (w["segment_embedding"][segment_ids] if segments else 0)
    return _layer_norm(x, w["gamma"], w["beta"]) if norm and not norm_tokens_only else x


EMBEDDING_MISTAKES = {
    "the segment embedding E_segment[s_t] is missing (sentence A and B look alike)":
        dict(segments=False),
    "the position embedding P[t] is missing (the encoder sees a bag of words)":
        dict(positions=False),
    "the layer normalisation of the sum is missing": dict(norm=False),
    "positions start at 1: the first token takes P[0]": dict(first=1),
    "only the token embedding is normalised: LayerNorm applies to the sum of the three":
        dict(norm_tokens_only=True),
}


def _weights(layer):
    return {"token_embedding": as_array(layer.token_embedding.embeddings, "table"),
            "segment_embedding": as_array(layer.segment_embedding.embeddings, "table"),
            "position_embedding": as_array(layer.position_embedding.embeddings, "table"),
            "gamma": as_array(layer.norm.gamma, "gamma"), "beta": as_array(layer.norm.beta, "b")}


def check_bert_embeddings(cls, vocabulary_size=50, hidden_dim=8, max_sequence_length=16):
    """Check a subclass of ``BertEmbeddingsExercise`` on sentence pairs (at inference, then
    that dropout acts in training, then inside a compiled model); returns a ``CheckReport``."""
    piece = "BERT's input embeddings"
    check_class(cls, BertEmbeddingsExercise, piece)
    rng = np.random.default_rng(0)
    options = dict(max_sequence_length=max_sequence_length, dropout=0.5)
    reference = BertEmbeddings(vocabulary_size, hidden_dim, **options)
    token_ids = rng.integers(1, vocabulary_size, size=(3, 7)).astype("int32")
    segment_ids = (np.arange(7)[None] >= np.array([[3], [5], [7]])).astype("int32")
    reference.build(token_ids.shape)
    reference.set_weights([float32(rng, w.shape, 0.5) + (1.0 if "gamma" in w.name else 0.0)
                           for w in reference.weights])
    weights = _weights(reference)
    try:
        learner = run_learner(cls, vocabulary_size, hidden_dim, **options)
        learner.build(token_ids.shape)
        learner.set_weights(reference.get_weights())
        cases = {"sentence pairs": (token_ids, segment_ids),
                 "a batch of one": (token_ids[:1], segment_ids[:1])}
        for what, (tokens, segments) in cases.items():
            expected = as_array(reference(tokens, segments, training=False), "reference")
            got = as_array(run_learner(learner, ops.convert_to_tensor(tokens),
                                       ops.convert_to_tensor(segments), training=False),
                           "the embeddings")
            if problem := compare(got, expected, "the embeddings", 1e-4):
                named = next((m for m, o in EMBEDDING_MISTAKES.items()
                              if matches(got, _embeddings(weights, tokens, segments, **o),
                                         1e-4)), None)
                return report(piece, False, f"with {what}: {named or problem}.")
        trained = as_array(run_learner(learner, token_ids, segment_ids, training=True), "out")
        if matches(trained, as_array(reference(token_ids, segment_ids, training=False), "r")):
            return report(piece, False, "with training=True the output is the inference one: "
                                        "dropout is missing (self.dropout_layer(x, "
                                        "training=training)).")
        inputs = [keras.Input((7,), dtype="int32"), keras.Input((7,), dtype="int32")]
        model = keras.Model(inputs, run_learner(learner, *inputs))
        got = as_array(run_learner(model.predict, [token_ids, segment_ids], verbose=0), "out")
        if problem := compare(got, as_array(reference(token_ids, segment_ids), "reference"),
                              "the embeddings", 1e-4):
            return report(piece, False, f"inside a compiled keras.Model: {problem}.")
    except NotImplementedError:
        return not_implemented(piece)
    except LearnerError as error:
        return report(piece, False, str(error))
    return report(piece, True, "equal to BertEmbeddings on sentence pairs and a batch of one, "
                               "with dropout in training, inside a compiled model.")


# --- chapter 11: DistilBERT's soft targets --------------------------------------------------

def _soft_targets(student, teacher, temperature, power=2, soften_teacher=True,
                  soften_student=True, swapped=False, kl=False, reduce="mean"):
    """The distillation loss in keras.ops with adjustable mistakes (the learner's signature)."""
    if swapped:
        student, teacher = teacher, student
    t = ops.softmax(teacher / (temperature if soften_teacher else 1.0), axis=-1)
    log_s = ops.log_softmax(student / (temperature if soften_student else 1.0), axis=-1)
    rows = -ops.sum(t * log_s, axis=-1)
    if kl:
        rows = rows + ops.sum(t * ops.log(t), axis=-1)
    rows = temperature ** power * rows
    return ops.mean(rows) if reduce == "mean" else ops.sum(rows)


SOFT_TARGET_MISTAKES = {
    "the factor T^2 is missing (it keeps the gradients' size independent of T)":
        lambda s, t, T: _soft_targets(s, t, T, power=0),
    "the factor is T, not T^2": lambda s, t, T: _soft_targets(s, t, T, power=1),
    "the teacher's logits are not divided by T: both distributions must be softened":
        lambda s, t, T: _soft_targets(s, t, T, soften_teacher=False),
    "the student's logits are not divided by T: both distributions must be softened":
        lambda s, t, T: _soft_targets(s, t, T, soften_student=False),
    "student and teacher are swapped: the targets are the teacher's probabilities":
        lambda s, t, T: _soft_targets(s, t, T, swapped=True),
    "that is the KL divergence (the cross-entropy minus the teacher's entropy); the course's "
    "loss is the cross-entropy":
        lambda s, t, T: _soft_targets(s, t, T, kl=True),
    "the rows are summed: the loss is their mean": lambda s, t, T: _soft_targets(s, t, T,
                                                                                 reduce="sum"),
}


def check_soft_target_loss(fn):
    """Check ``fn(student_logits, teacher_logits, temperature) -> scalar``, DistilBERT's
    L_ce = -T^2 mean_rows sum_v softmax(t / T)_v log softmax(s / T)_v over logits ``(..., V)``;
    returns a ``CheckReport`` (also printed)."""
    piece = "the soft-target loss"
    if not callable(fn):
        raise TypeError(f"check the function itself, not {type(fn).__name__}")
    rng = np.random.default_rng(0)
    cases = {"T = 2, logits (batch, T, V)": (float32(rng, (2, 3, 7), 2.0),
                                             float32(rng, (2, 3, 7), 2.0), 2.0),
             "T = 4, logits (batch, V)": (float32(rng, (5, 7), 2.0), float32(rng, (5, 7), 2.0),
                                          4.0),
             "T = 1": (float32(rng, (5, 7), 2.0), float32(rng, (5, 7), 2.0), 1.0)}
    try:
        for what, (student, teacher, temperature) in cases.items():
            expected = as_array(soft_target_loss(student, teacher, temperature), "reference")
            s, t = ops.convert_to_tensor(student), ops.convert_to_tensor(teacher)
            got = as_array(run_learner(fn, s, t, temperature), "the loss")
            if got.shape != ():
                raise LearnerError(f"the loss must be a scalar, got shape {got.shape}")
            if problem := compare(got, expected, "the loss", 1e-4):
                named = next((m for m, f in SOFT_TARGET_MISTAKES.items() if matches(
                    got, as_array(f(s, t, temperature), "mistake"), 1e-4)), None)
                return report(piece, False, f"with {what}: {named or problem}.")
    except NotImplementedError:
        return not_implemented(piece)
    except LearnerError as error:
        return report(piece, False, str(error))
    return report(piece, True, "equal to seqkeras.losses.soft_target_loss at T = 2, 4 and 1, "
                               "on 3-d and 2-d logits.")
