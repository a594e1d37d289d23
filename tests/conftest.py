import keras
import numpy as np
import pytest


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend: {keras.backend.backend()}"


@pytest.fixture
def rng():
    return np.random.default_rng(1990)


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)
