"""BERT's encoder and masked-LM head against keras_hub's BertBackbone and MaskedLMHead;
ALBERT's factorised embedding and shared layers; errors and serialisation."""

import keras
import keras_hub
import numpy as np
import pytest

from seqkeras import interop
from seqkeras.interop.bert import build_encoder
from seqkeras.layers import BertEmbeddings, MaskedLMHead
from seqkeras.models import BertEncoder

from conftest import to_numpy

# bert_tiny_en_uncased's configuration (REFERENCE.md): 4,385,920 parameters
TINY = dict(vocabulary_size=30522, num_layers=2, num_heads=2, hidden_dim=128,
            intermediate_dim=512)


def bert_inputs(rng, batch=3, length=9, vocabulary_size=30522):
    ids = rng.integers(5, vocabulary_size, size=(batch, length)).astype("int32")
    segments = np.zeros_like(ids)
    segments[:, length // 2:] = 1
    padding_mask = np.ones_like(ids)
    padding_mask[1, 6:] = 0
    padding_mask[2, 3:] = 0
    ids[padding_mask == 0] = 0
    return {"token_ids": ids, "segment_ids": segments, "padding_mask": padding_mask}


def randomise(layer, rng, scale=0.1):
    layer.set_weights([rng.normal(scale=scale, size=w.shape).astype("float32")
                       for w in layer.get_weights()])


def max_diff(a, b):
    return float(np.abs(to_numpy(a) - to_numpy(b)).max())


@pytest.mark.parametrize("config", [TINY, dict(vocabulary_size=300, num_layers=3, num_heads=4,
                                                hidden_dim=32, intermediate_dim=48,
                                                max_sequence_length=64, num_segments=3)])
@pytest.mark.parametrize("direction", ["from_keras", "to_keras"])
def test_bert_encoder_equals_keras_hub_backbone(rng, config, direction):
    inputs = bert_inputs(rng, vocabulary_size=config["vocabulary_size"])
    if direction == "from_keras":
        backbone = keras_hub.models.BertBackbone(**config, dropout=0.0)
        randomise(backbone, rng)
        encoder = interop.from_keras(backbone)
    else:
        encoder = build_encoder(BertEncoder(**config, dropout=0.0))
        randomise(encoder, rng)
        backbone = interop.to_keras(encoder)
    assert isinstance(encoder, BertEncoder)
    assert encoder.count_params() == backbone.count_params()
    ours, theirs = encoder(inputs), backbone(inputs)
    for key in ("sequence_output", "pooled_output"):
        assert max_diff(ours[key], theirs[key]) <= 1e-5, key


def test_bert_tiny_parameter_count():
    assert build_encoder(BertEncoder(**TINY)).count_params() == 4_385_920


def test_padding_never_changes_a_real_token(rng):
    encoder = build_encoder(BertEncoder(300, 2, 4, 32, 48, dropout=0.0))
    inputs = bert_inputs(rng, vocabulary_size=300)
    changed = dict(inputs, token_ids=np.where(inputs["padding_mask"] == 1, inputs["token_ids"],
                                              7))
    real = inputs["padding_mask"] == 1
    np.testing.assert_allclose(to_numpy(encoder(inputs)["sequence_output"])[real],
                               to_numpy(encoder(changed)["sequence_output"])[real], atol=1e-6)


def test_albert_configuration_shares_layers_and_factorises_the_embedding(rng):
    V, E, H, L, F = 300, 16, 32, 4, 48
    albert = build_encoder(BertEncoder(V, L, 4, H, F, embedding_dim=E, share_layers=True,
                                       max_sequence_length=64))
    bert = build_encoder(BertEncoder(V, L, 4, H, F, max_sequence_length=64))
    block = 4 * (H * H + H) + 2 * H + (H * F + F) + (F * H + H) + 2 * H
    embeddings = V * E + 64 * E + 2 * E + 2 * E + (E * H + H)
    assert albert.count_params() == embeddings + block + (H * H + H)
    assert bert.count_params() == (V + 64 + 2) * H + 2 * H + L * block + (H * H + H)
    assert albert.count_params() < bert.count_params()
    output = albert(bert_inputs(rng, vocabulary_size=V))["sequence_output"]
    assert tuple(output.shape) == (3, 9, H)
    with pytest.raises(ValueError, match="ALBERT"):
        interop.to_keras(albert)


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("direction", ["from_keras", "to_keras"])
def test_masked_lm_head_equals_keras_hub(rng, tied, direction):
    V, H = 50, 16
    h = rng.normal(size=(2, 7, H)).astype("float32")
    positions = np.array([[0, 3, 6], [1, 1, 5]], "int32")
    if direction == "from_keras":
        embedding = keras_hub.layers.ReversibleEmbedding(V, H) if tied else None
        if embedding is not None:
            embedding.build((None, None))
        twin = keras_hub.layers.MaskedLMHead(vocabulary_size=V, token_embedding=embedding,
                                             intermediate_activation="gelu")
        twin(h, positions)
        randomise(twin, rng, scale=0.5)
        if embedding is not None:
            randomise(embedding, rng, scale=0.5)
        head = interop.from_keras(twin)
    else:
        embedding = keras.layers.Embedding(V, H) if tied else None
        if embedding is not None:
            embedding.build((None, None))
            randomise(embedding, rng, scale=0.5)
        head = MaskedLMHead(V, token_embedding=embedding)
        head(h, positions)
        randomise(head, rng, scale=0.5)
        twin = interop.to_keras(head)
    assert (head.token_embedding is not None) == tied
    out = head(h, positions)
    assert tuple(out.shape) == (2, 3, V)
    assert max_diff(out, twin(h, positions)) <= 1e-5


def test_tied_head_shares_the_embedding_weights(rng):
    embedding = keras.layers.Embedding(40, 8)
    embedding.build((None, None))
    head = MaskedLMHead(token_embedding=embedding)
    head(rng.normal(size=(1, 4, 8)).astype("float32"), np.array([[2]], "int32"))
    assert head.vocabulary_size == 40
    assert not any(w.shape == (8, 40) for w in head.weights)  # no output kernel of its own
    with pytest.raises(ValueError, match="differs from the tied embedding"):
        MaskedLMHead(41, token_embedding=embedding)
    with pytest.raises(ValueError, match="give vocabulary_size"):
        MaskedLMHead()


def test_bert_argument_errors():
    with pytest.raises(ValueError, match="hidden_dim=30 must be divisible by num_heads=4"):
        BertEncoder(100, 2, 4, 30, 64)
    with pytest.raises(ValueError, match="num_layers must be a positive integer"):
        BertEncoder(100, 0, 2, 32, 64)
    with pytest.raises(ValueError, match="vocabulary_size must be a positive integer"):
        BertEmbeddings(0, 32)


def test_bert_pieces_round_trip_through_keras_files(tmp_path, rng):
    encoder = build_encoder(BertEncoder(300, 2, 4, 32, 48, embedding_dim=16, share_layers=True,
                                        max_sequence_length=32))
    inputs = bert_inputs(rng, vocabulary_size=300)
    expected = encoder(inputs)
    encoder.save(tmp_path / "encoder.keras")
    loaded = keras.models.load_model(tmp_path / "encoder.keras", safe_mode=True)
    for key, value in loaded(inputs).items():
        np.testing.assert_array_equal(to_numpy(value), to_numpy(expected[key]))

    h_in = keras.Input((9, 32))
    positions_in = keras.Input((3,), dtype="int32")
    ids_in, segments_in = keras.Input((9,), dtype="int32"), keras.Input((9,), dtype="int32")
    model = keras.Model([h_in, positions_in, ids_in, segments_in],
                        [MaskedLMHead(300)(h_in, positions_in),
                         BertEmbeddings(300, 32, 16, embedding_dim=8)(ids_in, segments_in)])
    args = [rng.normal(size=(3, 9, 32)).astype("float32"), np.array([[0, 1, 2]] * 3, "int32"),
            inputs["token_ids"], inputs["segment_ids"]]
    model.save(tmp_path / "pieces.keras")
    again = keras.models.load_model(tmp_path / "pieces.keras", safe_mode=True)
    for a, b in zip(again(args), model(args), strict=True):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_span_boundary_head_predicts_from_the_boundaries_only(rng, tmp_path):
    from seqkeras.layers import SpanBoundaryHead

    h = rng.normal(size=(2, 9, 16)).astype("float32")
    # a span covering positions 3-5: boundaries 2 and 6, relative positions 0, 1, 2
    boundaries = np.array([[[2, 6], [2, 6], [2, 6]]] * 2, "int32")
    relative = np.array([[0, 1, 2]] * 2, "int32")
    head = SpanBoundaryHead(max_span_length=4, vocabulary_size=30)
    logits = to_numpy(head(h, boundaries, relative))
    assert logits.shape == (2, 3, 30)
    changed = h.copy()
    changed[:, 3:6] += 5.0  # the span's own tokens: never read
    np.testing.assert_array_equal(to_numpy(head(changed, boundaries, relative)), logits)
    changed[:, 6] += 5.0  # a boundary token: read
    assert np.abs(to_numpy(head(changed, boundaries, relative)) - logits).max() > 1e-3
    assert np.abs(logits[:, 0] - logits[:, 1]).max() > 1e-4  # the position matters
    embedding = keras.layers.Embedding(30, 8)
    embedding.build((None, None))
    tied = SpanBoundaryHead(4, token_embedding=embedding)
    assert tuple(tied(h, boundaries, relative).shape) == (2, 3, 30)
    assert not any(w.shape == (8, 30) for w in tied.weights)
    inputs = [keras.Input((9, 16)), keras.Input((3, 2), dtype="int32"),
              keras.Input((3,), dtype="int32")]
    model = keras.Model(inputs, SpanBoundaryHead(4, 30)(*inputs))
    model.save(tmp_path / "sbo.keras")
    loaded = keras.models.load_model(tmp_path / "sbo.keras", safe_mode=True)
    np.testing.assert_array_equal(to_numpy(loaded([h, boundaries, relative])),
                                  to_numpy(model([h, boundaries, relative])))
    with pytest.raises(ValueError, match="give vocabulary_size"):
        SpanBoundaryHead(4)


def test_a_local_preset_loads_into_bert_encoder_and_packs_with_its_own_special_ids(tmp_path):
    """The offline stand-in for bert_tiny_en_uncased: saved with save_to_preset, loaded through
    keras_hub's from_preset into BertEncoder, equal to the BertBackbone it came from."""
    from seqkeras import data
    from seqkeras.interop import presets

    directory = interop.save_random_bert_preset(tmp_path / "bert_tiny_random", seed=3)
    assert (directory / "config.json").exists() and (directory / "tokenizer.json").exists()
    encoder, tokenizer, backbone = interop.load_bert_preset(directory)
    assert isinstance(encoder, BertEncoder)
    assert encoder.hidden_dim == 128 and encoder.num_layers == 2
    assert encoder.count_params() == backbone.count_params()
    ids = data.special_token_ids(tokenizer)
    assert ids == {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}
    assert (ids["[CLS]"], ids["[SEP]"]) == (tokenizer.cls_token_id, tokenizer.sep_token_id)
    inputs = data.pack_segments(["In the beginning God created the heaven"],
                                ["And the earth was without form"], sequence_length=24,
                                tokenizer=tokenizer)
    assert inputs["token_ids"][0, 0] == 101 and (inputs["token_ids"][0] == 102).sum() == 2
    ours, theirs = encoder(inputs), backbone(inputs)
    for key in ("sequence_output", "pooled_output"):
        assert max_diff(ours[key], theirs[key]) <= 1e-5, key
    # a second preset saved with the same seed has the same weights
    again, _, _ = interop.load_bert_preset(
        interop.save_random_bert_preset(tmp_path / "again", seed=3))
    assert max_diff(again(inputs)["pooled_output"], ours["pooled_output"]) == 0
    assert presets.bert_style_vocabulary(["[PAD]", "[CLS]", "the"])[-1] == "the"
