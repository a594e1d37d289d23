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
# # Chapter 3: Gated recurrent units (2014)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/03_gru.ipynb)
#
# **The problem.** Chapter 2's LSTM solved the long-time-lag problem, at a price: four weight
# blocks per unit (three gates and a candidate) and two states, $h_t$ and $c_t$. Which of those
# parts are needed?
#
# **The idea.** Kyunghyun Cho and colleagues, building the first neural encoder-decoder for
# translation (*Learning Phrase Representations using RNN Encoder-Decoder*, EMNLP 2014), proposed
# a leaner gated unit. It keeps the additive update that lets gradients flow, but ties the
# forget and input gates into one **update gate** and drops the separate cell state: the hidden
# state itself is the memory. A **reset gate** decides how much of the past feeds the candidate.
# Later that year Chung, Gulcehre, Cho & Bengio (*Empirical Evaluation of Gated Recurrent Neural
# Networks on Sequence Modeling*) compared tanh RNNs, LSTMs and GRUs on the same tasks and found
# both gated units clearly better than the tanh RNN, with no consistent winner between them.
#
# **This chapter** builds the GRU in both of its forms and proves each equal to
# `keras.layers.GRUCell`, counts the parameters of the three cells, and reruns Chung et al.'s
# comparison here on three of our tasks: the adding problem, the character language model, and
# the sunspot series.
#
# **Write it yourself:** [the lab](labs/03_gru_lab.ipynb) has you write the GRU cell's `call`; its
# checker compares your code with seqkeras and names the mistake when they differ.

# %%
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "seqkeras @ git+https://github.com/seqkeras/seqkeras"], check=True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up logs quiet

import inspect

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import ops

from seqkeras import (baselines, data, diagnostics, interop, metrics, models, plots, timing,
                      training)
from seqkeras.layers import ElmanCell, GRUCell, LSTMCell
from seqkeras.utils import format_table, publish_results, set_seed, setup

ENV = setup(seed=2014)

# %% tags=["parameters"]
FAST = os.environ.get("SEQKERAS_FAST") == "1"

ADDING_LENGTH = 100
ADDING_SEQUENCES = 2_000 if FAST else 10_000
ADDING_EPOCHS = 2 if FAST else 15
ADDING_UNITS = 16 if FAST else 64
LM_TRAIN_CHARS = 100_000 if FAST else 1_000_000
LM_HELD_OUT_CHARS = 20_000 if FAST else None  # of the validation and of the test split
LM_EPOCHS = 1 if FAST else 10  # chapter 1's recipe: Adam 3e-3, batch 128, 10 epochs
LM_UNITS = ({"Elman RNN": 32, "LSTM": 16, "GRU": 18} if FAST
            else {"Elman RNN": 256, "LSTM": 128, "GRU": 148})  # equal parameter counts
SUNSPOT_EPOCHS = 20 if FAST else 300
SUNSPOT_UNITS = 32

# %% [markdown]
# ## The unit, equation by equation
#
# With $\sigma$ the logistic sigmoid and the row-vector convention of Keras, Cho et al.'s unit
# (their equations 5 to 8) computes
#
# $$z_t = \sigma(x_t W_{xz} + h_{t-1} W_{hz} + b_z) \qquad \text{update gate}$$
# $$r_t = \sigma(x_t W_{xr} + h_{t-1} W_{hr} + b_r) \qquad \text{reset gate}$$
# $$\tilde h_t = \tanh(x_t W_{xh} + (r_t \odot h_{t-1}) W_{hh} + b_h) \qquad \text{candidate}$$
# $$h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t$$
#
# This is Cho et al.'s convention, and Keras'. Chung et al. (2014, their equation 5) write the
# same unit with the gate the other way round, $h_t = (1 - z_t) \odot h_{t-1} + z_t \odot
# \tilde h_t$: the same family of functions, with a learned $z_t$ of one equal to $1 - z_t$ of
# the other. This chapter, its code and its lab follow Cho et al.
#
# The last line is the LSTM's $c_t = f_t \odot c_{t-1} + i_t \odot g_t$ with $f_t = z_t$ and
# $i_t = 1 - z_t$: keeping and writing are one decision. Where $z_t \approx 1$ the state, and its
# gradient, pass through unchanged.
#
# **Two forms.** Cho et al. reset $h_{t-1}$ *before* multiplying by $W_{hh}$
# (`reset_after=False`). cuDNN, and Keras by default, reset *after* the product:
# $\tilde h_t = \tanh(x_t W_{xh} + b_{xh} + r_t \odot (h_{t-1} W_{hh} + b_{hh}))$. Then
# $h_{t-1}$ can be multiplied by all three recurrent blocks in one product, which is faster; the
# price is a second bias vector, $b_{hh}$, since $r_t$ now scales it. The two forms are different
# functions, and each has its own twin. One step of each by hand:

