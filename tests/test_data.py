"""The bundled data: checksums, sizes, splits, and the character vocabulary."""

import numpy as np
import pytest

from seqkeras import data
from seqkeras.data import corpora

pytestmark = pytest.mark.backend_independent  # Makefile: TensorFlow pass only


def test_every_bundled_file_matches_its_checksum():
    listed = data.verify_checksums()
    for name in ("kjv.tsv.xz", "web.tsv.xz", "lsg.tsv.xz", "sunspots.csv", "co2.csv"):
        assert name in listed and f"{name}.LICENSE" in listed


def test_a_corrupted_file_fails_the_checksum(monkeypatch):
    real = corpora._read_bytes

    def corrupted(name):
        content = real(name)
        return content + b"x" if name == "sunspots.csv" else content

    monkeypatch.setattr(corpora, "_read_bytes", corrupted)
    with pytest.raises(ValueError, match="sunspots.csv: sha256"):
        data.verify_checksums()


def test_bundle_is_under_15_mb():
    total = sum(p.stat().st_size for p in corpora._files().iterdir())
    assert total < 15 * 2**20


def test_kjv_verses_books_and_splits():
    verses = data.load_bible("kjv")
    assert len(verses) == 31_102
    genesis_1_1 = "In the beginning God created the heaven and the earth."
    assert verses[0] == data.Verse(1, 1, 1, genesis_1_1)
    assert len(data.bible_books()) == 66 and data.bible_books()[39][1] == "Matthew"
    splits = {s: data.load_bible("kjv", split=s) for s in ("train", "validation", "test")}
    assert sum(map(len, splits.values())) == 31_102
    keys = {s: {(v.book, v.chapter) for v in vs} for s, vs in splits.items()}
    assert not keys["train"] & keys["validation"] and not keys["train"] & keys["test"]
    assert len({v.book for v in splits["train"]}) == 66
    assert len({v.book for v in splits["validation"]}) > 30  # old and new testament alike
    assert 0.04 < len(splits["validation"]) / 31_102 < 0.07


@pytest.mark.parametrize("translation", ["web", "lsg"])
def test_every_translation_has_the_kjv_verse_numbering(translation):
    kjv, other = data.load_bible("kjv"), data.load_bible(translation)
    assert [(v.book, v.chapter, v.verse) for v in kjv] == [(v.book, v.chapter, v.verse)
                                                          for v in other]
    assert kjv[0].text != other[0].text


def test_parallel_verses_pair_the_same_verse_and_keep_the_bible_split():
    pairs = data.load_parallel_verses("test")
    kjv_test = data.load_bible("kjv", "test")
    assert [en for _, en in pairs] == [v.text for v in kjv_test]
    assert pairs[0][0] == data.load_bible("lsg", "test")[0].text
    psalm_23_1 = next(fr for (fr, en) in data.load_parallel_verses()
                      if en.startswith("The LORD is my shepherd"))
    assert psalm_23_1.startswith("Cantique de David. L'Éternel est mon berger")
    with pytest.raises(ValueError, match="different translations"):
        data.load_parallel_verses(source="kjv", target="kjv")


def test_bad_loader_arguments_are_named():
    with pytest.raises(ValueError, match="translation must be one of"):
        data.load_bible("nkjv")
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_bible("kjv", split="dev")
    with pytest.raises(ValueError, match="frequency"):
        data.load_co2("daily")


def test_time_series():
    years, sunspots = data.load_sunspots()
    assert years[0] == 1700 and years[-1] == 2008 and len(sunspots) == 309
    assert sunspots.min() >= 0 and sunspots.max() > 150
    dates, ppm = data.load_co2("monthly")
    assert str(dates[0]) == "1958-03-01" and len(dates) == 526
    assert 310 < np.nanmin(ppm) and np.nanmax(ppm) < 380 and np.isnan(ppm).sum() == 5
    weekly_dates, weekly = data.load_co2("weekly")
    assert len(weekly) == 2284
    march_1958 = weekly[(weekly_dates >= np.datetime64("1958-03-01"))
                        & (weekly_dates < np.datetime64("1958-04-01"))]
    assert ppm[0] == pytest.approx(np.nanmean(march_1958))


