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
# # Chapter 2: Long short-term memory (1997)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/02_lstm.ipynb)
#
# **The problem.** Chapter 1 measured why an Elman RNN cannot learn long-range dependencies:
# backpropagation through time multiplies one Jacobian $\mathrm{diag}(1 - h_k^2) W_{hh}^\top$ per
# step, so the gradient that reaches a step 50 characters back had shrunk by a factor of a few
# hundred thousand in the trained language model. Whatever happened that long ago, the network gets no
# signal to remember it.
#
# **The idea.** Sepp Hochreiter and Jürgen Schmidhuber's *Long Short-Term Memory* (Neural
# Computation, 1997) asked what the recurrence would have to look like for the error to flow back
# unchanged. Their answer: a memory cell $c_t$ whose self-connection is the identity, the
# **constant error carousel**, so that $\partial c_t / \partial c_{t-1} = 1$; multiplicative
# **gates** decide what is written into the cell and what is read out of it. Three years later
# Gers, Schmidhuber & Cummins (2000) added the **forget gate**, which lets the cell also erase
# itself; that version is the LSTM everyone uses, Keras' `LSTMCell` included.
#
# **This chapter** builds the cell from its equations and proves it equal to
# `keras.layers.LSTMCell`, reruns the long-time-lag experiment of the paper (the adding problem
# over 100 steps: the Elman RNN fails, the LSTM solves it), measures the gradient flow of both
# trained networks to see why, and finally trains both on chapter 1's character language model at
# the same number of parameters.
#
# **Write it yourself:** [the lab](labs/02_lstm_lab.ipynb) has you write the LSTM cell's `call`; its
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

from seqkeras import baselines, data, diagnostics, interop, metrics, models, plots, training
from seqkeras.layers import ElmanCell, LSTMCell
from seqkeras.utils import format_table, publish_results, set_seed, setup

ENV = setup(seed=1997)

# %% tags=["parameters"]
FAST = os.environ.get("SEQKERAS_FAST") == "1"

ADDING_LENGTH = 100  # T: the time lag the network must bridge
ADDING_SEQUENCES = 2_000 if FAST else 10_000
ADDING_EPOCHS = 2 if FAST else 15
ADDING_UNITS = 16 if FAST else 64
TRAIN_CHARS = 150_000 if FAST else None  # None: the whole training split
HELD_OUT_CHARS = 20_000 if FAST else None  # of the validation and of the test split
ELMAN_UNITS = 64 if FAST else 256  # chapter 1's language model
LSTM_UNITS = 32 if FAST else 128  # the same number of parameters as ELMAN_UNITS
# Chapter 1's recipe for both language models: Adam 3e-3 with clipping, batch 128, 10 epochs.
LM_EPOCHS = 1 if FAST else 10
LM_LEARNING_RATE = 3e-3
SEQUENCE_LENGTH = 100
BATCH_SIZE = 128

# %% [markdown]
# ## The cell, equation by equation
#
# At each step the LSTM reads the input $x_t$ and its previous output $h_{t-1}$ and computes
# three gates, each a vector of numbers between 0 (closed) and 1 (open), and a candidate
# $g_t$ for what to write (row-vector convention, as in Keras):
#
# $$i_t = \sigma(x_t W_{xi} + h_{t-1} W_{hi} + b_i) \qquad \text{input gate: how much of } g_t \text{ to write}$$
# $$f_t = \sigma(x_t W_{xf} + h_{t-1} W_{hf} + b_f) \qquad \text{forget gate: how much of } c_{t-1} \text{ to keep}$$
# $$g_t = \tanh(x_t W_{xg} + h_{t-1} W_{hg} + b_g) \qquad \text{candidate cell input}$$
# $$o_t = \sigma(x_t W_{xo} + h_{t-1} W_{ho} + b_o) \qquad \text{output gate: how much of the cell to show}$$
#
# The cell state is updated by **addition**, and the output is a gated view of it:
#
# $$c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)$$
#
# Along the cell state the Jacobian is just $\partial c_t / \partial c_{t-1} = \mathrm{diag}(f_t)$:
# no weight matrix, no squashing. While the forget gate stays open ($f_t \approx 1$) the error
# rides the carousel back unchanged. The 1997 cell had no forget gate at all (in effect
# $f_t = 1$): its cell could only accumulate, and on long input streams its state grew until the
# network broke down, which is what Gers et al. (2000) fixed.
#
# The four matrices of each kind are stored side by side, $W_x = [W_{xi} | W_{xf} | W_{xg} | W_{xo}]$,
# so one matrix product computes all four pre-activations. One step by hand, for a batch of 2
# inputs of 3 features and 4 units:

