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
# # Lab 8: write scaled dot-product attention and the positional encoding yourself
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/labs/08_transformer_lab.ipynb)
#
# Chapter 8 built the Transformer of Vaswani et al. (2017) from two formulas you write here.
# Scaled dot-product attention (eq. 1), where a mask hides the keys a query may not see:
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V$$
#
# and the sinusoidal positional encoding (section 3.5), sine on the even dimensions and cosine on
# the odd ones, one frequency per pair:
#
# $$PE_{(p, 2i)} = \sin\!\left(p / 10000^{2i / d}\right), \qquad
#   PE_{(p, 2i+1)} = \cos\!\left(p / 10000^{2i / d}\right)$$
#
# The checkers compare your functions with `seqkeras.layers.scaled_dot_product_attention` and
# `SinusoidalPositionalEncoding`, and name the mistake when they differ.

# %%
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "seqkeras @ git+https://github.com/seqkeras/seqkeras"], check=True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib.pyplot as plt
import numpy as np
from keras import ops

from seqkeras import exercises
from seqkeras.utils import setup

ENV = setup(seed=2017)

# %% tags=["parameters"]
FAST = os.environ.get("SEQKERAS_FAST") == "1"

LENGTH = 64 if FAST else 128  # positions drawn at the end
DEPTH = 64


# %% [markdown]
# ## Attention
#
# `query` is `(..., T_q, d_k)`, `key` `(..., T_k, d_k)`, `value` `(..., T_k, d_v)`; `mask`, when
# given, is boolean and broadcasts to `(..., T_q, T_k)`: True where a query may attend to a key.
# Return `(output, weights)`, of shapes `(..., T_q, d_v)` and `(..., T_q, T_k)`; a masked key
# must get weight exactly 0. `ops.matmul`, `ops.swapaxes`, `ops.where`, `ops.softmax`.

# %%
def my_attention(query, key, value, mask=None):
    # YOUR CODE HERE
    raise NotImplementedError("write softmax(Q K^T / sqrt(d_k)) V")


# %%
attention_report = exercises.check_attention(my_attention)


# %% [markdown]
# ## The positional encoding
#
# Return the `(length, depth)` array of $PE_{(p, j)}$ for positions $p = 0 .. length - 1$, in
# NumPy.

# %%
def my_positional_encoding(length, depth):
    # YOUR CODE HERE
    raise NotImplementedError("write PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(...)")


# %%
encoding_report = exercises.check_positional_encoding(my_positional_encoding)

# %% [markdown]
# ## What your encoding gives attention to work with
#
# Once both checks pass: the dot product $PE_p \cdot PE_q$ depends only on the distance
# $p - q$ (each pair of dimensions contributes $\cos((p - q)\,\omega_i)$), so attention between
# positional encodings can find relative positions. The cell prints how much of your attention,
# queries and keys both the encoding, falls on each position and its two neighbours, against
# the share a uniform spread would give them, and draws both matrices.

# %%
if attention_report.passed and encoding_report.passed:
    pe = np.asarray(my_positional_encoding(LENGTH, DEPTH), dtype="float32")
    similarity = pe @ pe.T
    print("PE_p . PE_q for p - q = 5, at four places:",
          np.round([similarity[p + 5, p] for p in (0, 10, 40, LENGTH - 6)], 4))
    _, weights = my_attention(pe[None], pe[None], pe[None])
    weights = ops.convert_to_numpy(weights)[0]
    near = np.mean([weights[p, max(p - 1, 0):p + 2].sum() for p in range(LENGTH)])
    print(f"weight on the position itself and its neighbours: {near:.3f} "
          f"(a uniform spread: {3 / LENGTH:.3f})")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].imshow(similarity, cmap="viridis")
    axes[0].set(title="PE_p . PE_q", xlabel="position q", ylabel="position p")
    axes[1].imshow(weights, cmap="viridis")
    axes[1].set(title="attention weights, Q = K = V = PE", xlabel="key position",
                ylabel="query position")
    plt.show()
else:
    print("Fill in the two functions above until both checks pass; then this cell draws them.")
