"""Sampling text from a character language model, one step of the recurrence at a time."""

from __future__ import annotations

import numpy as np
from keras import ops

from seqkeras import arguments


def sample_text(model, vocab, prompt, length=200, temperature=1.0, seed=0):
    """Sample ``length`` characters after ``prompt``, one step of the recurrence at a time.

    The prompt is fed through the cell to build up h_t; then each step draws
    x_{t+1} ~ softmax(logits_t / temperature) and feeds it back in. Low temperatures sharpen
    the distribution towards the most likely character (repetitive text); high ones flatten
    it (creative, then garbled).

    Args:
        model: a model from ``seqkeras.models.rnn_language_model`` (layers ``embedding``,
            ``rnn`` and ``logits``).
        vocab: the ``CharVocabulary`` the model was trained with.
        prompt: non-empty text to start from.
        length: number of characters to generate.
        temperature: positive float.
        seed: seed of the NumPy generator that draws the characters.

    Returns:
        The generated text (without the prompt).
    """
    if not prompt:
        raise ValueError("prompt must be a non-empty string")
    arguments.positive_number("temperature", temperature)
    embedding, rnn, readout = (model.get_layer(n) for n in ("embedding", "rnn", "logits"))
    rng = np.random.default_rng(seed)
    states = rnn.get_initial_state(1)

    def step(char_id, states):
        h, states = rnn.cell(embedding(ops.convert_to_tensor([char_id])), states)
        return h, list(states) if isinstance(states, (list, tuple)) else [states]

    for char_id in vocab.encode(prompt):
        h, states = step(char_id, states)
    generated = []
    for _ in range(length):
        logits = ops.convert_to_numpy(readout(h))[0].astype("float64") / temperature
        probs = np.exp(logits - logits.max())
        probs[0] = 0.0  # the padding id is never a character
        generated.append(rng.choice(len(probs), p=probs / probs.sum()))
        h, states = step(generated[-1], states)
    return vocab.decode(generated)


# Translation: a model-independent search over next-token distributions (chapters 5-8).
#
# ``next_log_probs(prefixes)`` takes an int32 array (n, t) of prefixes, each starting with the
# start token, and returns log p(y_{t+1} | prefix, source) as an array (n, vocab_size). The batched
# forms take ``next_log_probs(source_index, prefixes)``, where source_index (n,) says which source
# sentence each row belongs to, so that one model call serves every sentence of a batch.