# %%
rng = np.random.default_rng(0)
units = 4
x_t = rng.normal(size=(2, 3)).astype("float32")
h_prev = rng.normal(size=(2, units)).astype("float32")
c_prev = rng.normal(size=(2, units)).astype("float32")
W_x = rng.normal(size=(3, 4 * units)).astype("float32")
W_h = rng.normal(size=(units, 4 * units)).astype("float32")
b = rng.normal(size=(4 * units,)).astype("float32")


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


z_i, z_f, z_g, z_o = np.split(x_t @ W_x + h_prev @ W_h + b, 4, axis=-1)
i_t, f_t, g_t, o_t = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
c_t_by_hand = f_t * c_prev + i_t * g_t
h_t_by_hand = o_t * np.tanh(c_t_by_hand)
print("forget gate f_t:\n", f_t.round(3))
print("new cell state c_t:\n", c_t_by_hand.round(3))

# %% [markdown]
# `seqkeras.layers.LSTMCell` is those lines as a Keras layer: `gates()` computes $i_t, f_t, g_t,
# o_t$ and `call()` updates the cell state.

# %%
print(inspect.getsource(LSTMCell.gates))
print(inspect.getsource(LSTMCell.call))

# %%
cell = LSTMCell(units)
cell.build((None, 3))
cell.set_weights([W_x, W_h, b])
h_t, (_, c_t) = cell(x_t, [h_prev, c_prev])
np.testing.assert_allclose(ops.convert_to_numpy(c_t), c_t_by_hand, atol=1e-5)
np.testing.assert_allclose(ops.convert_to_numpy(h_t), h_t_by_hand, atol=1e-5)
print("LSTMCell matches the equations computed by hand")

# %% [markdown]
# Keras' `LSTMCell` stores the same blocks in the same order ($i, f, g, o$; its `kernel`,
# `recurrent_kernel` and `bias` are our $W_x$, $W_h$, $b$). With the weights copied across,
# one step and then a whole padded batch of sequences must agree:

# %%
keras_cell = interop.to_keras(cell)  # keras.layers.LSTMCell with our weights
keras_h, (_, keras_c) = keras_cell(x_t, [h_prev, c_prev])
step_error = max(float(np.abs(ops.convert_to_numpy(a - b_)).max())
                 for a, b_ in ((h_t, keras_h), (c_t, keras_c)))
print(f"one step: max |LSTMCell - keras.layers.LSTMCell| = {step_error:.2e}")
assert step_error <= 1e-5

lstm_layer = keras.layers.RNN(LSTMCell(32), return_sequences=True)
sequences = rng.normal(size=(8, 20, 16)).astype("float32")
padding_mask = np.arange(20)[None, :] < rng.integers(5, 21, size=(8, 1))  # ragged lengths
ours = ops.convert_to_numpy(lstm_layer(sequences, mask=padding_mask))
twin = interop.to_keras(lstm_layer)  # keras.layers.LSTM with our weights
theirs = ops.convert_to_numpy(twin(sequences, mask=padding_mask))
parity_error = float(np.abs(ours - theirs).max())
print(f"{type(twin).__name__}, padded batch: max |ours - Keras| = {parity_error:.2e}")
assert parity_error <= 1e-5

# %% [markdown]
# The cell's forget-gate bias starts at 1, not 0 (`unit_forget_bias=True`, the Keras default,
# after Jozefowicz, Zaremba & Sutskever 2015): an untrained cell keeps
# $\sigma(1) \approx 0.73$ of its state per step instead of half of it, so the carousel carries
# information from the first step of training.

# %%
fresh = LSTMCell(4)
fresh.build((None, 3))
print("b = [b_i | b_f | b_g | b_o] at initialisation:", ops.convert_to_numpy(fresh.b))

