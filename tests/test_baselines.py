"""The pre-RNN baselines: character n-grams, the naive forecast and the AR model."""

import numpy as np
import pytest

from seqkeras import baselines, data

pytestmark = pytest.mark.backend_independent  # Makefile: TensorFlow pass only


@pytest.fixture(scope="module")
def corpus():
    text = data.bible_text("kjv")
    vocab = data.CharVocabulary.from_text(text)
    train = vocab.encode(data.bible_text("kjv", split="train")[:300_000])
    validation = vocab.encode(data.bible_text("kjv", split="validation")[:30_000])
    return vocab, train, validation


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_ngram_distributions_sum_to_one(corpus, order):
    vocab, train, _ = corpus
    model = baselines.CharNGramModel(order, len(vocab)).fit(train)
    for context in ("And the", "qqqq", "Jesus"):  # seen, unseen and partly seen contexts
        distribution = model.next_distribution(vocab.encode(context))
        assert distribution.sum() == pytest.approx(1.0, abs=1e-9)
        assert distribution[0] == 0 and (distribution[1:] > 0).all()


def test_ngram_probabilities_agree_with_next_distribution(corpus):
    vocab, train, validation = corpus
    model = baselines.CharNGramModel(4, len(vocab)).fit(train)
    window = validation[100:140]
    probs = model.probabilities(window)
    for t in (3, 10, 39):
        assert probs[t] == pytest.approx(model.next_distribution(window[:t])[window[t]])


def test_unigram_is_add_one_frequency(corpus):
    vocab, train, validation = corpus
    counts = np.bincount(train, minlength=len(vocab)).astype(float)
    counts[1:] += 1
    expected = -np.mean(np.log2(counts[validation] / counts[1:].sum()))
    model = baselines.CharNGramModel(1, len(vocab)).fit(train)
    assert model.bits_per_character(validation) == pytest.approx(expected)


def test_longer_context_predicts_better_on_real_text(corpus):
    vocab, train, validation = corpus
    bpc = [baselines.CharNGramModel(n, len(vocab)).fit(train).bits_per_character(validation)
           for n in range(1, 5)]
    assert bpc == sorted(bpc, reverse=True)
    assert bpc[0] > 4 and bpc[3] < 2.6


def test_ngram_errors(corpus):
    vocab, train, _ = corpus
    with pytest.raises(ValueError, match="order"):
        baselines.CharNGramModel(0, 10)
    with pytest.raises(ValueError, match="discount"):
        baselines.CharNGramModel(2, 10, discount=1.5)
    with pytest.raises(RuntimeError, match="fit"):
        baselines.CharNGramModel(2, len(vocab)).probabilities(train[:5])


def test_autoregression_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    series = np.zeros(5000)
    for t in range(2, len(series)):
        series[t] = 1.0 + 0.6 * series[t - 1] - 0.3 * series[t - 2] + rng.normal(scale=0.1)
    model = baselines.LinearAutoregression(2).fit(series)
    np.testing.assert_allclose(model.coefficients, [1.0, 0.6, -0.3], atol=0.03)
    forecast = model.forecast(series, 4000)
    assert forecast.shape == (1000,)
    assert np.abs(forecast - series[4000:]).mean() < 0.1


def test_naive_forecast_and_errors():
    series = np.array([3.0, 5.0, 4.0, 8.0])
    np.testing.assert_array_equal(baselines.naive_forecast(series, 2), [5.0, 4.0])
    with pytest.raises(ValueError, match="start"):
        baselines.naive_forecast(series, 0)
    with pytest.raises(ValueError, match="order"):
        baselines.LinearAutoregression(0)
    with pytest.raises(RuntimeError, match="fit"):
        baselines.LinearAutoregression(2).forecast(series, 2)


def test_naive_bayes_classifier_learns_word_evidence():
    from seqkeras.baselines import NaiveBayesClassifier

    texts = ["the king reigned", "the king went to war", "love thy neighbour",
             "love is patient", "the king said", "love never fails", "love endures"]
    labels = [0, 0, 1, 1, 0, 1, 1]
    model = NaiveBayesClassifier().fit(texts, labels)
    assert model.predict(["a king", "patient love", "war and king"]).tolist() == [0, 1, 0]
    # No known word: only the prior decides, 4/7 for class 1 against 3/7 (argmax order alone
    # would pick class 0).
    assert model.predict(["unknown words only"]).tolist() == [1]
    bigrams = NaiveBayesClassifier(ngram=2).fit(texts, labels)
    assert "the king" in bigrams.index
    with pytest.raises(ValueError, match="fit"):
        NaiveBayesClassifier().predict(["x"])