def test_char_vocabulary_round_trip_and_errors():
    text = data.bible_text("kjv")
    vocab = data.CharVocabulary.from_text(text)
    assert len(vocab) == 64  # 63 characters + padding
    ids = vocab.encode(text[:5000])
    assert ids.min() >= 1 and vocab.decode(ids) == text[:5000]
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['ë'\].*position 2"):
        vocab.encode("Noël")
    with pytest.raises(ValueError, match="ids must be in"):
        vocab.decode([0, 64])
    with pytest.raises(ValueError, match="at least one character"):
        data.CharVocabulary("")


def test_char_lm_windows_shift_by_one():
    ids = np.arange(1, 24)
    x, y = data.char_lm_windows(ids, 5)
    assert x.shape == y.shape == (4, 5)
    np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(ValueError, match="too short"):
        data.char_lm_windows(ids[:3], 5)
    with pytest.raises(ValueError, match="sequence_length"):
        data.char_lm_windows(ids, 0)


def test_adding_problem_shapes_markers_and_targets():
    inputs, targets = data.adding_problem(500, 100, seed=3)
    assert inputs.shape == (500, 100, 2) and targets.shape == (500,)
    assert inputs.dtype == np.float32 and targets.dtype == np.float32
    values, markers = inputs[..., 0], inputs[..., 1]
    assert values.min() >= 0.0 and values.max() <= 1.0
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=1), 2.0)
    np.testing.assert_array_equal(markers[:, :50].sum(axis=1), 1.0)  # one in each half
    np.testing.assert_array_equal(markers[:, 50:].sum(axis=1), 1.0)
    np.testing.assert_allclose(targets, (values * markers).sum(axis=1), rtol=1e-6)


def test_adding_problem_trivial_predictor_scores_one_sixth():
    _, targets = data.adding_problem(100_000, 10, seed=0)
    assert np.mean((targets - 1.0) ** 2) == pytest.approx(1 / 6, rel=0.02)
    assert targets.mean() == pytest.approx(1.0, abs=0.01)


def test_adding_problem_is_deterministic_per_seed():
    first, second, other = (data.adding_problem(20, 30, seed=s) for s in (7, 7, 8))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("kwargs,error,match", [
    ({"num_sequences": 0, "length": 10}, ValueError, "num_sequences must be a positive integer"),
    ({"num_sequences": 2.5, "length": 10}, TypeError, "num_sequences must be a positive integer"),
    ({"num_sequences": 5, "length": 1}, ValueError, "length must be an integer >= 2"),
])
def test_adding_problem_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        data.adding_problem(**kwargs)


def test_remove_and_restore_spaces_round_trip_on_the_kjv():
    text = data.bible_text("kjv", split="validation")
    unspaced, starts = data.remove_spaces(text)
    assert " " not in unspaced and len(unspaced) == len(starts) == len(text) - text.count(" ")
    assert starts.sum() == text.count(" ")
    assert data.restore_spaces(unspaced, starts) == text
    unspaced, starts = data.remove_spaces("In the beginning")
    assert unspaced == "Inthebeginning"
    assert [unspaced[i] for i in np.flatnonzero(starts)] == ["t", "b"]
    with pytest.raises(ValueError, match="one label per character"):
        data.restore_spaces("abc", [0, 1])


def test_tagging_windows_keep_ids_and_labels_aligned():
    ids, labels = np.arange(25), np.arange(25) % 3
    x, y = data.tagging_windows(ids, labels, 10)
    assert x.shape == y.shape == (2, 10)
    np.testing.assert_array_equal(y, x % 3)
    with pytest.raises(ValueError, match="equal length"):
        data.tagging_windows(ids, labels[:-1], 10)
    with pytest.raises(ValueError, match="too few"):
        data.tagging_windows(ids, labels, 30)