# %% [markdown]
# ## The long-time-lag experiment: the adding problem
#
# Hochreiter & Schmidhuber tested their cell on tasks built so that the relevant input lies far
# back. In the **adding problem** (their experiment 4, here in its common modern form) each
# sequence has two channels: random values in [0, 1], and a marker that picks out two of them,
# one in each half of the sequence. The target is the sum of the two marked values. Everything
# between the first marker and the end is a distractor the network must carry the first value
# across. Always answering 1.0 (the mean sum) scores an MSE of 1/6: a model that beats that
# clearly has learned to remember.

# %%
x_add, y_add = data.adding_problem(ADDING_SEQUENCES, ADDING_LENGTH, seed=0)
x_add_val, y_add_val = data.adding_problem(1_000, ADDING_LENGTH, seed=1)
trivial_mse = float(np.mean((y_add_val - 1.0) ** 2))
print(f"{len(x_add):,} training sequences of length {ADDING_LENGTH}; "
      f"MSE of always predicting 1.0: {trivial_mse:.4f} (1/6 = {1 / 6:.4f})")

fig, ax = plt.subplots(figsize=(10, 2.8))
steps = np.arange(ADDING_LENGTH)
marked = x_add[0, :, 1] == 1
ax.plot(steps, x_add[0, :, 0], color="tab:gray", linewidth=0.8, label="value channel")
ax.scatter(steps[marked], x_add[0, marked, 0], color="tab:red", zorder=3, label="marked values")
ax.set_xlabel("time step t")
ax.set_ylabel("value")
ax.set_title(f"One sequence: target = {x_add[0, marked, 0][0]:.3f} + "
             f"{x_add[0, marked, 0][1]:.3f} = {y_add[0]:.3f}")
ax.legend(loc="upper right")
plt.show()

# %% [markdown]
# Both models read the sequence and predict the sum from their last state $h_T$ (chapter 1's
# `rnn_forecaster`, with two input features). Same number of units, same optimiser (Adam with
# gradient clipping), same data, same epochs:

# %%
adding_runs = {}
for name, cell in (("Elman RNN", ElmanCell(ADDING_UNITS)), ("LSTM", LSTMCell(ADDING_UNITS))):
    print(f"--- {name}")
    set_seed(1997)
    adding_runs[name] = training.fit(
        models.rnn_forecaster(cell, num_features=2), x_add, y_add[:, None],
        validation_data=(x_add_val, y_add_val[:, None]), epochs=ADDING_EPOCHS, loss="mse")

adding_mse = {name: float(run.history["val_loss"][-1]) for name, run in adding_runs.items()}
plots.plot_curves({name: run.history["val_loss"] for name, run in adding_runs.items()},
                  "validation MSE (log scale)", baseline=trivial_mse,
                  baseline_label="always predict 1.0", log_scale=True,
                  title=f"The adding problem, T = {ADDING_LENGTH}")
plt.show()
print(format_table([{"model": name, "validation MSE": mse, "trivial MSE": trivial_mse,
                     "s/epoch": adding_runs[name].seconds_per_epoch}
                    for name, mse in adding_mse.items()]))

# %% [markdown]
# The Elman RNN never leaves the trivial predictor's line: it learns the mean and nothing else.
# The LSTM sits on the same plateau for nine epochs while
# it searches for what the markers mean, then leaves it: 0.059 after epoch 10, 0.0082 after epoch
# 11, and 0.0013 after epoch 15, two orders of magnitude below the trivial 0.161. It has learned
# to store the marked values in its cell and carry them to the end. (The epoch of the drop varies
# with the seed; the numbers are this run's.)
#
# ## Why: the gradient through time, measured
#
# Chapter 1's diagnostic, `diagnostics.state_gradient_norms`, backpropagates the loss of the last
# prediction to every earlier state $h_t$. Here it runs on both trained networks, on validation
# sequences, with the loss the networks were trained on.

# %%
probe_inputs, probe_targets = x_add_val[:64], y_add_val[:64, None]


def gradient_norms_of(run):
    readout = run.model.get_layer("forecast")

    def squared_error(h_T):
        return ops.sum((readout(h_T) - probe_targets) ** 2)

    return diagnostics.state_gradient_norms(run.model.get_layer("rnn").cell, probe_inputs,
                                            squared_error)


