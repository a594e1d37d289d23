"""The course command.

    python -m course list                     the chapters and their status
    python -m course run [NN ...] [--full]    execute chapters headless, print a results table
    python -m course render NN [NN ...]       full run, outputs stored in the notebook
    python -m course seeds NN [NN ...]        full runs at seed offsets 1 and 2, into the syllabus
    python -m course labs                     run the labs (skeletons unfilled), store their outputs
    python -m course check                    enforce the notebook rules (part of `make test`)
    python -m course readme                   regenerate the README tables from the syllabus
    python -m course normalise                normalise stored notebooks and re-sync their .py
    python -m course site                     the static website, build/site/ (make site)
"""

from __future__ import annotations

import argparse
import datetime
import sys

import nbformat

from course import labs, notebooks, readme, site
from course import syllabus as syl


def _results_text(results: dict, limit: int = 110) -> str:
    text = ", ".join(f"{k}={readme._value(v)}" for k, v in results.items())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def cmd_list(args) -> int:
    syllabus = syl.load()
    print(f"{'#':<3} {'chapter':<30} {'year':<5} {'status':<8} {'fast run':<22} full run")
    for c in syllabus["chapters"]:
        runs = c.get("runs", {})
        print(f"{c['number']:<3} {c['title']:<30} {c['year']:<5} {syl.status(c):<8} "
              f"{readme._seconds(runs.get('fast')):<22} {readme._seconds(runs.get('full'))}")
    return 0


def _entry(syllabus, outcome):
    """The syllabus record an outcome belongs to: the chapter's, or its ``solutions``."""
    entry = outcome["chapter"]
    number = entry["solutions_of"]["number"] if entry.get("solutions_of") else entry["number"]
    chapter = next(c for c in syllabus["chapters"] if c["number"] == number)
    if entry.get("solutions_of"):  # a chapter's solutions are recorded under the chapter
        chapter = chapter.setdefault("solutions", {})
    return chapter


def _record(syllabus, outcome):
    chapter = _entry(syllabus, outcome)
    chapter.setdefault("runs", {})[outcome["mode"]] = {
        "seconds": round(outcome["seconds"], 1), "machine": outcome["machine"],
        "date": datetime.date.today().isoformat()}
    if outcome["mode"] == "full":
        chapter["results"] = outcome["results"]


def _print_table(outcomes):
    print(f"\n{'chapter':<22} {'mode':<5} {'wall time':>10}  {'result':<6} key results")
    for o in outcomes:
        detail = _results_text(o["results"]) if o["ok"] else o["error"]
        print(f"{o['chapter']['notebook']:<22} {o['mode']:<5} {o['seconds']:>8.1f} s  "
              f"{'pass' if o['ok'] else 'FAIL':<6} {detail}")


def cmd_run(args, render=False) -> int:
    syllabus = syl.load()
    chapters = syl.select(syllabus, args.chapters)
    fast = not (args.full or render)
    outcomes = []
    for chapter in chapters:
        print(f"Running {chapter['notebook']} in {'fast' if fast else 'full'} mode ...",
              flush=True)
        outcome = notebooks.run_chapter(chapter, fast=fast)
        outcomes.append(outcome)
        if render and outcome["ok"]:
            path = syl.notebook_path(chapter)
            notebooks.store(notebooks.mark_rendered(notebooks.normalise(outcome["notebook"])),
                            path)
            print(f"  stored the outputs in {path.relative_to(syl.ROOT)}")
        if not outcome["ok"] and not fast:
            _keep_failed(outcome, chapter["notebook"])
        if outcome["ok"] and (render or args.record):
            _record(syllabus, outcome)
    if render or args.record:
        syl.save(syllabus)
        readme.update()
    _print_table(outcomes)
    return 0 if all(o["ok"] for o in outcomes) else 1


def _keep_failed(outcome, name):
    """A failed full run's notebook, its outputs up to the failing cell, in build/failed/ (a
    render stores nothing in the chapter when a cell fails)."""
    if outcome.get("notebook") is None:  # nothing ran
        return
    kept = syl.ROOT / "build" / "failed" / f"{name}.ipynb"
    kept.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(outcome["notebook"], kept)
    print(f"  the failed run's outputs are in {kept.relative_to(syl.ROOT)}", flush=True)


def _record_seed(syllabus, outcome, offset):
    """A seed run's time and results (or its error) under the record's ``seeds``."""
    record = {"seconds": round(outcome["seconds"], 1), "machine": outcome["machine"],
              "date": datetime.date.today().isoformat()}
    if outcome["ok"]:
        record["results"] = outcome["results"]
    else:
        record["error"] = outcome["error"]
    _entry(syllabus, outcome).setdefault("seeds", {})[str(offset)] = record


WEIGHTS_DIR = syl.CHAPTERS_DIR / "weights"  # seqkeras.utils.weights_path, seen from here


