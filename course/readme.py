"""The README's generated tables: the chapter list and the results, from the syllabus."""

from __future__ import annotations

import re

from course import labs
from course import syllabus as syl

README = syl.ROOT / "README.md"
MARKERS = {"chapters": "chapter table", "results": "results table"}


def _badge(repository, chapter):
    if syl.status(chapter) != "ready":
        return "planned"
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({syl.colab_url(repository, chapter)})")


def _seconds(run):
    if not run:
        return ""
    return f"{run['seconds']:.0f} s ({run['machine']})"


def _value(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def chapter_table(syllabus: dict) -> str:
    rows = ["| # | Chapter | Year | What it teaches | Open |", "|---|---|---|---|---|"]
    for c in syllabus["chapters"]:
        title = (f"[{c['title']}](chapters/{c['notebook']}.ipynb)" if syl.status(c) == "ready"
                 else c["title"])
        if labs.lab_path(c).exists():
            title += (f" ([lab](chapters/labs/{labs.lab_path(c).name}), [solved](chapters/labs/"
                      f"solutions/{labs.solved_path(labs.lab_path(c)).name}))")
        if syl.solutions_ready(c):
            title += f" ([solutions](chapters/solutions/{c['notebook']}_solutions.ipynb))"
        rows.append(f"| {c['number']} | {title} | {c['year']} | {c['teaches']} | "
                    f"{_badge(syllabus['repository'], c)} |")
    return "\n".join(rows)


def _spread(name, value, seeds):
    """" (range LOW-HIGH, N seeds)" for a number that seed runs also measured, else ""."""
    values = [value] + [run["results"][name] for run in seeds.values()
                        if name in run.get("results", {})]
    if len(values) < 2 or not all(isinstance(v, int | float) and not isinstance(v, bool)
                                  for v in values):
        return ""
    return f" (range {_value(float(min(values)))}-{_value(float(max(values)))}, " \
           f"{len(values)} seeds)"


def _results_cell(results: dict, seeds: dict | None = None) -> str:
    """One table cell listing the results, each with its range over the seed runs (offsets in
    ``seeds``, from ``python -m course seeds``); a seed run that failed is named. A "|" in a
    name (e.g. "mean |c_t|") is escaped so that it does not end the cell."""
    seeds = seeds or {}
    lines = [f"{k}: {_value(v)}{_spread(k, v, seeds)}" for k, v in results.items()]
    lines += [f"seed offset {offset} FAILED: {run['error']}" for offset, run in seeds.items()
              if "error" in run]
    return "<br>".join(lines).replace("|", r"\|")


def results_table(syllabus: dict) -> str:
    rows = ["| # | Key results (full mode) | Full run | Fast run |", "|---|---|---|---|"]
    for c in syllabus["chapters"]:
        if not c.get("results"):
            continue
        results = _results_cell(c["results"], c.get("seeds"))
        runs = c.get("runs", {})
        rows.append(f"| {c['number']} | {results} | {_seconds(runs.get('full'))} | "
                    f"{_seconds(runs.get('fast'))} |")
        solved = syl.solutions(c)
        if solved["results"]:
            results = _results_cell(solved["results"], c.get("solutions", {}).get("seeds"))
            rows.append(f"| {c['number']}s | solutions: {results} | "
                        f"{_seconds(solved['runs'].get('full'))} | "
                        f"{_seconds(solved['runs'].get('fast'))} |")
    if len(rows) == 2:
        rows.append("| | no chapter has published full-mode results yet | | |")
    return "\n".join(rows)


def _pattern(key):
    return re.compile(rf"(<!-- {key}:start -->).*?(<!-- {key}:end -->)", re.S)


def render(text: str, syllabus: dict) -> str:
    tables = {"chapters": chapter_table(syllabus), "results": results_table(syllabus)}
    for key, table in tables.items():
        if not _pattern(key).search(text):
            raise ValueError(f"README.md lacks the <!-- {key}:start --> ... <!-- {key}:end --> "
                             f"markers around the {MARKERS[key]}")
        text = _pattern(key).sub(lambda m, t=table: f"{m.group(1)}\n{t}\n{m.group(2)}", text)
    return text


def _current_and_rendered() -> tuple[str, str]:
    current = README.read_text()
    return current, render(current, syl.load())


def stale() -> bool:
    current, rendered = _current_and_rendered()
    return rendered != current


def update() -> bool:
    """Rewrite the README's tables; True if anything changed."""
    current, rendered = _current_and_rendered()
    if rendered != current:
        README.write_text(rendered)
    return rendered != current