# %%
rng = np.random.default_rng(0)
units = 4
x_t = rng.normal(size=(2, 3)).astype("float32")
h_prev = rng.normal(size=(2, units)).astype("float32")
W_x = rng.normal(size=(3, 3 * units)).astype("float32")  # [W_xz | W_xr | W_xh]
W_h = rng.normal(size=(units, 3 * units)).astype("float32")  # [W_hz | W_hr | W_hh]
b_x = rng.normal(size=(3 * units,)).astype("float32")  # input biases [b_z | b_r | b_h]
b_rec = rng.normal(size=(3 * units,)).astype("float32")  # recurrent biases (reset_after only)


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


x_z, x_r, x_h = np.split(x_t @ W_x + b_x, 3, axis=-1)
W_hz, W_hr, W_hh = np.split(W_h, 3, axis=-1)
b_hz, b_hr, b_hh = np.split(b_rec, 3)
# Cho et al. (reset_after=False): one bias per block, reset before the product.
z_t, r_t = sigmoid(x_z + h_prev @ W_hz), sigmoid(x_r + h_prev @ W_hr)
h_before = z_t * h_prev + (1 - z_t) * np.tanh(x_h + (r_t * h_prev) @ W_hh)
# cuDNN / Keras default (reset_after=True): recurrent biases too, reset after the product.
z_t, r_t = sigmoid(x_z + h_prev @ W_hz + b_hz), sigmoid(x_r + h_prev @ W_hr + b_hr)
h_after = z_t * h_prev + (1 - z_t) * np.tanh(x_h + r_t * (h_prev @ W_hh + b_hh))
print("h_t, reset before:\n", h_before.round(3), "\nh_t, reset after:\n", h_after.round(3))

# %%
print(inspect.getsource(GRUCell.call))

# %% [markdown]
# The seqkeras cell with those weights, then the same cell against `keras.layers.GRUCell` and,
# over a padded batch, against `keras.layers.GRU`, for each form:

# %%
by_hand = {False: (h_before, b_x), True: (h_after, np.stack([b_x, b_rec]))}
parity_errors = {}
for reset_after, (expected, bias) in by_hand.items():
    cell = GRUCell(units, reset_after=reset_after)
    cell.build((None, 3))
    cell.set_weights([W_x, W_h, bias])
    h_t, _ = cell(x_t, [h_prev])
    np.testing.assert_allclose(ops.convert_to_numpy(h_t), expected, atol=1e-5)
    keras_h, _ = interop.to_keras(cell)(x_t, [h_prev])

    gru_layer = keras.layers.RNN(GRUCell(32, reset_after=reset_after), return_sequences=True)
    sequences = rng.normal(size=(8, 20, 16)).astype("float32")
    padding_mask = np.arange(20)[None, :] < rng.integers(5, 21, size=(8, 1))
    ours = ops.convert_to_numpy(gru_layer(sequences, mask=padding_mask))
    theirs = ops.convert_to_numpy(interop.to_keras(gru_layer)(sequences, mask=padding_mask))
    parity_errors[reset_after] = max(float(np.abs(ops.convert_to_numpy(h_t - keras_h)).max()),
                                     float(np.abs(ours - theirs).max()))
    print(f"reset_after={reset_after}: matches the hand computation; "
          f"max |GRUCell - keras GRU| = {parity_errors[reset_after]:.2e}")
    assert parity_errors[reset_after] <= 1e-5

