"""BERT's pretraining data: the bundled WordPiece vocabulary and packing, masked-LM selection
(rates, against keras_hub's MaskedLMMaskGenerator), span masking, dynamic masking, NSP pairs."""

from collections import Counter

import keras_hub
import numpy as np
import pytest

from seqkeras import data
from seqkeras.data import (
    MaskedLMBatches,
    mask_spans,
    mask_tokens,
    next_sentence_pairs,
    pack_segments,
    span_lengths_distribution,
    word_starts,
)

pytestmark = pytest.mark.backend_independent  # Makefile: TensorFlow pass only

VOCAB = data.load_wordpiece_vocabulary()
IDS = {token: i for i, token in enumerate(VOCAB)}
PAD, CLS, SEP, MASK = IDS["[PAD]"], IDS["[CLS]"], IDS["[SEP]"], IDS["[MASK]"]


@pytest.fixture(scope="module")
def packed():
    verses = [v.text for v in data.load_bible("kjv", "validation")[:600]]
    return pack_segments(verses[0::2], verses[1::2], sequence_length=64)


def test_bundled_vocabulary_and_tokenizer():
    assert VOCAB[:5] == data.RESERVED_TOKENS == ("[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]")
    assert len(VOCAB) == 4288 and len(set(VOCAB)) == len(VOCAB)
    tokenizer = data.wordpiece_tokenizer()
    text = "In the beginning God created the heaven and the earth."
    assert tokenizer.detokenize(tokenizer(text)) == text.lower().replace(".", " .")
    assert IDS["[UNK]"] not in np.asarray(tokenizer("And God said, Let there be light"))


def test_pack_segments_layout():
    packed = pack_segments(["And God said"], ["Let there be light"], sequence_length=12)
    ids, segments, mask = (packed[k][0] for k in ("token_ids", "segment_ids", "padding_mask"))
    n_a, n_b = 3, 4
    assert ids[0] == CLS and ids[n_a + 1] == SEP and ids[n_a + n_b + 2] == SEP
    np.testing.assert_array_equal(segments[:n_a + n_b + 3], [0] * (n_a + 2) + [1] * (n_b + 1))
    np.testing.assert_array_equal(mask, ids != PAD)
    assert mask.sum() == n_a + n_b + 3
    single = pack_segments(["And God said"], sequence_length=8)
    assert single["token_ids"][0, :5].tolist() == [CLS, *single["token_ids"][0, 1:4], SEP]
    with pytest.raises(ValueError, match="same length"):
        pack_segments(["a", "b"], ["c"])
    with pytest.raises(ValueError, match="sequence_length must be an integer that fits"):
        pack_segments(["a"], ["b"], sequence_length=4)


def selection_statistics(original, out):
    selected = np.zeros(original.shape, bool)
    for row in range(len(original)):
        chosen = out["mask_positions"][row][out["mask_weights"][row] > 0]
        selected[row, chosen] = True
    kept = out["token_ids"][selected]
    truth = original[selected]
    selectable = ~np.isin(original, [PAD, CLS, SEP])
    return {"selected": selected.sum() / selectable.sum(),
            "mask": np.mean(kept == MASK),
            "unchanged": np.mean(kept == truth),
            "special selected": int((selected & ~selectable).sum()),
            "untouched elsewhere": bool(np.array_equal(out["token_ids"][~selected],
                                                       original[~selected]))}


def test_mask_tokens_rates_and_layout(packed):
    original = np.repeat(packed["token_ids"], 4, axis=0)  # 1,200 rows, about 50k tokens
    out = mask_tokens(original, len(VOCAB), MASK, np.random.default_rng(0))
    stats = selection_statistics(original, out)
    assert abs(stats["selected"] - 0.15) < 0.006
    assert abs(stats["mask"] - 0.8) < 0.02
    # unchanged: 10% kept + random draws that hit the same token (negligible)
    assert abs(stats["unchanged"] - 0.1) < 0.02
    assert stats["special selected"] == 0 and stats["untouched elsewhere"]
    rows, cols = np.nonzero(out["mask_weights"])
    np.testing.assert_array_equal(out["mask_ids"][rows, cols],
                                  original[rows, out["mask_positions"][rows, cols]])


