"""First impressions: `make lab` in a real browser, as a learner first sees it. A fresh home
folder (no JupyterLab settings of one's own), chapter 1 opened from the file browser and its first
cells run: no red start-up lines under them, no "Jupyter news" pop-up, and the file browser lists
the notebooks without their paired .py files."""

import os
import secrets
import shutil
import socket
import subprocess
import time

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import ROOT, screenshot

CHAPTER = "01_elman_rnn"
FIRST_CELLS = 3  # the title, the imports and setup(), the parameters
# The notebook's kernel status ("starting", "busy", "idle"), null before it has one. The shell
# is read directly: a headless window never has focus, so `currentWidget` stays null.
KERNEL_STATUS = """
const panels = window.jupyterapp ? Array.from(jupyterapp.shell.widgets("main")) : [];
const panel = panels.find(widget => widget.sessionContext);
const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
return kernel ? kernel.status : null;
"""


class Waiter(WebDriverWait):
    """WebDriverWait that saves a screenshot of what the page showed when a wait timed out."""

    def until(self, method, message=""):
        try:
            return super().until(method, message)
        except TimeoutException:
            screenshot(self._driver, "lab_timeout")
            raise


RUN_FIRST_CELLS = """
const [count, done] = arguments;
(async () => {
  await jupyterapp.commands.execute("notebook:clear-all-cell-outputs");
  for (let i = 0; i < count; i++) {
    await jupyterapp.commands.execute("notebook:run-cell-and-select-next");
  }
})().then(() => done("ok"), error => done(String(error)));
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab_url(browser, tmp_path_factory):
    port, token = free_port(), secrets.token_hex(16)
    home = tmp_path_factory.mktemp("home")
    environment = {**os.environ, "HOME": str(home)}
    # PYTEST_CURRENT_TEST would switch off the very capture under test (ipykernel checks it).
    for variable in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "TF_CPP_MIN_LOG_LEVEL",
                     "PYTEST_CURRENT_TEST"):
        environment.pop(variable, None)
    # A copy of the chapters: JupyterLab autosaves what the test runs.
    chapters = home / "chapters"
    shutil.copytree(ROOT / "chapters", chapters, ignore=shutil.ignore_patterns("weights"))
    arguments = (f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={token} "
                 "--ServerApp.port_retries=0 --LabApp.expose_app_in_browser=True")
    log = (home / "lab.log").open("w")
    server = subprocess.Popen(["make", "-s", "lab", f"LAB_DIR={chapters}",
                               f"LAB_ARGS={arguments}"], cwd=ROOT,
                              env=environment, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert server.poll() is None, (home / "lab.log").read_text()
        time.sleep(0.5)
    else:
        pytest.fail("JupyterLab did not start in 90 s:\n" + (home / "lab.log").read_text())
    yield url, token
    os.killpg(server.pid, 15)
    server.wait(timeout=30)


def test_first_cells_of_chapter_1_run_clean(browser, lab_url):
    url, token = lab_url
    browser.get(f"{url}/lab/tree/{CHAPTER}.ipynb?token={token}")
    wait = Waiter(browser, 120)
    wait.until(expected_conditions.presence_of_element_located(
        (By.CSS_SELECTOR, ".jp-NotebookPanel .jp-Cell")))
    wait.until(lambda driver: driver.execute_script(KERNEL_STATUS) == "idle")

    listing = [item.text for item in browser.find_elements(
        By.CSS_SELECTOR, ".jp-DirListing-item .jp-DirListing-itemName")]
    assert f"{CHAPTER}.ipynb" in listing, listing
    assert not [name for name in listing if name.endswith(".py")], listing

    # Clear the committed outputs so that only this run's output is read, then run the cells
    # as Shift+Enter does (the commands it is bound to; a headless window has no keyboard focus).
    browser.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-Cell").click()
    browser.set_script_timeout(120)
    browser.execute_async_script(RUN_FIRST_CELLS, FIRST_CELLS)

    code_cells = browser.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-CodeCell")
    setup_output = code_cells[0].find_element(By.CSS_SELECTOR, ".jp-Cell-outputWrapper")
    wait.until(lambda driver: "machine:" in setup_output.text)  # setup() printed its line
    wait.until(lambda driver: driver.execute_script(KERNEL_STATUS) == "idle")
    time.sleep(3)  # a late start-up line or notification would arrive by now
    screenshot(browser, "lab_chapter_01")

    red = [element.text for cell in code_cells[:2] for element in cell.find_elements(
        By.CSS_SELECTOR, "[data-mime-type='application/vnd.jupyter.stderr']")]
    assert red == [], "red lines under the first cells"
    toasts = [toast.text for toast in browser.find_elements(By.CSS_SELECTOR, ".Toastify__toast")]
    assert not [text for text in toasts if "news" in text.lower()], toasts
