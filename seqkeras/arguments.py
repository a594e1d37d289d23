"""Argument checks shared by every public constructor and call of seqkeras.

A wrong *type* raises ``TypeError`` and a value out of range raises ``ValueError``; both name
the argument and say what was expected, e.g.

    units must be a positive integer, got True (bool)
    dropout must be a number in [0, 1), got 1.5

Booleans are rejected where a number is expected, although ``True`` is an ``int`` in Python:
``BahdanauAttention(True)`` is a mistake, not a layer of one unit.
"""

from __future__ import annotations

import numbers

import numpy as np


def _describe(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def integer(name, value, minimum=None, maximum=None, what=None) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]`` (either bound optional).

    ``what`` replaces the generated description ("an integer >= 2") in the message.
    """
    if minimum is not None and maximum is None:
        expected = what or {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}")
    elif minimum is not None:
        expected = what or f"an integer in [{minimum}, {maximum}]"
    else:
        expected = what or "an integer"
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {expected}, got {_describe(value)}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


def positive_int(name, value) -> int:
    """``value`` as an ``int`` >= 1."""
    return integer(name, value, minimum=1)


def optional_positive_int(name, value) -> int | None:
    """None, or ``value`` as an ``int`` >= 1."""
    return None if value is None else integer(name, value, minimum=1,
                                              what="None or a positive integer")


def number(name, value, minimum=None, maximum=None, include_maximum=True,
           include_minimum=True) -> float:
    """``value`` as a ``float`` within the given bounds (booleans rejected)."""
    low = "(" if not include_minimum else "["
    high = ")" if not include_maximum else "]"
    if minimum is not None and maximum is not None:
        expected = f"a number in {low}{minimum}, {maximum}{high}"
    elif minimum is not None:
        expected = f"a number {'>=' if include_minimum else '>'} {minimum}"
    else:
        expected = "a number"
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {_describe(value)}")
    value = float(value)
    too_low = minimum is not None and (value < minimum or (value == minimum
                                                          and not include_minimum))
    too_high = maximum is not None and (value > maximum or (value == maximum
                                                           and not include_maximum))
    if too_low or too_high or value != value:  # value != value: NaN
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


def rate(name, value) -> float:
    """A dropout-like rate in [0, 1)."""
    return number(name, value, minimum=0.0, maximum=1.0, include_maximum=False)


def positive_number(name, value) -> float:
    """A number > 0."""
    return number(name, value, minimum=0.0, include_minimum=False)


def boolean(name, value) -> bool:
    """``value`` as a ``bool``; 0/1 or strings are rejected."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {_describe(value)}")
    return bool(value)


def choice(name, value, choices):
    """``value`` itself, if it is one of ``choices``."""
    if not isinstance(value, str | int | type(None)) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def concrete(x):
    """``x`` as a NumPy array when its values are known now (eager), else None (traced).

    Inside ``jit`` (JAX) or a ``tf.function`` graph the values are not known yet, so range
    checks can only run eagerly; there TensorFlow's gathers raise on a CPU by themselves.
    """
    try:
        values = np.asarray(x)
    except Exception:  # a tracer or a symbolic tensor: its values are not known yet
        return None
    return values if values.dtype.kind in "biuf" else None  # a KerasTensor becomes an object


def index_range(name, indices, size, what="indices"):
    """Raise ``ValueError`` if a concrete array of ``indices`` leaves ``[0, size)``.

    JAX clamps an out-of-range gather instead of raising, so without this check a wrong id
    silently reads the last row.
    """
    values = concrete(indices)
    if values is None or values.size == 0:
        return
    low, high = int(values.min()), int(values.max())
    if low < 0 or high >= size:
        raise ValueError(f"{name}: {what} must be in [0, {size}), got values in "
                         f"[{low}, {high}]")
