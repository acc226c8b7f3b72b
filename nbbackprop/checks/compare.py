"""Comparing a student's numbers with the expected ones, and naming the difference.

:func:`close` is the one closeness test of the checks; :func:`diagnose` turns a
wrong answer into a diagnosis code, trying the answers of typical bugs first.
"""

import numpy as np

from .verdict import Raised

RTOL = 1e-7  # tight enough to fail a one-sided difference (~1e-5), loose enough for loops and einsum (~1e-15)


def as_numbers(value):
    """``value`` as a float array, or None when it is not real numbers (strings, complex, ragged lists, objects)."""
    if isinstance(value, Raised) or value is None:
        return None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return None
    return array.astype(float) if array.dtype.kind in "biuf" else None


def close(got, expected, rtol=RTOL):
    """Same shape and every entry within ``rtol`` of the expected scale."""
    got, expected = as_numbers(got), np.asarray(expected, dtype=float)
    if got is None or got.shape != expected.shape:
        return False
    if not np.all(np.isfinite(got)):
        return False
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return bool(np.all(np.abs(got - expected) <= rtol * np.abs(expected) + 1e-9 * rtol * scale + 1e-300))


def fmt(value, digits=3):
    """Numbers with few digits, for messages."""
    if isinstance(value, Raised):
        return value.message
    array = as_numbers(value)
    if array is None:
        return repr(value)[:80]
    with np.printoptions(precision=digits, suppress=True, threshold=12, edgeitems=2, linewidth=100):
        text = np.array2string(array, separator=", ") if array.ndim else f"{float(array):.{digits + 1}g}"
    return " ".join(text.split())


def diagnose(got, expected, alternatives=(), batch=None):
    """The diagnosis code of ``got`` against ``expected``.

    ``alternatives`` are ``(code, value)`` pairs: the answers typical bugs give
    on the same input (computed by the judge), tried before the generic causes.
    Then: transpose, shape, unstable, sign, ``scale-batch`` (off by ``batch``),
    ``scale`` (another constant factor, shared by several entries), else ``mismatch``.
    """
    if isinstance(got, Raised):
        return got.code
    expected = np.asarray(expected, dtype=float)
    array = as_numbers(got)
    if array is None:
        return "shape"
    if close(array, expected):
        return "ok"
    for code, value, *_ in alternatives:
        if value is not None and close(array, value):
            return code
    if array.shape != expected.shape:
        if array.ndim == 2 and array.shape == expected.T.shape and close(array, expected.T):
            return "transpose"
        if array.size == expected.size and close(array.reshape(expected.shape), expected):
            return "shape"
        return "shape"
    if not np.all(np.isfinite(array)):
        return "unstable"
    if close(-array, expected):
        return "sign"
    if batch and (close(array * batch, expected) or close(array / batch, expected)):
        return "scale-batch"
    # a constant factor only means something across several entries: one number "fits" every factor,
    # so a wrong scalar is a mismatch unless a typical bug (an alternative) reproduces it
    denominator = float(np.sum(expected * expected))
    if array.size > 1 and denominator > 0:
        factor = float(np.sum(array * expected)) / denominator
        if abs(factor - 1.0) > 1e-3 and abs(factor) > 1e-12 and close(array, factor * expected):
            return "scale"
    return "mismatch"