def test_mask_tokens_agrees_with_keras_hub_mask_generator(packed):
    original = np.repeat(packed["token_ids"], 4, axis=0)
    generator = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=len(VOCAB), mask_selection_rate=0.15, mask_token_id=MASK,
        mask_selection_length=32, unselectable_token_ids=[PAD, CLS, SEP])
    hub = {k: np.asarray(v) for k, v in generator(original).items()}
    ours = mask_tokens(original, len(VOCAB), MASK, np.random.default_rng(1), max_selections=32)
    assert set(hub) == {"token_ids", "mask_positions", "mask_ids", "mask_weights"}
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in hub.items()}
    hub_stats, our_stats = selection_statistics(original, hub), selection_statistics(original,
                                                                                     ours)
    for key in ("selected", "mask", "unchanged"):
        assert abs(hub_stats[key] - our_stats[key]) < 0.025, (key, hub_stats, our_stats)
    assert hub_stats["special selected"] == our_stats["special selected"] == 0


def test_span_masking_selects_whole_words_at_the_rate(packed):
    original = np.repeat(packed["token_ids"], 2, axis=0)
    starts = word_starts(original, VOCAB)
    out = mask_spans(original, starts, len(VOCAB), MASK, np.random.default_rng(2))
    stats = selection_statistics(original, out)
    assert abs(stats["selected"] - 0.15) < 0.02
    assert stats["special selected"] == 0 and stats["untouched elsewhere"]
    selected = np.zeros(original.shape, bool)
    for row in range(len(original)):
        selected[row, out["mask_positions"][row][out["mask_weights"][row] > 0]] = True
    # a selected word piece always comes with its whole word
    continuation = ~starts
    continuation[:, 0] = False
    previous = np.roll(selected, 1, axis=1)
    assert not np.any(continuation & (selected != previous))
    # span lengths follow Geo(0.2) clipped at 10: mean 3.8 words in SpanBERT's paper
    expected_mean = float((np.arange(1, 11) * span_lengths_distribution()).sum())
    assert round(expected_mean, 1) == 3.8
    lengths = out["span_lengths"]
    assert lengths.max() <= 10
    # spans are cut at the end of a segment and at the budget, so the observed mean is lower
    assert 2.5 < lengths.mean() <= expected_mean + 0.2


def test_dynamic_masking_changes_every_epoch_and_static_does_not(packed):
    def mask(ids, rng):
        return mask_tokens(ids, len(VOCAB), MASK, rng, max_selections=16)

    for dynamic in (False, True):
        batches = MaskedLMBatches(packed, mask, batch_size=50, dynamic=dynamic, seed=3)
        first = batches[0][0]["token_ids"].copy()
        batches.on_epoch_end()
        second = batches[0][0]["token_ids"]
        assert np.array_equal(first, second) != dynamic
        inputs, mask_ids, weights = batches[1]
        assert inputs["mask_positions"].shape == mask_ids.shape == weights.shape == (50, 16)
        assert len(batches) == 6


def test_next_sentence_pairs():
    chapters = {}
    for v in data.load_bible("kjv", "validation")[:2000]:  # verse texts can repeat: number them
        chapters.setdefault((v.book, v.chapter), []).append(f"{v.book}:{v.chapter}:{v.verse} "
                                                            + v.text)
    documents = list(chapters.values())
    first, second, is_next = next_sentence_pairs(documents, np.random.default_rng(4))
    assert len(first) == len(second) == len(is_next) == sum(len(d) - 1 for d in documents)
    assert abs(is_next.mean() - 0.5) < 0.04
    successor = {a: b for d in documents for a, b in zip(d, d[1:], strict=False)}
    home = {s: k for k, d in enumerate(documents) for s in d}
    for a, b, label in zip(first, second, is_next, strict=True):
        if label:
            assert successor[a] == b
        else:
            assert home[a] != home[b]
    with pytest.raises(ValueError, match="two non-empty documents"):
        next_sentence_pairs([["only one"]], np.random.default_rng(0))


