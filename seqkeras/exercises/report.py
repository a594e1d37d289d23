"""What every checker shares: the report it returns, running the learner's code so that an
exception becomes a message about *their* line, and comparing arrays the way Karpathy's
``cmp()`` does (exact / approximate / max difference)."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from keras import ops

TOLERANCE = 1e-5  # float32 outputs of the same computation agree to this (DESIGN rule 4)

# Frames inside these folders are ours or the frameworks'; the learner's line is elsewhere.
_LIBRARY_PARTS = ("site-packages", "dist-packages", f"{Path(__file__).parents[1]}")


@dataclass
class CheckReport:
    """The verdict of a checker: ``passed`` and a ``message`` for a person to read."""

    piece: str
    passed: bool
    message: str

    def __str__(self):
        mark = "PASSED" if self.passed else "NOT YET"
        return f"[{mark}] {self.piece}: {self.message}"

    def __repr__(self):
        return f"CheckReport(piece={self.piece!r}, passed={self.passed})"


class LearnerError(Exception):
    """The learner's code raised or returned something unusable; ``str()`` says what and where."""


def report(piece, passed, message):
    """A ``CheckReport``, printed as the notebook's verdict."""
    result = CheckReport(piece, passed, message)
    print(result)
    return result


def _learner_line(exc):
    """``line N: <source>`` of the innermost frame of the traceback outside the libraries."""
    frames = traceback.extract_tb(exc.__traceback__)
    theirs = [f for f in frames if not any(part in f.filename for part in _LIBRARY_PARTS)
              and not f.filename.startswith("<frozen")]
    if not theirs:
        return None
    frame = theirs[-1]
    return f"line {frame.lineno} of your code (`{(frame.line or '').strip()}`)"


def run_learner(function, *args, **kwargs):
    """``function(*args, **kwargs)``; an exception becomes ``LearnerError`` naming the
    learner's line, ``NotImplementedError`` is passed on (the skeleton is not filled yet)."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - any error of the learner's becomes a message
        where = _learner_line(exc) or "your code"
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise LearnerError(f"{type(exc).__name__} at {where}: {message}") from None


def as_array(x, what):
    """``x`` as a float64 NumPy array, or ``LearnerError`` saying what was expected."""
    try:
        return np.asarray(ops.convert_to_numpy(x), dtype="float64")
    except Exception:  # noqa: BLE001
        raise LearnerError(f"{what} should be a tensor, got {type(x).__name__}") from None


def compare(got, expected, what, tolerance=TOLERANCE):
    """None when ``got`` matches ``expected``; else why not (shape, or max difference)."""
    if got.shape != expected.shape:
        return f"{what} has shape {got.shape}, expected {expected.shape}"
    if not np.all(np.isfinite(got)):
        return f"{what} contains NaN or inf"
    difference = float(np.abs(got - expected).max()) if got.size else 0.0
    if difference > tolerance:
        return f"{what} differs from the reference (max |difference| {difference:.3g})"
    return None


def matches(got, expected, tolerance=TOLERANCE):
    return got.shape == expected.shape and bool(np.all(np.abs(got - expected) <= tolerance))


def check_class(cls, base, piece):
    """Misuse (not mistakes) raises: the checker needs a class derived from ``base``."""
    if not isinstance(cls, type):
        raise TypeError(f"check the class itself, e.g. check(My{piece.replace(' ', '')}), "
                        f"not {type(cls).__name__}")
    if not issubclass(cls, base):
        raise TypeError(f"{cls.__name__} must derive from seqkeras.exercises.{base.__name__} "
                        f"(it creates the weights; you write call)")


def not_implemented(piece):
    return report(piece, False, "not implemented yet: replace the `raise NotImplementedError` "
                                "line with your code, then run this check again")


def waits_for(report, what, action="uses it"):
    """True (after saying so) when ``report`` has not passed: the lab cell that uses the
    learner's piece then does nothing. ``what`` names the piece to fill in."""
    if report.passed:
        return False
    print(f"Fill in {what} above until the check passes; then this cell {action}.")
    return True


def float32(rng, shape, scale=1.0):
    return (scale * rng.normal(size=shape)).astype("float32")


__all__ = ["CheckReport", "LearnerError", "TOLERANCE", "as_array", "check_class", "compare",
           "float32", "matches", "not_implemented", "report", "run_learner", "waits_for"]
