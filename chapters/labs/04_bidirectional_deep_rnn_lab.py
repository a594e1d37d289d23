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
# # Lab 4: write the bidirectional layer yourself
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/labs/04_bidirectional_deep_rnn_lab.ipynb)
#
# Chapter 4 wrapped its recurrent layers in `keras.layers.Bidirectional` (Schuster & Paliwal,
# 1997). Here you write what that wrapper does: run one RNN forwards, a second one (with its own
# weights) backwards, and give each position both states,
#
# $$\overrightarrow{h}_t = \mathrm{RNN}_f(x_1, \dots, x_t), \qquad
#   \overleftarrow{h}_t = \mathrm{RNN}_b(x_T, \dots, x_t), \qquad
#   y_t = [\overrightarrow{h}_t ; \overleftarrow{h}_t]$$
#
# where $T$ is each sequence's own last real position: a right-padded batch must not let the
# backward RNN read the padding first. The checker compares your function with
# `keras.layers.Bidirectional` holding the same weights and names the mistake when they differ.

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

CHARACTERS = 100_000 if FAST else 600_000  # of the KJV's training split
EPOCHS = 2 if FAST else 8


# %% [markdown]
# ## Your bidirectional layer
#
# `forward` and `backward` are two `keras.layers.RNN(cell, return_sequences=True)` layers with
# their own weights; `inputs` is `(batch, T, d)`; `mask` is `(batch, T)`, True at real positions
# with the padding at the end, or None. Call a layer as `forward(inputs, mask=mask)`. Return
# `(batch, T, 2 units)`: the forward outputs, then the backward ones, both in the original time
# order. `ops.flip(x, axis=1)` reverses time; `ops.concatenate([a, b], axis=-1)` joins.

# %%
def my_bidirectional(forward, backward, inputs, mask=None):
    # YOUR CODE HERE
    raise NotImplementedError("run forward, run backward over the reversed inputs, merge")


# %% [markdown]
# ## The check
#
# With padding masks, without a mask, for a batch of one and inside a compiled model; the real
# positions are compared (what a layer writes at padding is never read). It names the usual
# mistakes: backward outputs not flipped back, the mask not flipped or not passed, a second
# forward RNN, the halves swapped, one RNN's weights used twice, a sum instead of the concat.

# %%
report = exercises.check_bidirectional(my_bidirectional)

# %% [markdown]
# ## Your layer restores spaces
#
# Chapter 4's task: the KJV with its spaces removed, one label per character (does a word end
# here?). A forward LSTM tagger and one built on your function train with the same data, epochs
# and optimiser; whether a word ends at a letter depends on the letters after it, which only the
# backward half sees. (Your layer has two LSTMs, so more parameters: chapter 4 shows that a
# deeper forward model with more parameters still does not catch up.)

# %%
f1_scores = exercises.tag_word_ends(report, my_bidirectional, CHARACTERS, EPOCHS)
