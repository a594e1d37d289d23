"""pytest settings for the notebook tests (``pytest --nbval-lax chapters``).

- stderr is never compared: TensorFlow's C++ logs reach stored notebooks but not nbval's run.
- nbval waits only 5 s for each output message after a cell; a loaded 2-core machine needs more.
- after a notebook's first failing cell, its remaining cells are skipped: they would only fail
  for the same reason and bury the real error.
- fast mode is the default for notebook tests (``SEQKERAS_FAST=1``).
"""

import os

import pytest

os.environ.setdefault("SEQKERAS_FAST", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

OUTPUT_TIMEOUT_S = 120

try:
    from nbval.plugin import IPyNbCell, IPyNbFile
except ImportError:  # nbval is a dev dependency; unit tests run without it
    IPyNbCell = IPyNbFile = None


def pytest_collectstart(collector):
    if IPyNbFile is not None and isinstance(collector, IPyNbFile):
        collector.skip_compare += ("stderr",)


def pytest_itemcollected(item):
    if IPyNbCell is not None and isinstance(item, IPyNbCell):
        item.output_timeout = OUTPUT_TIMEOUT_S


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IPyNbCell is not None and isinstance(item, IPyNbCell) and report.failed:
        item.parent.seqkeras_failed_cell = item.name


def pytest_runtest_setup(item):
    if IPyNbCell is not None and isinstance(item, IPyNbCell):
        failed = getattr(item.parent, "seqkeras_failed_cell", None)
        if failed:
            pytest.skip(f"skipped: an earlier cell of this notebook failed ({failed})")
