"""seqkeras: the layers of "From RNNs to BERT, in Keras", built from the papers' equations.

Modules: ``layers`` (cells, attention, ...), ``models``, ``interop`` (weight converters to the
Keras twins), ``data`` (bundled corpora), ``baselines``, ``metrics``, ``diagnostics``,
``decoding``, ``training``, ``bert_recipes``, ``losses``, ``schedules``, ``timing``, ``plots``,
``utils``.
"""

from seqkeras import (
    baselines,
    bert_recipes,
    data,
    decoding,
    diagnostics,
    interop,
    layers,
    losses,
    metrics,
    models,
    schedules,
    timing,
    training,
)

__version__ = "0.1.0"

__all__ = ["baselines", "bert_recipes", "data", "decoding", "diagnostics", "interop", "layers",
           "losses", "metrics", "models", "schedules", "timing", "training", "__version__"]