def _has_seed_weights(chapter, offset) -> bool:
    """Whether ``chapter`` passed its seed run at ``offset`` and its weights are still there."""
    record = chapter.get("seeds", {}).get(str(offset), {})
    folder = WEIGHTS_DIR / f"seed-offset-{offset}"
    return "results" in record and any(folder.glob(f"{chapter['number']}_*"))


def cmd_seeds(args) -> int:
    """Run chapters in full mode at other seed offsets (1 and 2 by default) and record each
    result per offset in the syllabus; the README then shows each result's range.

    A chapter that loads another's weights (``loads_weights_of`` in the syllabus) runs after
    that chapter at the same offset, whose weights go to ``weights/seed-offset-K/``. With
    ``--reuse-weights`` that chapter is not run again where its seed run at K passed and its
    weights are still in ``weights/seed-offset-K/`` (rerun it after changing it).
    """
    syllabus = syl.load()
    chapters = syl.select(syllabus, args.chapters)
    by_number = {c["number"]: c for c in syllabus["chapters"]}
    outcomes = []
    for offset in args.offsets:
        if offset < 1:
            raise SystemExit(f"seed offsets must be >= 1 (0 is the committed run), got {offset}")
        done = set()
        for chapter in chapters:
            needed = [by_number[n] for n in chapter.get("loads_weights_of", [])]
            for run in [*needed, chapter]:
                if run["number"] in done:
                    continue
                if run is not chapter and args.reuse_weights and _has_seed_weights(run, offset):
                    print(f"Reusing {run['notebook']}'s weights from its passed seed run at "
                          f"offset {offset}", flush=True)
                    done.add(run["number"])
                    continue
                print(f"Running {run['notebook']} in full mode at seed offset {offset} ...",
                      flush=True)
                outcome = notebooks.run_chapter(run, fast=False, seed_offset=offset)
                outcomes.append(outcome)
                if not outcome["ok"]:
                    _keep_failed(outcome, f"{run['notebook']}_seed-offset-{offset}")
                done.add(run["number"])
                _record_seed(syllabus, outcome, offset)
                syl.save(syllabus)
    readme.update()
    _print_table(outcomes)
    return 0 if all(o["ok"] for o in outcomes) else 1


def cmd_check(args) -> int:
    problems = notebooks.check_all()
    for p in problems:
        print(f"- {p}")
    ready = [c for c in syl.load()["chapters"] if syl.status(c) == "ready"]
    print(f"course check: {len(ready)} chapter(s) checked, {len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_readme(args) -> int:
    print("README.md updated" if readme.update() else "README.md already up to date")
    return 0


def cmd_normalise(args) -> int:
    for path in sorted(syl.CHAPTERS_DIR.glob("*.ipynb")):
        notebooks.store(notebooks.normalise(nbformat.read(path, as_version=4)), path)
        print(f"normalised {path.name} and {notebooks.paired_path(path).name}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the chapters and their status").set_defaults(func=cmd_list)
    run = sub.add_parser("run", help="execute chapters headless (fast mode unless --full)")
    run.add_argument("chapters", nargs="*", help="chapter numbers; default: every ready chapter")
    run.add_argument("--full", action="store_true", help="full mode (the chapter's real results)")
    run.add_argument("--record", action="store_true",
                     help="write the measured time (and full-mode results) into the syllabus")
    run.set_defaults(func=cmd_run)
    render = sub.add_parser("render", help="full run; store outputs in the notebook")
    render.add_argument("chapters", nargs="+", help="chapter numbers")
    render.set_defaults(func=lambda a: cmd_run(a, render=True), full=True, record=True)
    seeds = sub.add_parser("seeds", help="full runs at other seed offsets; the spread of "
                                         "every result goes into the syllabus and README")
    seeds.add_argument("chapters", nargs="+", help="chapter numbers (e.g. 06, 06s)")
    seeds.add_argument("--offsets", nargs="+", type=int, default=[1, 2],
                       help="seed offsets to run (default: 1 2)")
    seeds.add_argument("--reuse-weights", action="store_true",
                       help="do not rerun a chapter whose weights are loaded where its seed run "
                            "at that offset passed and left them in weights/seed-offset-K/")
    seeds.set_defaults(func=cmd_seeds)
    sub.add_parser("labs", help="run the labs (skeletons unfilled) and store their outputs"
                   ).set_defaults(func=lambda a: labs.render())
    sub.add_parser("check", help="enforce the notebook rules").set_defaults(func=cmd_check)
    sub.add_parser("readme", help="regenerate the README tables").set_defaults(func=cmd_readme)
    sub.add_parser("normalise", help="normalise stored notebooks").set_defaults(func=cmd_normalise)
    sub.add_parser("site", help="build the static website into build/site/").set_defaults(
        func=lambda a: site.build())
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