# %% [markdown]
# ## Counting parameters
#
# With input size $d$ and $u$ units, each block of a cell has an input matrix ($d \times u$), a
# recurrent matrix ($u \times u$) and a bias ($u$). The Elman cell has one block, the GRU three,
# the LSTM four; the GRU's `reset_after` form adds a second bias per block:
#
# | cell | parameters |
# |---|---|
# | Elman | $u(d + u + 1)$ |
# | GRU, `reset_after=False` | $3u(d + u + 1)$ |
# | GRU, `reset_after=True` | $3u(d + u + 2)$ |
# | LSTM | $4u(d + u + 1)$ |
#
# The formulas against Keras' own count, for $d = 32$ and $u = 128$:

# %%
d, u = 32, 128
formulas = {"Elman": u * (d + u + 1), "GRU, reset_after=False": 3 * u * (d + u + 1),
            "GRU, reset_after=True": 3 * u * (d + u + 2), "LSTM": 4 * u * (d + u + 1)}
cells = {"Elman": ElmanCell(u), "GRU, reset_after=False": GRUCell(u, reset_after=False),
         "GRU, reset_after=True": GRUCell(u), "LSTM": LSTMCell(u)}
rows = []
for name, cell in cells.items():
    cell.build((None, d))
    rows.append({"cell": name, "formula": formulas[name], "count_params()": cell.count_params(),
                 "recurrent W_h": int(np.prod(cell.weights[1].shape))})
    assert cell.count_params() == formulas[name], (name, cell.count_params())
print(format_table(rows))
recurrent_ratio = rows[2]["recurrent W_h"] / rows[3]["recurrent W_h"]
total_ratio = {name: cells[name].count_params() / cells["LSTM"].count_params()
               for name in ("GRU, reset_after=False", "GRU, reset_after=True")}
print(f"GRU / LSTM: recurrent matrices {recurrent_ratio:.3f}; all parameters "
      + ", ".join(f"{name} {ratio:.4f}" for name, ratio in total_ratio.items()))

# %% [markdown]
# The recurrent matrices of a GRU are exactly 3/4 of an LSTM's ($3u^2$ against $4u^2$), and so
# are all its parameters in Cho et al.'s form. The `reset_after` form is a little above 3/4
# because of its extra $3u$ biases. At equal parameter counts a GRU therefore gets more units;
# the comparison below gives every cell the same budget.
#
# ## Chung et al. (2014), rerun
#
# Chung et al. trained the three cells with the same budget of parameters on polyphonic music
# and speech signals. We do the same on three tasks of this course, with the same optimiser for
# every model (Adam with gradient clipping) and record, for each: its parameters, its time per
# epoch on this machine, and its final validation score.
#
# **Task 1, the adding problem** (chapter 2), T = 100, each cell with the same number of units:

# %%
x_add, y_add = data.adding_problem(ADDING_SEQUENCES, ADDING_LENGTH, seed=0)
x_add_val, y_add_val = data.adding_problem(1_000, ADDING_LENGTH, seed=1)
trivial_mse = float(np.mean((y_add_val - 1.0) ** 2))
CELL_TYPES = {"Elman RNN": ElmanCell, "LSTM": LSTMCell, "GRU": GRUCell}
adding_runs = {}
for name, cell_type in CELL_TYPES.items():
    print(f"--- {name}")
    set_seed(2014)
    adding_runs[name] = training.fit(
        models.rnn_forecaster(cell_type(ADDING_UNITS), num_features=2), x_add, y_add[:, None],
        validation_data=(x_add_val, y_add_val[:, None]), epochs=ADDING_EPOCHS, loss="mse")

