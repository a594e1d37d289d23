"""Reading and writing course/syllabus.yml, the single source of truth for the chapter list."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SYLLABUS = ROOT / "course" / "syllabus.yml"
CHAPTERS_DIR = ROOT / "chapters"
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
    return CHAPTERS_DIR / f"{chapter['notebook']}.ipynb"


def status(chapter: dict) -> str:
    """"ready" when the chapter's notebook exists, "planned" otherwise."""
    return "ready" if notebook_path(chapter).exists() else "planned"


def colab_url(repository: str, chapter: dict) -> str:
    return (f"https://colab.research.google.com/github/{repository}/blob/main/chapters/"
            f"{chapter['notebook']}.ipynb")


def select(syllabus: dict, numbers: list[str]) -> list[dict]:
    """The chapters named by number ("01" or "1"); all ready chapters when ``numbers`` is empty."""
    chapters = syllabus["chapters"]
    if not numbers:
        return [c for c in chapters if status(c) == "ready"]
    by_number = {c["number"]: c for c in chapters}
    selected = []
    for number in numbers:
        key = number.zfill(2)
        if key not in by_number:
            raise SystemExit(f"unknown chapter {number!r}: choose from {', '.join(by_number)}")
        if status(by_number[key]) != "ready":
            raise SystemExit(f"chapter {key} ({by_number[key]['title']}) has no notebook yet")
        selected.append(by_number[key])
    return selected
