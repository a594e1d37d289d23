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
# # Lab 5, solved: the encoder's fixed vector
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/labs/solutions/05_seq2seq_lab_solutions.ipynb)
#
# In chapter 5's encoder-decoder (Sutskever, Vinyals & Le, 2014) the encoder reads the whole
# source and hands the decoder one thing: its final state, the fixed vector
#
# $$(h_t, c_t) = \mathrm{LSTM}(x_t, (h_{t-1}, c_{t-1})), \quad (h_0, c_0) = 0, \qquad
#   \text{fixed vector} = (h_{T}, c_{T})$$
#
# with $T$ each sentence's last real word. In a right-padded batch the sentences end at
# different columns, so the loop must keep a sentence's state unchanged over its padding; that
# is what `keras.layers.RNN` does with a mask, and what the checker compares your loop with.

# %%
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "seqkeras @ git+https://github.com/seqkeras/seqkeras"], check=True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib.pyplot as plt
from keras import ops

from seqkeras import exercises, plots
from seqkeras.utils import setup

ENV = setup(seed=2014)

# %% tags=["parameters"]
FAST = os.environ.get("SEQKERAS_FAST") == "1"

SEQUENCES = 2_000 if FAST else 8_000
EPOCHS = 3 if FAST else 8


# %% [markdown]
# ## Your encoder loop
#
# `cell` is an LSTM cell with `cell.units` units: `cell(x_t, [h, c])` returns
# `(h_t, [h_t, c_t])`. `inputs` is `(batch, T, d)` with a static `T` (`inputs.shape[1]`);
# `mask` is `(batch, T)`, True at real words, or None. Start from zeros
# (`ops.zeros((ops.shape(inputs)[0], cell.units))`), step through time, and where
# `mask[:, t]` is False keep the previous state (`ops.where`, with the mask column expanded to
# `(batch, 1)`). Return `[h_T, c_T]`.

# %%
def my_fixed_vector(cell, inputs, mask=None):
    h = ops.zeros((ops.shape(inputs)[0], cell.units))
    c = ops.zeros_like(h)
    for t in range(inputs.shape[1]):
        _, (h_new, c_new) = cell(inputs[:, t], [h, c])
        if mask is None:
            h, c = h_new, c_new
        else:  # a padded step leaves the state as it was
            real = ops.expand_dims(mask[:, t], -1)
            h, c = ops.where(real, h_new, h), ops.where(real, c_new, c)
    return [h, c]


# %% [markdown]
# ## The check
#
# With padding masks, without a mask and for a batch of one, against
# `keras.layers.RNN(cell, return_state=True)`. It names the usual mistakes: the state running on
# over the padding or reset to zeros there, h and c swapped, the state not carried, the loop run
# backwards.

# %%
report = exercises.check_fixed_vector(my_fixed_vector)

# %% [markdown]
# ## Why Sutskever et al. reversed the source
#
# A task made to show it: from the fixed vector alone, name the *first* word of a random
# sequence of 4 to 20 words (20 possible words; a guess is right 5% of the time). Read as
# written, the first word must survive every later step of your loop; reversed
# (`seqkeras.models.reverse_padded`, which keeps the padding at the end) it is the last word
# read. Same model, data and epochs; only the order differs. Sutskever et al. found that
# reversing made their LSTM learn much faster, because the first source words were then close
# to the first target words; here the first word is all there is to find.

# %%
accuracies = exercises.recall_first_word(report, my_fixed_vector, SEQUENCES, EPOCHS)
if accuracies:
    plots.plot_curves(accuracies, "held-out accuracy (first word)",
                      title="The same encoder, the source read in two orders",
                      baseline=0.05, baseline_label="a guess")
    plt.show()
