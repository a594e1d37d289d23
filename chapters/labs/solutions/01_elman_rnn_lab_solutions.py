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
# # Lab 1, solved: the Elman cell
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/labs/solutions/01_elman_rnn_lab_solutions.ipynb)
#
# Chapter 1 built the simple recurrent network of Elman (1990). Here you write its `call`
# yourself; a checker copies random weights into your cell and into `seqkeras.layers.ElmanCell`,
# compares them on one step and on whole sequences, and if they differ, tells you which mistake
# you made. Then your cell learns the adding problem over a short lag, where an Elman RNN can.
#
# $$h_t = \tanh(x_t W_{xh} + h_{t-1} W_{hh} + b_h)$$

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

ENV = setup(seed=1990)

# %% tags=["parameters"]
FAST = os.environ.get("SEQKERAS_FAST") == "1"

ADDING_LENGTH = 10  # T: a short lag, within an Elman RNN's reach
SEQUENCES = 1_000 if FAST else 10_000
EPOCHS = 1 if FAST else 15
UNITS = 16 if FAST else 32


# %% [markdown]
# ## Your cell
#
# `exercises.ElmanCellExercise` has created `self.W_xh` (input_dim, units), `self.W_hh`
# (units, units) and `self.b_h` (units,). `states` is `[h_{t-1}]`; return `(h_t, [h_t])`. Use
# `keras.ops` (`ops.matmul`, `ops.tanh`) so that the cell runs on every backend. Replace the
# `raise` line with your code.

# %%
class MyElmanCell(exercises.ElmanCellExercise):
    def call(self, inputs, states, training=None):
        h_prev = states[0]
        h = ops.tanh(ops.matmul(inputs, self.W_xh) + ops.matmul(h_prev, self.W_hh) + self.b_h)
        return h, [h]


# %% [markdown]
# ## The check
#
# It runs one step, then sequences through `keras.layers.RNN` (with padding masks,
# `go_backwards`, a batch of one and inside a compiled model). If your step is wrong it names the
# mistake (tanh missing or a sigmoid instead, the recurrent term or the bias missing, the old
# state returned) or the weight matrix whose term is wrong.

# %%
report = exercises.check_elman_cell(MyElmanCell)

# %% [markdown]
# ## Your cell on the adding problem
#
# Once the check passes, your cell learns chapter 2's adding problem at T = 10: the sum of the
# two marked values of a sequence. Always answering 1.0 scores a mean squared error of 1/6
# (about 0.167). Over 10 steps an Elman RNN does better; chapter 2 shows it failing at 100.

# %%
run = exercises.train_on_adding_problem(report, MyElmanCell, ADDING_LENGTH, SEQUENCES,
                                         EPOCHS, UNITS)