def test_sentence_order_pairs():
    documents = [[f"{d}:{i}" for i in range(n)] for d, n in enumerate((5, 1, 8, 3))]
    first, second, in_order = data.sentence_order_pairs(documents, np.random.default_rng(5))
    assert len(first) == 4 + 0 + 7 + 2
    for a, b, label in zip(first, second, in_order, strict=True):
        (da, ia), (db, ib) = (map(int, s.split(":")) for s in (a, b))
        assert da == db and abs(ia - ib) == 1 and (ib == ia + 1) == bool(label)
    assert 0 < in_order.mean() < 1
    with pytest.raises(ValueError, match="at least two sentences"):
        data.sentence_order_pairs([["one"]], np.random.default_rng(0))


def test_sentence_order_pairs_cut_at_word():
    documents = [["w0 w1 w2 w3", "w4 w5 w6 w7 w8 w9"], ["x0 x1 x2", "x3", "x4 x5"]]
    first, second, in_order = data.sentence_order_pairs(documents, np.random.default_rng(1),
                                                        cut_at_word=True)
    assert len(first) == 1 + 2
    for a, b, label in zip(first, second, in_order, strict=True):
        before, after = (a, b) if label else (b, a)
        words = f"{before} {after}".split()
        # the text read in order is the two sentences joined; the cut is in the middle half
        assert words in ([f"w{i}" for i in range(10)], [f"x{i}" for i in range(4)],
                         ["x3", "x4", "x5"])
        assert len(words) // 4 <= len(before.split()) <= len(words) - len(words) // 4
        assert before and after
    swaps = data.sentence_order_pairs([[f"a{i} b{i} c{i}" for i in range(400)]],
                                      np.random.default_rng(2), cut_at_word=True)[2]
    assert 0.4 < swaps.mean() < 0.6


def test_sentence_order_pairs_without_end_punctuation_defeat_the_last_character_rule():
    held_out = data.bible_chapters("kjv", "validation")

    def last_character_rule(pairs):
        _, second, in_order = pairs
        return float((np.array([b[-1] in ".?!:;" for b in second]) == in_order).mean())

    cut = data.sentence_order_pairs(held_out, np.random.default_rng(10), cut_at_word=True)
    stripped = data.sentence_order_pairs(held_out, np.random.default_rng(10), cut_at_word=True,
                                         strip_end_punctuation=True)
    assert last_character_rule(cut) > 0.9  # the shortcut chapter 11 found
    assert abs(last_character_rule(stripped) - 0.5) < 0.03
    assert not any(text[-1] in data.END_PUNCTUATION for text in stripped[0] + stripped[1])
    # the same cuts and the same order, only the final punctuation removed
    np.testing.assert_array_equal(cut[2], stripped[2])
    assert all(a.rstrip(data.END_PUNCTUATION) == b for a, b in zip(cut[0], stripped[0],
                                                                    strict=True))


def test_verse_divisions_are_real_labels_on_the_fixed_split():
    train, test = data.verse_divisions("train"), data.verse_divisions("test")
    assert train.class_names == ("law", "history", "poetry", "prophets", "gospels and acts",
                                 "epistles")
    assert set(np.unique(train.labels)) == set(range(6)) == set(np.unique(test.labels))
    assert data.division_of(1) == 0 and data.division_of(19) == 2 and data.division_of(66) == 5
    genesis_1_1 = data.load_bible("kjv", "train")[0]
    assert train.texts[0] == genesis_1_1.text and train.labels[0] == 0
    small, large = train.subset(200, seed=3), train.subset(1000, seed=3)
    assert small.texts == large.texts[:200]
    with pytest.raises(ValueError, match="book must be"):
        data.division_of(67)


