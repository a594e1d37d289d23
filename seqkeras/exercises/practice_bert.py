"""Using a learner's BERT pieces for real (labs 10 and 11): their input embeddings inside a
KerasHub BERT, and their soft-target loss distilling a teacher into a smaller student."""

from __future__ import annotations

import warnings

import keras
import numpy as np
from keras import ops

from seqkeras import interop, training
from seqkeras.exercises.report import waits_for
from seqkeras.interop.bert import build_encoder
from seqkeras.models import BertEncoder


def inside_keras_hub_bert(report, cls, vocabulary_size=200, hidden_dim=32, seed=0):
    """Build a small ``keras_hub.models.BertBackbone`` (random weights, nothing downloaded),
    convert it to a seqkeras ``BertEncoder`` (``interop.from_keras``), put your embeddings
    class in place of its embeddings with the same weights, and print how far the two encoders'
    outputs are apart, then how much the outputs change when sentence A's tokens are marked as
    sentence B. Returns ``(difference, segment_change)``, or None."""
    if waits_for(report, f"{cls.__name__}.call", "puts it inside a KerasHub BERT"):
        return None
    import keras_hub

    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=vocabulary_size, num_layers=2, num_heads=2, hidden_dim=hidden_dim,
        intermediate_dim=2 * hidden_dim, max_sequence_length=64)
    converted = interop.from_keras(backbone)
    encoder = BertEncoder.from_config(converted.get_config())
    encoder.embeddings = cls(vocabulary_size, hidden_dim, max_sequence_length=64,
                             dropout=encoder.dropout, name="embeddings")  # before it is built
    with warnings.catch_warnings(action="ignore", category=UserWarning):  # Keras' build note
        build_encoder(encoder)
    for yours, theirs in zip([encoder.embeddings, *encoder.blocks, encoder.pooler],
                             [converted.embeddings, *converted.blocks, converted.pooler],
                             strict=True):
        yours.set_weights(theirs.get_weights())
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(5, vocabulary_size, size=(2, 12)).astype("int32")
    segment_ids = (np.arange(12)[None] >= np.array([[5], [7]])).astype("int32")
    inputs = {"token_ids": token_ids, "segment_ids": segment_ids,
              "padding_mask": np.ones_like(token_ids)}
    theirs = ops.convert_to_numpy(backbone(inputs)["sequence_output"])
    ours = ops.convert_to_numpy(encoder(inputs)["sequence_output"])
    difference = float(np.abs(ours - theirs).max())
    print(f"KerasHub's BertBackbone against a BertEncoder with your embeddings: max |difference| "
          f"of the {ours.shape[1]} x {ours.shape[2]} outputs {difference:.2e}")
    moved = ops.convert_to_numpy(encoder({**inputs, "segment_ids": np.ones_like(segment_ids)})[
        "sequence_output"])
    change = float(np.abs(moved - ours)[segment_ids == 0].mean())
    print(f"marking sentence A's tokens as sentence B changes their outputs by {change:.3f} on "
          f"average (the outputs' mean size: {np.abs(ours).mean():.3f})")
    return difference, change


def distil_with(report, fn, examples=300, epochs=60, temperatures=(1.0, 4.0), classes=10,
                features=20, seed=0):
    """Hinton et al.'s experiment in miniature: a teacher (a fixed random two-layer network,
    ``classes`` outputs) labels ``examples`` inputs; a linear student learns from the hard labels
    or from your soft-target loss ``fn`` at each temperature, with the same budget. Prints how
    often each student agrees with the teacher on 5,000 new inputs. Returns the agreements."""
    if waits_for(report, "the loss", "distils with it"):
        return None
    rng = np.random.default_rng(seed)
    w1, w2 = rng.normal(size=(features, 64)), rng.normal(size=(64, classes))

    def teacher(x):
        return (np.tanh(x @ w1 / np.sqrt(features)) @ w2).astype("float32")

    x, x_new = (rng.normal(size=(n, features)).astype("float32") for n in (examples, 5000))
    logits, truth = teacher(x), teacher(x_new).argmax(-1)
    losses = {"hard labels": (keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                              logits.argmax(-1))}
    for temperature in temperatures:
        losses[f"your soft targets, T = {temperature:g}"] = (
            lambda teacher_logits, student_logits, t=temperature: fn(student_logits,
                                                                     teacher_logits, t), logits)
    agreement = {}
    for name, (loss, targets) in losses.items():
        keras.utils.set_random_seed(seed)
        student = keras.Sequential([keras.Input((features,)), keras.layers.Dense(classes)])
        training.fit(student, x, targets, None, epochs, loss, batch_size=32, learning_rate=1e-2,
                     verbose=0)
        agreement[name] = float((student.predict(x_new, verbose=0).argmax(-1) == truth).mean())
        print(f"student trained on {name:<26} agrees with the teacher on "
              f"{agreement[name]:.1%} of new inputs")
    return agreement
