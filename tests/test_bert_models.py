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

from seqkeras import data, metrics, timing, training
from seqkeras.losses import hidden_cosine_loss, soft_target_kl, soft_target_loss
from seqkeras.models import (
    BertClassifier,
    BertEncoder,
    BertPretrainer,
    DistillationPretrainer,
    distil_student,
)

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


def assert_round_trips(model, inputs, path):
    """Saved and loaded with safe_mode, ``model`` gives the same outputs, its heads tied again."""
    expected = model(inputs)
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    for head in ("mlm_head", "sbo_head"):
        if getattr(model, head, None) is not None:
            assert getattr(loaded, head).token_embedding is loaded.encoder.token_embedding
    for key, value in loaded(inputs).items():
        np.testing.assert_allclose(to_numpy(value), to_numpy(expected[key]), atol=1e-6)
    return loaded


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
    assert_round_trips(model, pretraining_batches[0][0], tmp_path / "pretrainer.keras")


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
    s, t = rng.normal(size=(2, 3, 7)), rng.normal(size=(2, 3, 7))
    p_t = np.exp(t / 2) / np.exp(t / 2).sum(-1, keepdims=True)
    log_p_s = s / 2 - np.log(np.exp(s / 2).sum(-1, keepdims=True))
    assert float(soft_target_loss(s, t, 2.0)) == pytest.approx(
        -4 * (p_t * log_p_s).sum(-1).mean(), rel=1e-5)
    # matching the teacher exactly leaves only the teacher's entropy
    entropy = -(p_t * np.log(p_t)).sum(-1).mean() * 4
    assert float(soft_target_loss(t, t, 2.0)) == pytest.approx(entropy, rel=1e-5)
    # weights make it the mean over the weighted rows only
    weights = np.array([[1, 0, 1], [0, 0, 1]], "float32")
    rows = -4 * (p_t * log_p_s).sum(-1)
    assert float(soft_target_loss(s, t, 2.0, weights)) == pytest.approx(
        rows[weights > 0].mean(), rel=1e-5)
    h_s, h_t = rng.normal(size=(2, 3, 5)), rng.normal(size=(2, 3, 5))
    mask = np.array([[1, 1, 0], [1, 0, 0]])
    cos = (h_s * h_t).sum(-1) / np.linalg.norm(h_s, axis=-1) / np.linalg.norm(h_t, axis=-1)
    assert float(hidden_cosine_loss(h_s, h_t, mask)) == pytest.approx(
        (1 - cos)[mask == 1].mean(), rel=1e-5)
    assert float(hidden_cosine_loss(h_t, 3 * h_t)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="temperature"):
        soft_target_loss(s, t, 0.0)
    # the KL form: the cross-entropy less the teacher's entropy, 0 for a perfect student,
    # Keras' KLDivergence on the softened distributions times T^2
    assert float(soft_target_kl(s, t, 2.0)) == pytest.approx(
        float(soft_target_loss(s, t, 2.0)) - entropy, rel=1e-5)
    assert float(soft_target_kl(t, t, 2.0)) == pytest.approx(0.0, abs=1e-6)
    p_s = np.exp(log_p_s)
    keras_kl = keras.losses.KLDivergence(reduction=None)(p_t, p_s)
    assert float(soft_target_kl(s, t, 2.0, weights)) == pytest.approx(
        4 * float(np.asarray(keras_kl)[weights > 0].mean()), rel=1e-4)
    with pytest.raises(ValueError, match="temperature"):
        soft_target_kl(s, t, -1.0)


def span_batches(dynamic=True):
    verses = [v.text for v in data.load_bible("kjv", "validation")[:256]]
    packed = data.pack_segments(verses[0::2], verses[1::2], sequence_length=32)

    def spans(ids, rng):
        return data.mask_spans(ids, data.word_starts(ids, VOCAB), len(VOCAB), MASK, rng,
                               max_selections=6)

    return data.MaskedLMBatches(packed, spans, batch_size=32, dynamic=dynamic,
                                span_boundary=True)


