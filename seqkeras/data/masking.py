"""Pretraining inputs for BERT and its family: masked-language-model selection (static,
dynamic, whole-word spans) and next-sentence-prediction pairs. NumPy, backend-neutral.

    BERT (Devlin et al. 2018, section 3.1): select 15% of the tokens; of those, 80% become
    [MASK], 10% a random token, 10% stay unchanged; predict the original token at each.
    RoBERTa (Liu et al. 2019, section 4.1): draw a new selection every epoch (dynamic masking).
    SpanBERT (Joshi et al. 2019, section 3.1): select whole-word spans whose lengths (in words)
    follow Geo(p = 0.2) clipped at 10 (mean 3.8 words) until 15% of the tokens are selected;
    the 80/10/10 choice is made once per span, and the last span is cut to the budget.

The outputs follow keras_hub's ``MaskedLMMaskGenerator``: ``token_ids`` (with the
replacements), ``mask_positions``, ``mask_ids`` (the original tokens there) and
``mask_weights`` (1 for a real selection, 0 for padding of the position list).
"""

from __future__ import annotations

import math

import keras
import numpy as np


def _check_rates(selection_rate, mask_token_rate, random_token_rate):
    if not 0.0 < selection_rate < 1.0:
        raise ValueError(f"selection_rate must be in (0, 1), got {selection_rate!r}")
    if mask_token_rate < 0 or random_token_rate < 0 or mask_token_rate + random_token_rate > 1:
        raise ValueError("mask_token_rate and random_token_rate must be >= 0 and sum to at most "
                         f"1, got {mask_token_rate!r} and {random_token_rate!r}")


def _replace_and_list(token_ids, selected, groups, vocabulary_size, mask_token_id, rng,
                      mask_token_rate, random_token_rate, max_selections):
    """Apply the 80/10/10 replacement to the ``selected`` tokens, one draw per group id in
    ``groups`` (a token's own index for BERT, its span's for SpanBERT), and list the positions."""
    batch, length = token_ids.shape
    draw = rng.random((batch, length))
    # every token of a group takes the draw of the group's first token
    first_of_group = np.take_along_axis(draw, groups, axis=1)
    masked = token_ids.copy()
    to_mask = selected & (first_of_group < mask_token_rate)
    to_random = selected & (first_of_group >= mask_token_rate) & (
        first_of_group < mask_token_rate + random_token_rate)
    masked[to_mask] = mask_token_id
    masked[to_random] = rng.integers(0, vocabulary_size, size=int(to_random.sum()))
    positions = np.zeros((batch, max_selections), "int32")
    ids = np.zeros((batch, max_selections), "int32")
    weights = np.zeros((batch, max_selections), "float32")
    for row in range(batch):
        chosen = np.flatnonzero(selected[row])
        if len(chosen) > max_selections:  # keep the first ones, restore the rest
            dropped = chosen[max_selections:]
            masked[row, dropped] = token_ids[row, dropped]
            chosen = chosen[:max_selections]
        positions[row, :len(chosen)] = chosen
        ids[row, :len(chosen)] = token_ids[row, chosen]
        weights[row, :len(chosen)] = 1.0
    return {"token_ids": masked.astype("int32"), "mask_positions": positions, "mask_ids": ids,
            "mask_weights": weights}


def mask_tokens(token_ids, vocabulary_size, mask_token_id, rng, selection_rate=0.15,
                mask_token_rate=0.8, random_token_rate=0.1, unselectable_ids=(0, 1, 2),
                max_selections=None):
    """BERT's masked-LM selection: each selectable token is selected with probability
    ``selection_rate``; a selected token becomes ``mask_token_id`` with probability
    ``mask_token_rate``, a uniformly random id with ``random_token_rate``, else stays.

    Args:
        token_ids: int ``(batch, T)``.
        vocabulary_size: range of the random replacement ids.
        mask_token_id: id of [MASK].
        rng: a ``numpy.random.Generator``.
        selection_rate, mask_token_rate, random_token_rate: BERT's 0.15, 0.8, 0.1.
        unselectable_ids: never selected ([PAD], [CLS], [SEP] of the bundled vocabulary).
        max_selections: length M of the position lists (default: the most one row selected);
            further selections of a row are undone.

    Returns:
        dict with ``token_ids`` ``(batch, T)`` and ``mask_positions``, ``mask_ids``,
        ``mask_weights`` ``(batch, M)``.
    """
    _check_rates(selection_rate, mask_token_rate, random_token_rate)
    token_ids = np.asarray(token_ids)
    selected = ~np.isin(token_ids, unselectable_ids) & (rng.random(token_ids.shape)
                                                         < selection_rate)
    if max_selections is None:
        max_selections = max(int(selected.sum(axis=1).max()), 1)
    own_index = np.broadcast_to(np.arange(token_ids.shape[1]), token_ids.shape)
    return _replace_and_list(token_ids, selected, own_index, vocabulary_size, mask_token_id,
                             rng, mask_token_rate, random_token_rate, max_selections)


def word_starts(token_ids, vocabulary):
    """Boolean ``(batch, T)``: True where a token begins a word (a WordPiece not starting with
    ``##``). Special tokens count as words of their own."""
    continues = np.array([token.startswith("##") for token in vocabulary])
    return ~continues[np.asarray(token_ids)]


