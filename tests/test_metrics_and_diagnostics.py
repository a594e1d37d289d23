"""Bits per character, perplexity, and the BPTT gradient-norm diagnostic."""

import math

import keras
import numpy as np
import pytest

from seqkeras import diagnostics, metrics, models
from seqkeras.layers import ElmanCell, LSTMCell

from conftest import to_numpy


def test_bits_per_character_and_perplexity():
    assert metrics.bits_per_character(math.log(2)) == pytest.approx(1.0)
    assert metrics.bits_per_character(math.log(64)) == pytest.approx(6.0)
    assert metrics.perplexity(math.log(63)) == pytest.approx(63.0)


def test_bits_per_character_metric_matches_the_formula(rng):
    logits = rng.normal(size=(4, 9, 11)).astype("float32")
    targets = rng.integers(0, 11, size=(4, 9))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_probs, targets[..., None], -1).mean() / math.log(2)
    metric = metrics.BitsPerCharacter()
    metric.update_state(targets[:2], logits[:2])
    metric.update_state(targets[2:], logits[2:])
    assert float(to_numpy(metric.result())) == pytest.approx(expected, rel=1e-5)
    assert metrics.BitsPerCharacter.from_config(metric.get_config()).from_logits


def elman_bptt_by_hand(W_xh, W_hh, b_h, inputs):
    """dL/dh_t for L = sum(h_T), by the chain rule written out, one Jacobian per step."""
    batch, steps, _ = inputs.shape
    h = np.zeros((batch, W_hh.shape[0]))
    states = []
    for t in range(steps):
        h = np.tanh(inputs[:, t] @ W_xh + h @ W_hh + b_h)
        states.append(h)
    grad = np.ones_like(h)
    norms = [np.linalg.norm(grad, axis=-1).mean()]
    for t in range(steps - 1, 0, -1):
        grad = (grad * (1 - states[t] ** 2)) @ W_hh.T
        norms.append(np.linalg.norm(grad, axis=-1).mean())
    return np.array(norms[::-1])


def test_state_gradient_norms_equal_hand_written_bptt(rng):
    cell = ElmanCell(6, recurrent_initializer=keras.initializers.Orthogonal(gain=1.2, seed=1),
                     bias_initializer="random_normal")
    inputs = rng.normal(scale=0.3, size=(3, 15, 4)).astype("float32")
    norms = diagnostics.state_gradient_norms(cell, inputs)
    weights = [to_numpy(w).astype("float64") for w in (cell.W_xh, cell.W_hh, cell.b_h)]
    np.testing.assert_allclose(norms, elman_bptt_by_hand(*weights, inputs), rtol=1e-4)


def test_contracting_recurrence_vanishes_and_expanding_one_explodes(rng):
    inputs = rng.normal(scale=0.01, size=(8, 60, 4)).astype("float32")
    ratios = {}
    for gain, activation in ((0.9, "tanh"), (1.5, "linear")):
        cell = ElmanCell(32, activation=activation,
                         recurrent_initializer=keras.initializers.Orthogonal(gain, seed=0))
        cell.build((None, 4))
        assert diagnostics.spectral_radius(cell.W_hh) == pytest.approx(gain, rel=1e-4)
        norms = diagnostics.state_gradient_norms(cell, inputs)
        ratios[gain] = diagnostics.gradient_ratio(norms, 50)
        assert ratios[gain] == pytest.approx(norms[9] / norms[59])  # 60 steps: T-50 is index 9
    assert ratios[0.9] < 1e-2 and ratios[1.5] > 1e2


def test_diagnostic_errors():
    with pytest.raises(ValueError, match="inputs must have shape"):
        diagnostics.state_gradient_norms(ElmanCell(3), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="distance must be in"):
        diagnostics.gradient_ratio(np.ones(10), 10)
    with pytest.raises(ValueError, match="square"):
        diagnostics.spectral_radius(np.zeros((2, 3)))


def test_precision_recall_f1_by_hand():
    true = np.array([[1, 0, 1, 1], [0, 0, 1, 0]])
    predicted = np.array([[1, 1, 0, 1], [0, 0, 1, 0]])  # TP 3, FP 1, FN 1
    scores = metrics.precision_recall_f1(true, predicted)
    assert scores == pytest.approx({"precision": 0.75, "recall": 0.75, "f1": 0.75})
    assert metrics.precision_recall_f1([0, 0], [0, 0]) == {"precision": 0.0, "recall": 0.0,
                                                            "f1": 0.0}
    with pytest.raises(ValueError, match="same shape"):
        metrics.precision_recall_f1([0, 1], [0, 1, 1])



def test_format_table_aligns_columns():
    from seqkeras.utils import format_table

    table = format_table([{"model": "LSTM", "MSE": 0.001234567}, {"model": "Elman", "MSE": 0.17}])
    header, rule, *rows = table.splitlines()
    assert header.split() == ["model", "MSE"] and set(rule) <= {"-", " "}
    assert header == "model       MSE"
    assert rows == ["LSTM   0.001235", "Elman      0.17"]
    with pytest.raises(ValueError, match="at least one row"):
        format_table([])


@pytest.mark.parametrize("cell", [ElmanCell(6), LSTMCell(5)], ids=["elman", "lstm"])
def test_carried_state_bits_equal_one_pass_and_zero_state_windows(rng, cell):
    """Carried: the same costs as reading each lane in one pass; zero: as scoring each window on
    its own (what model.predict on windows gives)."""
    model = models.rnn_language_model(11, cell, embedding_dim=4)
    ids = rng.integers(0, 11, size=3 * 40 + 7)
    bits = diagnostics.carried_state_bits(model, ids, lanes=3, window=10)
    assert bits["carried"].shape == bits["zero"].shape == (3, 40)
    lanes = ids[:120].reshape(3, 40)
    targets = ids[1:121].reshape(3, 40)

    def costs(inputs, outputs):
        logits = model.predict(inputs, verbose=0)
        nats = keras.losses.sparse_categorical_crossentropy(outputs, logits, from_logits=True)
        return to_numpy(nats) / math.log(2)

    np.testing.assert_allclose(bits["carried"], costs(lanes, targets), atol=1e-4)
    windows = lanes.reshape(3, 4, 10).reshape(12, 10)
    zero = costs(windows, targets.reshape(12, 10)).reshape(3, 40)
    np.testing.assert_allclose(bits["zero"], zero, atol=1e-4)
    assert not np.allclose(bits["zero"], bits["carried"], atol=1e-3)  # the state matters
    with pytest.raises(ValueError, match="too few"):
        diagnostics.carried_state_bits(model, ids[:20], lanes=3, window=10)


def test_translation_cross_entropy_is_the_plain_loss_over_real_target_words():
    from test_length_sorted_batches import random_pairs

    from seqkeras import training
    from seqkeras.layers import BahdanauAttention

    pairs = random_pairs(n=21, width=9)
    keras.utils.set_random_seed(0)
    model = models.AttentionSeq2Seq(20, 20, BahdanauAttention(4), embedding_dim=4, units=8)
    logits = model(pairs.inputs)
    expected = float(to_numpy(training.translation_loss()(pairs.target_ids, logits)))
    # batches of 4 verses: the mean is over words, whatever the batches
    assert metrics.translation_cross_entropy(model, pairs, batch_size=4) == pytest.approx(
        expected, rel=1e-5)