# %% [markdown]
# **Task 2, the character language model** (chapter 1) on the first million characters of the
# KJV training split, each cell sized for the same number of parameters, with chapter 1's recipe
# (Adam 3e-3 with clipping, batch 128, windows of 100, 10 epochs). Like chapter 1, every model
# is scored on the test split with its state carried from window to window, against the
# n-grams counted on the same million characters:

# %%
vocab = data.CharVocabulary.from_text(data.bible_text("kjv"))
train_ids = vocab.encode(data.bible_text("kjv", split="train")[:LM_TRAIN_CHARS])
validation_ids = vocab.encode(data.bible_text("kjv", split="validation")[:LM_HELD_OUT_CHARS])
test_ids = vocab.encode(data.bible_text("kjv", split="test")[:LM_HELD_OUT_CHARS])
x_train, y_train = data.char_lm_windows(train_ids, 100)
x_val, y_val = data.char_lm_windows(validation_ids, 100)
ngram_bpc = {f"{n}-gram": baselines.CharNGramModel(n, vocab_size=len(vocab)).fit(
    train_ids).bits_per_character(test_ids) for n in (3, 5)}
print("n-grams on the same text, test split:",
      ", ".join(f"{name} {bpc:.3f} bits per character" for name, bpc in ngram_bpc.items()))
lm_runs = {}
for name, cell_type in CELL_TYPES.items():
    print(f"--- {name} ({LM_UNITS[name]} units)")
    set_seed(2014)
    lm_runs[name] = training.fit(
        models.rnn_language_model(len(vocab), cell_type(LM_UNITS[name]), embedding_dim=32),
        x_train, y_train, validation_data=(x_val, y_val), epochs=LM_EPOCHS, batch_size=128,
        learning_rate=3e-3,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[metrics.BitsPerCharacter()])
lm_test_bpc = {name: float(diagnostics.carried_state_bits(run.model, test_ids)["carried"].mean())
               for name, run in lm_runs.items()}

# %% [markdown]
# **Task 3, sunspots** (chapter 1): forecast each year from the 20 before it, train on
# 1700-1948 (the last 15% of those windows pick the best epoch), score 1949-2008 in sunspot
# numbers, against chapter 1's baselines: the naive forecast (next year = this year) and a linear
# AR(9). Each cell has 32 units:

