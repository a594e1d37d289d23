"""Reading and writing course/syllabus.yml, the single source of truth for the chapter list."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SYLLABUS = ROOT / "course" / "syllabus.yml"
CHAPTERS_DIR = ROOT / "chapters"
SOLUTIONS_DIR = CHAPTERS_DIR / "solutions"
_HEADER = "".join(line for line in SYLLABUS.read_text().splitlines(keepends=True)
                  if line.startswith("#")) if SYLLABUS.exists() else ""


def load() -> dict:
    return yaml.safe_load(SYLLABUS.read_text())


class _Dumper(yaml.SafeDumper):
    """Quotes digit-only strings ('08'), which YAML 1.2 readers would otherwise take as numbers."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="'" if value.isdigit() else None))


def save(syllabus: dict) -> None:
    body = yaml.dump(syllabus, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    SYLLABUS.write_text(_HEADER + body)


def notebook_path(chapter: dict) -> Path:
    folder = SOLUTIONS_DIR if chapter.get("solutions_of") else CHAPTERS_DIR
    return folder / f"{chapter['notebook']}.ipynb"


def solutions(chapter: dict) -> dict:
    """The worked solutions of a chapter's exercises, as an entry the course command runs like a
    chapter: number "01s", notebook ``chapters/solutions/01_elman_rnn_solutions.ipynb``. Its
    runs and results live under the chapter's ``solutions`` key in the syllabus."""
    record = chapter.get("solutions", {})
    return {"number": f"{chapter['number']}s", "notebook": f"{chapter['notebook']}_solutions",
            "title": f"{chapter['title']}: solutions", "solutions_of": chapter,
            "runs": record.get("runs", {}), "results": record.get("results", {})}


def solutions_ready(chapter: dict) -> bool:
    return notebook_path(solutions(chapter)).exists()


def status(chapter: dict) -> str:
    """"ready" when the chapter's notebook exists, "planned" otherwise."""
    return "ready" if notebook_path(chapter).exists() else "planned"


def colab_url(repository: str, chapter: dict) -> str:
    folder = "chapters/solutions" if chapter.get("solutions_of") else "chapters"
    return (f"https://colab.research.google.com/github/{repository}/blob/main/{folder}/"
            f"{chapter['notebook']}.ipynb")


def select(syllabus: dict, numbers: list[str]) -> list[dict]:
    """The chapters named by number ("01" or "1", "01s" for chapter 1's solutions); all ready
    chapters when ``numbers`` is empty."""
    chapters = syllabus["chapters"]
    if not numbers:
        return [c for c in chapters if status(c) == "ready"]
    by_number = {c["number"]: c for c in chapters}
    selected = []
    for number in numbers:
        wants_solutions = number.lower().endswith("s")
        key = number.lower().removesuffix("s").zfill(2)
        if key not in by_number:
            raise SystemExit(f"unknown chapter {number!r}: choose from {', '.join(by_number)} "
                             "(add s for a chapter's solutions: 01s)")
        entry = solutions(by_number[key]) if wants_solutions else by_number[key]
        if status(entry) != "ready":
            raise SystemExit(f"{entry['title']} ({key}) has no notebook yet")
        selected.append(entry)
    return selected
