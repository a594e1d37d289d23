"""BERT's pretraining and classification models: training on real packed data, serialisation,
the feature-based setting, and data-parallel training over two devices."""

import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from seqkeras import data
from seqkeras.models import BertClassifier, BertEncoder, BertPretrainer, distil_student

from conftest import to_numpy

VOCAB = data.load_wordpiece_vocabulary()
MASK = VOCAB.index("[MASK]")


@pytest.fixture(scope="module")
def pretraining_batches():
    verses = [v.text for v in data.load_bible("kjv", "validation")[:256]]
    packed = data.pack_segments(verses[0::2], verses[1::2], sequence_length=32)
    labels = np.ones(len(packed["token_ids"]), "int32")
    return data.MaskedLMBatches(
        packed, lambda ids, rng: data.mask_tokens(ids, len(VOCAB), MASK, rng, max_selections=6),
        batch_size=32, dynamic=True, targets={"nsp": labels})


def small_encoder(**options):
    return BertEncoder(len(VOCAB), 2, 2, 32, 64, max_sequence_length=32, **options)


def test_pretrainer_learns_and_round_trips(tmp_path, pretraining_batches):
    keras.utils.set_random_seed(1)
    model = BertPretrainer(small_encoder(dropout=0.0))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss={"mlm": loss, "nsp": loss},
                  weighted_metrics={"mlm": ["accuracy"]})
    history = model.fit(pretraining_batches, epochs=3, verbose=0).history
    assert history["mlm_loss"][-1] < history["mlm_loss"][0] - 0.5
    # the masked-LM head reuses the token embedding: no (H, V) kernel of its own
    assert model.mlm_head.token_embedding is model.encoder.token_embedding
    inputs = pretraining_batches[0][0]
    expected = model(inputs)
    model.save(tmp_path / "pretrainer.keras")
    loaded = keras.models.load_model(tmp_path / "pretrainer.keras", safe_mode=True)
    assert loaded.mlm_head.token_embedding is loaded.encoder.token_embedding
    for key, value in loaded(inputs).items():
        np.testing.assert_allclose(to_numpy(value), to_numpy(expected[key]), atol=1e-6)


def test_roberta_configuration_has_no_next_sentence_head(pretraining_batches):
    model = BertPretrainer(small_encoder(), next_sentence=False)
    outputs = model(pretraining_batches[0][0])
    assert set(outputs) == {"mlm"} and model.nsp_head is None
    assert tuple(outputs["mlm"].shape) == (32, 6, len(VOCAB))


def test_classifier_fine_tunes_or_keeps_the_encoder_frozen(tmp_path, pretraining_batches):
    inputs = {k: v for k, v in pretraining_batches[0][0].items() if k != "mask_positions"}
    labels = (inputs["padding_mask"].sum(axis=1) > 20).astype("int32")
    for frozen in (False, True):
        encoder = small_encoder()
        classifier = BertClassifier(encoder, num_classes=2)
        classifier(inputs)
        encoder.trainable = not frozen
        before = [w.copy() for w in encoder.get_weights()]
        classifier.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True))
        classifier.fit(inputs, labels, epochs=1, verbose=0)
        unchanged = all(np.array_equal(a, b)
                        for a, b in zip(before, encoder.get_weights(), strict=True))
        assert unchanged == frozen
    classifier.save(tmp_path / "classifier.keras")
    loaded = keras.models.load_model(tmp_path / "classifier.keras", safe_mode=True)
    np.testing.assert_allclose(to_numpy(loaded(inputs)), to_numpy(classifier(inputs)),
                               atol=1e-6)
    with pytest.raises(ValueError, match="num_classes"):
        BertClassifier(encoder, num_classes=1)
    with pytest.raises(TypeError, match="BertEncoder"):
        BertPretrainer(keras.layers.Dense(3))


@pytest.mark.skipif(keras.backend.backend() != "jax",
                    reason="keras.distribution.DataParallel runs on the JAX backend")
def test_one_step_on_two_devices_equals_one_step_on_one():
    env = dict(os.environ, KERAS_BACKEND="jax",
               XLA_FLAGS="--xla_force_host_platform_device_count=2")
    script = Path(__file__).with_name("two_device_step.py")
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    moved, diff = map(float, re.search(r"change (\S+);.*diff (\S+)", result.stdout).groups())
    assert moved > 1e-3  # the step did train
    assert diff <= 1e-5, result.stdout


def test_distil_student_takes_every_other_teacher_layer(pretraining_batches):
    teacher = BertEncoder(len(VOCAB), 4, 2, 32, 64, max_sequence_length=32, dropout=0.0)
    student = distil_student(teacher)
    assert student.num_layers == 2
    for k, block in enumerate(student.blocks):
        for a, b in zip(block.get_weights(), teacher.blocks[2 * k].get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    per_block = sum(w.size for w in teacher.blocks[0].get_weights())
    assert teacher.count_params() - student.count_params() == 2 * per_block
    inputs = {k: v for k, v in pretraining_batches[0][0].items() if k != "mask_positions"}
    assert tuple(student(inputs)["sequence_output"].shape) == (32, 32, 32)
    with pytest.raises(ValueError, match="at least 2 distinct layers"):
        distil_student(BertEncoder(len(VOCAB), 1, 2, 32, 64, max_sequence_length=32))


def test_distillation_losses_are_their_formulas(rng):
    from seqkeras.losses import hidden_cosine_loss, soft_target_loss

    s, t = rng.normal(size=(2, 3, 7)), rng.normal(size=(2, 3, 7))
    p_t = np.exp(t / 2) / np.exp(t / 2).sum(-1, keepdims=True)
    log_p_s = s / 2 - np.log(np.exp(s / 2).sum(-1, keepdims=True))
    assert float(soft_target_loss(s, t, 2.0)) == pytest.approx(
        -4 * (p_t * log_p_s).sum(-1).mean(), rel=1e-5)
    # matching the teacher exactly leaves only the teacher's entropy
    entropy = -(p_t * np.log(p_t)).sum(-1).mean() * 4
    assert float(soft_target_loss(t, t, 2.0)) == pytest.approx(entropy, rel=1e-5)
    h_s, h_t = rng.normal(size=(2, 3, 5)), rng.normal(size=(2, 3, 5))
    mask = np.array([[1, 1, 0], [1, 0, 0]])
    cos = (h_s * h_t).sum(-1) / np.linalg.norm(h_s, axis=-1) / np.linalg.norm(h_t, axis=-1)
    assert float(hidden_cosine_loss(h_s, h_t, mask)) == pytest.approx(
        (1 - cos)[mask == 1].mean(), rel=1e-5)
    assert float(hidden_cosine_loss(h_t, 3 * h_t)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="temperature"):
        soft_target_loss(s, t, 0.0)
