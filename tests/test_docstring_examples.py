"""Every ``>>>`` example in seqkeras' docstrings runs, and prints what its docstring says.

The examples may use ``np``, ``keras`` and ``ops`` (``from keras import ops``) without importing
them, as the Keras docstrings do; everything else they define themselves, so a reader can paste
them. Shapes are printed as tuples, which read the same on every backend.
"""

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

import seqkeras

MODULES = sorted(info.name for info in pkgutil.walk_packages(seqkeras.__path__, "seqkeras."))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def module_examples(module_name):
    module = importlib.import_module(module_name)
    tests = doctest.DocTestFinder().find(module, extraglobs={"np": np, "keras": keras, "ops": ops})
    return [test for test in tests if test.examples and test.name.startswith(module_name)]


@pytest.mark.parametrize("module_name", [name for name in MODULES if module_examples(name)])
def test_docstring_examples_run(module_name):
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = []
    for test in module_examples(module_name):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def test_every_example_section_is_a_doctest():
    """An ``Example:`` heading followed by code that is not ``>>>`` would never run."""
    package = Path(seqkeras.__file__).parent
    sections = 0
    for path in sorted(package.rglob("*.py")):
        text = path.read_text()
        for match in re.finditer(r"\n\s*Example:\n(.*?)(?:\n\s*\n\s*[A-Z][a-z]+:|\"\"\")", text,
                                 re.S):
            sections += 1
            assert ">>>" in match.group(1), f"{path.name}: an Example section without >>>"
    assert sections >= 20, sections
