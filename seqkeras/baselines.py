"""The models that came before RNNs, kept as baselines every chapter is measured against.

- ``CharNGramModel``: a character n-gram (order n-1 Markov) model with interpolated absolute
  discounting (Ney, Essen & Kneser 1994).
- ``naive_forecast`` and ``LinearAutoregression``: one-step-ahead forecasts of a time series,
  the last value and an AR(p) model fitted by least squares (Yule 1927).
- ``WordLexicon``: word-for-word translation with the lexical probabilities of IBM Model 1
  (Brown et al. 1993), the statistical-MT baseline the translation chapters must beat.
- ``NaiveBayesClassifier``: bag-of-words text classification, the baseline of fine-tuning.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from seqkeras import arguments
from seqkeras.data.translation import detokenize, tokenize


class CharNGramModel:
    """Character n-gram language model with interpolated absolute discounting.

        P_n(c | h) = max(C(h c) - D, 0) / C(h) + D N1+(h .) / C(h) * P_{n-1}(c | h')

    where h is the previous n-1 characters, h' drops its oldest character, C counts occurrences
    in the training text, N1+(h .) is the number of distinct characters seen after h, and
    D in (0, 1) is the discount. A context never seen (C(h) = 0) backs off to P_{n-1} entirely;
    P_1 is add-one smoothed, so no character of the vocabulary gets probability zero.

    Args:
        order: n, the number of characters in an n-gram (1 = unigram).
        vocab_size: size of the id space; id 0 is padding and is never predicted.
        discount: D.

    Example:

    >>> from seqkeras.data import CharVocabulary
    >>> vocab = CharVocabulary.from_text("abracadabra")
    >>> model = CharNGramModel(order=3, vocab_size=len(vocab)).fit(vocab.encode("abracadabra" * 50))
    >>> model.bits_per_character(vocab.encode("abracadabra")) < 1.0    # log2(5) = 2.32 uniform
    True
    """

    def __init__(self, order: int, vocab_size: int, discount: float = 0.75):
        arguments.positive_int("order", order)
        arguments.integer("vocab_size", vocab_size, 2)
        if vocab_size ** order >= 2 ** 62:
            raise ValueError(f"vocab_size**order must be below 2**62, "
                             f"got vocab_size={vocab_size}, order={order}")
        if not 0 < discount < 1:
            raise ValueError(f"discount must be in (0, 1), got {discount!r}")
        self.order, self.vocab_size, self.discount = order, vocab_size, discount
        self._tables = None

    def _codes(self, ids, k):
        """Codes of the k-grams ending at positions k-1..len-1: sum ids[t-k+1+i] V^(k-1-i)."""
        codes = np.zeros(len(ids) - k + 1, dtype=np.int64)
        for i in range(k):
            codes = codes * self.vocab_size + ids[i:len(ids) - k + 1 + i]
        return codes

    def fit(self, ids) -> CharNGramModel:
        """Count every k-gram, k = 1..n, in the training ids. Returns self."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 1 or len(ids) < self.order:
            raise ValueError(f"ids must be 1-D with at least order={self.order} elements, "
                             f"got shape {ids.shape}")
        unigram = np.bincount(ids, minlength=self.vocab_size).astype(np.float64)
        unigram[1:] += 1.0
        unigram[0] = 0.0
        self._unigram = unigram / unigram.sum()
        self._tables = []
        for k in range(2, self.order + 1):
            grams, gram_counts = np.unique(self._codes(ids, k), return_counts=True)
            contexts, first, distinct = np.unique(grams // self.vocab_size, return_index=True,
                                                  return_counts=True)
            context_counts = np.add.reduceat(gram_counts, first)
            self._tables.append((grams, gram_counts, contexts, context_counts, distinct))
        return self

    @staticmethod
    def _lookup(keys, values, queries):
        index = np.clip(np.searchsorted(keys, queries), 0, len(keys) - 1)
        return np.where(keys[index] == queries, values[index], 0)

    def _interpolate(self, lower, k, context_codes, gram_codes):
        grams, gram_counts, contexts, context_counts, distinct = self._tables[k - 2]
        c_h = self._lookup(contexts, context_counts, context_codes).astype(np.float64)
        n1 = self._lookup(contexts, distinct, context_codes)
        c_hc = self._lookup(grams, gram_counts, gram_codes)
        seen = c_h > 0
        safe = np.where(seen, c_h, 1.0)
        interpolated = (np.maximum(c_hc - self.discount, 0) / safe
                        + self.discount * n1 / safe * lower)
        return np.where(seen, interpolated, lower)

    def probabilities(self, ids) -> np.ndarray:
        """P(ids[t] | ids[t-n+1:t]) for every position t (shorter contexts at the start)."""
        if self._tables is None:
            raise RuntimeError("call fit() before probabilities()")
        ids = np.asarray(ids, dtype=np.int64)
        probs = self._unigram[ids]
        for k in range(2, self.order + 1):
            if len(ids) < k:
                break
            gram_codes = self._codes(ids, k)
            probs[k - 1:] = self._interpolate(probs[k - 1:], k, gram_codes // self.vocab_size,
                                              gram_codes)
        return probs

    def next_distribution(self, context_ids) -> np.ndarray:
        """The distribution over the vocabulary of the character that follows ``context_ids``."""
        context = np.asarray(context_ids, dtype=np.int64)[len(context_ids) - self.order + 1:]
        if self.order == 1:
            return self._unigram.copy()
        candidates = np.arange(self.vocab_size, dtype=np.int64)
        windows = np.concatenate([np.tile(context, (self.vocab_size, 1)), candidates[:, None]], 1)
        return np.array([self.probabilities(w)[-1] for w in windows])

    def bits_per_character(self, ids) -> float:
        """-mean_t log2 P(ids[t] | context): the same measure as the RNN's validation BPC."""
        return float(-np.mean(np.log2(self.probabilities(ids))))

    def sample(self, context_ids, length: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``length`` ids one at a time from the model, after ``context_ids``."""
        out = list(context_ids)
        for _ in range(length):
            out.append(rng.choice(self.vocab_size, p=self.next_distribution(out)))
        return np.array(out[len(context_ids):])


def naive_forecast(series, start: int) -> np.ndarray:
    """One-step-ahead "tomorrow equals today" forecasts of ``series[start:]``."""
    series = np.asarray(series)
    if not 1 <= start < len(series):
        raise ValueError(f"start must be in [1, {len(series)}), got {start}")
    return series[start - 1:-1].copy()


class LinearAutoregression:
    """AR(p) model fitted by least squares: x_t = a_0 + sum_{i=1..p} a_i x_{t-i} + noise.

    Args:
        order: p, the number of past values used.
    """

    def __init__(self, order: int):
        arguments.positive_int("order", order)
        self.order = order
        self.coefficients = None

    def _design(self, series, start, stop):
        lags = [series[t - self.order:t][::-1] for t in range(start, stop)]
        return np.column_stack([np.ones(stop - start), np.array(lags)])

    def fit(self, series) -> LinearAutoregression:
        """Fit a_0..a_p on every step of ``series`` that has p predecessors. Returns self."""
        series = np.asarray(series, dtype=np.float64)
        if len(series) <= 2 * self.order:
            raise ValueError(f"series needs more than {2 * self.order} values for order "
                             f"{self.order}, got {len(series)}")
        design = self._design(series, self.order, len(series))
        self.coefficients, *_ = np.linalg.lstsq(design, series[self.order:], rcond=None)
        return self

    def forecast(self, series, start: int) -> np.ndarray:
        """One-step-ahead forecasts of ``series[start:]``, each from the p true values before it."""
        if self.coefficients is None:
            raise RuntimeError("call fit() before forecast()")
        series = np.asarray(series, dtype=np.float64)
        if not self.order <= start < len(series):
            raise ValueError(f"start must be in [{self.order}, {len(series)}), got {start}")
        return self._design(series, start, len(series)) @ self.coefficients


class WordLexicon:
    """Word-for-word translation with IBM Model 1 lexical probabilities (Brown et al. 1993).

    EM estimates t(e | f), the probability that source word f translates as target word e, from
    sentence pairs alone: each target word of a pair is shared among the pair's source words
    (and a NULL word) in proportion to the current t(e | f), and t is re-estimated from those
    expected counts. ``translate`` then replaces every source word by its most probable
    translation, in the source's word order, and copies words it never saw (names, numbers).
    No reordering, no context: what a neural translator must do better than.

    Args:
        iterations: EM iterations (Model 1's likelihood is convex; 5-10 are plenty).

    Example:

    >>> train_pairs = [("la maison", "the house"), ("la fleur", "the flower"),
    ...                ("une maison", "a house"), ("une fleur", "a flower")]
    >>> lexicon = WordLexicon().fit(train_pairs)
    >>> lexicon.translate("une maison, Jérusalem")       # unseen words are copied
    'a house, jérusalem'
    """

    NULL = None

    def __init__(self, iterations: int = 8):
        self.iterations = arguments.positive_int("iterations", iterations)
        self.best_translation: dict[str, str] = {}
        self.translation_probs: dict[tuple[str, str | None], float] = {}

    def fit(self, pairs) -> WordLexicon:
        """Estimate t(e | f) from ``(source, target)`` sentence pairs; returns self."""
        corpus = [([self.NULL, *tokenize(f)], tokenize(e)) for f, e in pairs]
        corpus = [(f, e) for f, e in corpus if len(f) > 1 and e]
        if not corpus:
            raise ValueError("pairs holds no pair with words on both sides")
        target_words = {w for _, e in corpus for w in e}
        t = defaultdict(lambda: 1.0 / len(target_words))  # t[(e, f)], uniform to start
        for _ in range(self.iterations):
            counts, totals = defaultdict(float), defaultdict(float)
            for f_words, e_words in corpus:
                for e in e_words:
                    normaliser = sum(t[(e, f)] for f in f_words)
                    for f in f_words:
                        share = t[(e, f)] / normaliser
                        counts[(e, f)] += share
                        totals[f] += share
            t = defaultdict(float, {(e, f): c / totals[f] for (e, f), c in counts.items()})
        best: dict[str, tuple[float, str]] = {}
        for (e, f), p in t.items():
            if f is not self.NULL and p > best.get(f, (0.0, ""))[0]:
                best[f] = (p, e)
        self.best_translation = {f: e for f, (_, e) in best.items()}
        self.translation_probs = dict(t)
        return self

    def align(self, source: str, target: str) -> list[int | None]:
        """Model 1's Viterbi alignment: for each target token, the position (0-based, in
        ``tokenize(source)``) of the source token f maximising t(e | f), or None where the NULL
        word wins. Under Model 1 the alignments of different target words are independent,
        so this per-word argmax is the most probable alignment of the whole pair."""
        if not self.translation_probs:
            raise ValueError("call fit() before align()")
        f_words = [self.NULL, *tokenize(source)]
        alignment = []
        for e in tokenize(target):
            scores = [self.translation_probs.get((e, f), 0.0) for f in f_words]
            best = int(np.argmax(scores))
            alignment.append(best - 1 if best > 0 else None)
        return alignment

    def translate(self, sentence: str) -> str:
        """The word-for-word translation of one sentence (lower-cased, detokenised)."""
        if not self.best_translation:
            raise ValueError("call fit() before translate()")
        return detokenize([self.best_translation.get(f, f) for f in tokenize(sentence)])


class NaiveBayesClassifier:
    """A bag-of-words multinomial naive Bayes text classifier with Laplace smoothing
    (McCallum & Nigam 1998): the n-gram baseline that fine-tuned models must beat.

        predict(d) = argmax_c  log P(c) + sum_{w in d} log P(w | c),
        P(w | c) = (count(w, c) + alpha) / (count(c) + alpha |V|)

    Args:
        tokenize: text -> list of tokens (default: lower-cased words, as in chapter 5).
        alpha: the additive smoothing.
        ngram: 1 for words, 2 for words and word pairs.

    Example:

    >>> texts = ["good and great", "an awful verse", "great good verse", "awful bad"]
    >>> model = NaiveBayesClassifier().fit(texts, np.array([1, 0, 1, 0]))
    >>> model.predict(["a good one", "an awful one"]).tolist()
    [1, 0]
    """

    def __init__(self, tokenize=None, alpha=1.0, ngram=1):
        from seqkeras.data.translation import tokenize as word_tokens

        if ngram not in (1, 2):
            raise ValueError(f"ngram must be 1 or 2, got {ngram!r}")
        self.tokenize, self.alpha, self.ngram = tokenize or word_tokens, alpha, ngram
        self.log_prior = None

    def _features(self, text):
        words = self.tokenize(text)
        return words + ([" ".join(p) for p in zip(words, words[1:], strict=False)]
                        if self.ngram == 2 else [])

    def fit(self, texts, labels):
        labels = np.asarray(labels)
        self.classes = np.unique(labels)
        documents = [self._features(t) for t in texts]
        self.index = {w: i for i, w in enumerate(sorted({w for d in documents for w in d}))}
        counts = np.zeros((len(self.classes), len(self.index)))
        for features, label in zip(documents, labels, strict=True):
            row = np.searchsorted(self.classes, label)
            for w in features:
                counts[row, self.index[w]] += 1
        self.log_prior = np.log(np.bincount(np.searchsorted(self.classes, labels))
                                / len(labels))
        smoothed = counts + self.alpha
        self.log_likelihood = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))
        return self

    def predict(self, texts):
        if self.log_prior is None:
            raise ValueError("call fit() before predict()")
        scores = np.tile(self.log_prior, (len(texts), 1))
        for k, text in enumerate(texts):
            known = [self.index[w] for w in self._features(text) if w in self.index]
            scores[k] += self.log_likelihood[:, known].sum(axis=1)
        return self.classes[scores.argmax(axis=1)]


class WordOverlapClassifier:
    """The classic baseline of paraphrase detection (MRPC): two sentences are paraphrases when
    enough of their words are shared. The feature is the Jaccard overlap of the two sentences'
    word sets, |A & B| / |A | B|; the threshold is the one that classifies the most training
    pairs right.

    Args:
        tokenize: text -> list of tokens (default: lower-cased words, as in chapter 5).

    Example:

    >>> model = WordOverlapClassifier().fit(
    ...     ["in the beginning", "the earth was void", "and god said", "let there be light"],
    ...     ["at the beginning", "the earth was empty", "the waters moved", "god saw the light"],
    ...     np.array([1, 1, 0, 0]))
    >>> model.predict(["the earth was formless"], ["the earth was void"]).tolist()
    [1]
    """

    def __init__(self, tokenize=None):
        from seqkeras.data.translation import tokenize as word_tokens

        self.tokenize = tokenize or word_tokens
        self.threshold = None

    def overlap(self, first, second) -> np.ndarray:
        """The Jaccard overlap of each pair's word sets."""
        if len(first) != len(second):
            raise ValueError(f"first and second must have the same length, got {len(first)} "
                             f"and {len(second)}")
        scores = []
        for a, b in zip(first, second, strict=True):
            a, b = set(self.tokenize(a)), set(self.tokenize(b))
            scores.append(len(a & b) / max(len(a | b), 1))
        return np.array(scores)

    def fit(self, first, second, labels):
        labels = np.asarray(labels).astype(bool)
        scores = self.overlap(first, second)
        candidates = np.unique(scores)
        accuracy = [((scores >= t) == labels).mean() for t in candidates]
        self.threshold = float(candidates[int(np.argmax(accuracy))])
        return self

    def predict(self, first, second) -> np.ndarray:
        if self.threshold is None:
            raise ValueError("call fit() before predict()")
        return (self.overlap(first, second) >= self.threshold).astype("int32")
