"""A first-time user's check of the installed package (``make smoke``).

Run by the Python of a fresh virtual environment into which only ``pip install .`` went (no
course or dev extras), from outside the repository so that the installed copy is the one
imported. It runs the README's package example, checks that the conversions it shows compute
what they claim, and saves and reloads a model with a seqkeras layer under ``safe_mode``.
"""

import re
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np

import seqkeras

readme = Path(sys.argv[1]).read_text()
assert "site-packages" in seqkeras.__file__, f"not the installed package: {seqkeras.__file__}"
example = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
namespace = {}
exec(compile(example, "README.md (package example)", "exec"), namespace)

x = np.random.default_rng(0).normal(size=(2, 7, 16)).astype("float32")
error = np.abs(keras.ops.convert_to_numpy(namespace["rnn"](x) - namespace["twin"](x))).max()
assert error < 1e-5, f"README: ElmanCell and its SimpleRNN twin differ by {error}"
error = np.abs(keras.ops.convert_to_numpy(namespace["lstm"](x) - namespace["keras_lstm"](x))).max()
assert error < 1e-5, f"README: LSTMCell and keras.layers.LSTM differ by {error}"
print(f"README example: ran, twins agree (seqkeras {seqkeras.__version__} from "
      f"{Path(seqkeras.__file__).parent})")

from seqkeras.layers import BahdanauAttention, LSTMCell  # noqa: E402

inputs = keras.Input((None, 16))
states = keras.layers.RNN(LSTMCell(8), return_sequences=True)(inputs)
context, _ = BahdanauAttention(12)(states, states)
model = keras.Model(inputs, context)
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "smoke.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
error = np.abs(keras.ops.convert_to_numpy(model(x) - reloaded(x))).max()
assert error == 0.0, f"save/load changed the outputs by {error}"
print("save/load with safe_mode=True: identical outputs")
