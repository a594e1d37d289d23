"""The project's own contracts: install files agree, the README is current, the course command
and its notebook checks work."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

from course import notebooks, readme, site
from course import syllabus as syl

pytestmark = pytest.mark.backend_independent  # Makefile: TensorFlow pass only

ROOT = Path(__file__).resolve().parents[1]
PLANNED = ["01_elman_rnn", "02_lstm", "03_gru", "04_bidirectional_deep_rnn", "05_seq2seq",
           "06_bahdanau_attention", "07_attention_family", "08_transformer",
           "09_bert_pretraining", "10_bert_finetuning", "11_bert_family"]


def test_environment_yml_installs_what_pyproject_declares():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "pip" in conda
    python = next(d for d in conda if d.startswith("python"))
    # The conda python is pinned by the same bound as requires-python.
    assert python == "python" + project["requires-python"]
    extras = set(project["optional-dependencies"])
    assert pip_section == [f"-e .[{','.join(sorted(extras))}]"]
    makefile = (ROOT / "Makefile").read_text()
    assert f'".[{",".join(sorted(extras))}]"' in makefile


def test_syllabus_plans_all_eleven_chapters():
    chapters = syl.load()["chapters"]
    assert [c["notebook"] for c in chapters] == PLANNED
    for c in chapters:
        assert c["title"] and c["papers"] and isinstance(c["year"], int)


def test_readme_tables_are_current():
    assert not readme.stale(), "run `python -m course readme`"


def test_course_check_passes_on_the_committed_chapters():
    assert notebooks.check_all() == []


def test_course_check_catches_broken_notebooks(tmp_path):
    syllabus = syl.load()
    source = syl.CHAPTERS_DIR / "01_elman_rnn.ipynb"
    nb = nbformat.read(source, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[1].metadata["tags"] = []
    code[1].source = code[1].source.replace('"SEQKERAS_FAST"', '"FAST"')
    code[3].execution_count = 99
    code[4].source += "\nprint('changed after the render')"
    nb.metadata["colab"] = {"provenance": []}
    nb.cells[0].source = nb.cells[0].source.replace("colab.research.google.com", "example.org")
    broken = tmp_path / source.name
    nbformat.write(nb, broken)
    shutil.copy(notebooks.paired_path(source), notebooks.paired_path(broken))
    problems = "\n".join(notebooks.check_notebook(broken, syllabus))
    for expected in ("Open-in-Colab badge", "tagged 'parameters'", "SEQKERAS_FAST",
                     "one top-to-bottom run", "not from a full run of the current code",
                     "not normalised", "out of sync"):
        assert expected in problems
    unlisted = tmp_path / "99_unknown.ipynb"
    nbformat.write(nb, unlisted)
    assert "not listed in course/syllabus.yml" in notebooks.check_notebook(unlisted, syllabus)[0]


def test_course_check_wants_every_exercise_answered(tmp_path):
    syllabus = syl.load()
    chapter = syllabus["chapters"][0]
    source = syl.notebook_path(syl.solutions(chapter))
    asked = notebooks.exercise_numbers(nbformat.read(syl.notebook_path(chapter), as_version=4))
    assert asked == [1, 2, 3, 4, 5]
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace("## Exercise 3", "## Exercise three")
    broken = tmp_path / source.name
    nbformat.write(nb, broken)
    problems = notebooks.check_notebook(broken, syllabus)
    assert [p for p in problems if "Exercise" in p] == [
        f"{source.name}: no '## Exercise 3' section (chapter 01 asks 5)"]
    assert not [p for p in notebooks.check_notebook(source, syllabus) if "Exercise" in p]


def test_course_list_shows_every_chapter_and_its_status():
    out = subprocess.run([sys.executable, "-m", "course", "list"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    chapters = out.splitlines()[1:]
    assert len(chapters) == 11 and "The Elman RNN" in out
    # every chapter is either ready (its notebook exists) or planned, never both
    assert all(("ready" in line) != ("planned" in line) for line in chapters), out


@pytest.mark.jax_pass_only
def test_course_run_executes_a_chapter_and_reports_its_results():
    """Chapter 1 in fast mode through the course command, on this pass's Keras backend (JAX in
    the Makefile: nbval already runs every chapter on TensorFlow)."""
    result = subprocess.run([sys.executable, "-m", "course", "run", "01"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "[01] cell  1/" in result.stdout  # progress, one line per cell
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith("01_elman_rnn") and " fast " in summary and " pass " in summary
    assert "Elman RNN bpc=" in summary


def test_course_run_rejects_unknown_chapters():
    result = subprocess.run([sys.executable, "-m", "course", "run", "42"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode != 0 and "unknown chapter '42'" in result.stderr


@pytest.mark.parametrize("number", ["01", "1"])
def test_select_accepts_both_spellings(number):
    assert syl.select(syl.load(), [number])[0]["notebook"] == "01_elman_rnn"


def test_files_named_in_the_code_exist():
    """A docstring or comment that sends a reader to ``some/file.py`` or ``NOTES.md`` names a
    file of this repository (or of the package's data folder)."""
    named = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.(?:py|md|yml|yaml|txt|toml))\b")
    generated = set(site.GENERATED_FILES)  # written by `make site` into build/, not committed
    missing = []
    for path in sorted([*ROOT.glob("seqkeras/**/*.py"), *ROOT.glob("course/**/*.py")]):
        for name in set(named.findall(path.read_text())) - generated:
            candidates = [ROOT / name, path.parent / name, ROOT / "seqkeras/data/files" / name]
            if "/" not in name and name.endswith(".md"):
                candidates = [ROOT / name]
            if not any(c.exists() for c in candidates):
                missing.append(f"{path.relative_to(ROOT)}: {name}")
    assert not missing, missing


