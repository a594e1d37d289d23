"""DistilBERT (Sanh et al. 2019): a student with half the teacher's layers, initialised from
the teacher and trained on the teacher's softened outputs."""

from __future__ import annotations

import keras
from keras import ops

from seqkeras import arguments
from seqkeras.losses import hidden_cosine_loss, soft_target_kl, soft_target_loss
from seqkeras.models.bert import BertEncoder, BertPretrainer, _BuiltOnLoad, example_inputs


def distil_student(teacher):
    """DistilBERT's student (Sanh et al. 2019, section 3): the teacher's architecture with half
    the layers, initialised from the teacher by taking its embeddings, its pooler and one block
    out of two (blocks 0, 2, 4, ...).

    Args:
        teacher: a built ``BertEncoder`` without shared layers, of at least 2 layers.

    Returns:
        A built ``BertEncoder`` of ``teacher.num_layers // 2`` layers.
    """
    if teacher.share_layers or teacher.num_layers < 2:
        raise ValueError("the teacher needs at least 2 distinct layers to halve")
    if not teacher.built:
        teacher(example_inputs())
    config = teacher.get_config()
    for key in ("name", "trainable", "dtype"):
        config.pop(key, None)
    student = BertEncoder(**{**config, "num_layers": teacher.num_layers // 2})
    student(example_inputs())
    student.embeddings.set_weights(teacher.embeddings.get_weights())
    student.pooler.set_weights(teacher.pooler.get_weights())
    for k, block in enumerate(student.blocks):
        block.set_weights(teacher.blocks[2 * k].get_weights())
    return student


def _pretrainer(model, role):
    if isinstance(model, dict):
        model = keras.saving.deserialize_keras_object(model)
    if not isinstance(model, BertPretrainer):
        raise TypeError(f"the {role} must be a seqkeras BertPretrainer, got "
                        f"{type(model).__name__}")
    return model


@keras.saving.register_keras_serializable(package="seqkeras")
class DistillationPretrainer(_BuiltOnLoad, keras.Model):
    """DistilBERT's training (Sanh et al. 2019, section 3): the student learns the masked LM
    from the labels and from a frozen teacher, with the triple loss

        L = alpha_ce L_ce + alpha_mlm L_mlm + alpha_cos L_cos

    - L_ce: cross-entropy against the teacher's distribution softened at temperature T, at the
      masked positions (``seqkeras.losses.soft_target_loss``);
    - L_mlm: the usual masked-LM cross-entropy against the original tokens;
    - L_cos: 1 - cos between the student's and the teacher's last hidden states, at every real
      token (``seqkeras.losses.hidden_cosine_loss``).

    Compile it with an optimizer only; ``fit`` it on ``seqkeras.data.MaskedLMBatches`` without
    extra targets. The logs carry each term, the student's masked-LM accuracy, and
    ``soft_target_kl`` (L_ce less the teacher's entropy: how far the student is from the
    teacher, 0 when it matches; ``seqkeras.losses.soft_target_kl``).

    Args:
        teacher: a trained ``BertPretrainer``; it is frozen (``trainable = False``: set it
            back to fine-tune the teacher afterwards).
        student: a ``BertPretrainer`` (default: ``distil_student`` of the teacher's encoder,
            without a next-sentence head, its masked-LM head copied from the teacher's).
        temperature: T (DistilBERT: 2).
        soft_target_weight, mlm_weight, cosine_weight: alpha_ce, alpha_mlm, alpha_cos
            (DistilBERT's training script: 5, 2, 1).

    Call arguments:
        inputs: the dict of ``BertPretrainer``.

    Returns:
        The student's outputs: dict with ``mlm`` logits and ``sequence_output``.

    References:
        Sanh et al. (2019), https://arxiv.org/abs/1910.01108
    """

    def __init__(self, teacher, student=None, temperature=2.0, soft_target_weight=5.0,
                 mlm_weight=2.0, cosine_weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.teacher = _pretrainer(teacher, "teacher")
        if student is None:
            if not self.teacher.built:
                self.teacher(self.teacher.example_inputs())
            student = BertPretrainer(distil_student(self.teacher.encoder), next_sentence=False)
            student(student.example_inputs())
            student.mlm_head.set_weights(self.teacher.mlm_head.get_weights())
        self.student = _pretrainer(student, "student")
        self.temperature = arguments.positive_number("temperature", temperature)
        self.soft_target_weight = arguments.number("soft_target_weight", soft_target_weight, 0)
        self.mlm_weight = arguments.number("mlm_weight", mlm_weight, 0)
        self.cosine_weight = arguments.number("cosine_weight", cosine_weight, 0)
        self.teacher.trainable = False
        self.loss_terms = {name: keras.metrics.Mean(name=name) for name in
                           ("soft_target_loss", "soft_target_kl", "mlm_loss", "cosine_loss")}
        self.mlm_accuracy = keras.metrics.SparseCategoricalAccuracy(name="mlm_accuracy")

    def example_inputs(self):
        return example_inputs(mask_positions=True)

    def call(self, inputs, training=None):
        encoded = self.student.encoder(inputs, training=training)
        h = encoded["sequence_output"]
        return {"mlm": self.student.mlm_head(h, inputs["mask_positions"]), "sequence_output": h}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        teacher_h = self.teacher.encoder(x, training=False)["sequence_output"]
        teacher_logits = ops.stop_gradient(self.teacher.mlm_head(teacher_h, x["mask_positions"]))
        teacher_h = ops.stop_gradient(teacher_h)
        weights = (ops.ones(ops.shape(y), "float32") if sample_weight is None
                   else ops.cast(sample_weight, "float32"))
        token_nll = keras.losses.sparse_categorical_crossentropy(
            y, ops.cast(y_pred["mlm"], "float32"), from_logits=True)
        terms = {
            "soft_target_loss": soft_target_loss(y_pred["mlm"], teacher_logits,
                                                 self.temperature, weights),
            # logged only: the same term less the teacher's entropy, 0 at a perfect student
            "soft_target_kl": soft_target_kl(y_pred["mlm"], teacher_logits, self.temperature,
                                             weights),
            "mlm_loss": ops.sum(token_nll * weights) / ops.maximum(ops.sum(weights), 1e-12),
            "cosine_loss": hidden_cosine_loss(y_pred["sequence_output"], teacher_h,
                                              x["padding_mask"]),
        }
        for name, value in terms.items():
            self.loss_terms[name].update_state(value)
        self.mlm_accuracy.update_state(y, y_pred["mlm"], sample_weight=weights)
        return (self.soft_target_weight * terms["soft_target_loss"]
                + self.mlm_weight * terms["mlm_loss"]
                + self.cosine_weight * terms["cosine_loss"])

    def get_config(self):
        return {**super().get_config(),
                "teacher": keras.saving.serialize_keras_object(self.teacher),
                "student": keras.saving.serialize_keras_object(self.student),
                "temperature": self.temperature, "soft_target_weight": self.soft_target_weight,
                "mlm_weight": self.mlm_weight, "cosine_weight": self.cosine_weight}
