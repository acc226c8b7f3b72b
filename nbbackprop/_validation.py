"""Input checks shared by the library: errors that echo what came and what was expected.

Every public function that takes arrays from a user calls one of these first, so a
wrong shape fails at the door with a message such as::

    Linear.fprop expected x with 5 features (shape (N, 5)), got shape (7, 3)
"""

import numpy as np

__all__ = ["as_float_array", "as_labels", "as_matrix", "as_vector", "check_same_length"]


def _fail(where, expected, value):
    got = f"shape {np.shape(value)}" if hasattr(value, "shape") else f"{type(value).__name__}"
    raise ValueError(f"{where} expected {expected}, got {got}")


def as_float_array(value, where, name="x", dtype=None):
    """Return ``value`` as a float array (float64 unless it already is float32)."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        array = value if dtype is None else value.astype(dtype, copy=False)
    else:
        try:
            array = np.asarray(value, dtype=dtype or np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{where} expected {name} as an array of numbers, got {type(value).__name__}"
            ) from None
    return array


def as_matrix(value, where, name="X", n_features=None, dtype=None):
    """Return a 2-D float array ``(N, D)``; check ``D == n_features`` when given."""
    array = as_float_array(value, where, name, dtype)
    if array.ndim != 2:
        wanted = "D" if n_features is None else n_features
        _fail(where, f"{name} as a 2-D array of shape (N, {wanted})", array)
    if n_features is not None and array.shape[1] != n_features:
        _fail(where, f"{name} with {n_features} features (shape (N, {n_features}))", array)
    return array


def as_vector(value, where, name="w", length=None, dtype=None):
    """Return a 1-D float array; check its length when given."""
    array = as_float_array(value, where, name, dtype)
    if array.ndim != 1 or (length is not None and array.shape[0] != length):
        wanted = "D" if length is None else length
        _fail(where, f"{name} as a 1-D array of shape ({wanted},)", array)
    return array


def as_labels(value, where, n_samples=None, n_classes=None, name="y"):
    """Return integer class labels of shape ``(N,)``, each in ``range(n_classes)``."""
    array = np.asarray(value)
    if array.ndim != 1 or (n_samples is not None and array.shape[0] != n_samples):
        wanted = "N" if n_samples is None else n_samples
        _fail(where, f"{name} as integer labels of shape ({wanted},)", array)
    if array.dtype.kind not in "iub":
        if array.dtype.kind == "f" and np.all(array == np.round(array)):
            array = array.astype(np.int64)
        else:
            raise TypeError(f"{where} expected {name} as integer labels, got dtype {array.dtype}")
    if n_classes is not None and array.size and (array.min() < 0 or array.max() >= n_classes):
        raise ValueError(
            f"{where} expected {name} in 0..{n_classes - 1}, "
            f"got values from {array.min()} to {array.max()}"
        )
    return array


def check_same_length(where, X, y, x_name="X", y_name="y"):
    """Raise unless ``X`` and ``y`` have the same number of samples."""
    if len(X) != len(y):
        raise ValueError(
            f"{where} expected {x_name} and {y_name} with the same number of samples, "
            f"got {len(X)} and {len(y)}"
        )
