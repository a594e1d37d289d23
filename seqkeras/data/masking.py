"""Masked-language-model selection for BERT and its family (static, dynamic, whole-word
spans). NumPy, backend-neutral.

    BERT (Devlin et al. 2018, section 3.1): select 15% of the tokens; of those, 80% become
    [MASK], 10% a random token, 10% stay unchanged; predict the original token at each.
    RoBERTa (Liu et al. 2019, section 4.1): draw a new selection every epoch (dynamic masking).
    SpanBERT (Joshi et al. 2019, section 3.1): select whole-word spans whose lengths (in words)
    follow Geo(p = 0.2) clipped at 10 (mean 3.8 words) until 15% of the tokens are selected;
    the 80/10/10 choice is made once per span, and the last span is cut to the budget.
    Left to right (BERT's Table 5 ablation): no corruption, the next token at every position.

The outputs follow keras_hub's ``MaskedLMMaskGenerator``: ``token_ids`` (with the
replacements), ``mask_positions``, ``mask_ids`` (the original tokens there) and
``mask_weights`` (1 for a real selection, 0 for padding of the position list).
"""

from __future__ import annotations

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
    row's selectable tokens are selected; a span never crosses a special token ([SEP]); each
    span is replaced as a unit (80/10/10).

    Args: those of ``mask_tokens``, and ``is_word_start`` ``(batch, T)`` (``word_starts``).

    Returns:
        The dict of ``mask_tokens``, plus ``span_lengths`` (the sampled span lengths in words)
        and, for SpanBERT's span-boundary objective, ``span_boundaries`` ``(batch, M, 2)`` (the
        positions s - 1 and e + 1 around each target's span) and ``span_relative_positions``
        ``(batch, M)`` (i - s).
    """
    _check_rates(selection_rate, mask_token_rate, random_token_rate)
    token_ids = np.asarray(token_ids)
    batch, length = token_ids.shape
    selectable = ~np.isin(token_ids, unselectable_ids)
    distribution = span_lengths_distribution(p, max_span_words)
    selected = np.zeros((batch, length), bool)
    groups = np.broadcast_to(np.arange(length), (batch, length)).copy()
    sampled = []
    # a word ends where the next word, a special token or padding begins
    word_ends_before = (is_word_start | ~selectable)
    for row in range(batch):
        starts = np.flatnonzero(selectable[row] & is_word_start[row])
        boundaries = np.append(np.flatnonzero(word_ends_before[row]), length)
        ends = boundaries[np.searchsorted(boundaries, starts, side="right")]
        words = list(zip(starts.tolist(), ends.tolist(), strict=True))
        budget = max(round(selection_rate * selectable[row].sum()), 1)
        count, attempts = 0, 0
        while words and count < budget and attempts < 10 * len(words):
            attempts += 1
            span = int(rng.choice(len(distribution), p=distribution)) + 1
            first = int(rng.integers(0, len(words)))
            chosen = words[first:first + span]
            # a span stops where the words stop being contiguous (at a [SEP])
            gaps = [k for k in range(1, len(chosen)) if chosen[k][0] != chosen[k - 1][1]]
            chosen = chosen[:gaps[0]] if gaps else chosen
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
    out.update(_span_boundaries(out["mask_positions"], out["mask_weights"], groups, selected))
    return out


def _span_boundaries(positions, weights, groups, selected):
    """For every listed target token: the positions just outside its span, s - 1 and e + 1
    (SpanBERT's boundary tokens), and its offset i - s inside the span."""
    batch, length = selected.shape
    rows = np.arange(batch)[:, None]
    span_start = groups[rows, positions]
    # a span's last token is the last selected one of its group
    same_span_next = np.zeros_like(selected)
    same_span_next[:, :-1] = selected[:, 1:] & (groups[:, 1:] == groups[:, :-1])
    last_of_span = np.arange(length)[None].repeat(batch, 0)
    for t in range(length - 2, -1, -1):  # propagate each span's end back to its tokens
        last_of_span[:, t] = np.where(same_span_next[:, t], last_of_span[:, t + 1], t)
    span_end = last_of_span[rows, positions]
    real = weights > 0
    boundaries = np.stack([np.where(real, span_start - 1, 0),
                           np.where(real, np.minimum(span_end + 1, length - 1), 0)], -1)
    return {"span_boundaries": boundaries.astype("int32"),
            "span_relative_positions": np.where(real, positions - span_start, 0).astype("int32")}


def next_token_targets(token_ids, pad_id=0, rng=None, selection_rate=None,
                       max_selections=None):
    """The left-to-right objective in the masked-LM format: at position i, predict token i + 1
    (the "LTR" model of BERT's Table 5, trained with a causal ``BertEncoder``).

    Nothing is corrupted: ``token_ids`` come back unchanged, ``mask_positions`` lists the
    positions to predict from, ``mask_ids`` the token after each, ``mask_weights`` is 0 where
    that token is padding (or the list is padded). ``BertPretrainer``'s masked-LM head then
    predicts the next token there, so a left-to-right model and BERT share the pretraining code.

    Args:
        token_ids: int ``(batch, T)``.
        pad_id: the padding id (``special_token_ids(tokenizer)["[PAD]"]``).
        rng: a ``numpy.random.Generator``, used with ``selection_rate``.
        selection_rate: None predicts at every position (a language model's objective); a rate
            such as BERT's 0.15 predicts at that share of the real positions, drawn by ``rng``,
            so that each step costs and teaches as many predictions as BERT's.
        max_selections: length of the position lists with ``selection_rate`` (default: the
            most one row selected).

    Returns:
        dict with ``token_ids`` ``(batch, T)`` and ``mask_positions``, ``mask_ids``,
        ``mask_weights`` ``(batch, M)``: M = T - 1, or the selections' length.

    Example:

    >>> targets = next_token_targets(np.array([[1, 7, 8, 2, 0]]))
    >>> targets["mask_positions"].tolist(), targets["mask_ids"].tolist()
    ([[0, 1, 2, 3]], [[7, 8, 2, 0]])
    >>> targets["mask_weights"].tolist()
    [[1.0, 1.0, 1.0, 0.0]]
    """
    token_ids = np.asarray(token_ids)
    if token_ids.ndim != 2 or token_ids.shape[1] < 2:
        raise ValueError(f"token_ids must be (batch, T) with T >= 2, got {token_ids.shape}")
    batch, length = token_ids.shape
    positions = np.tile(np.arange(length - 1), (batch, 1))
    predictable = token_ids[:, 1:] != pad_id
    if selection_rate is not None:
        if rng is None:
            raise ValueError("selection_rate needs an rng to draw the positions")
        _check_rates(selection_rate, 0.0, 0.0)
        chosen = predictable & (rng.random(predictable.shape) < selection_rate)
        width = max_selections or max(int(chosen.sum(axis=1).max()), 1)
        # each row's chosen positions first, in order; the rest of the list is padding
        order = np.argsort(~chosen, axis=1, kind="stable")[:, :width]
        positions = np.take_along_axis(positions, order, axis=1)
        predictable = np.take_along_axis(chosen, order, axis=1)
    next_ids = np.take_along_axis(token_ids, positions + 1, axis=1)
    return {"token_ids": token_ids.astype("int32"), "mask_positions": positions.astype("int32"),
            "mask_ids": np.where(predictable, next_ids, 0).astype("int32"),
            "mask_weights": predictable.astype("float32")}
