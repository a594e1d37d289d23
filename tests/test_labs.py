"""The labs run end to end with their skeletons unfilled (nbval runs them like the chapters);
here each is filled with a right answer and run in fast mode: every check passes and the cell
that uses the learner's piece trains or draws it."""

import re
import tempfile
from pathlib import Path

import jupytext
import nbformat
import pytest

from course import labs, notebooks

pytestmark = pytest.mark.backend_independent  # the kernel runs on TensorFlow; once is enough

ANSWERS = {
    "01_elman_rnn_lab": {'raise NotImplementedError("write the Elman step")':
        "h = ops.tanh(ops.matmul(inputs, self.W_xh) + ops.matmul(h_prev, self.W_hh) + self.b_h)"
        "\n        return h, [h]"},
    "02_lstm_lab": {'raise NotImplementedError("write the LSTM step")':
        "z = ops.matmul(inputs, self.W_x) + ops.matmul(h_prev, self.W_h) + self.b\n"
        "        i, f, g, o = ops.split(z, 4, axis=-1)\n"
        "        c = ops.sigmoid(f) * c_prev + ops.sigmoid(i) * ops.tanh(g)\n"
        "        h = ops.sigmoid(o) * ops.tanh(c)\n"
        "        return h, [h, c]"},
    "03_gru_lab": {'raise NotImplementedError("write the GRU step")':
        "u = self.units\n"
        "        x_z, x_r, x_h = ops.split(ops.matmul(inputs, self.W_x) + self.b, 3, axis=-1)\n"
        "        h_z, h_r = ops.split(ops.matmul(h_prev, self.W_h[:, :2 * u]), 2, axis=-1)\n"
        "        z, r = ops.sigmoid(x_z + h_z), ops.sigmoid(x_r + h_r)\n"
        "        candidate = ops.tanh(x_h + ops.matmul(r * h_prev, self.W_h[:, 2 * u:]))\n"
        "        h = z * h_prev + (1 - z) * candidate\n"
        "        return h, [h]"},
    "09_bert_pretraining_lab": {
        'raise NotImplementedError("choose 15%, then 80% [MASK] / 10% random / 10% unchanged")':
        "selected = ~np.isin(token_ids, SPECIAL_IDS) & (rng.random(token_ids.shape) < 0.15)\n"
        "    draw = rng.random(token_ids.shape)\n"
        "    corrupted = token_ids.copy()\n"
        "    corrupted[selected & (draw < 0.8)] = mask_token_id\n"
        "    random = selected & (draw >= 0.8) & (draw < 0.9)\n"
        "    corrupted[random] = rng.integers(0, vocabulary_size, size=int(random.sum()))\n"
        "    return corrupted, selected"},
    "08_transformer_lab": {
        'raise NotImplementedError("write softmax(Q K^T / sqrt(d_k)) V")':
        "scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) / np.sqrt(query.shape[-1])\n"
        "    if mask is not None:\n"
        "        scores = ops.where(mask, scores, -1e9)\n"
        "    weights = ops.softmax(scores, axis=-1)\n"
        "    if mask is not None:\n"
        "        weights = ops.where(mask, weights, 0.0)\n"
        "    return ops.matmul(weights, value), weights",
        'raise NotImplementedError("write PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = '
        'cos(...)")':
        "angle = np.arange(length)[:, None] / 10000 ** (2 * (np.arange(depth) // 2) / depth)\n"
        "    return np.where(np.arange(depth) % 2 == 0, np.sin(angle), np.cos(angle))"},
}


def test_every_lab_has_an_answer_here():
    assert sorted(p.stem for p in labs.lab_paths()) == sorted(ANSWERS)


@pytest.mark.parametrize("name", ANSWERS)
def test_a_filled_in_lab_passes_its_checks_and_uses_the_piece(name):
    nb = jupytext.read(labs.LABS_DIR / f"{name}.py")
    for skeleton, answer in ANSWERS[name].items():
        cells = [c for c in nb.cells if skeleton in c.source]
        assert len(cells) == 1, skeleton
        cells[0].source = cells[0].source.replace(skeleton, answer)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.ipynb"
        nbformat.write(nb, path)
        executed, seconds, error = notebooks.execute(path, True, Path(tmp), 300, name)
    assert error is None, error
    text = "\n".join(o.get("text", "") for c in executed.cells if c.cell_type == "code"
                     for o in c.outputs)
    assert "NOT YET" not in text and text.count("[PASSED]") == len(ANSWERS[name])
    assert re.search(r"validation MSE|PE_p \. PE_q|\[CLS\] in the beginning", text)
    assert seconds < 60


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
