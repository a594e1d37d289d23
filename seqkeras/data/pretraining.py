"""Pretraining data for BERT and its family: masked-LM batches for ``fit`` and the sentence
pairs of the second pretraining task (BERT's next sentence, ALBERT's sentence order)."""

from __future__ import annotations

import math

import keras
import numpy as np

SPAN_INPUTS = ("span_boundaries", "span_relative_positions")


class MaskedLMBatches(keras.utils.PyDataset):
    """Masked-LM training data: ``(inputs, targets, sample_weights)`` batches for ``fit``, or
    one epoch's whole arrays (``arrays()``, for ``seqkeras.training.fit_pretraining``).

    The inputs are a dict of ``token_ids``, ``segment_ids``, ``padding_mask`` and
    ``mask_positions``; the targets the original ``mask_ids``, weighted by ``mask_weights``.

    ``dynamic=False`` masks the data once (BERT's static masking: every epoch sees the same
    masks); ``dynamic=True`` draws new masks for every epoch (RoBERTa).

    Args:
        packed: dict of ``token_ids``, ``segment_ids``, ``padding_mask`` (``pack_segments``).
        mask: ``f(token_ids, rng) -> dict`` such as
            ``lambda ids, rng: mask_tokens(ids, V, mask_id, rng, max_selections=M)``; a fixed
            ``max_selections`` keeps every batch the same shape.
        batch_size: rows per batch.
        dynamic: re-mask every epoch.
        seed: seed of the masking.
        targets: optional dict of extra per-row targets (e.g. ``{"nsp": labels}``).
        span_boundary: also feed SpanBERT's span-boundary objective: the inputs gain
            ``span_boundaries`` and ``span_relative_positions`` (``mask`` must be
            ``mask_spans``), and the targets an ``"sbo"`` entry, the same tokens as ``"mlm"``.

    With ``targets`` or ``span_boundary`` the targets are a dict ``{"mlm": mask_ids, ...}`` and
    the sample weights ``{"mlm": mask_weights, "sbo": mask_weights, <each target>: 1}``.
    """

    def __init__(self, packed, mask, batch_size=32, dynamic=False, seed=0, targets=None,
                 span_boundary=False, **kwargs):
        super().__init__(**kwargs)
        self.packed, self.mask, self.batch_size = packed, mask, batch_size
        self.dynamic, self.seed, self.targets = dynamic, seed, targets or {}
        self.span_boundary = bool(span_boundary)
        self.epoch = 0
        self._masked = self._mask_all()
        if self.span_boundary and not all(k in self._masked for k in SPAN_INPUTS):
            raise ValueError("span_boundary=True needs a mask function that returns span "
                             "boundaries: seqkeras.data.mask_spans")

    def _mask_all(self):
        rng = np.random.default_rng([self.seed, self.epoch if self.dynamic else 0])
        return self.mask(self.packed["token_ids"], rng)

    def __len__(self):
        return math.ceil(len(self.packed["token_ids"]) / self.batch_size)

    def arrays(self, rows=slice(None)):
        """The current epoch's ``(inputs, targets, sample_weights)`` for ``rows`` (all)."""
        inputs = {"token_ids": self._masked["token_ids"][rows],
                  "segment_ids": self.packed["segment_ids"][rows],
                  "padding_mask": self.packed["padding_mask"][rows],
                  "mask_positions": self._masked["mask_positions"][rows]}
        mask_ids, weights = self._masked["mask_ids"][rows], self._masked["mask_weights"][rows]
        if self.span_boundary:
            inputs.update({k: self._masked[k][rows] for k in SPAN_INPUTS})
        if not self.targets and not self.span_boundary:
            return inputs, mask_ids, weights
        targets = {"mlm": mask_ids, **{k: v[rows] for k, v in self.targets.items()}}
        sample_weights = {"mlm": weights, **{k: np.ones(len(v[rows]), "float32")
                                              for k, v in self.targets.items()}}
        if self.span_boundary:
            targets["sbo"], sample_weights["sbo"] = mask_ids, weights
        return inputs, targets, sample_weights

    def __getitem__(self, index):
        return self.arrays(slice(index * self.batch_size, (index + 1) * self.batch_size))

    def on_epoch_end(self):
        self.epoch += 1
        if self.dynamic:
            self._masked = self._mask_all()

