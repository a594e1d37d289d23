"""Executing chapter notebooks headless, normalising their stored form, and checking the rules
every chapter notebook follows (``check_notebook``: the pattern of chapter 1)."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

from course import syllabus as syl

PAIRED_FORMAT = "py:percent"
ALLOWED_NOTEBOOK_METADATA = {"kernelspec", "language_info", "jupytext", "accelerator", "seqkeras"}
ALLOWED_CELL_METADATA = {"tags"}
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
PARAMETERS_LINE = 'FAST = os.environ.get("SEQKERAS_FAST") == "1"'


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def paired_path(notebook: Path) -> Path:
    return notebook.with_suffix(".py")


def normalise(nb):
    """The stored form: no Colab or execution metadata, no timings, no stderr noise."""
    nb = copy.deepcopy(nb)
    nb.metadata = nbformat.from_dict({
        **{k: v for k, v in nb.metadata.items() if k in ALLOWED_NOTEBOOK_METADATA},
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
        "accelerator": "GPU",
        "jupytext": {"formats": f"ipynb,{PAIRED_FORMAT}"},
    })
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict(
            {k: v for k, v in cell.metadata.items() if k in ALLOWED_CELL_METADATA})
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs
                            if not (o.output_type == "stream" and o.name == "stderr")]
    return nb


def code_fingerprint(nb) -> str:
    """sha256 of the code cells' sources: what the stored outputs were computed from."""
    sources = "\n# ---- cell ----\n".join(c.source for c in _code_cells(nb))
    return hashlib.sha256(sources.encode()).hexdigest()


def mark_rendered(nb):
    """Record, in the notebook, that its outputs come from a full run of exactly this code."""
    nb.metadata["seqkeras"] = {"outputs": "full run", "code_sha256": code_fingerprint(nb)}
    return nb


def paired_text(nb) -> str:
    return jupytext.writes(nb, fmt=PAIRED_FORMAT)


def _shown(path: Path) -> Path:
    """``path`` relative to the repository when it is inside it (as the commands to paste are)."""
    return path.relative_to(syl.ROOT) if path.is_relative_to(syl.ROOT) else path


def _without_jupytext_version(text: str) -> str:
    """The paired text without its header's ``jupytext_version`` line: a new jupytext release
    changes that line and nothing else, and must not make every chapter "out of sync"."""
    return re.sub(r"^#\s+jupytext_version: .*\n", "", text, flags=re.MULTILINE)


def store(nb, path: Path) -> None:
    """Write a notebook and its paired text form together, so they never drift apart."""
    nbformat.write(nb, path)
    paired_path(path).write_text(paired_text(nb))


def execute(notebook: Path, fast: bool, results_dir: Path, timeout: int, label: str,
            seed_offset: int = 0):
    """Run a notebook top to bottom in a fresh kernel, printing a line per cell; with a
    ``seed_offset``, every seed the notebook sets moves by it (``SEQKERAS_SEED_OFFSET``).

    Returns:
        ``(executed notebook, wall seconds, error or None)``.
    """
    nb = nbformat.read(notebook, as_version=4)
    env = {"SEQKERAS_RESULTS_DIR": str(results_dir), "TF_CPP_MIN_LOG_LEVEL": "2",
           "SEQKERAS_SEED_OFFSET": str(seed_offset)}
    if fast:
        env["SEQKERAS_FAST"] = "1"
    code_cells = _code_cells(nb)
    start = time.perf_counter()
    cell_start = {}

    def on_start(cell, cell_index):
        cell_start["t"] = time.perf_counter()

    def on_done(cell, cell_index, execute_reply):
        number = code_cells.index(cell) + 1 if cell in code_cells else "?"
        first_line = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
        print(f"  [{label}] cell {number:>2}/{len(code_cells)}  "
              f"{time.perf_counter() - cell_start['t']:6.1f} s   {first_line}", flush=True)

    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
        on_cell_start=on_start, on_cell_executed=on_done,
    )
    saved_env = {k: os.environ.get(k) for k in [*env, "SEQKERAS_FAST"]}
    os.environ.pop("SEQKERAS_FAST", None)
    os.environ.update(env)
    error = None
    try:
        # The kernel's own stderr (TensorFlow's C++ start-up logs) is noise here; cell errors
        # still arrive as error messages.
        client.execute(stderr=subprocess.DEVNULL)
    except Exception as exc:  # a failing cell: report it, keep the partial notebook
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300]}"
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb, time.perf_counter() - start, error


def run_chapter(chapter: dict, fast: bool, timeout: int = 1800, seed_offset: int = 0):
    """Execute one chapter (at a seed offset); returns a dict with mode, seconds, ok, error
    and published results."""
    with tempfile.TemporaryDirectory() as tmp:
        label = chapter["number"] + (f" +{seed_offset}" if seed_offset else "")
        nb, seconds, error = execute(syl.notebook_path(chapter), fast, Path(tmp), timeout,
                                     label, seed_offset)
        published = Path(tmp) / f"{chapter['notebook']}.json"
        record = json.loads(published.read_text()) if published.exists() else {}
    if error is None and not record:
        error = "the notebook published no results (seqkeras.utils.publish_results)"
    return {"chapter": chapter, "notebook": nb, "mode": "fast" if fast else "full",
            "seconds": seconds, "ok": error is None, "error": error,
            "machine": record.get("machine"), "results": record.get("results", {})}