def test_sunspot_windows_split_at_the_test_year_and_scale_by_the_training_part():
    windows = data.sunspot_windows(window=20, test_start_year=1949)
    years, series = data.load_sunspots()
    assert windows.years[windows.test_start] == 1949
    assert windows.scale == series[:windows.test_start].max()
    assert windows.x_train.shape == (229, 20, 1) and windows.y_train.shape == (229, 1)
    assert len(windows.x_test) == len(years) - windows.test_start == 60
    # The first test window ends in 1948 and predicts 1949.
    np.testing.assert_allclose(windows.x_test[0, :, 0] * windows.scale,
                               series[windows.test_start - 20:windows.test_start], rtol=1e-6)
    np.testing.assert_allclose(windows.y_test[:, 0] * windows.scale,
                               series[windows.test_start:], rtol=1e-6)
    with pytest.raises(ValueError, match="test_start_year must be in"):
        data.sunspot_windows(test_start_year=1710)


def test_load_translation_task_truncates_each_split_and_fits_the_lengths():
    task = data.load_translation_task(12, 20, min_count=2, max_target_vocabulary=100,
                                      max_train_pairs=300, max_test_pairs=20,
                                      max_validation_pairs=30)
    assert (len(task.train), len(task.validation), len(task.test)) == (300, 30, 20)
    assert task.max_length == 13 and task.train.source_ids.shape == (300, 13)
    assert task.test.source_ids.shape == (20, 21) and len(task.target_vocab) == 100
    full = data.load_translation_task(12, 20, min_count=2, max_train_pairs=300)
    assert len(full.validation) > 30 and full.validation.sources[:30] == task.validation.sources
    for fr, en in zip(task.train.sources, task.train.references, strict=True):
        assert len(data.tokenize(fr)) <= 13 and len(data.tokenize(en)) <= 12  # fr: no [END]
    test_lengths = [len(data.tokenize(fr)) for fr in task.test.sources]
    assert max(test_lengths) > 13 and max(test_lengths) <= 21  # spread over every length
    with pytest.raises(ValueError, match="max_test_tokens"):
        data.load_translation_task(30, 20)


def test_the_laboratory_task_is_the_solutions_shared_smaller_task(capsys):
    task = data.load_laboratory_task(fast=True)
    assert (len(task.train), len(task.validation), len(task.test)) == (256, 64, 16)
    assert task.max_length == data.LABORATORY_MAX_TOKENS + 1
    assert task.test.source_ids.shape[1] == data.LABORATORY_MAX_TEST_TOKENS + 1
    assert "256 training verses (<= 20 tokens), 64 validation, 16 test (<= 40)" in (
        capsys.readouterr().out)
    full = data.load_laboratory_task(verbose=False)
    assert len(full.test) == 400 and len(full.train) > 6_000 and len(full.target_vocab) == 2_000
    assert capsys.readouterr().out == ""
    assert full.train.sources[:256] == task.train.sources  # fast mode: its first verses


def test_longer_training_verses_adds_longer_verses_in_the_same_vocabularies():
    task = data.load_translation_task(12, 20, min_count=2, max_target_vocabulary=100)
    longer = data.longer_training_verses(task, 20)
    assert longer.source_ids.shape[1] == 21 and len(longer) > len(task.train)
    assert set(zip(task.train.sources, task.train.references, strict=True)) <= set(
        zip(longer.sources, longer.references, strict=True))
    english_lengths = [len(data.tokenize(en)) for en in longer.references]
    assert max(english_lengths) == 20  # one slot is [START] or [END]
    row = longer.references.index(task.train.references[5])
    np.testing.assert_array_equal(longer.target_ids[row, :13], task.train.target_ids[5])
    assert longer.target_ids.max() < 100  # the task's capped English vocabulary
    assert len(data.longer_training_verses(task, 20, max_pairs=7)) == 7
    with pytest.raises(ValueError, match="at least the task's training length"):
        data.longer_training_verses(task, 11)


def test_no_test_verse_is_a_training_verse():
    task = data.load_translation_task(30, 60, max_target_vocabulary=300)
    test_verses = set(zip(task.test.sources, task.test.references, strict=True))
    train_verses = set(zip(task.train.sources, task.train.references, strict=True))
    kjv_test = {v.text for v in data.load_bible("kjv", "test")}
    assert {en.lower() for en in kjv_test} >= {en for _, en in test_verses}
    assert len(test_verses & train_verses) < 0.01 * len(test_verses)  # repeated verses only
