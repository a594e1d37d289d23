"""Translation batches of similar lengths: less padding to compute on."""

from __future__ import annotations

import math

import numpy as np


class LengthSortedBatches:
    """Teacher-forced batches of a ``TranslationBatch`` whose pairs have similar lengths, each
    trimmed to its own longest source and target: ``batches[k]`` is ``((source_ids,
    decoder_input_ids), target_ids)``, and ``dataset()`` serves them to ``fit``.

    Padded to the longest training verse, a batch of short verses spends most of its steps on
    padding (chapter 6's verses of up to 50 tokens sit in 51 slots; most are far shorter). Every
    epoch the pairs are shuffled, cut into pools of ``pool_batches`` batches, each pool sorted
    by the longer of a pair's source and target and cut into batches, and the batches shuffled:
    every pair is seen once per epoch, in a new neighbourhood each time, and a batch's width is
    close to its longest pair's. Widths are rounded up to a multiple of ``round_to`` (at most
    the arrays' width), so that a compiled training step meets a handful of shapes. The models
    mask padding, so a pair's loss does not depend on its batch's width.

    Args:
        pairs: a ``TranslationBatch``.
        batch_size: pairs per batch.
        pool_batches: batches per sorted pool.
        round_to: widths are multiples of this.
        seed: the shuffling's seed; epoch k uses ``[seed, k]``.

    Example:

    >>> from seqkeras.data import TranslationBatch
    >>> ids = np.array([[5, 0, 0, 0], [5, 6, 7, 8], [5, 6, 0, 0], [5, 0, 0, 0]], "int32")
    >>> pairs = TranslationBatch(ids, ids, ids, ["a"] * 4, ["a"] * 4)
    >>> batches = LengthSortedBatches(pairs, batch_size=2, round_to=1)
    >>> sorted(x[0].shape[1] for x, y in (batches[k] for k in range(len(batches))))
    [1, 4]
    """

    def __init__(self, pairs, batch_size=64, pool_batches=20, round_to=5, seed=0):
        self.pairs, self.batch_size = pairs, int(batch_size)
        self.pool_batches, self.round_to, self.seed = int(pool_batches), int(round_to), seed
        self.source_lengths = (pairs.source_ids != 0).sum(axis=1)
        self.target_lengths = (pairs.target_ids != 0).sum(axis=1)
        self.lengths = np.maximum(self.source_lengths, self.target_lengths)  # the sort key
        self.epoch = 0
        self._batches = self._arrange()

    def _arrange(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.source_lengths))
        pool_size = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, len(order), pool_size):
            pool = order[start:start + pool_size]
            pool = pool[np.argsort(self.lengths[pool], kind="stable")]
            batches += [pool[k:k + self.batch_size] for k in range(0, len(pool), self.batch_size)]
        return [batches[k] for k in rng.permutation(len(batches))]

    def _width(self, lengths, limit):
        return min(limit, self.round_to * math.ceil(int(lengths.max()) / self.round_to))

    def __len__(self):
        return len(self._batches)

    def __getitem__(self, index):
        rows = self._batches[index]
        source_width = self._width(self.source_lengths[rows], self.pairs.source_ids.shape[1])
        target_width = self._width(self.target_lengths[rows], self.pairs.target_ids.shape[1])
        return ((self.pairs.source_ids[rows, :source_width],
                 self.pairs.decoder_input_ids[rows, :target_width]),
                self.pairs.target_ids[rows, :target_width])

    def on_epoch_end(self):
        self.epoch += 1
        self._batches = self._arrange()

    def dataset(self):
        """A ``tf.data.Dataset`` of one epoch's batches, arranged anew each time it is read.

        ``fit`` cannot take these batches as a ``keras.utils.PyDataset``: on TensorFlow, Keras
        fixes every array's shape from the first two batches it reads, and a later batch of
        another width fails. Here every axis is declared open (any backend reads a
        ``tf.data.Dataset``; TensorFlow is installed with seqkeras).
        """
        import tensorflow as tf

        def one_epoch():
            for index in range(len(self)):
                yield self[index]
            self.on_epoch_end()

        ids = tf.TensorSpec((None, None), tf.int32)
        dataset = tf.data.Dataset.from_generator(one_epoch, output_signature=((ids, ids), ids))
        return dataset.apply(tf.data.experimental.assert_cardinality(len(self)))