def test_spanbert_pretrainer_learns_both_objectives_and_round_trips(tmp_path):
    keras.utils.set_random_seed(2)
    batches = span_batches()
    model = BertPretrainer(small_encoder(dropout=0.0), next_sentence=False, span_boundary=True)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss={"mlm": loss, "sbo": loss})
    run = training.fit_pretraining(model, batches, epochs=3, verbose=0)
    assert run.history["sbo_loss"][-1] < run.history["sbo_loss"][0] - 0.5
    assert run.history["mlm_loss"][-1] < run.history["mlm_loss"][0] - 0.5
    assert batches.epoch == 3  # fit_pretraining moved the dynamic masks on every epoch
    assert model.sbo_head.token_embedding is model.encoder.token_embedding
    inputs = batches[0][0]
    assert set(model(inputs)) == {"mlm", "sbo"}
    # without span inputs only the masked LM is computed (to score it on token masks)
    plain = {k: v for k, v in inputs.items() if not k.startswith("span_")}
    assert set(model(plain)) == {"mlm"}
    assert_round_trips(model, inputs, tmp_path / "spanbert.keras")


def test_masked_lm_accuracy_counts_the_weighted_hits(pretraining_batches):
    """A model that always predicts "the" scores the weighted share of masked tokens that
    are "the", counted here from the targets alone (about 6% of them, so a metric that
    counted nothing, or ignored the weights of the padded mask slots, would fail)."""
    batches = data.MaskedLMBatches(pretraining_batches.packed, pretraining_batches.mask,
                                   batch_size=32, dynamic=False)  # the same masks each time
    model = BertPretrainer(small_encoder(), next_sentence=False)
    model(model.example_inputs())
    the = VOCAB.index("the")
    bias = np.zeros(len(VOCAB), "float32")
    bias[the] = 1e4  # far above any logit of the untrained head
    model.mlm_head.b_out.assign(bias)
    hits = total = 0.0
    for index in range(len(batches)):
        _, targets, weights = batches[index]
        hits += float(((targets == the) * weights).sum())
        total += float(weights.sum())
    assert hits > 0 and total > hits
    assert metrics.masked_lm_accuracy(model, batches) == pytest.approx(hits / total, abs=1e-6)
    # Predicting the padding id hits only the unused (weight 0) mask slots, which must not count.
    padding_slots = sum(float((batches[i][2] == 0).sum()) for i in range(len(batches)))
    assert padding_slots > 0
    pad_bias = np.zeros(len(VOCAB), "float32")
    pad_bias[0] = 1e4
    model.mlm_head.b_out.assign(pad_bias)
    assert metrics.masked_lm_accuracy(model, batches) == 0.0