adding_gradients = {f"{name} (trained)": gradient_norms_of(run)
                    for name, run in adding_runs.items()}
plots.plot_gradient_norms(adding_gradients, title="How much gradient reaches step t")
plt.show()
longest = ADDING_LENGTH - 1
gradient_reach = {name: diagnostics.gradient_ratio(norms, longest)
                  for name, norms in adding_gradients.items()}
for name, ratio in gradient_reach.items():
    print(f"{name:<22} ||dL/dh_1|| / ||dL/dh_T|| = {ratio:.3g}")


# %% [markdown]
# The Elman curve falls in a straight line, as in chapter 1: by the first step almost nothing of
# the gradient is left, so the network cannot learn that the first marked value matters.
# The LSTM's gradient does not vanish: $h_t$ reaches the loss through the cell state, and the
# cell state passes the gradient back multiplied only by the forget gates.
#
# What are the forget gates doing? Running the trained cell over the validation sequences and
# recording $f_t$ at every step shows it:

# %%
def forget_gate_trace(cell, inputs):
    """f_t of every unit at every step: array (T, batch, units)."""
    h, c = cell.get_initial_state(batch_size=inputs.shape[0])
    forget = []
    for t in range(inputs.shape[1]):
        forget.append(ops.convert_to_numpy(cell.gates(inputs[:, t], h)[1]))
        h, (h, c) = cell(inputs[:, t], [h, c])
    return np.stack(forget)


trained_forget = forget_gate_trace(adding_runs["LSTM"].model.get_layer("rnn").cell, probe_inputs)
untrained = LSTMCell(ADDING_UNITS)
untrained.build((None, 2))
untrained_forget = forget_gate_trace(untrained, probe_inputs)
# How much of a unit's cell state survives the whole sequence: the product of its f_t.
survival = {name: np.exp(np.log(np.clip(trace, 1e-12, 1)).sum(axis=0)).mean(axis=0)
            for name, trace in (("untrained", untrained_forget), ("trained", trained_forget))}

fig, (ax_hist, ax_keep) = plt.subplots(1, 2, figsize=(13, 4))
bins = np.linspace(0, 1, 41)
ax_hist.hist(untrained_forget.ravel(), bins=bins, alpha=0.6, density=True,
             label="untrained (b_f = 1)")
ax_hist.hist(trained_forget.ravel(), bins=bins, alpha=0.6, density=True, label="trained")
ax_hist.set_xlabel("forget gate value f_t")
ax_hist.set_ylabel("density")
ax_hist.set_title("Forget-gate values over all units and steps")
ax_hist.legend()
for name in ("untrained", "trained"):  # each sorted on its own, most persistent unit first
    ax_keep.plot(np.arange(1, ADDING_UNITS + 1), np.sort(survival[name])[::-1], marker="o",
                 markersize=3, label=name)
ax_keep.set_yscale("log")
ax_keep.set_xlabel("unit, ranked by what it keeps")
ax_keep.set_ylabel(f"product of f_t over {ADDING_LENGTH} steps")
ax_keep.set_title("How much of each unit's cell state survives the sequence")
ax_keep.legend()
plt.tight_layout()
plt.show()
best_unit_survival = float(survival["trained"].max())
print(f"mean f_t: untrained {untrained_forget.mean():.3f}, trained {trained_forget.mean():.3f}; "
      f"best unit keeps {best_unit_survival:.3g} of its state over {ADDING_LENGTH} steps "
      f"(untrained best: {survival['untrained'].max():.3g})")

# %% [markdown]
# Untrained, the gates sit near $\sigma(1) \approx 0.73$ (the forget bias of 1): a unit keeps
# $0.73^{100} \approx 10^{-14}$ of its state over the sequence. Training did not open the gates
# across the board; their mean even fell, from 0.73 to 0.66 (printed above). It opened them in a
# few units, close enough to 1 that the best of them keeps about half of its cell state (0.49),
# and of its gradient, over all 100 steps, against $10^{-13}$ before training; the right panel
# ranks the units of each network by what they keep, and most trained units keep less than
# before. Those units are the memory; the carousel is only as constant as
# $f_t$ is close to 1, and the network learns where it must be.
#
# ## A character language model, at the same size
#
# Does the gating help on real text, where dependencies are shorter and softer? We train chapter
# 1's language model on the King James Bible twice: with an Elman cell of 256 units and with an
# LSTM cell of 128 units. An LSTM unit has four times the weights of an Elman unit, and at those
# sizes both models have the same number of parameters (printed below). Both train with chapter
# 1's recipe (Adam, learning rate 3e-3, clipping, batches of 128 windows, 10 epochs) and, as in
# chapter 1, are scored on the test split with their state carried from window to window,
# against the n-grams counted on the same training text.