def test_span_boundaries_point_just_outside_each_span(packed):
    original = packed["token_ids"]
    out = mask_spans(original, word_starts(original, VOCAB), len(VOCAB), MASK,
                     np.random.default_rng(4), max_selections=24)
    checked = 0
    for row in range(len(original)):
        real = out["mask_weights"][row] > 0
        positions = out["mask_positions"][row][real]
        selected = np.zeros(original.shape[1], bool)
        selected[positions] = True
        for position, (left, right), offset in zip(
                positions, out["span_boundaries"][row][real],
                out["span_relative_positions"][row][real], strict=True):
            # the boundary tokens are outside the span, everything between them inside it
            assert left < position < right and offset == position - left - 1
            assert selected[left + 1:right].all()
            checked += 1
        assert not out["span_boundaries"][row][~real].any()
    assert checked > 100
    # spans of several tokens exist, so the offsets are not all 0
    assert out["span_relative_positions"].max() >= 2


def test_batches_arrays_are_the_batches_and_carry_span_inputs(packed):
    def spans(ids, rng):
        return mask_spans(ids, word_starts(ids, VOCAB), len(VOCAB), MASK, rng,
                          max_selections=16)

    labels = np.arange(len(packed["token_ids"])) % 2
    batches = MaskedLMBatches(packed, spans, batch_size=50, targets={"nsp": labels},
                              span_boundary=True)
    inputs, targets, weights = batches.arrays()
    assert {"span_boundaries", "span_relative_positions"} <= set(inputs)
    assert set(targets) == set(weights) == {"mlm", "nsp", "sbo"}
    np.testing.assert_array_equal(targets["sbo"], targets["mlm"])
    second = batches[1]
    for key, value in second[0].items():
        np.testing.assert_array_equal(value, inputs[key][50:100])
    np.testing.assert_array_equal(second[1]["nsp"], labels[50:100])
    with pytest.raises(ValueError, match="mask_spans"):
        MaskedLMBatches(packed, lambda ids, rng: mask_tokens(ids, len(VOCAB), MASK, rng),
                        span_boundary=True)


def test_bible_chapters_group_each_splits_verses_in_order():
    chapters = data.bible_chapters("kjv", "validation")
    verses = data.load_bible("kjv", "validation")
    assert [text for chapter in chapters for text in chapter] == [v.text for v in verses]
    assert len(chapters) == len({(v.book, v.chapter) for v in verses})
    assert chapters[0][0] == verses[0].text


def test_pack_segments_equals_keras_hub_multi_segment_packer():
    verses = [v.text for v in data.load_bible("kjv", "validation")[:400]]
    tokenizer = data.wordpiece_tokenizer()
    ids = {token: i for i, token in enumerate(VOCAB)}
    for length in (9, 24, 48, 128):  # most pairs truncated ... none truncated
        for second in (verses[1::2], None):
            ours = pack_segments(verses[0::2], second, sequence_length=length)
            packer = keras_hub.layers.MultiSegmentPacker(
                length, start_value=ids["[CLS]"], end_value=ids["[SEP]"], pad_value=0)
            inputs = (tokenizer(verses[0::2]),) if second is None else (
                tokenizer(verses[0::2]), tokenizer(second))
            token_ids, segment_ids = packer(inputs)
            np.testing.assert_array_equal(ours["token_ids"], np.asarray(token_ids))
            np.testing.assert_array_equal(ours["segment_ids"], np.asarray(segment_ids))