def span_lengths_distribution(p=0.2, max_length=10):
    """P(span of k words), k = 1..max_length: Geo(p) clipped (renormalised) at max_length."""
    k = np.arange(1, max_length + 1)
    probabilities = p * (1 - p) ** (k - 1)
    return probabilities / probabilities.sum()


def mask_spans(token_ids, is_word_start, vocabulary_size, mask_token_id, rng,
               selection_rate=0.15, mask_token_rate=0.8, random_token_rate=0.1,
               unselectable_ids=(0, 1, 2), p=0.2, max_span_words=10, max_selections=None):
    """SpanBERT's span masking: whole-word spans of Geo(p)-distributed length (clipped at
    ``max_span_words``) are selected at random starting words until ``selection_rate`` of each
    row's selectable tokens are selected; each span is replaced as a unit (80/10/10).

    Args: those of ``mask_tokens``, and ``is_word_start`` ``(batch, T)`` (``word_starts``).

    Returns:
        The dict of ``mask_tokens``, plus ``span_lengths``: the sampled span lengths in words.
    """
    _check_rates(selection_rate, mask_token_rate, random_token_rate)
    token_ids = np.asarray(token_ids)
    batch, length = token_ids.shape
    selectable = ~np.isin(token_ids, unselectable_ids)
    distribution = span_lengths_distribution(p, max_span_words)
    selected = np.zeros((batch, length), bool)
    groups = np.broadcast_to(np.arange(length), (batch, length)).copy()
    sampled = []
    for row in range(batch):
        # words as [start, end) token ranges over the selectable tokens
        starts = [t for t in range(length) if selectable[row, t] and is_word_start[row, t]]
        words = [(s, next((t for t in range(s + 1, length)
                           if is_word_start[row, t] or not selectable[row, t]), length))
                 for s in starts]
        budget = max(round(selection_rate * selectable[row].sum()), 1)
        count, attempts = 0, 0
        while words and count < budget and attempts < 10 * len(words):
            attempts += 1
            span = int(rng.choice(len(distribution), p=distribution)) + 1
            first = int(rng.integers(0, len(words)))
            chosen = words[first:first + span]
            if any(selected[row, s] for s, _ in chosen):
                continue  # overlaps an earlier span
            while chosen and count + sum(e - s for s, e in chosen) > budget:
                chosen = chosen[:-1]  # the budget's last span is cut to the words that fit
            if not chosen:
                break
            sampled.append(len(chosen))
            span_start = chosen[0][0]
            for s, e in chosen:
                selected[row, s:e] = True
                groups[row, s:e] = span_start
            count += sum(e - s for s, e in chosen)
    if max_selections is None:
        max_selections = max(int(selected.sum(axis=1).max()), 1)
    out = _replace_and_list(token_ids, selected, groups, vocabulary_size, mask_token_id, rng,
                            mask_token_rate, random_token_rate, max_selections)
    out["span_lengths"] = np.array(sampled, "int32")
    return out


class MaskedLMBatches(keras.utils.PyDataset):
    """Batches of masked-LM training data for ``model.fit``: ``(inputs, mask_ids,
    mask_weights)`` with inputs a dict of ``token_ids``, ``segment_ids``, ``padding_mask``,
    ``mask_positions`` (and any ``extra`` arrays, e.g. next-sentence labels, as targets).

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
        targets: optional dict of extra per-row targets (e.g. ``{"nsp": labels}``); the
            targets are then a dict ``{"mlm": mask_ids, **targets}`` and the sample weights
            ``{"mlm": mask_weights, <each target>: 1}``.
    """

    def __init__(self, packed, mask, batch_size=32, dynamic=False, seed=0, targets=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.packed, self.mask, self.batch_size = packed, mask, batch_size
        self.dynamic, self.seed, self.targets = dynamic, seed, targets or {}
        self.epoch = 0
        self._masked = self._mask_all()

    def _mask_all(self):
        rng = np.random.default_rng([self.seed, self.epoch if self.dynamic else 0])
        return self.mask(self.packed["token_ids"], rng)

    def __len__(self):
        return math.ceil(len(self.packed["token_ids"]) / self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        inputs = {"token_ids": self._masked["token_ids"][rows],
                  "segment_ids": self.packed["segment_ids"][rows],
                  "padding_mask": self.packed["padding_mask"][rows],
                  "mask_positions": self._masked["mask_positions"][rows]}
        weights = self._masked["mask_weights"][rows]
        if not self.targets:
            return inputs, self._masked["mask_ids"][rows], weights
        targets = {"mlm": self._masked["mask_ids"][rows],
                   **{k: v[rows] for k, v in self.targets.items()}}
        sample_weights = {"mlm": weights,
                          **{k: np.ones(len(v[rows]), "float32") for k, v in self.targets.items()}}
        return inputs, targets, sample_weights

    def on_epoch_end(self):
        self.epoch += 1
        if self.dynamic:
            self._masked = self._mask_all()


def sentence_order_pairs(documents, rng, swap_rate=0.5):
    """ALBERT's sentence-order-prediction pairs (Lan et al. 2019, section 3.1): two consecutive
    sentences of one document, in their order (label 1) or, with probability ``swap_rate``,
    swapped (label 0). Unlike NSP's random B, both segments share the topic, so the task cannot
    be solved by topic alone.

    Returns:
        ``(first, second, in_order)``: two lists of strings and an int32 array.
    """
    first, second, in_order = [], [], []
    for document in documents:
        for a, b in zip(document, document[1:], strict=False):
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
