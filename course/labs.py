"""The labs: ``chapters/labs/NN_topic_lab.ipynb``, one per chapter that has one, where the
learner writes the chapter's core piece and a checker of ``seqkeras.exercises`` names their bug.

A lab is committed with its skeleton unfilled and the outputs of a full run of it, in which the
checks print "not implemented yet" and the cells that use the learner's piece say so: the
notebook runs end to end either way. ``python -m course labs`` re-runs and stores them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import jupytext
import nbformat

from course import notebooks
from course import syllabus as syl

LABS_DIR = syl.CHAPTERS_DIR / "labs"


def lab_paths() -> list[Path]:
    return sorted(LABS_DIR.glob("*_lab.ipynb"))


def colab_url(repository: str, path: Path) -> str:
    return (f"https://colab.research.google.com/github/{repository}/blob/main/chapters/labs/"
            f"{path.name}")


def render(paths=None) -> int:
    """Run each lab (from its paired .py when the notebook is missing) and store it."""
    failures = 0
    paths = paths or sorted({p.with_suffix(".ipynb") for p in LABS_DIR.glob("*_lab.[ip]*")})
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
    """The rules a lab keeps: its Colab badge, outputs of one top-to-bottom run, normalised,
    paired with its .py, named after a chapter that links to it."""
    problems = []
    for path in lab_paths():
        nb = nbformat.read(path, as_version=4)
        if colab_url(syllabus["repository"], path) not in nb.cells[0].source:
            problems.append(f"{path.name}: the first cell lacks its Open-in-Colab badge")
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
        if counts != list(range(1, len(counts) + 1)):
            problems.append(f"{path.name}: the stored outputs are not from one top-to-bottom "
                            "run: `python -m course labs`")
        if notebooks.normalise(nb) != nb:
            problems.append(f"{path.name}: not normalised: `python -m course labs`")
        paired = notebooks.paired_path(path)
        if not paired.exists() or notebooks._without_jupytext_version(paired.read_text()) != \
                notebooks._without_jupytext_version(notebooks.paired_text(nb)):
            problems.append(f"{path.name}: {paired.name} is missing or out of sync")
    chapters = {f"{c['notebook']}_lab": c for c in syllabus["chapters"]}
    for path in lab_paths():
        if path.stem not in chapters:
            problems.append(f"{path.name}: a lab is named after its chapter "
                            "(NN_topic_lab.ipynb), and no chapter is called so")
            continue
        chapter_nb = nbformat.read(syl.notebook_path(chapters[path.stem]), as_version=4)
        if not any(f"labs/{path.name}" in c.source for c in chapter_nb.cells
                   if c.cell_type == "markdown"):
            problems.append(f"{chapters[path.stem]['notebook']}.ipynb does not link to its lab "
                            f"labs/{path.name}")
    return problems