def test_results_table_escapes_pipes_in_result_names():
    chapter = {"number": "02", "notebook": "02_lstm", "title": "LSTM",
               "results": {"mean |c_t|, LSTM": 23.41}, "runs": {}}
    row = readme.results_table({"chapters": [chapter]}).splitlines()[-1]
    assert "mean \\|c_t\\|, LSTM: 23.41" in row
    assert row.replace("\\|", "").count("|") == 5  # four cells


def test_seed_offset_moves_every_seed_and_the_weights_folder(monkeypatch):
    import numpy as np

    from seqkeras import utils

    monkeypatch.delenv("SEQKERAS_SEED_OFFSET", raising=False)
    assert utils.seed_offset() == 0 and utils.weights_path("a.h5") == Path("weights/a.h5")
    assert utils.set_seed(5) == 5
    draws_at_5 = np.random.rand(3)
    monkeypatch.setenv("SEQKERAS_SEED_OFFSET", "2")
    assert utils.seed_offset() == 2
    assert utils.weights_path("a.h5") == Path("weights/seed-offset-2/a.h5")
    assert utils.set_seed(3) == 5  # 3 + 2: the same draws as seed 5 at offset 0
    np.testing.assert_array_equal(np.random.rand(3), draws_at_5)
    assert utils.setup(3)["seed"] == 5
    for bad in ("-1", "one", "1.5"):
        monkeypatch.setenv("SEQKERAS_SEED_OFFSET", bad)
        with pytest.raises(ValueError, match="SEQKERAS_SEED_OFFSET must be an integer >= 0"):
            utils.seed_offset()
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        utils.set_seed(-3)


def test_a_notebook_runs_at_the_seed_offset_it_is_given(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from seqkeras.utils import publish_results, seed_offset\n"
        "publish_results('99_probe', {'offset': seed_offset()}, fast=True)")])
    path = tmp_path / "99_probe.ipynb"
    nbformat.write(nb, path)
    for offset in (0, 2):
        _, _, error = notebooks.execute(path, True, tmp_path, 120, "99", seed_offset=offset)
        assert error is None
        published = yaml.safe_load((tmp_path / "99_probe.json").read_text())
        assert published["results"] == {"offset": offset}


