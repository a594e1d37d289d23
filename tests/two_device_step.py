"""One BERT pretraining step on one device and on two virtual CPU devices (data parallel).

Run by tests/test_bert_models.py in a subprocess, because the device count must be set before
JAX starts: ``XLA_FLAGS=--xla_force_host_platform_device_count=2 KERAS_BACKEND=jax``. Prints the
largest difference between the weights after the two steps.
"""

import keras
import numpy as np

from seqkeras import data
from seqkeras.models import BertEncoder, BertPretrainer

VOCAB = data.load_wordpiece_vocabulary()
MASK = VOCAB.index("[MASK]")


def batch():
    verses = [v.text for v in data.load_bible("kjv", "validation")[:16]]
    packed = data.pack_segments(verses[0::2], verses[1::2], sequence_length=32)
    masked = data.mask_tokens(packed["token_ids"], len(VOCAB), MASK, np.random.default_rng(0),
                              max_selections=6)
    inputs = {**packed, "token_ids": masked["token_ids"],
              "mask_positions": masked["mask_positions"]}
    targets = {"mlm": masked["mask_ids"], "nsp": np.array([1, 0] * 4, "int32")}
    weights = {"mlm": masked["mask_weights"], "nsp": np.ones(8, "float32")}
    return inputs, targets, weights


def one_step(initial_weights=None):
    keras.utils.set_random_seed(0)
    model = BertPretrainer(BertEncoder(len(VOCAB), 2, 2, 32, 64, dropout=0.0,
                                       max_sequence_length=32))
    inputs, targets, weights = batch()
    model(inputs)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    start = [w.copy() for w in model.get_weights()]
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss={"mlm": loss, "nsp": loss})
    model.train_on_batch(inputs, targets, sample_weight=weights)
    return start, model.get_weights()


if __name__ == "__main__":
    import jax

    assert keras.backend.backend() == "jax" and len(jax.devices()) == 2, jax.devices()
    start, single = one_step()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
    _, parallel = one_step(start)
    moved = max(float(np.abs(a - b).max()) for a, b in zip(start, single, strict=True))
    diff = max(float(np.abs(a - b).max()) for a, b in zip(single, parallel, strict=True))
    print(f"largest weight change {moved:.3e}; one device vs two: max abs diff {diff:.3e}")
