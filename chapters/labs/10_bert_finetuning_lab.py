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
# # Lab 10: write BERT's input embeddings yourself
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/labs/10_bert_finetuning_lab.ipynb)
#
# Fine-tuning on sentence pairs (chapter 10) works because BERT's input already says which
# sentence each token belongs to. Its input representation (Devlin et al., 2018, section 3 and
# figure 2) sums three embeddings, then normalises and drops out:
#
# $$x_t = \mathrm{Dropout}\big(\mathrm{LayerNorm}(E_{\text{token}}[w_t] + P[t] +
#   E_{\text{segment}}[s_t])\big)$$
#
# with $P[t]$ learned for positions $t = 0, 1, \dots$ and $s_t$ = 0 for sentence A ([CLS] and
# its [SEP] included), 1 for sentence B. The checker compares your layer with
# `seqkeras.layers.BertEmbeddings`; then your layer goes inside a KerasHub BERT.

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

ENV = setup(seed=2018)


# %% [markdown]
# ## Your layer
#
# `self.token_embedding` and `self.segment_embedding` are `keras.layers.Embedding` layers (call
# them on ids); `self.position_embedding.embeddings` is the `(max_sequence_length, H)` table
# (rows `0 .. T - 1` for `T = token_ids.shape[1]`); `self.norm` is a `LayerNormalization` and
# `self.dropout_layer` a `Dropout` (pass it `training=training`). Return `(batch, T, H)`.

# %%
class MyBertEmbeddings(exercises.BertEmbeddingsExercise):
    def call(self, token_ids, segment_ids, training=None):
        # YOUR CODE HERE
        raise NotImplementedError("sum the token, position and segment embeddings, normalise, "
                                  "drop out")


# %% [markdown]
# ## The check
#
# Sentence pairs and a batch of one at inference, dropout in training, and a compiled model. It
# names the usual mistakes: the segment or position embedding missing, the normalisation
# missing or applied to the token embedding alone, positions counted from 1.

# %%
report = exercises.check_bert_embeddings(MyBertEmbeddings)

# %% [markdown]
# ## Your embeddings inside a KerasHub BERT
#
# A small `keras_hub.models.BertBackbone` (random weights: nothing is downloaded) is converted to
# the course's `BertEncoder` with `seqkeras.interop.from_keras`, with your class in place of its
# embeddings. If your layer is right, the two encoders give the same outputs. Then the segment
# ids of sentence A are set to B: the outputs of the same tokens move, which is all a fine-tuned
# classifier has to tell the two sentences of a pair apart.

# %%
result = exercises.inside_keras_hub_bert(report, MyBertEmbeddings)
