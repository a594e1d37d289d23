"""Using a learner's attention score for real (labs 6 and 7): an attention encoder-decoder
that learns to reverse a sequence of digits, where the right alignment is known (output word i
is source word S - 1 - i), so that its heatmap shows whether the score learned to align."""

from __future__ import annotations

import keras
import numpy as np

from seqkeras import training
from seqkeras.exercises.report import waits_for
from seqkeras.models import AttentionSeq2Seq

DIGITS = 10
START, END, FIRST_DIGIT = 1, 2, 3  # id 0 is padding


def reversal_task(sequences, max_length=10, seed=0):
    """``(source_ids, decoder_input_ids, target_ids)``: random digit strings of 4..max_length
    and their reversal, ``[START]`` + reversed as the decoder's input and reversed + ``[END]``
    as its target, padded with 0."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(4, max_length + 1, size=sequences)
    source = np.zeros((sequences, max_length), "int32")
    decoder_input = np.zeros((sequences, max_length + 1), "int32")
    target = np.zeros((sequences, max_length + 1), "int32")
    for row, length in enumerate(lengths):
        digits = rng.integers(FIRST_DIGIT, FIRST_DIGIT + DIGITS, size=length)
        source[row, :length] = digits
        decoder_input[row, :length + 1] = [START, *digits[::-1]]
        target[row, :length + 1] = [*digits[::-1], END]
    return source, decoder_input, target


def train_on_reversal(report, attention, sequences, epochs, units=32):
    """Train ``AttentionSeq2Seq`` with your ``attention`` layer to reverse digit strings; print
    the held-out accuracy of each next word (teacher-forced) and how much attention weight falls
    on the source word that output word copies. Returns ``(model, held-out data)``, or None
    when the score's check has not passed."""
    if waits_for(report, "the score", "trains it"):
        return None
    vocabulary_size = FIRST_DIGIT + DIGITS
    model = AttentionSeq2Seq(vocabulary_size, vocabulary_size, attention, embedding_dim=16,
                             units=units)
    source, decoder_input, target = reversal_task(sequences)
    held_out = reversal_task(500, seed=1)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    training.fit(model, (source, decoder_input), target,
                 ((held_out[0], held_out[1]), held_out[2]), epochs, loss, verbose=0)
    logits = model.predict((held_out[0], held_out[1]), verbose=0)
    real = held_out[2] > 0
    accuracy = float((logits.argmax(-1) == held_out[2])[real].mean())
    weights = model.alignment(held_out[0], held_out[1])
    lengths = (held_out[0] > 0).sum(1)
    on_target = [weights[row, i, lengths[row] - 1 - i]
                 for row in range(len(lengths)) for i in range(lengths[row])]
    print(f"{type(attention).__name__} ({getattr(attention, 'score_name', 'additive')}): "
          f"held-out next-word accuracy {accuracy:.1%}; mean weight on the source word being "
          f"copied {np.mean(on_target):.2f} (uniform: {np.mean(1 / lengths):.2f})")
    return model, held_out
