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
# # Lab 7: write Luong's three scores yourself
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/labs/07_attention_family_lab.ipynb)
#
# Luong, Pham & Manning (2015, section 3.1) compared three content scores between the decoder
# state $h_t$ and a source annotation $\bar h_s$:
#
# $$\mathrm{score}(h_t, \bar h_s) =
#   \begin{cases} h_t^\top \bar h_s & \textit{dot} \\
#                 h_t^\top W_a \bar h_s & \textit{general} \\
#                 v_a^\top \tanh(W_a [h_t ; \bar h_s]) & \textit{concat} \end{cases}$$
#
# You write all three in one method; the checker compares each with
# `seqkeras.layers.LuongAttention` holding the same weights, then the attention built on it.

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

ENV = setup(seed=2015)

# %% tags=["parameters"]
FAST = os.environ.get("SEQKERAS_FAST") == "1"

SEQUENCES = 1_500 if FAST else 5_000
EPOCHS = 3 if FAST else 8
UNITS = 32


# %% [markdown]
# ## Your scores
#
# `query` is `(batch, T_q, d_q)`, `values` `(batch, T_v, d_v)`; return `(batch, T_q, T_v)` for
# `self.score_name` in `"dot"`, `"general"` (`self.W_a` of shape `(d_q, d_v)`) and `"concat"`
# (`self.W_a` of shape `(d_q + d_v, units)`: its first `d_q` rows take the query; `self.v_a`
# `(units,)`). For concat, projecting the two halves separately and adding them equals
# projecting every concatenated pair, and costs far less. `ops.matmul`, `ops.swapaxes`,
# `ops.expand_dims`, `ops.tanh`.

# %%
class MyLuongAttention(exercises.LuongAttentionExercise):
    def score(self, query, values):
        # YOUR CODE HERE
        raise NotImplementedError("write the dot, general and concat scores")


# %% [markdown]
# ## The check
#
# Each score, then the attention built on it with a padding mask. It names the usual mistakes:
# a 1/sqrt(d) scale on dot, W_a transposed in general, tanh missing or the halves of W_a
# swapped in concat.

# %%
report = exercises.check_luong_scores(MyLuongAttention)

# %% [markdown]
# ## Your three scores on one task
#
# The same encoder-decoder, data and epochs for each score, on lab 6's digit reversal (output
# word $i$ copies source word $S - 1 - i$). This is one seed of a toy task, not Luong et al.'s
# comparison (chapter 7 runs that on translation); it shows that each of your scores can learn
# an alignment.

# %%
for score in ("dot", "general", "concat"):
    exercises.train_on_reversal(report, MyLuongAttention(score, units=UNITS), SEQUENCES, EPOCHS)
