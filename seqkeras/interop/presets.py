"""A real pretrained BERT in the learner's encoder: KerasHub presets, online and offline.

``load_bert_preset(preset)`` loads keras_hub's ``BertBackbone`` and ``BertTokenizer`` from a
preset and converts the backbone into ``seqkeras.models.BertEncoder``: the encoder chapter 9
builds, now holding Google's weights. On Colab the preset is a name such as
``"bert_tiny_en_uncased"`` (downloaded from Kaggle); with no network (CI, this course's
committed renders) it is a directory that ``save_random_bert_preset`` wrote: a keras_hub BERT
of ``bert_tiny_en_uncased``'s shape with *random* weights and a vocabulary laid out like the
real one's (``[PAD]`` 0, ``[UNK]`` 100, ``[CLS]`` 101, ``[SEP]`` 102, ``[MASK]`` 103), so that
every line of the online path runs, and nothing it scores means anything.
"""

from __future__ import annotations

from pathlib import Path

import keras

from seqkeras import arguments
from seqkeras.interop.bert import encoder_from_keras
from seqkeras.interop.transformer import _hub

ONLINE_PRESET = "bert_tiny_en_uncased"
# bert_tiny_en_uncased's configuration (Turc et al. 2019's 2-layer, 128-wide BERT).
TINY_BERT = {"num_layers": 2, "num_heads": 2, "hidden_dim": 128, "intermediate_dim": 512,
             "max_sequence_length": 512, "num_segments": 2}
UNUSED_TOKENS = 99  # [unused0] .. [unused98] sit between [PAD] and [UNK] in BERT's vocabulary


def bert_style_vocabulary(pieces) -> list[str]:
    """``pieces`` (WordPiece tokens, special tokens among them or not) in the order of the
    uncased BERT vocabulary's head: ``[PAD]``, 99 unused tokens, ``[UNK] [CLS] [SEP] [MASK]``,
    then the pieces."""
    special = ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    head = ["[PAD]", *(f"[unused{i}]" for i in range(UNUSED_TOKENS)), *special]
    return head + [piece for piece in pieces if piece not in head]


def save_random_bert_preset(directory, seed=0) -> Path:
    """Save a randomly initialised keras_hub BERT as a local preset that ``load_bert_preset``
    (and ``keras_hub.models.BertBackbone.from_preset``) reads with no network.

    The backbone has ``bert_tiny_en_uncased``'s configuration (``TINY_BERT``); its tokenizer
    the bundled KJV WordPiece pieces in BERT's vocabulary layout (``bert_style_vocabulary``).

    Args:
        directory: where to write ``config.json``, ``model.weights.h5``, ``tokenizer.json``
            and ``assets/``; created if missing.
        seed: seed of the random weights.

    Returns:
        ``directory`` as a ``Path``.
    """
    from seqkeras.data import load_wordpiece_vocabulary

    hub = _hub()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocabulary = bert_style_vocabulary(load_wordpiece_vocabulary())
    keras.utils.set_random_seed(arguments.integer("seed", seed, 0))
    backbone = hub.models.BertBackbone(vocabulary_size=len(vocabulary), **TINY_BERT)
    tokenizer = hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    backbone.save_to_preset(str(directory))
    tokenizer.save_to_preset(str(directory))
    return directory


def load_bert_preset(preset):
    """A keras_hub BERT preset as ``(encoder, tokenizer, backbone)``.

    Args:
        preset: a keras_hub preset name (``"bert_tiny_en_uncased"``: needs the network) or a
            local directory from ``save_random_bert_preset`` or ``save_to_preset``.

    Returns:
        ``encoder``: a ``seqkeras.models.BertEncoder`` with the preset's configuration and
        weights (``interop.from_keras``); ``tokenizer``: the preset's ``BertTokenizer``, whose
        special ids ``data.pack_segments(tokenizer=...)`` uses; ``backbone``: the keras_hub
        ``BertBackbone`` itself, the oracle the encoder equals.
    """
    hub = _hub()
    preset = str(preset)
    backbone = hub.models.BertBackbone.from_preset(preset)
    tokenizer = hub.models.BertTokenizer.from_preset(preset)
    return encoder_from_keras(backbone), tokenizer, backbone