def test_distillation_trains_the_student_on_the_triple_loss(tmp_path, pretraining_batches):
    keras.utils.set_random_seed(3)
    token_batches = data.MaskedLMBatches(
        pretraining_batches.packed, pretraining_batches.mask, batch_size=32, dynamic=True)
    teacher = BertPretrainer(BertEncoder(len(VOCAB), 4, 2, 32, 64, max_sequence_length=32,
                                         dropout=0.0), next_sentence=False)
    teacher(teacher.example_inputs())
    distiller = DistillationPretrainer(teacher, temperature=2.0)
    student = distiller.student
    # DistilBERT's initialisation: every other block, and the teacher's masked-LM head
    assert student.encoder.num_layers == 2 and student.nsp_head is None
    for a, b in zip(student.mlm_head.get_weights(), teacher.mlm_head.get_weights(),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    # the loss is 5 L_ce + 2 L_mlm + 1 L_cos, each term its formula
    inputs, targets, weights = token_batches[0]
    outputs = distiller(inputs)
    teacher_h = teacher.encoder(inputs)["sequence_output"]
    teacher_logits = teacher.mlm_head(teacher_h, inputs["mask_positions"])
    nll = keras.losses.sparse_categorical_crossentropy(targets, outputs["mlm"],
                                                       from_logits=True)
    expected = (5 * float(soft_target_loss(outputs["mlm"], teacher_logits, 2.0, weights))
                + 2 * float((to_numpy(nll) * weights).sum() / weights.sum())
                + float(hidden_cosine_loss(outputs["sequence_output"], teacher_h,
                                           inputs["padding_mask"])))
    loss = distiller.compute_loss(inputs, targets, outputs, weights)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    teacher_weights = [w.copy() for w in teacher.get_weights()]
    distiller.compile(optimizer=keras.optimizers.Adam(3e-3))
    run = training.fit_pretraining(distiller, token_batches, epochs=3, verbose=0)
    history = run.history
    assert {"soft_target_loss", "soft_target_kl", "mlm_loss", "cosine_loss",
            "mlm_accuracy"} <= set(history)
    assert all(0 <= kl < ce for kl, ce in zip(history["soft_target_kl"],
                                              history["soft_target_loss"], strict=True))
    # The student learns the real masked tokens (8.25 -> 7.38 nats in the run that set this
    # margin); the teacher is untrained, so its soft targets are near uniform and barely move.
    assert history["mlm_loss"][-1] < history["mlm_loss"][0] - 0.5, history
    for before, after in zip(teacher_weights, teacher.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)  # the teacher is frozen
    assert_round_trips(distiller, inputs, tmp_path / "distiller.keras")
    with pytest.raises(TypeError, match="teacher must be a seqkeras BertPretrainer"):
        DistillationPretrainer(teacher.encoder)


def test_inference_seconds_times_a_forward_pass(pretraining_batches):
    encoder = small_encoder()
    inputs = {k: v for k, v in pretraining_batches[0][0].items() if k != "mask_positions"}
    seconds = timing.inference_seconds(encoder, inputs, repeats=3)
    assert 0 < seconds < 10


def test_load_or_pretrain_bert_pretrains_without_saved_weights_and_loads_them_when_saved(
        tmp_path):
    keras.utils.set_random_seed(3)
    encoder = small_encoder()
    encoder(encoder.example_inputs())
    untrained = [to_numpy(w).copy() for w in encoder.weights]
    missing = tmp_path / "missing.weights.h5"
    pretrained, source = training.load_or_pretrain_bert(encoder, missing, pairs=64, epochs=1,
                                                        batch_size=32, verbose=0)
    assert pretrained is encoder and "brief pretraining (64 verse pairs, 1 epoch)" in source
    assert any(np.abs(to_numpy(w) - u).max() > 0 for w, u in zip(encoder.weights, untrained,
                                                                 strict=True))
    saved = tmp_path / "bert.weights.h5"
    encoder.save_weights(saved)
    loaded, source = training.load_or_pretrain_bert(small_encoder(), saved)
    assert "chapter 9's full run" in source
    for w, expected in zip(loaded.weights, encoder.weights, strict=True):
        np.testing.assert_array_equal(to_numpy(w), to_numpy(expected))
    # a causal encoder gets the left-to-right objective: it learns, with no pair head
    causal = small_encoder(causal=True)
    causal(causal.example_inputs())
    before = [to_numpy(w).copy() for w in causal.weights]
    _, source = training.load_or_pretrain_bert(causal, missing, pairs=64, epochs=1,
                                               batch_size=32, verbose=0)
    assert "brief left-to-right pretraining (64 verse pairs, 1 epoch)" in source
    assert any(np.abs(to_numpy(w) - b).max() > 0 for w, b in zip(causal.weights, before,
                                                                 strict=True))


def test_mean_pooling_classifier_averages_the_real_tokens_only(pretraining_batches):
    inputs = {k: v for k, v in pretraining_batches[0][0].items() if k != "mask_positions"}
    encoder = small_encoder()
    classifier = BertClassifier(encoder, num_classes=3, pooling="mean", dropout=0.0)
    logits = to_numpy(classifier(inputs))
    tokens = to_numpy(encoder(inputs)["sequence_output"])
    real = inputs["padding_mask"][..., None].astype("float32")
    mean = (tokens * real).sum(axis=1) / real.sum(axis=1)
    kernel, bias = (to_numpy(w) for w in classifier.classifier.weights)
    np.testing.assert_allclose(logits, mean @ kernel + bias, atol=1e-5)
    assert BertClassifier.from_config(classifier.get_config()).pooling == "mean"
    with pytest.raises(ValueError, match="pooling must be one of"):
        BertClassifier(encoder, num_classes=3, pooling="max")


def test_bert_recipes_pretrain_pair_accuracy_and_fine_tune(pretraining_batches):
    from seqkeras import bert_recipes

    first = bert_recipes.new_encoder(len(VOCAB), hidden_dim=32, max_sequence_length=32, seed=5)
    second = bert_recipes.new_encoder(len(VOCAB), hidden_dim=32, max_sequence_length=32, seed=5)
    inputs = {k: v for k, v in pretraining_batches[0][0].items() if k != "mask_positions"}
    np.testing.assert_array_equal(to_numpy(first(inputs)["pooled_output"]),
                                  to_numpy(second(inputs)["pooled_output"]))  # same seed
    assert first.intermediate_dim == 4 * 32 and first.dropout == 0.1

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    pretrainer = BertPretrainer(first)
    run = bert_recipes.pretrain(pretrainer, pretraining_batches, epochs=4,
                                peak_learning_rate=5e-3, loss={"mlm": loss, "nsp": loss},
                                name="test", verbose=0)
    assert len(run.history["mlm_loss"]) == 4 and run.seconds > 0
    assert run.history["mlm_loss"][-1] < run.history["mlm_loss"][0]
    # the learning rate decays linearly to 0 over the run's steps
    schedule = pretrainer.optimizer.learning_rate
    assert float(pretrainer.optimizer.iterations) == 4 * len(pretraining_batches)
    assert abs(float(keras.ops.convert_to_numpy(schedule))) < 1e-9

    packed = {k: v for k, v in pretraining_batches.packed.items()}
    labels = np.ones(len(packed["token_ids"]), "int32")  # every pair of the fixture is "next"
    logits = pretrainer.predict({**packed, "mask_positions": np.zeros((len(labels), 1), "int32")},
                                verbose=0)["nsp"]
    assert bert_recipes.pair_accuracy(pretrainer, packed, labels) == pytest.approx(
        float((logits.argmax(-1) == 1).mean()))

    classes = (inputs["padding_mask"].sum(axis=1) > 20).astype("int32")
    for frozen in (False, True):
        encoder = bert_recipes.new_encoder(len(VOCAB), hidden_dim=32, max_sequence_length=32,
                                           seed=5)
        encoder(inputs)
        before = [w.copy() for w in encoder.get_weights()]
        classifier = bert_recipes.fine_tune(encoder, inputs, classes, num_classes=2,
                                            learning_rate=1e-3, epochs=1, seed=1,
                                            frozen=frozen, pooling="mean")
        assert isinstance(classifier, BertClassifier) and classifier.pooling == "mean"
        unchanged = all(np.array_equal(a, b)
                        for a, b in zip(before, encoder.get_weights(), strict=True))
        assert unchanged == frozen
        assert len(classifier.evaluate(inputs, classes, verbose=0)) == 2  # loss, accuracy
    # with validation data: early stopping on validation accuracy, the best epoch's weights
    encoder = bert_recipes.new_encoder(len(VOCAB), hidden_dim=32, max_sequence_length=32, seed=5)
    stopped = bert_recipes.fine_tune(encoder, inputs, classes, num_classes=2, learning_rate=0.0,
                                     epochs=50, validation=(inputs, classes), patience=2)
    assert stopped.epochs_trained == 3 and stopped.best_epoch == 1  # nothing moves at lr 0


def test_causal_encoder_sees_only_the_left_and_learns_next_tokens(tmp_path, pretraining_batches):
    """BERT's left-to-right ablation: position i's output does not depend on tokens after i;
    trained on next_token_targets through BertPretrainer, its loss falls."""
    from seqkeras import interop

    keras.utils.set_random_seed(4)
    encoder = small_encoder(causal=True, dropout=0.0)
    inputs = {k: v for k, v in pretraining_batches[0][0].items() if k != "mask_positions"}
    changed = {**inputs, "token_ids": inputs["token_ids"].copy()}
    changed["token_ids"][:, 10:] = 7  # every token from position 10 on
    before = to_numpy(encoder(inputs)["sequence_output"])
    after = to_numpy(encoder(changed)["sequence_output"])
    np.testing.assert_allclose(after[:, :10], before[:, :10], atol=1e-5)
    assert np.abs(after[:, 10:] - before[:, 10:]).max() > 1e-3
    bidirectional = small_encoder(dropout=0.0)
    bidirectional(inputs)
    bidirectional.set_weights(encoder.get_weights())  # the same weights, attending both ways
    assert np.abs(to_numpy(bidirectional(changed)["sequence_output"])[:, :10]
                  - to_numpy(bidirectional(inputs)["sequence_output"])[:, :10]).max() > 1e-3

    batches = data.MaskedLMBatches(
        pretraining_batches.packed,
        lambda ids, rng: data.next_token_targets(ids, pad_id=0, rng=rng), batch_size=32)
    model = BertPretrainer(encoder, next_sentence=False)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss={"mlm": keras.losses.SparseCategoricalCrossentropy(from_logits=True)})
    history = model.fit(batches, epochs=3, verbose=0).history
    assert history["loss"][-1] < history["loss"][0] - 0.5
    loaded = keras.models.load_model(assert_saved(encoder, tmp_path), safe_mode=True)
    assert loaded.causal
    with pytest.raises(ValueError, match="causal"):
        interop.to_keras(encoder)
    with pytest.raises(ValueError, match="T >= 2"):
        data.next_token_targets(np.zeros((2, 1), "int32"))