# %%
sunspots = data.sunspot_windows(window=20, test_start_year=1949)
split = int(0.85 * len(sunspots.x_train))
sunspot_runs, sunspot_mae = {}, {}
for name, cell_type in CELL_TYPES.items():
    print(f"--- {name} (validation MAE in sunspot numbers)")
    set_seed(2014)
    sunspot_runs[name] = training.fit(
        models.rnn_forecaster(cell_type(SUNSPOT_UNITS)), sunspots.x_train[:split],
        sunspots.y_train[:split], epochs=SUNSPOT_EPOCHS, loss="mae", batch_size=32, verbose=0,
        validation_data=(sunspots.x_train[split:], sunspots.y_train[split:]),
        callbacks=[training.PrintEvery(SUNSPOT_EPOCHS // 4, scale=sunspots.scale),
                   keras.callbacks.EarlyStopping(patience=100, restore_best_weights=True)])
    forecast = ops.convert_to_numpy(sunspot_runs[name].model(sunspots.x_test))[:, 0]
    sunspot_mae[name] = float(np.abs(forecast * sunspots.scale
                                     - sunspots.series[sunspots.test_start:]).mean())
held_out_years = sunspots.series[sunspots.test_start:]
sunspot_baselines = {
    "naive": baselines.naive_forecast(sunspots.series, sunspots.test_start),
    "AR(9)": baselines.LinearAutoregression(9).fit(
        sunspots.series[:sunspots.test_start]).forecast(sunspots.series, sunspots.test_start)}
sunspot_baseline_mae = {name: float(np.abs(forecast - held_out_years).mean())
                        for name, forecast in sunspot_baselines.items()}

# %% [markdown]
# ## The table

# %%
comparison = []
for task, runs, metric, score, reference in (
        ("adding T=100", adding_runs, "val MSE",
         {n: float(r.history["val_loss"][-1]) for n, r in adding_runs.items()},
         {"always 1.0": trivial_mse}),
        ("char LM", lm_runs, "test bpc", lm_test_bpc, ngram_bpc),
        ("sunspots", sunspot_runs, "test MAE", sunspot_mae, sunspot_baseline_mae)):
    for name, run in runs.items():
        comparison.append({"task": task, "model": name, "parameters": run.model.count_params(),
                           "metric": metric, "score": score[name]})
    for name, value in reference.items():
        comparison.append({"task": task, "model": name, "parameters": "-", "metric": metric,
                           "score": value})
print(format_table(comparison))
scores = {(row["task"], row["model"]): row["score"] for row in comparison}

fig, axes = plt.subplots(1, 3, figsize=(17, 4))
plots.plot_curves({n: r.history["val_loss"] for n, r in adding_runs.items()},
                  "validation MSE (log scale)", ax=axes[0], baseline=trivial_mse,
                  baseline_label="always predict 1.0", log_scale=True, title="Adding problem")
plots.plot_curves({n: r.history["val_bpc"] for n, r in lm_runs.items()},
                  "validation bits per character", ax=axes[1], title="Character language model")
plots.plot_curves({n: np.asarray(r.history["val_loss"]) * sunspots.scale
                   for n, r in sunspot_runs.items()}, "validation MAE (sunspots)", ax=axes[2],
                  title="Sunspots (training-period validation)", log_scale=True)
plt.tight_layout()
plt.show()

# %% [markdown]
# **Speed.** An epoch's time on a shared machine varies by a factor of two for the same model, so
# epoch times cannot rank the cells. `seqkeras.timing.interleaved_step_seconds` times one
# training step of each trained model of a task in turn, ten rounds, and takes the median: a slow
# spell slows all three alike, and their ratios hold. (These steps train the models a little
# further; every score above was taken before.)

# %%
step_seconds = {}
for task, runs, (x_batch, y_batch) in (
        ("adding T=100", adding_runs, (x_add[:128], y_add[:128, None])),
        ("char LM", lm_runs, (x_train[:128], y_train[:128])),
        ("sunspots", sunspot_runs, (sunspots.x_train[:32], sunspots.y_train[:32]))):
    seconds = timing.interleaved_step_seconds({n: r.model for n, r in runs.items()},
                                              x_batch, y_batch)
    for name, value in seconds.items():
        step_seconds[(task, name)] = value
    print(f"{task:<13}" + "  ".join(f"{name} {1000 * value:6.1f} ms ({value / seconds['GRU']:.2f}"
                                    f" x GRU)" for name, value in seconds.items()))

# %% [markdown]
# What the table says, task by task, at seed offset 0 (the spreads over three seeds are under
# Checks):
#
# - **Adding problem.** The Elman RNN stays at the trivial predictor's MSE (0.162 against 0.161);
#   both gated cells solve the task, the GRU more precisely than the LSTM (0.0003 against 0.0017)
#   with 3/4 of its parameters. Gating is what matters for long dependencies: Chung et al.'s main
#   finding.
# - **Language model.** With chapter 1's recipe on a million characters, at equal parameters, the
#   GRU leads (1.967 bits per character), the Elman RNN follows (2.010), both below the 5-gram
#   counted on the same text (2.054), and the LSTM comes last (2.190), above it. The LSTM is the
#   slow starter of chapter 2: on about a quarter of chapter 1's training text its gates have
#   not yet learned what to keep.
# - **Sunspots.** The three cells land within 1.3 sunspots of each other (LSTM 13.8, GRU 14.2,
#   Elman 15.0) around AR(9)'s 14.8, all far below the naive forecast's 25.1. On a short, smooth
#   series the gates buy little, and a linear model with ten coefficients is as good.
# - **Speed**, one training step side by side: the Elman RNN takes 0.41 of a GRU step on the
#   adding problem and 0.74 on the language model; the LSTM 1.21 and 1.10.
#
# Like Chung et al., we find the gated units clearly ahead where dependencies are long; between
# them, the ranking depends on the task.
#
# ## Checks
#
# Full mode: both gated cells solve the adding problem (validation MSE < 0.01) while the Elman
# RNN does not (> 0.1); every language model beats the 3-gram counted on its text; the parameter
# formulas hold; the GRU's recurrent matrices are 3/4 of the LSTM's. (Thresholds fixed before the
# runs at three seeds.)
#
# The checks passed at seed offsets 0, 1 and 2 (`python -m course seeds 03`; 305.2, 324.2 and
# 311.2 s on the 2-core CPU), and these orders held at all three: on the adding problem the GRU
# below the LSTM (0.0002-0.0003 against 0.0011-0.0017) and the Elman RNN at the trivial level
# (0.161-0.163); on the language model GRU (1.965-1.968) < Elman RNN (2.010-2.019) < 5-gram
# (2.054) < LSTM (2.190-2.250). On sunspots there is no clear difference at this scale: the cells'
# ranges overlap (Elman 14.8-16.3, LSTM 13.4-15.7, GRU 12.9-16.9) and each straddles AR(9)'s 14.8.
# Speed held for the Elman RNN (0.40-0.43 of a GRU step on the adding problem, 0.74-0.80 on the
# language model) and for the LSTM on the adding problem (1.19-1.22); on the language model the
# LSTM's step is 0.90-1.10 of the GRU's, no clear difference.

# %%
if not FAST:
    assert scores[("adding T=100", "GRU")] < 0.01, scores
    assert scores[("adding T=100", "LSTM")] < 0.01, scores
    assert scores[("adding T=100", "Elman RNN")] > 0.1, scores
    assert max(lm_test_bpc.values()) < ngram_bpc["3-gram"], (lm_test_bpc, ngram_bpc)
assert recurrent_ratio == 0.75 and total_ratio["GRU, reset_after=False"] == 0.75
print("all checks passed" if not FAST else "fast mode: ran end to end")

# %% [markdown]
# ## Summary
#
# - The GRU keeps the LSTM's additive, gated update but ties the forget and input gates into one
#   update gate and uses its output as its memory: $h_t = z_t \odot h_{t-1} + (1 - z_t) \odot
#   \tilde h_t$. `GRUCell` equals Keras' `GRUCell` in both of its forms.
# - It has 3/4 of an LSTM's parameters per unit (a little more with `reset_after=True`).
# - Rerunning Chung et al.'s comparison at three seeds: gated cells beat the tanh RNN where
#   dependencies are long; the GRU beat the LSTM on the adding problem and on the language model
#   with this budget, and on sunspots no cell is clearly ahead, of each other or of AR(9).
#
# **Next:** every model so far reads left to right, so its output at step t knows only the past.
# Chapter 4 reads the sequence in both directions and stacks layers.
#
# ## Exercises
#
# 1. Train the GRU without its reset gate (fix $r_t = 1$). Which task suffers?
# 2. Compare `reset_after=True` and `False` on the adding problem: same speed per step on this
#    CPU? (Then on a GPU, where Keras can use cuDNN only for `reset_after=True`.)
# 3. Give all three cells the same number of *units* instead of parameters on the language model.
# 4. Repeat the language-model and sunspot comparisons with three seeds and report the mean and
#    spread of each score: which differences in the table survive?

# %%
publish_results("03_gru", {
    **{f"GRUCell reset_after={flag} vs keras GRU max abs diff": error
       for flag, error in parity_errors.items()},
    "GRU/LSTM recurrent parameters": recurrent_ratio,
    **{f"{row['task']}, {row['model']}: {row['metric']}": round(row["score"], 4)
       for row in comparison},
    **{f"{task}, {name}: ms/step, side by side": round(1000 * value, 2)
       for (task, name), value in step_seconds.items()},
}, fast=FAST)