# %%
vocab = data.CharVocabulary.from_text(data.bible_text("kjv"))
train_ids = vocab.encode(data.bible_text("kjv", split="train")[:TRAIN_CHARS])
validation_ids = vocab.encode(data.bible_text("kjv", split="validation")[:HELD_OUT_CHARS])
test_ids = vocab.encode(data.bible_text("kjv", split="test")[:HELD_OUT_CHARS])
x_train, y_train = data.char_lm_windows(train_ids, SEQUENCE_LENGTH)
x_val, y_val = data.char_lm_windows(validation_ids, SEQUENCE_LENGTH)
ngram_bpc = {f"{order}-gram": baselines.CharNGramModel(order, vocab_size=len(vocab))
             .fit(train_ids).bits_per_character(test_ids) for order in (3, 5)}
print(f"{len(x_train):,} training windows, {len(x_val):,} validation windows; test split: "
      + ", ".join(f"{name}: {bpc:.3f} bpc" for name, bpc in ngram_bpc.items()))

# %%
lm_runs = {}
for name, cell in ((f"Elman RNN ({ELMAN_UNITS})", ElmanCell(ELMAN_UNITS)),
                   (f"LSTM ({LSTM_UNITS})", LSTMCell(LSTM_UNITS))):
    print(f"--- {name}")
    set_seed(1997)
    lm_runs[name] = training.fit(
        models.rnn_language_model(len(vocab), cell, embedding_dim=32), x_train, y_train,
        validation_data=(x_val, y_val), epochs=LM_EPOCHS, batch_size=BATCH_SIZE,
        learning_rate=LM_LEARNING_RATE,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[metrics.BitsPerCharacter()])

# %%
lm_bpc = {name: float(diagnostics.carried_state_bits(run.model, test_ids)["carried"].mean())
          for name, run in lm_runs.items()}
fig, (ax_curve, ax_bars) = plt.subplots(1, 2, figsize=(13, 4))
plots.plot_curves({name: run.history["val_bpc"] for name, run in lm_runs.items()},
                  "validation bits per character", ax=ax_curve,
                  title="Language model learning curves")
plots.plot_bars({**ngram_bpc, **lm_bpc}, "test bits per character (state carried)",
                ax=ax_bars, title="Lower is better", highlight={f"LSTM ({LSTM_UNITS})"})
plt.tight_layout()
plt.show()
print(format_table([{"model": name, "parameters": run.model.count_params(),
                     "final validation bpc": run.history["val_bpc"][-1],
                     "test bpc, state carried": lm_bpc[name]}
                    for name, run in lm_runs.items()]))

# %% [markdown]
# With one recipe for both, the gated cell does not win here. The LSTM starts slower (its gates
# must learn what to keep before its memory is of use: 2.49 validation bits after the first
# epoch against 2.18) and after 10 epochs is still behind: 1.754 bits per character on the test
# text against the Elman RNN's 1.642, and behind the 5-gram (1.691), which the Elman RNN beats.
# Its curve is still falling by 0.02 bits an epoch where the Elman RNN's gains have shrunk to 0.01:
# on text, most of what predicts the next character lies within a few characters, where the
# Elman RNN's gradient is still alive, and the LSTM's advantage, memory over a hundred steps,
# buys little at this budget. The adding problem is where the cell state pays.
#
# ## Checks
#
# In full mode the chapter must show what it claims: the LSTM's parity with Keras; on the adding
# problem, the LSTM's validation MSE below 0.01 while the Elman RNN's stays above 0.1; the
# gradient reaching the first step of the trained LSTM at least 100 times larger (relative to the
# last step) than the trained Elman RNN's; and both language models, at the same number of
# parameters, below the 3-gram on the test text. Which of the two language models is ahead is
# not asserted: it is reported with its spread over three seeds below. Fast mode only checks
# that it ran.
#
# Every check passed at seed offsets 0, 1 and 2 (`python -m course seeds 02`; 394.3, 409.7 and
# 414.2 s on the 2-core CPU). Adding problem: LSTM 0.0011-0.0017, Elman RNN 0.160-0.166 (trivial
# 0.161). Gradient reaching the first step: LSTM 0.20-0.26 of the last step's, Elman RNN at most
# 0.00015 (0.0 in float32 at two seeds). The best LSTM unit keeps 0.41-0.49 of its cell state over
# the 100 steps. Language model, test split, state carried: Elman RNN 1.642-1.648, LSTM
# 1.754-1.776, against the 5-gram's 1.691 and the 3-gram's 2.526: the order Elman RNN < 5-gram <
# LSTM held at all three seeds, at this budget.

