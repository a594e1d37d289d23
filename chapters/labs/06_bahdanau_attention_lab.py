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
# # Lab 6: write Bahdanau's additive score yourself
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/labs/06_bahdanau_attention_lab.ipynb)
#
# Chapter 6's attention scores each source annotation $h_j$ against the decoder's query $s_i$
# with a one-hidden-layer network (Bahdanau, Cho & Bengio, 2014, appendix A.1.2):
#
# $$e_{ij} = v_a^\top \tanh(W_a s_i + U_a h_j), \qquad
#   \alpha_{ij} = \frac{\exp e_{ij}}{\sum_k \exp e_{ik}}, \qquad c_i = \sum_j \alpha_{ij} h_j$$
#
# (the code multiplies row vectors on the right: $s_i W_a$). You write the score; the softmax
# over the real source positions and the context are done for you. The checker compares your
# layer with `seqkeras.layers.BahdanauAttention` holding the same weights.

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

SEQUENCES = 2_000 if FAST else 5_000
EPOCHS = 3 if FAST else 8
UNITS = 32


# %% [markdown]
# ## Your score
#
# `query` is `(batch, T_q, d_q)` (the decoder states $s_i$), `values` `(batch, T_v, d_v)` (the
# annotations $h_j$); `self.W_a` is `(d_q, units)`, `self.U_a` `(d_v, units)`, `self.v_a`
# `(units,)`. Return $e$ of shape `(batch, T_q, T_v)`. Every query meets every annotation:
# `ops.expand_dims` the two projections to `(batch, T_q, 1, units)` and `(batch, 1, T_v, units)`
# and add them.

# %%
class MyBahdanauAttention(exercises.BahdanauAttentionExercise):
    def score(self, query, values):
        # YOUR CODE HERE
        raise NotImplementedError("write e_ij = tanh(q_i W_a + h_j U_a) v_a")


# %% [markdown]
# ## The check
#
# The scores, then the attention built on them with a padding mask. It names the usual
# mistakes: tanh missing, v_a missing, W_a and U_a swapped, a 1/sqrt(d) scale that belongs to
# the Transformer.

# %%
report = exercises.check_additive_score(MyBahdanauAttention)

# %% [markdown]
# ## Your attention learns to align
#
# An attention encoder-decoder (`seqkeras.models.AttentionSeq2Seq`, chapter 6's model) with your
# layer learns to reverse strings of 4 to 10 digits. The right alignment is known: output word
# $i$ copies source word $S - 1 - i$. The cell prints the held-out accuracy and how much weight
# falls on that word, then draws one held-out example: a good score draws the anti-diagonal.

# %%
trained = exercises.train_on_reversal(report, MyBahdanauAttention(UNITS), SEQUENCES, EPOCHS)
if trained:
    model, (source, decoder_input, target) = trained
    length = int((source[0] > 0).sum())
    digits = [str(i - 3) for i in source[0, :length]]
    weights = model.alignment(source[:1], decoder_input[:1])[0]
    plots.plot_attention(weights, digits, digits[::-1] + ["[END]"],
                         title="Where the decoder looked for each output digit")
    plt.show()
