"""The labs run end to end with their skeletons unfilled (nbval runs them like the chapters);
here each solved lab (``chapters/labs/solutions``: the lab with its answers) runs in fast mode:
every check passes and the cell that uses the learner's piece trains, draws or compares it."""

import re
import tempfile
from pathlib import Path

import nbformat
import pytest

from course import labs, notebooks
from course import syllabus as syl

pytestmark = pytest.mark.backend_independent  # the kernel runs on TensorFlow; once is enough

# What the cells that use the learner's piece print once it passes.
USED = {
    "01_elman_rnn_lab": r"validation MSE [\d.]+ against 0\.1667",
    "02_lstm_lab": r"validation MSE [\d.]+ against 0\.1667",
    "03_gru_lab": r"validation MSE [\d.]+ against 0\.1667",
    "04_bidirectional_deep_rnn_lab": r"your bidirectional LSTM +test F1 of word ends [\d.]+",
    "05_seq2seq_lab": r"source reversed +: first word recalled in [\d.]+%",
    "06_bahdanau_attention_lab": r"mean weight on the source word being copied [\d.]+",
    "07_attention_family_lab": r"\(concat\): held-out next-word accuracy [\d.]+%",
    "08_transformer_lab": r"MultiHeadAttention: max \|difference\| \d\.\d+e[-+]\d+",
    "09_bert_pretraining_lab": r"\[CLS\] in the beginning",
    "10_bert_finetuning_lab": r"changes their outputs by [\d.]+ on average",
    "11_bert_family_lab": r"T = 4 +agrees with the teacher on [\d.]+%",
}


def test_every_lab_is_solved_here():
    assert sorted(p.stem for p in labs.lab_paths()) == sorted(USED)
    assert [labs.solved_path(p).exists() for p in labs.lab_paths()] == [True] * len(USED)
    assert labs.check(syl.load()) == []


@pytest.mark.parametrize("name", USED)
def test_a_solved_lab_passes_its_checks_and_uses_the_piece(name):
    solved = labs.solved_path(labs.LABS_DIR / f"{name}.ipynb")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / solved.name
        nbformat.write(nbformat.read(solved, as_version=4), path)
        executed, seconds, error = notebooks.execute(path, True, Path(tmp), 300, name)
    assert error is None, error
    text = "\n".join(o.get("text", "") for c in executed.cells if c.cell_type == "code"
                     for o in c.outputs)
    checks = sum("exercises.check_" in c.source for c in executed.cells)
    assert "NOT YET" not in text and text.count("[PASSED]") == checks >= 1
    assert re.search(USED[name], text), text[-2000:]
    assert seconds < 60


def test_a_solved_lab_must_answer_and_pass(tmp_path, monkeypatch):
    lab = labs.LABS_DIR / "05_seq2seq_lab.ipynb"
    nb = nbformat.read(labs.solved_path(lab), as_version=4)
    answer = next(c for c in nb.cells if "def my_fixed_vector" in c.source)
    answer.source = answer.source.replace("return [h, c]", "raise NotImplementedError")
    check = next(c for c in nb.cells if "exercises.check_" in c.source)
    check.outputs[0]["text"] = check.outputs[0]["text"].replace("[PASSED]", "[NOT YET]")
    nb.cells[2].source += "\n# a change outside the answers"
    (tmp_path / "solutions").mkdir()
    nbformat.write(nb, tmp_path / "solutions" / labs.solved_path(lab).name)
    monkeypatch.setattr(labs, "SOLVED_DIR", tmp_path / "solutions")
    problems = "\n".join(labs.solved_problems(syl.load(), lab,
                                               nbformat.read(lab, as_version=4)))
    assert "is not answered" in problems
    assert "cell 2 differs from the lab's" in problems
    assert "its stored run passes 0 of 1 checks" in problems
    assert "_solutions.py is missing" in problems  # no paired text form was written


def test_course_check_catches_broken_labs(tmp_path, monkeypatch):
    from course import syllabus as syl

    for name in ("02_lstm_lab", "99_unknown_lab"):
        nb = nbformat.read(labs.LABS_DIR / "02_lstm_lab.ipynb", as_version=4)
        if name == "02_lstm_lab":
            nb.cells[0].source = nb.cells[0].source.replace("colab.research.google.com",
                                                            "example.org")
            [c for c in nb.cells if c.cell_type == "code"][2].execution_count = 9
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    monkeypatch.setattr(labs, "LABS_DIR", tmp_path)
    problems = "\n".join(labs.check(syl.load()))
    assert "02_lstm_lab.ipynb: the first cell lacks its Open-in-Colab badge" in problems
    assert "not from one top-to-bottom run" in problems
    assert "02_lstm_lab.py is missing" in problems.replace("the paired text form ", "")
    assert "99_unknown_lab.ipynb: a lab is named after its chapter" in problems
    assert "does not link" not in problems  # chapter 2 links to its lab
