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
# # Lab 2, solved: the LSTM cell
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/labs/solutions/02_lstm_lab_solutions.ipynb)
#
# Chapter 2 built the LSTM cell of Hochreiter & Schmidhuber (1997) with the forget gate of Gers
# et al. (2000). Here you write its `call` yourself; a checker copies random weights into your
# cell and into `seqkeras.layers.LSTMCell`, compares them on one step and on whole sequences, and
# if they differ, tells you which mistake you made. Then your cell learns the adding problem.
#
# The equations, with the four blocks of the weights in Keras' order i, f, g, o:
#
# $$\begin{aligned}
# (z_i, z_f, z_g, z_o) &= x_t W_x + h_{t-1} W_h + b \\
# i_t = \sigma(z_i), \quad f_t &= \sigma(z_f), \quad g_t = \tanh(z_g), \quad o_t = \sigma(z_o) \\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
# h_t &= o_t \odot \tanh(c_t)
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

ENV = setup(seed=1997)

# %% tags=["parameters"]
FAST = os.environ.get("SEQKERAS_FAST") == "1"

ADDING_LENGTH = 50  # T: the lag your cell must bridge
SEQUENCES = 1_000 if FAST else 10_000
EPOCHS = 1 if FAST else 15
UNITS = 16 if FAST else 32


# %% [markdown]
# ## Your cell
#
# `exercises.LSTMCellExercise` has created `self.W_x` (input_dim, 4 units), `self.W_h`
# (units, 4 units) and `self.b` (4 units,). `states` is `[h_{t-1}, c_{t-1}]`; return
# `(h_t, [h_t, c_t])`. Use `keras.ops` (`ops.matmul`, `ops.split`, `ops.sigmoid`, `ops.tanh`) so
# that the cell runs on every backend. Replace the `raise` line with your code.

# %%
class MyLSTMCell(exercises.LSTMCellExercise):
    def call(self, inputs, states, training=None):
        h_prev, c_prev = states
        z = ops.matmul(inputs, self.W_x) + ops.matmul(h_prev, self.W_h) + self.b
        i, f, g, o = ops.split(z, 4, axis=-1)  # Keras' gate order
        c = ops.sigmoid(f) * c_prev + ops.sigmoid(i) * ops.tanh(g)
        h = ops.sigmoid(o) * ops.tanh(c)
        return h, [h, c]


# %% [markdown]
# ## The check
#
# It runs one step, then sequences through `keras.layers.RNN` (with padding masks,
# `go_backwards`, a batch of one and inside a compiled model). If your step is wrong it names the
# mistake (forget gate on $h_{t-1}$, tanh missing on $c_t$, $i$ and $f$ swapped, the blocks in
# the wrong order, ...) or the weight matrix whose term is wrong.

# %%
report = exercises.check_lstm_cell(MyLSTMCell)

# %% [markdown]
# ## Your cell on the adding problem
#
# Once the check passes, your cell learns chapter 2's adding problem at T = 50: the sum of the
# two marked values of a sequence. Always answering 1.0 scores a mean squared error of 1/6
# (about 0.167); an LSTM that remembers the first marked value does far better.

# %%
run = exercises.train_on_adding_problem(report, MyLSTMCell, ADDING_LENGTH, SEQUENCES,
                                         EPOCHS, UNITS)