def test_course_seeds_runs_dependencies_first_and_records_each_offset(monkeypatch):
    from course import __main__ as command

    syllabus = {"repository": "x/y", "chapters": [
        {"number": "05", "notebook": "05_seq2seq", "title": "Seq2seq", "results": {"bleu": 3.0}},
        {"number": "06", "notebook": "06_bahdanau_attention", "title": "Attention",
         "loads_weights_of": ["05"],
         "results": {"bleu": 20.0, "name": "text"}}]}
    ran, saved = [], []

    def run_chapter(chapter, fast, seed_offset):
        assert not fast
        ran.append((chapter["number"], seed_offset))
        failed = chapter["number"] == "06" and seed_offset == 2
        return {"chapter": chapter, "mode": "full", "seconds": 1.0, "machine": "2-core CPU",
                "ok": not failed, "error": "AssertionError: lead" if failed else None,
                "results": {} if failed else {"bleu": 10.0 * seed_offset, "name": "text"},
                "notebook": None}

    monkeypatch.setattr(command.syl, "load", lambda: syllabus)
    monkeypatch.setattr(command.syl, "save", lambda s: saved.append(True))
    monkeypatch.setattr(command.notebooks, "run_chapter", run_chapter)
    monkeypatch.setattr(command.readme, "update", lambda: None)
    assert command.main(["seeds", "06"]) == 1  # offset 2 failed
    assert ran == [("05", 1), ("06", 1), ("05", 2), ("06", 2)]
    seeds = syllabus["chapters"][1]["seeds"]
    assert seeds["1"]["results"] == {"bleu": 10.0, "name": "text"}
    assert seeds["2"]["error"] == "AssertionError: lead"
    cell = readme.results_table(syllabus).splitlines()[-1]
    assert "bleu: 20 (range 10-20, 2 seeds)" in cell and "name: text<br>" in cell
    assert "seed offset 2 FAILED: AssertionError: lead" in cell


def test_course_seeds_can_reuse_the_weights_of_a_passed_seed_run(monkeypatch, tmp_path):
    from course import __main__ as command

    syllabus = {"repository": "x/y", "chapters": [
        {"number": "05", "notebook": "05_seq2seq", "title": "Seq2seq", "results": {"bleu": 3.0},
         "seeds": {"1": {"results": {"bleu": 3.1}}, "2": {"error": "AssertionError"}}},
        {"number": "06", "notebook": "06_bahdanau_attention", "title": "Attention",
         "loads_weights_of": ["05"], "results": {"bleu": 20.0}}]}
    for offset in (1, 2):  # weights at both offsets, but offset 2's run of 05 failed
        folder = tmp_path / f"seed-offset-{offset}"
        folder.mkdir(parents=True)
        (folder / "05_rnnencdec.weights.h5").write_bytes(b"")
    ran = []

    def run_chapter(chapter, fast, seed_offset):
        ran.append((chapter["number"], seed_offset))
        return {"chapter": chapter, "mode": "full", "seconds": 1.0, "machine": "2-core CPU",
                "ok": True, "error": None, "results": {"bleu": 1.0}, "notebook": None}

    monkeypatch.setattr(command, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(command.syl, "load", lambda: syllabus)
    monkeypatch.setattr(command.syl, "save", lambda s: None)
    monkeypatch.setattr(command.notebooks, "run_chapter", run_chapter)
    monkeypatch.setattr(command.readme, "update", lambda: None)
    assert command.main(["seeds", "06", "--reuse-weights"]) == 0
    assert ran == [("06", 1), ("05", 2), ("06", 2)]


def test_a_failed_full_run_keeps_its_partial_notebook(monkeypatch, tmp_path):
    from course import __main__ as command

    monkeypatch.setattr(command.syl, "ROOT", tmp_path)
    partial = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    command._keep_failed({"notebook": partial}, "06_bahdanau_attention_seed-offset-2")
    kept = tmp_path / "build" / "failed" / "06_bahdanau_attention_seed-offset-2.ipynb"
    assert nbformat.read(kept, as_version=4).cells[0].source == "1 / 0"
    command._keep_failed({"notebook": None}, "nothing_ran")  # a run that never started
    assert not (tmp_path / "build" / "failed" / "nothing_ran.ipynb").exists()
