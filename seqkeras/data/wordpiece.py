"""BERT's subword vocabulary: WordPiece learned from the King James Bible, and packing of one
or two segments as ``[CLS] A [SEP] B [SEP]`` with segment ids (Devlin et al. 2018, section 3).

The vocabulary (``files/kjv_wordpiece.txt``, 4,288 tokens) was learned by keras_hub's
``compute_word_piece_vocabulary`` from the lower-cased training split of the KJV; ``python -m
course.data.build`` learns it again, byte for byte, and ``SHA256SUMS`` pins it.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from seqkeras import arguments
from seqkeras.data.corpora import _read_text

PAD, CLS, SEP, UNK, MASK = "[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"
RESERVED_TOKENS = (PAD, CLS, SEP, UNK, MASK)  # ids 0-4
VOCABULARY_FILE = "kjv_wordpiece.txt"


def learn_wordpiece_vocabulary(lines, vocabulary_size=8192) -> list[str]:
    """A WordPiece vocabulary of lower-cased ``lines`` (the reserved tokens first), learned by
    keras_hub's ``compute_word_piece_vocabulary``; the size is the learner's target, the result
    is usually smaller (it stops when more pieces do not pay)."""
    import keras_hub
    import tensorflow as tf

    return keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(list(lines)), vocabulary_size, lowercase=True,
        reserved_tokens=list(RESERVED_TOKENS))


@cache
def load_wordpiece_vocabulary() -> tuple[str, ...]:
    """The bundled KJV WordPiece vocabulary: ``[PAD] [CLS] [SEP] [UNK] [MASK]``, then pieces
    (``##`` marks a piece that continues a word)."""
    return tuple(_read_text(VOCABULARY_FILE).splitlines())


def wordpiece_tokenizer():
    """keras_hub's ``WordPieceTokenizer`` over the bundled vocabulary, lower-casing its input.

    Example:

    >>> tokenizer = wordpiece_tokenizer()
    >>> tokenizer.detokenize(tokenizer("In the beginning God created"))
    'in the beginning god created'
    """
    import keras_hub

    return keras_hub.tokenizers.WordPieceTokenizer(vocabulary=list(load_wordpiece_vocabulary()),
                                                   lowercase=True, oov_token=UNK)


def special_token_ids(tokenizer=None) -> dict[str, int]:
    """The ids of ``[PAD]``, ``[CLS]``, ``[SEP]``, ``[UNK]`` and ``[MASK]`` in ``tokenizer``'s own
    vocabulary (default: the bundled KJV WordPiece, ids 0-4).

    A real BERT's vocabulary puts them elsewhere (``bert_base_en_uncased``: 0, 101, 102, 100,
    103), so every packer asks the tokenizer it is given rather than assuming the KJV's.

    Args:
        tokenizer: a keras_hub tokenizer (anything with ``token_to_id``), e.g.
            ``wordpiece_tokenizer()`` or a preset's ``keras_hub.models.BertTokenizer``.

    Returns:
        dict from token to id.

    Example:

    >>> special_token_ids()
    {'[PAD]': 0, '[CLS]': 1, '[SEP]': 2, '[UNK]': 3, '[MASK]': 4}
    """
    tokenizer = tokenizer or wordpiece_tokenizer()
    if not callable(getattr(tokenizer, "token_to_id", None)):
        raise TypeError(f"tokenizer must be a keras_hub tokenizer with token_to_id() (to find "
                        f"its [CLS], [SEP] and [PAD]), got {type(tokenizer).__name__}")
    ids = {}
    for token in RESERVED_TOKENS:
        try:
            ids[token] = int(tokenizer.token_to_id(token))
        except (KeyError, ValueError) as error:
            raise ValueError(f"{token} is not in the tokenizer's vocabulary: BERT's inputs "
                             f"need it") from error
    return ids


def _round_robin_lengths(first_lengths, second_lengths, budget):
    """How many tokens of each segment fit in ``budget`` when space is handed out one token
    at a time, to A then B in turn, to the segments that still need some (keras_hub's
    ``truncate="round_robin"``)."""
    half_up, half_down = (budget + 1) // 2, budget // 2
    second = np.where(first_lengths >= half_up, np.minimum(second_lengths, half_down),
                      np.minimum(second_lengths, budget - first_lengths))
    return np.minimum(first_lengths, budget - second), second


def pack_segments(first, second=None, sequence_length=128, tokenizer=None):
    """Tokenise and pack sentences for BERT: ``[CLS] A [SEP]`` or ``[CLS] A [SEP] B [SEP]``.

    The packing equals keras_hub's ``MultiSegmentPacker`` (tested), done in NumPy: on a 2-core
    CPU, 5,952 pairs took 5.2 s this way against 13.2 s through the packer.

    Args:
        first: list of strings, segment A of each example.
        second: optional list of strings, segment B.
        sequence_length: length of the packed rows; longer pairs are truncated round-robin
            (one token from each segment in turn), as keras_hub's ``MultiSegmentPacker`` does.
        tokenizer: a keras_hub tokenizer, default ``wordpiece_tokenizer()``; ``[CLS]``,
            ``[SEP]`` and ``[PAD]`` take its ids (``special_token_ids``), so a preset's
            tokenizer packs the inputs its BERT expects.

    Returns:
        dict of int32 arrays ``(n, sequence_length)``: ``token_ids``, ``segment_ids`` (0 for
        [CLS], A and its [SEP]; 1 for B and its [SEP]) and ``padding_mask`` (1 = a real token):
        the inputs of ``seqkeras.models.BertEncoder``.
    """
    if not len(first):
        raise ValueError("first is empty: nothing to pack")
    if second is not None and len(second) != len(first):
        raise ValueError(f"first and second must have the same length, got {len(first)} and "
                         f"{len(second)}")
    arguments.integer("sequence_length", sequence_length, 3 if second is None else 5,
                      what="an integer that fits [CLS], [SEP] and a token of each segment")
    tokenizer = tokenizer or wordpiece_tokenizer()
    ids = special_token_ids(tokenizer)
    segments = []
    for texts in [first] if second is None else [first, second]:
        rows = tokenizer(list(texts))  # ragged: a tf.RaggedTensor or a list of rows
        rows = rows.to_list() if hasattr(rows, "to_list") else rows
        segments.append([np.asarray(row, "int32") for row in rows])
    n = len(first)
    token_ids = np.full((n, sequence_length), ids[PAD], "int32")
    segment_ids = np.zeros((n, sequence_length), "int32")
    lengths = [np.array([len(row) for row in rows]) for rows in segments]
    if second is None:
        kept = [np.minimum(lengths[0], sequence_length - 2)]
    else:
        kept = list(_round_robin_lengths(*lengths, sequence_length - 3))
    for i in range(n):
        position = 1
        token_ids[i, 0] = ids[CLS]
        for k, rows in enumerate(segments):
            end = position + kept[k][i]
            token_ids[i, position:end] = rows[i][:kept[k][i]]
            token_ids[i, end] = ids[SEP]
            segment_ids[i, position:end + 1] = k
            position = end + 1
    return {"token_ids": token_ids, "segment_ids": segment_ids,
            "padding_mask": (token_ids != ids[PAD]).astype("int32")}


__all__ = ["CLS", "MASK", "PAD", "RESERVED_TOKENS", "SEP", "UNK",
           "learn_wordpiece_vocabulary", "load_wordpiece_vocabulary", "pack_segments",
           "special_token_ids", "wordpiece_tokenizer"]
