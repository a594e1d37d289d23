"""The labs: ``chapters/labs/NN_topic_lab.ipynb``, one per chapter that has one, where the
learner writes the chapter's core piece and a checker of ``seqkeras.exercises`` names their bug.

A lab is committed with its skeleton unfilled and the outputs of a full run of it, in which the
checks print "not implemented yet" and the cells that use the learner's piece say so: the
notebook runs end to end either way. Its solved form, ``chapters/labs/solutions/
NN_topic_lab_solutions.ipynb``, is the same notebook with the "YOUR CODE HERE" cells answered,
stored from a full run in which every check passes. ``python -m course labs`` re-runs and
stores both.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import jupytext
import nbformat

from course import notebooks
from course import syllabus as syl

LABS_DIR = syl.CHAPTERS_DIR / "labs"
SOLVED_DIR = LABS_DIR / "solutions"
ANSWER_MARK = "YOUR CODE HERE"


def lab_paths() -> list[Path]:
    return sorted(LABS_DIR.glob("*_lab.ipynb"))


def solved_path(lab: Path) -> Path:
    """Where a lab's solved form lives."""
    return SOLVED_DIR / f"{lab.stem}_solutions.ipynb"


def lab_path(chapter: dict) -> Path:
    """Where a chapter's lab lives (whether or not it has one)."""
    return LABS_DIR / f"{chapter['notebook']}_lab.ipynb"


def colab_url(repository: str, path: Path) -> str:
    """The Open-in-Colab address of a lab, or of a solved lab (``..._lab_solutions.ipynb``)."""
    folder = "chapters/labs/solutions" if path.stem.endswith("_solutions") else "chapters/labs"
    return f"https://colab.research.google.com/github/{repository}/blob/main/{folder}/{path.name}"


def render(paths=None) -> int:
    """Run each lab (from its paired .py when the notebook is missing) and store it."""
    failures = 0
    paths = paths or sorted({p.with_suffix(".ipynb") for folder in (LABS_DIR, SOLVED_DIR)
                             for p in folder.glob("*_lab*.[ip]*")})
    for path in paths:
        nb = (nbformat.read(path, as_version=4) if path.exists()
              else jupytext.read(notebooks.paired_path(path)))
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / path.name
            nbformat.write(nb, source)
            executed, seconds, error = notebooks.execute(source, False, Path(tmp), 600,
                                                         path.stem)
        print(f"{path.name}: {seconds:.1f} s, {'FAIL ' + error if error else 'ok'}")
        if error:
            failures += 1
            continue
        notebooks.store(notebooks.normalise(executed), path)
    return 1 if failures else 0


def check(syllabus: dict) -> list[str]:
    """The rules a lab keeps: its Colab badge, the stored form of every notebook
    (``notebooks.stored_form_problems``), and a chapter of its name that links to it."""
    problems = []
    chapters = {lab_path(c).stem: c for c in syllabus["chapters"]}
    for path in lab_paths():
        nb = nbformat.read(path, as_version=4)
        found = [] if colab_url(syllabus["repository"], path) in nb.cells[0].source else [
            "the first cell lacks its Open-in-Colab badge"]
        found += notebooks.stored_form_problems(path, nb, "python -m course labs")
        chapter = chapters.get(path.stem)
        if chapter is None:
            found.append("a lab is named after its chapter (NN_topic_lab.ipynb), and no "
                         "chapter is called so")
        elif not any(f"labs/{path.name}" in c.source for c in nbformat.read(
                syl.notebook_path(chapter), as_version=4).cells if c.cell_type == "markdown"):
            found.append(f"{chapter['notebook']}.ipynb does not link to it")
        problems += [f"{path.name}: {problem}" for problem in found]
        problems += [f"solutions/{solved_path(path).name}: {problem}"
                     for problem in solved_problems(syllabus, path, nb)]
    return problems


def solved_problems(syllabus: dict, lab: Path, lab_nb) -> list[str]:
    """A solved lab: its own badge and stored form, the lab's cells but for the title cell and
    the answered ones, and every check of its stored run passed."""
    path = solved_path(lab)
    if not path.exists():
        return ["missing: every lab has its solved form"]
    nb = nbformat.read(path, as_version=4)
    found = [] if colab_url(syllabus["repository"], path) in nb.cells[0].source else [
        "the first cell lacks its Open-in-Colab badge"]
    found += notebooks.stored_form_problems(path, nb, "python -m course labs")
    if len(nb.cells) != len(lab_nb.cells):
        return found + [f"{len(nb.cells)} cells where its lab has {len(lab_nb.cells)}"]
    for index, (mine, theirs) in enumerate(zip(nb.cells[1:], lab_nb.cells[1:], strict=True), 1):
        if ANSWER_MARK in theirs.source:
            if ANSWER_MARK in mine.source or "NotImplementedError" in mine.source:
                found.append(f"cell {index} is not answered")
        elif mine.source != theirs.source:
            found.append(f"cell {index} differs from the lab's (only answers may)")
    printed = "\n".join(output.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                        for output in cell.outputs)
    checks = sum("exercises.check_" in c.source for c in nb.cells if c.cell_type == "code")
    if "[NOT YET]" in printed or printed.count("[PASSED]") != checks:
        found.append(f"its stored run passes {printed.count('[PASSED]')} of {checks} checks")
    return found