END_PUNCTUATION = ".,;:?!"


def sentence_order_pairs(documents, rng, swap_rate=0.5, cut_at_word=False,
                         strip_end_punctuation=False):
    """ALBERT's sentence-order-prediction pairs (Lan et al. 2019, section 3.1): two consecutive
    sentences of one document, in their order (label 1) or, with probability ``swap_rate``,
    swapped (label 0). Unlike NSP's random B, both segments share the topic, so the task cannot
    be solved by topic alone.

    Args:
        documents: list of lists of sentences (e.g. the verses of each chapter).
        rng: a ``numpy.random.Generator``.
        swap_rate: probability that a pair is swapped.
        cut_at_word: if True, the two sentences are joined and cut again at a random word of
            the middle half of their words, so A starts where a sentence starts and B ends where
            one ends, but the cut between them falls inside the text. (BERT's and ALBERT's data
            code builds segments from whole sentences, then trims the longer one from its front
            or back at random until the pair fits, so their segments need not end where a
            sentence does.) Cut this way, the order shows in where sentences start and end and
            in whether the text reads on across the cut, a local coherence a small model can
            learn; chapter 11 measured none that it could learn at the verse boundary.
        strip_end_punctuation: remove the punctuation (``END_PUNCTUATION``) that ends each
            segment, so that whether a segment ends where a verse does cannot be read off its
            last character: cut at a word, a rule such as "in order when B ends with . ? ! :
            or ;" then scores the share of swapped pairs, about one half, and what is left to
            learn is whether the text reads on across the cut.

    Returns:
        ``(first, second, in_order)``: two lists of strings and an int32 array.
    """
    first, second, in_order = [], [], []
    for document in documents:
        for a, b in zip(document, document[1:], strict=False):
            if cut_at_word:
                words = f"{a} {b}".split()
                low = max(1, len(words) // 4)
                cut = int(rng.integers(low, max(low + 1, len(words) - len(words) // 4)))
                a, b = " ".join(words[:cut]), " ".join(words[cut:])
            if strip_end_punctuation:
                a, b = a.rstrip(END_PUNCTUATION), b.rstrip(END_PUNCTUATION)
            swapped = rng.random() < swap_rate
            first.append(b if swapped else a)
            second.append(a if swapped else b)
            in_order.append(0 if swapped else 1)
    if not first:
        raise ValueError("sentence-order pairs need a document of at least two sentences")
    return first, second, np.array(in_order, "int32")


def next_sentence_pairs(documents, rng, random_rate=0.5):
    """Next-sentence-prediction pairs (BERT, section 3.1): for every sentence that has a
    successor in its document, B is that successor (label 1) or, with probability
    ``random_rate``, a random sentence of another document (label 0).

    Args:
        documents: list of lists of sentences (e.g. the verses of each chapter).
        rng: a ``numpy.random.Generator``.

    Returns:
        ``(first, second, is_next)``: two lists of strings and an int32 array.
    """
    if sum(len(d) > 0 for d in documents) < 2:
        raise ValueError("next-sentence pairs need at least two non-empty documents")
    first, second, is_next = [], [], []
    for d, document in enumerate(documents):
        for i in range(len(document) - 1):
            first.append(document[i])
            if rng.random() < random_rate:
                other = d
                while other == d or not documents[other]:
                    other = int(rng.integers(0, len(documents)))
                second.append(documents[other][int(rng.integers(0, len(documents[other])))])
                is_next.append(0)
            else:
                second.append(document[i + 1])
                is_next.append(1)
    return first, second, np.array(is_next, "int32")
