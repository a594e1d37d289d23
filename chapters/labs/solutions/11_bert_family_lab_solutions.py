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
# # Lab 11, solved: DistilBERT's soft-target loss
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/seqkeras/seqkeras/blob/main/chapters/labs/solutions/11_bert_family_lab_solutions.ipynb)
#
# DistilBERT (Sanh et al., 2019) trains a small student to match a large teacher's output
# distribution, softened by a temperature $T$ (Hinton, Vinyals & Dean, 2015):
#
# $$L_{ce} = -\,T^2 \; \frac{1}{N} \sum_{n=1}^{N} \sum_{v}
#   \mathrm{softmax}(t_n / T)_v \, \log \mathrm{softmax}(s_n / T)_v$$
#
# over $N$ rows of teacher logits $t_n$ and student logits $s_n$. The $T^2$ keeps the gradients'
# size the same at every temperature (Hinton et al., section 2). The checker compares your loss
# with `seqkeras.losses.soft_target_loss`; then it distils a teacher.

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

ENV = setup(seed=2019)

# %% tags=["parameters"]
EXAMPLES = 300  # the teacher's labelled inputs the students learn from
EPOCHS = 60


# %% [markdown]
# ## Your loss
#
# `student_logits` and `teacher_logits` are `(..., V)` tensors; every leading position is a row.
# Return a scalar. `ops.softmax`, `ops.log_softmax`, `ops.sum`, `ops.mean`.

# %%
def my_soft_target_loss(student_logits, teacher_logits, temperature):
    teacher = ops.softmax(teacher_logits / temperature, axis=-1)
    log_student = ops.log_softmax(student_logits / temperature, axis=-1)
    return -temperature ** 2 * ops.mean(ops.sum(teacher * log_student, axis=-1))


# %% [markdown]
# ## The check
#
# At T = 2, 4 and 1, on 3-d and 2-d logits. It names the usual mistakes: T^2 missing or T
# instead, one side not softened, student and teacher swapped, the KL divergence instead of the
# cross-entropy, a sum over rows instead of the mean.

# %%
report = exercises.check_soft_target_loss(my_soft_target_loss)

# %% [markdown]
# ## What soft targets carry
#
# Hinton et al.'s point in miniature: a teacher (a fixed random two-layer network over 20
# inputs, 10 classes) labels 300 inputs. A linear student learns from the hard labels, or from
# your loss on the teacher's logits at T = 1 and T = 4, with the same optimiser and epochs.
# The soft targets say how the teacher ranks the wrong classes too, which is more to learn from
# per example. One seed of a toy task; the cell prints how often each student agrees with the
# teacher on 5,000 new inputs.

# %%
agreement = exercises.distil_with(report, my_soft_target_loss, EXAMPLES, EPOCHS)