def check_notebook(path: Path, syllabus: dict) -> list[str]:
    """Every rule a chapter notebook breaks, as messages (empty when it keeps them all)."""
    problems = []
    by_notebook = {c["notebook"]: c for c in syllabus["chapters"]}
    if path.stem.endswith("_solutions"):
        solved = by_notebook.get(path.stem.removesuffix("_solutions"))
        chapter = syl.solutions(solved) if solved else None
    else:
        chapter = by_notebook.get(path.stem)
    if chapter is None:
        return [f"{path.name}: not listed in course/syllabus.yml"]
    nb = nbformat.read(path, as_version=4)
    cells, code = nb.cells, _code_cells(nb)
    if chapter.get("solutions_of"):
        problems += _unanswered_exercises(nb, chapter["solutions_of"])
    first = cells[0] if cells else None
    if first is None or first.cell_type != "markdown" or not first.source.startswith("# "):
        problems.append("the first cell must be markdown starting with the '# ' title")
    elif syl.colab_url(syllabus["repository"], chapter) not in first.source:
        problems.append("the first cell lacks the Open-in-Colab badge linking "
                        f"{syl.colab_url(syllabus['repository'], chapter)}")
    if len(code) < 2:
        return problems + ["a chapter needs at least the setup and parameters code cells"]
    setup = code[0].source
    for needle, what in (('"google.colab" in sys.modules', "a Colab check"),
                         ("pip", "the package install on Colab"),
                         (f"github.com/{syllabus['repository']}", "install from the repository"),
                         ("setup(", "seqkeras.utils.setup() (versions, GPU, seeds)")):
        if needle not in setup:
            problems.append(f"the first code cell lacks {what} ({needle!r})")
    if "parameters" not in code[1].metadata.get("tags", []):
        problems.append("the second code cell must be tagged 'parameters'")
    if PARAMETERS_LINE not in code[1].source:
        problems.append(f"the parameters cell must contain {PARAMETERS_LINE!r}")
    if "publish_results(" not in code[-1].source:
        problems.append("the last code cell must publish the key results (publish_results)")
    rendered = nb.metadata.get("seqkeras", {})
    if rendered.get("outputs") != "full run" or rendered.get("code_sha256") != code_fingerprint(nb):
        problems.append("the stored outputs are not from a full run of the current code (a code "
                        "cell changed since the last render): run "
                        f"`python -m course render {chapter['number']}`")
    problems += stored_form_problems(path, nb, f"python -m course render {chapter['number']}")
    return [f"{path.name}: {p}" for p in problems]


def stored_form_problems(path: Path, nb, command: str) -> list[str]:
    """What every stored notebook keeps: outputs of one top-to-bottom run, normalised, paired
    with its text form. ``command`` re-runs and stores it."""
    problems = []
    counts = [c.execution_count for c in _code_cells(nb)]
    if counts != list(range(1, len(counts) + 1)):
        problems.append("the stored outputs are not from one top-to-bottom run "
                        f"(execution counts {counts[:8]}...): run `{command}`")
    if normalise(nb) != nb:
        problems.append("outputs/metadata are not normalised (Colab or execution metadata, "
                        f"stderr): run `{command}`, or `python -m course normalise`")
    paired = paired_path(path)
    if not paired.exists():
        problems.append(f"the paired text form {paired.name} is missing")
    elif _without_jupytext_version(paired.read_text()) != _without_jupytext_version(
            paired_text(nb)):
        problems.append(f"{paired.name} is out of sync with the notebook "
                        f"(`jupytext --sync {_shown(path)}`)")
    return problems


def exercise_numbers(nb) -> list[int]:
    """The numbers of the exercises listed under a chapter's "## Exercises" heading."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "## Exercises" in cell.source:
            listed = cell.source.split("## Exercises", 1)[1]
            return [int(n) for n in re.findall(r"^(\d+)\. ", listed, flags=re.MULTILINE)]
    return []


def _unanswered_exercises(nb, chapter: dict) -> list[str]:
    """A solutions notebook has a "## Exercise N" section for every exercise of its chapter."""
    asked = exercise_numbers(nbformat.read(syl.notebook_path(chapter), as_version=4))
    answered = {int(n) for cell in nb.cells if cell.cell_type == "markdown"
                for n in re.findall(r"^## Exercise (\d+)\b", cell.source, flags=re.MULTILINE)}
    missing = [n for n in asked if n not in answered]
    return [f"no '## Exercise {n}' section (chapter {chapter['number']} asks {len(asked)})"
            for n in missing]


def check_all() -> list[str]:
    """All problems of all chapters and of the course as a whole."""
    from course import readme

    syllabus = syl.load()
    problems = []
    numbers = [c["number"] for c in syllabus["chapters"]]
    if numbers != [f"{i:02d}" for i in range(1, len(numbers) + 1)]:
        problems.append(f"syllabus chapter numbers must run 01, 02, ...: got {numbers}")
    for path in sorted([*syl.CHAPTERS_DIR.glob("*.ipynb"), *syl.SOLUTIONS_DIR.glob("*.ipynb")]):
        problems += check_notebook(path, syllabus)
    for chapter in syllabus["chapters"]:
        for entry in (chapter, syl.solutions(chapter)):
            if syl.status(entry) == "ready" and not entry.get("results"):
                problems.append(f"{entry['title']} ({entry['number']}) is ready but has no "
                                "full-mode results in the syllabus: render it")
    from course import labs

    problems += labs.check(syllabus)
    if readme.stale():
        problems.append("README.md tables are stale: run `python -m course readme`")
    return problems
