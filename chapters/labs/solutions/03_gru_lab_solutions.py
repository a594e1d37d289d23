# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 3, solved: the GRU cell
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/labs/solutions/03_gru_lab_solutions.ipynb)
#
# Chapter 3 built the gated recurrent unit of Cho et al. (2014). Here you write its `call`
# yourself, as the paper wrote it (the reset gate acts on $h_{t-1}$ before the recurrent
# product); a checker copies random weights into your cell and into `seqkeras.layers.GRUCell`,
# compares them on one step and on whole sequences, and if they differ, tells you which mistake
# you made. Then your cell learns the adding problem.
#
# The equations, with the blocks of the weights in Keras' order z, r, h:
#
# $$\begin{aligned}
# z_t &= \sigma(x_t W_{xz} + h_{t-1} W_{hz} + b_z) \\
# r_t &= \sigma(x_t W_{xr} + h_{t-1} W_{hr} + b_r) \\
# \tilde h_t &= \tanh(x_t W_{xh} + (r_t \odot h_{t-1}) W_{hh} + b_h) \\
# h_t &= z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t
# \end{aligned}$$

# %%
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "seqkeras @ git+https://github.com/seqkeras/seqkeras"], check=True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras import ops

from seqkeras import exercises
from seqkeras.utils import setup

ENV = setup(seed=2014)

# %% tags=["parameters"]
FAST = os.environ.get("SEQKERAS_FAST") == "1"

ADDING_LENGTH = 50  # T: the lag your cell must bridge
SEQUENCES = 1_000 if FAST else 10_000
EPOCHS = 1 if FAST else 15
UNITS = 16 if FAST else 32


# %% [markdown]
# ## Your cell
#
# `exercises.GRUCellExercise` has created `self.W_x` (input_dim, 3 units), the blocks
# $W_{xz}, W_{xr}, W_{xh}$ side by side, `self.W_h` (units, 3 units), $W_{hz}, W_{hr}, W_{hh}$,
# and `self.b` (3 units,). `states` is `[h_{t-1}]`; return `(h_t, [h_t])`. Use `keras.ops`
# (`ops.matmul`, `ops.split`, `ops.sigmoid`, `ops.tanh`; `self.units` is the number of units)
# so that the cell runs on every backend. Replace the `raise` line with your code.

# %%
class MyGRUCell(exercises.GRUCellExercise):
    def call(self, inputs, states, training=None):
        h_prev = states[0]
        u = self.units
        x_z, x_r, x_h = ops.split(ops.matmul(inputs, self.W_x) + self.b, 3, axis=-1)
        h_z, h_r = ops.split(ops.matmul(h_prev, self.W_h[:, :2 * u]), 2, axis=-1)
        z, r = ops.sigmoid(x_z + h_z), ops.sigmoid(x_r + h_r)
        # Cho et al.: the reset gate acts on h_{t-1} before the product with W_hh
        candidate = ops.tanh(x_h + ops.matmul(r * h_prev, self.W_h[:, 2 * u:]))
        h = z * h_prev + (1 - z) * candidate
        return h, [h]


# %% [markdown]
# ## The check
#
# It runs one step, then sequences through `keras.layers.RNN` (with padding masks,
# `go_backwards`, a batch of one and inside a compiled model). If your step is wrong it names the
# mistake ($z$ and $1 - z$ swapped, the reset gate after the product or missing, $z$ and $r$ in
# the wrong order, ...) or the weight matrix whose term is wrong.

# %%
report = exercises.check_gru_cell(MyGRUCell)

# %% [markdown]
# ## Your cell on the adding problem
#
# Once the check passes, your cell learns chapter 2's adding problem at T = 50: the sum of the
# two marked values of a sequence. Always answering 1.0 scores a mean squared error of 1/6
# (about 0.167); a gated cell that remembers the first marked value does far better.

# %%
run = exercises.train_on_adding_problem(report, MyGRUCell, ADDING_LENGTH, SEQUENCES,
                                         EPOCHS, UNITS)
