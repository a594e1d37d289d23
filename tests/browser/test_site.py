"""The static site (`make site`) in a real browser: every chapter page typesets its math, loads
its plots, links to the other chapters and to Colab, and asks nothing of the network."""

from urllib.parse import urlparse

import pytest

from course import labs, site
from course import syllabus as syl

from .conftest import requested_urls, screenshot

CHAPTERS = [c for c in syl.load()["chapters"] if syl.status(c) == "ready"]
SOLUTIONS = [syl.solutions(c) for c in CHAPTERS if syl.solutions_ready(c)]
PAGES = CHAPTERS + SOLUTIONS
# The labs (committed unfilled: no plots yet) are pages too, between a chapter and its solutions.
LABS = [{"notebook": labs.lab_path(c).stem, "lab_of": c} for c in CHAPTERS
        if labs.lab_path(c).exists()]
# Each lab's solved form follows it (every check passed, the piece used).
SOLVED = [{"notebook": labs.solved_path(labs.lab_path(c)).stem, "solved_of": c}
          for c in CHAPTERS if labs.solved_path(labs.lab_path(c)).exists()]


def page(site_url, entry):
    folder = ("solutions/" if entry.get("solutions_of") else
              "labs/" if entry.get("lab_of") else
              "labs/solutions/" if entry.get("solved_of") else "")
    return f"{site_url}{folder}{entry['notebook']}.html"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"

# Text left outside MathJax's output, <pre> and <code>: what a reader sees as raw LaTeX.
RAW_MATH_SCRIPT = """
const clone = document.querySelector("main").cloneNode(true);
clone.querySelectorAll("pre, code, mjx-container, script, style").forEach(e => e.remove());
const text = clone.textContent;
const raw = text.match(/\\$\\$[^$]+\\$\\$|\\$[^$\\s][^$]*?\\$|\\\\\\(|\\\\\\[|\\\\begin\\{/g) || [];
return raw.slice(0, 5);
"""
WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup) { done("MathJax did not load"); return; }
MathJax.startup.promise.then(() => done("ok"), error => done(String(error)));
"""


@pytest.fixture(scope="module")
def site_url(serve):
    if not (site.SITE / "index.html").exists():
        assert site.build() == 0, "make site failed"
    return serve(site.SITE)


def test_front_page_is_the_readme_with_every_chapter(browser, site_url):
    browser.get(site_url)
    assert "From RNNs to BERT" in browser.title
    text = browser.find_element("tag name", "main").text
    assert "Results" in text and "The two commands" in text
    links = {a.get_attribute("href") for a in browser.find_elements("css selector", "main a")}
    for chapter in CHAPTERS:
        assert site_url + f"{chapter['notebook']}.html" in links, chapter["notebook"]
    screenshot(browser, "site_index")


@pytest.mark.parametrize("chapter", PAGES, ids=[c["notebook"] for c in PAGES])
def test_chapter_page(browser, site_url, chapter):
    requested_urls(browser)  # drop the previous page's requests
    browser.get(page(site_url, chapter))
    browser.set_script_timeout(60)
    math = browser.find_elements("css selector", "main .math")  # what MyST marked as math
    if math:  # Sphinx adds MathJax only to pages with math (chapter 10 has none)
        assert browser.execute_async_script(WAIT_FOR_MATHJAX) == "ok"
        untypeset = [element.text for element in math
                     if not element.find_elements("tag name", "mjx-container")]
        assert untypeset == []
    assert browser.execute_script(RAW_MATH_SCRIPT) == []

    images = browser.find_elements("css selector", "main img")
    local = [img for img in images if img.get_attribute("src").startswith(site_url)]
    assert local, "no plots on the page"
    broken = [img.get_attribute("src") for img in local
              if not browser.execute_script("return arguments[0].complete && "
                                            "arguments[0].naturalWidth > 0", img)]
    assert broken == []

    links = {a.get_attribute("href") for a in browser.find_elements("css selector", "a[href]")}
    others = [c for c in PAGES if c is not chapter]
    missing = [c["notebook"] for c in others + LABS + SOLVED if page(site_url, c) not in links]
    assert missing == [], "sidebar lacks these chapters, labs and solutions"
    assert syl.colab_url(syl.load()["repository"], chapter) in links

    order = [entry for c in CHAPTERS for entry in [c] + [lab for lab in LABS
                                                          if lab["lab_of"] is c]
             + [solved for solved in SOLVED if solved["solved_of"] is c]
             + [s for s in SOLUTIONS if s["solutions_of"] is c]]
    position = order.index(chapter)
    for neighbour in (order[position - 1:position] + order[position + 1:position + 2]):
        name = neighbour["notebook"]
        assert browser.find_elements("css selector", f"a.left-prev[href$='{name}.html'], "
                                                      f"a.right-next[href$='{name}.html']"), name

    outside = [url for url in requested_urls(browser)
               if urlparse(url).hostname not in ("127.0.0.1", None) and url != COLAB_BADGE]
    assert outside == [], "requests that leave the machine"
    screenshot(browser, f"site_{chapter['notebook']}")


@pytest.mark.parametrize("lab", LABS + SOLVED, ids=[lab["notebook"] for lab in LABS + SOLVED])
def test_lab_page(browser, site_url, lab):
    requested_urls(browser)
    browser.get(page(site_url, lab))
    browser.set_script_timeout(60)
    if browser.find_elements("css selector", "main .math"):  # MathJax comes only with math
        assert browser.execute_async_script(WAIT_FOR_MATHJAX) == "ok"
    assert browser.execute_script(RAW_MATH_SCRIPT) == []
    text = browser.find_element("tag name", "main").text
    links = {a.get_attribute("href") for a in browser.find_elements("css selector", "a[href]")}
    if lab.get("lab_of"):
        assert "not implemented yet" in text  # the unfilled skeleton's check, as committed
        assert labs.colab_url(syl.load()["repository"], labs.lab_path(lab["lab_of"])) in links
    else:  # solved: every check passed
        assert "[PASSED]" in text and "[NOT YET]" not in text
        assert any(link.endswith(f"labs/solutions/{lab['notebook']}.ipynb") for link in links)
    outside = [url for url in requested_urls(browser)
               if urlparse(url).hostname not in ("127.0.0.1", None) and url != COLAB_BADGE]
    assert outside == [], "requests that leave the machine"
    screenshot(browser, f"site_{lab['notebook']}")