# %%
if not FAST:
    assert adding_mse["LSTM"] < 0.01, adding_mse
    assert adding_mse["Elman RNN"] > 0.1, adding_mse
    assert (gradient_reach["LSTM (trained)"]
            >= 100 * gradient_reach["Elman RNN (trained)"]), gradient_reach
    assert max(lm_bpc.values()) < ngram_bpc["3-gram"], (lm_bpc, ngram_bpc)
    parameters = [run.model.count_params() for run in lm_runs.values()]
    assert abs(parameters[0] - parameters[1]) <= 0.01 * parameters[0], parameters
print("all checks passed" if not FAST else "fast mode: ran end to end")

# %% [markdown]
# ## Summary
#
# - The LSTM adds a cell state updated by addition, $c_t = f_t \odot c_{t-1} + i_t \odot g_t$,
#   and gates that decide what to write, keep and show; `LSTMCell` equals Keras' `LSTMCell`.
# - On the adding problem over 100 steps the Elman RNN never beats predicting the mean; the LSTM
#   solves it, because the gradient flows back through the cell state, scaled only by forget
#   gates that training opened towards 1.
# - On real text, at the same number of parameters and with chapter 1's recipe, the LSTM is
#   still behind the Elman RNN after 10 epochs (1.75-1.78 against 1.64-1.65 bits per character
#   over three seeds): its long memory does not pay where the next character depends on the last
#   few.
#
# **Next:** the LSTM has four weight blocks per unit and two states. Cho et al. (2014) asked how
# much of that is needed: the gated recurrent unit merges the input and forget gates and drops
# the separate cell state, with three blocks instead of four.
#
# ## Exercises
#
# 1. Remove the forget gate (fix $f_t = 1$ by subclassing `LSTMCell` and overriding `gates`) and
#    rerun the adding problem, as the 1997 cell would have. Then train it on the language model:
#    what happens to $|c_t|$ over a long stream of text?
# 2. Set `unit_forget_bias=False`. How many more epochs does the adding problem take?
# 3. Increase `ADDING_LENGTH` to 200 and 400. Where does the LSTM start to fail with this budget?
# 4. Plot $\|\partial L / \partial h_t\|$ of the LSTM *before* training. Is it the Elman RNN's
#    curve or the trained LSTM's? What does that say about where the carousel comes from?
# 5. Give the Elman RNN four times the units of the LSTM on the adding problem. Does capacity help?
# 6. Train both language models on a tenth of the training text for 10 epochs. Which
#    one overfits, and when? (Training both for 30 epochs on the whole text is a Colab GPU
#    exercise: where do they end against the 5-gram?)

# %%
publish_results("02_lstm", {
    "LSTMCell vs keras LSTM max abs diff": parity_error,
    "adding T=100 MSE, trivial": round(trivial_mse, 4),
    **{f"adding T=100 MSE, {name}": round(mse, 4) for name, mse in adding_mse.items()},
    **{f"gradient ratio h_1/h_T, {name}": ratio for name, ratio in gradient_reach.items()},
    "LSTM best unit state kept over 100 steps": best_unit_survival,
    **{f"{name} bpc": round(bpc, 3) for name, bpc in ngram_bpc.items()},
    **{f"{name} bpc": round(bpc, 3) for name, bpc in lm_bpc.items()},
}, fast=FAST)