def assert_saved(model, tmp_path):
    path = tmp_path / "model.keras"
    model.save(path)
    return path


def test_masked_lm_accuracy_by_kind_splits_mask_random_unchanged(pretraining_batches):
    """A model that copies its input at each selected position: right at every unchanged
    token, wrong at every random one and every [MASK]; the copy-aware baseline does the same
    except that it guesses the most frequent word at [MASK]."""
    batches = data.MaskedLMBatches(
        pretraining_batches.packed,
        lambda ids, rng: data.mask_tokens(ids, len(VOCAB), MASK, rng, max_selections=8),
        batch_size=32, dynamic=False, seed=3)

    class Copier:
        def predict_on_batch(self, inputs):
            seen = np.take_along_axis(inputs["token_ids"], inputs["mask_positions"], axis=1)
            return {"mlm": np.eye(len(VOCAB), dtype="float32")[seen]}

    report = metrics.masked_lm_accuracy_by_kind(Copier(), batches, MASK)
    assert set(report) == {"[MASK]", "random", "unchanged", "all"}
    shares = [report[kind]["share"] for kind in ("[MASK]", "random", "unchanged")]
    assert sum(shares) == pytest.approx(1.0) and report["all"]["share"] == 1.0
    assert 0.7 < shares[0] < 0.9 and 0.05 < shares[1] < 0.15 and 0.05 < shares[2] < 0.15
    assert report["unchanged"]["accuracy"] == 1.0 == report["unchanged"]["copy-aware baseline"]
    assert report["random"]["accuracy"] == 0.0 == report["random"]["copy-aware baseline"]
    assert report["[MASK]"]["accuracy"] == 0.0 < report["[MASK]"]["copy-aware baseline"]
    assert report["all"]["accuracy"] == pytest.approx(shares[2])
    assert report["all"]["accuracy"] == pytest.approx(metrics.masked_lm_accuracy(Copier(), batches))
    never = metrics.masked_lm_accuracy_by_kind(Copier(), batches, MASK, guess_id=MASK)
    assert never["[MASK]"]["copy-aware baseline"] == 0.0  # no original token is [MASK]



def test_next_token_targets_at_a_selection_rate_predict_as_many_tokens_as_bert(
        pretraining_batches):
    ids = pretraining_batches.packed["token_ids"]
    rng = np.random.default_rng(0)
    targets = data.next_token_targets(ids, rng=rng, selection_rate=0.15, max_selections=12)
    positions, weights = targets["mask_positions"], targets["mask_weights"]
    assert positions.shape == (len(ids), 12)
    real_next = (ids[:, 1:] != 0).sum()
    assert 0.12 < weights.sum() / real_next < 0.16  # about 15%, a few cut by the list length
    rows, slots = np.nonzero(weights)
    np.testing.assert_array_equal(targets["mask_ids"][rows, slots],
                                  ids[rows, positions[rows, slots] + 1])  # the next token
    assert (ids[rows, positions[rows, slots] + 1] != 0).all()  # never padding
    for row in range(len(ids)):  # chosen positions first and in order, each once
        chosen = positions[row][weights[row] > 0]
        assert list(chosen) == sorted(set(chosen))
    with pytest.raises(ValueError, match="rng"):
        data.next_token_targets(ids, selection_rate=0.15)
