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
# # Lab 8, solved: attention, multi-head attention and the positional encoding
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/labs/solutions/08_transformer_lab_solutions.ipynb)
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
# and multi-head attention (section 3.2.2), $h$ heads each with its own projections:
#
# $$\mathrm{MultiHead}(Q, K, V) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_h) W^O,
#   \qquad \mathrm{head}_i = \mathrm{Attention}(Q W_i^Q, K W_i^K, V W_i^V)$$
#
# The checkers compare your code with `seqkeras.layers.scaled_dot_product_attention`,
# `SinusoidalPositionalEncoding` and `MultiHeadAttention`, and name the mistake when they
# differ.

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

from seqkeras import exercises, interop
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
    scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) / np.sqrt(query.shape[-1])
    if mask is not None:
        scores = ops.where(mask, scores, -1e9)
    weights = ops.softmax(scores, axis=-1)
    if mask is not None:  # exactly 0, not e^-1e9, on masked keys
        weights = ops.where(mask, weights, 0.0)
    return ops.matmul(weights, value), weights


# %%
attention_report = exercises.check_attention(my_attention)


# %% [markdown]
# ## The positional encoding
#
# Return the `(length, depth)` array of $PE_{(p, j)}$ for positions $p = 0 .. length - 1$, in
# NumPy.

# %%
def my_positional_encoding(length, depth):
    pair = np.arange(depth) // 2  # i, shared by dimensions 2i and 2i + 1
    angle = np.arange(length)[:, None] / 10000 ** (2 * pair / depth)
    return np.where(np.arange(depth) % 2 == 0, np.sin(angle), np.cos(angle))


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


# %% [markdown]
# ## Multi-head attention
#
# `exercises.MultiHeadAttentionExercise` has created `self.W_Q` `(d_q, h, d_k)`, `self.W_K`
# `(d, h, d_k)`, `self.W_V` `(d, h, d_v)`, `self.W_O` `(h, d_v, d_out)` and the biases `self.b_Q`,
# `self.b_K` `(h, d_k)`, `self.b_V` `(h, d_v)`, `self.b_O` `(d_out,)`. `query` is
# `(batch, T_q, d_q)`, `value` `(batch, T_v, d)`, `key` is `value` when None; `attention_mask`
# `(batch, T_q, T_v)` is True where a query may attend. Return `(batch, T_q, d_out)`.
# `ops.einsum("btd,dhk->bhtk", x, W)` projects every head at once into `(batch, h, T, d_k)`;
# your `my_attention` above then works on the heads (give the mask a heads axis:
# `attention_mask[:, None]`), and `ops.einsum("bhtv,hvo->bto", heads, W_O)` concatenates the
# heads and applies $W^O$ in one step.

# %%
class MyMultiHeadAttention(exercises.MultiHeadAttentionExercise):
    def call(self, query, value, key=None, attention_mask=None):
        key = value if key is None else key
        q = ops.einsum("btd,dhk->bhtk", query, self.W_Q) + self.b_Q[:, None, :]
        k = ops.einsum("btd,dhk->bhtk", key, self.W_K) + self.b_K[:, None, :]
        v = ops.einsum("btd,dhk->bhtk", value, self.W_V) + self.b_V[:, None, :]
        mask = None if attention_mask is None else attention_mask[:, None]  # every head
        heads, _ = my_attention(q, k, v, mask)
        return ops.einsum("bhtv,hvo->bto", heads, self.W_O) + self.b_O


# %%
multi_head_report = exercises.check_multi_head_attention(MyMultiHeadAttention)

# %% [markdown]
# ## Your layer is Keras' layer
#
# `seqkeras.interop.to_keras` copies your layer's weights into a
# `keras.layers.MultiHeadAttention`; on the same self-attention input both give the same output.

# %%
if multi_head_report.passed:
    layer = MyMultiHeadAttention(num_heads=4, key_dim=16)
    x = np.random.default_rng(0).normal(size=(2, 10, 64)).astype("float32")
    yours = ops.convert_to_numpy(layer(x, x))
    keras_layer = interop.to_keras(layer)
    theirs = ops.convert_to_numpy(keras_layer(x, x))
    print(f"your layer against {type(keras_layer).__name__}: max |difference| "
          f"{np.abs(yours - theirs).max():.2e} over {yours.size:,} outputs")
else:
    print("Fill in MyMultiHeadAttention.call above until its check passes; then this cell "
          "compares it with Keras.")
