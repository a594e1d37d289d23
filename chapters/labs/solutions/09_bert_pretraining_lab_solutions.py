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
# # Lab 9, solved: BERT's masked-LM corruption
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/labs/solutions/09_bert_pretraining_lab_solutions.ipynb)
#
# Chapter 9 pretrained BERT (Devlin et al. 2019) by hiding words and asking the model for them.
# Section 3.1 of the paper: "we mask 15% of all WordPiece tokens in each sequence at random",
# and of those chosen, the token is replaced by `[MASK]` 80% of the time, by a random token 10% of
# the time, and left unchanged 10% of the time, so that the model cannot learn that only
# `[MASK]` positions matter (there is no `[MASK]` when it is fine-tuned). Special tokens
# (`[PAD]` = 0, `[CLS]` = 1, `[SEP]` = 2) are never chosen.
#
# The checker runs your function on 51,200 tokens and compares its statistics with BERT's; when
# they differ it names the mistake.

# %%
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "seqkeras @ git+https://github.com/seqkeras/seqkeras"], check=True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from seqkeras import data, exercises
from seqkeras.utils import setup

ENV = setup(seed=2019)

# %% tags=["parameters"]
FAST = os.environ.get("SEQKERAS_FAST") == "1"

VERSES = 3  # real verses corrupted at the end

# %% [markdown]
# ## Your corruption
#
# `token_ids` is an int array `(batch, T)`; draw every random number from `rng` (a
# `numpy.random.Generator`: `rng.random(shape)`, `rng.integers(low, high, size)`). Return
# `(corrupted_ids, selected)`: the corrupted copy and a boolean array of the chosen positions
# (the ones the model will be asked to predict).

# %%
SPECIAL_IDS = (0, 1, 2)  # [PAD], [CLS], [SEP]


def my_masking(token_ids, vocabulary_size, mask_token_id, rng):
    selected = ~np.isin(token_ids, SPECIAL_IDS) & (rng.random(token_ids.shape) < 0.15)
    draw = rng.random(token_ids.shape)  # one draw decides what a selected token becomes
    corrupted = token_ids.copy()
    corrupted[selected & (draw < 0.8)] = mask_token_id
    random = selected & (draw >= 0.8) & (draw < 0.9)
    corrupted[random] = rng.integers(0, vocabulary_size, size=int(random.sum()))
    return corrupted, selected


# %%
report = exercises.check_masking(my_masking)

# %% [markdown]
# ## Your corruption on real verses
#
# Once the check passes: three verses of the KJV, as WordPieces, before and after.

# %%
if report.passed:
    vocabulary = data.load_wordpiece_vocabulary()
    tokenizer = data.wordpiece_tokenizer()
    for verse in [verse.text for verse in data.load_bible("kjv")[:VERSES]]:
        ids = np.array([[1, *[int(i) for i in tokenizer(verse)], 2]])
        corrupted, selected = my_masking(ids, len(vocabulary), vocabulary.index("[MASK]"),
                                         np.random.default_rng(0))
        print(" ".join(vocabulary[i] for i in ids[0]))
        print(" ".join(vocabulary[i] + ("*" if s else "") for i, s in zip(corrupted[0],
                                                                          selected[0])))
        print()
else:
    print("Fill in my_masking above until the check passes; then this cell corrupts real verses.")
