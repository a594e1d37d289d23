"""The course as a static website: ``python -m course site`` (``make site``).

Jupyter Book 1.x (Sphinx) turns the committed notebooks into HTML pages without executing them:
the outputs stored by ``python -m course render`` are what a reader sees. The front page is the
README; the sidebar lists every chapter with its lab, the lab solved and its solutions notebook
nested under it.
MathJax 3 comes from npm (``course/book/package.json``) and is copied next to the pages, so the
math typesets with no network; Sphinx would otherwise load it from a CDN.

The book's sources are assembled under ``build/book/`` and the site is written to
``build/site/``: ``index.html`` is the front page, ``NN_topic.html`` a chapter and
``solutions/NN_topic_solutions.html`` its solutions, ``labs/NN_topic_lab.html`` its lab and
``labs/solutions/NN_topic_lab_solutions.html`` the lab solved.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from course import labs
from course import syllabus as syl

BUILD = syl.ROOT / "build"
BOOK_SOURCE = BUILD / "book"
SITE = BUILD / "site"
# What this module writes into the book's source folder, in Jupyter Book's own names.
FRONT_PAGE, CONFIG, TABLE_OF_CONTENTS = "index.md", "_config.yml", "_toc.yml"
GENERATED_FILES = (FRONT_PAGE, CONFIG, TABLE_OF_CONTENTS)
MATHJAX_PACKAGE = syl.ROOT / "course" / "book" / "node_modules" / "mathjax" / "es5"
# Sphinx joins a relative mathjax_path onto _static/; the copy lives beside it, at site/mathjax/,
# because every script in a book's own _static/ is added to each page (MathJax would load twice).
MATHJAX_PATH = "../mathjax/tex-mml-chtml.js"


def solutions_path(chapter: dict) -> Path:
    return syl.notebook_path(syl.solutions(chapter))


def front_page(readme_text: str, repository: str) -> str:
    """The README as the site's front page: links to chapter notebooks become links to their
    pages; links to other files of the repository point at GitHub."""
    def relink(match):
        text, target = match.group(1), match.group(2)
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            return match.group(0)
        if target.startswith("chapters/") and target.endswith(".ipynb"):
            return f"[{text}]({target.removeprefix('chapters/')})"
        return f"[{text}](https://github.com/{repository}/blob/main/{target})"

    # A badge is [![alt](image)](link): relink the outer link only (its text holds brackets).
    return re.sub(r"\[((?:!\[[^\]]*\]\([^)]*\))|[^\]]*)\]\(([^)\s]+)\)", relink, readme_text)


def book_config(syllabus: dict) -> dict:
    repository = syllabus["repository"]
    return {
        "title": "seqkeras: From RNNs to BERT, in Keras",
        "author": "the seqkeras authors",
        "copyright": "2026",
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off"},
        "repository": {"url": f"https://github.com/{repository}", "path_to_book": "chapters",
                       "branch": "main"},
        "launch_buttons": {"colab_url": "https://colab.research.google.com",
                           "notebook_interface": "classic"},
        "html": {"use_repository_button": True, "use_edit_page_button": False,
                 "use_issues_button": False, "home_page_in_navbar": True},
        "parse": {"myst_enable_extensions": ["dollarmath", "amsmath"]},
        "sphinx": {"config": {"mathjax_path": MATHJAX_PATH,
                              "html_show_sphinx": False,
                              "suppress_warnings": ["mystnb.unknown_mime_type"]}},
    }


def table_of_contents(syllabus: dict) -> dict:
    entries = []
    for chapter in syllabus["chapters"]:
        if syl.status(chapter) != "ready":
            continue
        entry = {"file": chapter["notebook"]}
        lab = labs.lab_path(chapter)
        sections = [f"labs/{lab.stem}"] if lab.exists() else []
        if labs.solved_path(lab).exists():
            sections.append(f"labs/solutions/{labs.solved_path(lab).stem}")
        if solutions_path(chapter).exists():
            sections.append(f"solutions/{solutions_path(chapter).stem}")
        if sections:
            entry["sections"] = [{"file": file} for file in sections]
        entries.append(entry)
    return {"format": "jb-book", "root": "index",
            "parts": [{"caption": "Chapters", "chapters": entries}]}


def assemble_source(syllabus: dict) -> None:
    """Write the book's sources (front page, notebooks, configuration, table of contents) to
    build/book/."""
    shutil.rmtree(BOOK_SOURCE, ignore_errors=True)
    (BOOK_SOURCE / "solutions").mkdir(parents=True)
    (BOOK_SOURCE / "labs" / "solutions").mkdir(parents=True)
    readme_text = (syl.ROOT / "README.md").read_text()
    (BOOK_SOURCE / FRONT_PAGE).write_text(front_page(readme_text, syllabus["repository"]))
    for chapter in syllabus["chapters"]:
        if syl.status(chapter) != "ready":
            continue
        shutil.copy2(syl.notebook_path(chapter), BOOK_SOURCE)
        if solutions_path(chapter).exists():
            shutil.copy2(solutions_path(chapter), BOOK_SOURCE / "solutions")
        if labs.lab_path(chapter).exists():
            shutil.copy2(labs.lab_path(chapter), BOOK_SOURCE / "labs")
        solved = labs.solved_path(labs.lab_path(chapter))
        if solved.exists():
            shutil.copy2(solved, BOOK_SOURCE / "labs" / "solutions")
    (BOOK_SOURCE / CONFIG).write_text(yaml.safe_dump(book_config(syllabus),
                                                            sort_keys=False))
    (BOOK_SOURCE / TABLE_OF_CONTENTS).write_text(yaml.safe_dump(table_of_contents(syllabus),
                                                         sort_keys=False))


def copy_mathjax() -> None:
    if not (MATHJAX_PACKAGE / "tex-mml-chtml.js").exists():
        raise SystemExit(f"MathJax is missing at {MATHJAX_PACKAGE}: run `make site`, which "
                         "installs it with `npm ci --prefix course/book` (Node.js and npm needed)")
    target = SITE / "mathjax"
    target.mkdir(parents=True)
    shutil.copy2(MATHJAX_PACKAGE / "tex-mml-chtml.js", target)
    fonts = Path("output") / "chtml" / "fonts" / "woff-v2"
    shutil.copytree(MATHJAX_PACKAGE / fonts, target / fonts)


def build() -> int:
    start = time.perf_counter()
    syllabus = syl.load()
    assemble_source(syllabus)
    output = BUILD / "jupyter-book"
    shutil.rmtree(output, ignore_errors=True)
    print(f"building the site from {len(table_of_contents(syllabus)['parts'][0]['chapters'])} "
          "chapters (stored outputs, nothing executed) ...", flush=True)
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(BOOK_SOURCE),
               "--path-output", str(output), "--builder", "html", "-W", "-n", "--keep-going",
               "--quiet"]
    result = subprocess.run(command)
    if result.returncode != 0:
        print("jupyter-book failed (its warnings are above)", file=sys.stderr)
        return result.returncode
    shutil.rmtree(SITE, ignore_errors=True)
    shutil.copytree(output / "_build" / "html", SITE)
    copy_mathjax()
    print(f"site written to {SITE.relative_to(syl.ROOT)}/index.html in "
          f"{time.perf_counter() - start:.1f} s")
    return 0
