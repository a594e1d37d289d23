"""What every chapter does first (seed, report the environment), last (publish results), and
in between (print comparison tables)."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import keras

from seqkeras import arguments


def gpu_name() -> str | None:
    """Name of the first GPU the active Keras backend can use, or None on a CPU-only machine."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return details.get("device_name", gpus[0].name)
    elif backend == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        if gpus:
            return gpus[0].device_kind
    elif backend == "torch":
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    return None


def machine_description() -> str:
    """E.g. "2-core CPU" or "NVIDIA H100 80GB HBM3 GPU": what a run time was measured on."""
    gpu = gpu_name()
    return f"{gpu} GPU" if gpu else f"{os.cpu_count()}-core CPU"


SEED_OFFSET_VARIABLE = "SEQKERAS_SEED_OFFSET"


def seed_offset() -> int:
    """k of the environment variable ``SEQKERAS_SEED_OFFSET=k`` (0 when unset).

    Every seed a chapter sets through ``setup`` and ``set_seed`` moves by k: weight
    initialisation, dropout, shuffling and masks. The data's splits and selections do not
    (they use their own fixed seeds). ``python -m course seeds NN`` runs a chapter at offsets 1
    and 2, so that a result is reported with its spread over three seeds: a learner on another
    machine (a GPU, other kernels) is effectively another seed.
    """
    text = os.environ.get(SEED_OFFSET_VARIABLE, "").strip() or "0"
    if not text.isdigit():
        raise ValueError(f"{SEED_OFFSET_VARIABLE} must be an integer >= 0, got {text!r}")
    return int(text)


def set_seed(seed: int) -> int:
    """Seed Python, NumPy and the backend with ``seed`` plus ``seed_offset()``; return the seed
    used. Chapters seed every model they train through this, never through
    ``keras.utils.set_random_seed`` directly, so that the offset reaches all of them.

    Example:

    >>> import numpy as np
    >>> set_seed(7)
    7
    >>> first = np.random.rand()
    >>> _ = set_seed(7)
    >>> bool(np.random.rand() == first)
    True
    """
    seed = arguments.integer("seed", seed, 0, what="an integer >= 0") + seed_offset()
    keras.utils.set_random_seed(seed)
    return seed


def weights_path(name: str) -> Path:
    """Where a chapter saves weights for a later one: ``weights/NAME``, or
    ``weights/seed-offset-K/NAME`` under a seed offset K, so that a seed run neither overwrites
    the committed run's weights nor reads them (relative to the notebook's folder)."""
    offset = seed_offset()
    return Path("weights") / (f"seed-offset-{offset}" if offset else "") / name


def setup(seed: int = 1990) -> dict:
    """Seed Python, NumPy and the backend (``set_seed``), and print the versions a reader
    should know.

    Returns:
        The reported environment as a dict.
    """
    env = {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "machine": machine_description(),
        "seed": set_seed(seed),
    }
    if seed_offset():
        env["seed offset"] = seed_offset()
    if "tensorflow" in sys.modules or env["backend"] == "tensorflow":
        import tensorflow as tf

        env["tensorflow"] = tf.__version__
    print("  ".join(f"{k}: {v}" for k, v in env.items()))
    return env


def publish_results(chapter: str, results: dict, fast: bool) -> dict:
    """Print a chapter's key results and hand them to ``python -m course``.

    The course command sets ``SEQKERAS_RESULTS_DIR``; the results are then written to
    ``$SEQKERAS_RESULTS_DIR/<chapter>.json``. In JupyterLab nothing is written.

    Args:
        chapter: the notebook's name, e.g. ``"01_elman_rnn"``.
        results: {name: number or string}, JSON-serialisable.
        fast: whether this was a fast-mode run (its numbers are not the chapter's results).

    Returns:
        The published record.
    """
    record = {"chapter": chapter, "mode": "fast" if fast else "full",
              "machine": machine_description(), "results": results}
    width = max(map(len, results)) if results else 0
    print(f"Key results of {chapter} ({record['mode']} mode, {record['machine']}):")
    for name, value in results.items():
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"  {name:<{width}}  {shown}")
    out_dir = os.environ.get("SEQKERAS_RESULTS_DIR")
    if out_dir:
        path = Path(out_dir) / f"{chapter}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def format_table(rows: list[dict], float_format: str = ".4g") -> str:
    """A plain-text table of ``rows`` (dicts with the same keys), columns aligned, floats
    formatted with ``float_format``: what a chapter prints to compare models."""
    if not rows:
        raise ValueError("rows must contain at least one row")
    columns = list(rows[0])
    cells = [[f"{row[c]:{float_format}}" if isinstance(row[c], float) else str(row[c])
              for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    numeric = [all(isinstance(row[c], (int, float)) for row in rows) for c in columns]

    def line(values):
        return "  ".join(v.rjust(w) if right else v.ljust(w)
                         for v, w, right in zip(values, widths, numeric, strict=True)).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])