def test_pack_segments_takes_the_special_ids_from_its_tokenizer():
    # A vocabulary laid out like a real BERT's: the special tokens are not ids 0-4.
    vocabulary = ["[unused0]", "[PAD]", "x", "[UNK]", "and", "god", "said", "let", "there", "be",
                  "light", "[SEP]", "[MASK]", "[CLS]", "##s"]
    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(vocabulary=vocabulary, lowercase=True,
                                                        oov_token="[UNK]")
    ids = data.special_token_ids(tokenizer)
    assert ids == {"[PAD]": 1, "[CLS]": 13, "[SEP]": 11, "[UNK]": 3, "[MASK]": 12}
    first, second = ["And God said", "Let there"], ["Let there be light", "be"]
    for length in (7, 12):
        ours = pack_segments(first, second, sequence_length=length, tokenizer=tokenizer)
        packer = keras_hub.layers.MultiSegmentPacker(
            length, start_value=ids["[CLS]"], end_value=ids["[SEP]"], pad_value=ids["[PAD]"])
        token_ids, segment_ids = packer((tokenizer(first), tokenizer(second)))
        np.testing.assert_array_equal(ours["token_ids"], np.asarray(token_ids))
        np.testing.assert_array_equal(ours["segment_ids"], np.asarray(segment_ids))
        np.testing.assert_array_equal(ours["padding_mask"],
                                      np.asarray(token_ids) != ids["[PAD]"])
    assert ours["token_ids"][1, 0] == 13 and ours["token_ids"][1, -1] == 1  # [CLS] ... [PAD]
    assert data.special_token_ids() == {"[PAD]": 0, "[CLS]": 1, "[SEP]": 2, "[UNK]": 3,
                                        "[MASK]": 4}
    with pytest.raises(TypeError, match="token_to_id"):
        pack_segments(first, tokenizer=str.split)
    without_mask = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary[:12] + vocabulary[13:], oov_token="[UNK]")
    with pytest.raises(ValueError, match=r"\[MASK\] is not in the tokenizer's vocabulary"):
        data.special_token_ids(without_mask)


def test_paraphrase_pairs_same_verse_or_a_neighbour_of_the_same_chapter():
    pairs = data.paraphrase_pairs("validation", seed=1)
    kjv, web = data.load_bible("kjv", "validation"), data.load_bible("web", "validation")
    # where each text sits, for the texts found once (a few verses repeat word for word)
    unique_web = Counter(v.text for v in web)
    unique_kjv = Counter(v.text for v in kjv)
    where = {v.text: (v.book, v.chapter, v.verse) for v in web if unique_web[v.text] == 1}
    place_a = {v.text: (v.book, v.chapter, v.verse) for v in kjv if unique_kjv[v.text] == 1}
    assert len(pairs) > 1000 and 0.45 < pairs.labels.mean() < 0.55
    checked = 0
    for a, b, label in zip(pairs.first, pairs.second, pairs.labels, strict=True):
        if a not in place_a or b not in where:
            continue
        checked += 1
        book, chapter, verse = place_a[a]
        other = where[b]
        assert other[:2] == (book, chapter)  # same chapter, always
        assert (other[2] == verse) == (label == 1)
        if label == 0:
            assert abs(other[2] - verse) == 1  # a neighbour
    assert checked > 0.95 * len(pairs)
    assert pairs.class_names == ("different verse", "same verse")
    small = pairs.subset(50, seed=2)
    assert len(small) == 50 and set(small.first) <= set(pairs.first)
    again = data.paraphrase_pairs("validation", seed=1)
    assert again.second == pairs.second  # the seed fixes the draws
    assert data.paraphrase_pairs("validation", different_rate=0.0).labels.all()
    with pytest.raises(ValueError, match="different translations"):
        data.paraphrase_pairs("validation", first="web", second="web")


def test_word_overlap_baseline_on_the_paraphrase_pairs():
    from seqkeras.baselines import WordOverlapClassifier

    train, test = data.paraphrase_pairs("train").subset(1000), data.paraphrase_pairs("test")
    model = WordOverlapClassifier().fit(train.first, train.second, train.labels)
    scores = model.overlap(["a b c d"], ["c d e f"])
    assert scores.tolist() == [2 / 6]
    accuracy = float((model.predict(test.first, test.second) == test.labels).mean())
    # same verse in two translations shares most of its words; a neighbour does not
    assert 0.85 < accuracy < 1.0 and 0.0 < model.threshold < 1.0
    with pytest.raises(ValueError, match="fit"):
        WordOverlapClassifier().predict(["a"], ["b"])
    with pytest.raises(ValueError, match="same length"):
        model.overlap(["a"], ["b", "c"])
