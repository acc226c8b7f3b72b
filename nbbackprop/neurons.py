"""Threshold logic units, Boolean gates built from them, and Rosenblatt's perceptron (lecture L01).

A threshold logic unit (McCulloch & Pitts) fires when its weighted input
reaches the threshold: ``ŷ = 1 if wᵀx + b ≥ 0 else 0``. One unit draws a
straight line through the input space, so it can compute AND, OR and NOT but
not XOR; a network of five units can.
"""

import numpy as np

from ._validation import as_labels, as_matrix, as_vector, check_same_length

__all__ = ["and_gate", "not_gate", "or_gate", "perceptron_predict", "perceptron_train", "tlu", "xor_gate"]


def tlu(X, w, b):
    """Threshold logic unit: 1 where ``X w + b ≥ 0``, else 0.

    Parameters
    ----------
    X : array (N, D)
    w : array (D,)
    b : float

    Returns
    -------
    int array (N,)
    """
    X = as_matrix(X, "tlu")
    w = as_vector(w, "tlu", "w", length=X.shape[1])
    return (X @ w + b >= 0).astype(np.int64)


def _bits(where, *arrays):
    """Stack 0/1 arrays of equal shape ``(N,)`` into the columns of an ``(N, k)`` matrix."""
    columns = [np.asarray(a) for a in arrays]
    for name, column in zip("ab", columns):
        if column.ndim != 1 or column.shape != columns[0].shape:
            raise ValueError(
                f"{where} expected {name} as a 1-D array of shape {columns[0].shape}, got shape {column.shape}"
            )
        if not np.isin(column, (0, 1)).all():
            raise ValueError(f"{where} expected {name} with values in {{0, 1}}, got {np.unique(column)}")
    return np.stack(columns, axis=1)


def and_gate(a, b):
    """a AND b: fires only when both inputs are on, ``a + b − 1.5 ≥ 0``."""
    return tlu(_bits("and_gate", a, b), np.array([1.0, 1.0]), -1.5)


def or_gate(a, b):
    """a OR b: fires when at least one input is on, ``a + b − 0.5 ≥ 0``."""
    return tlu(_bits("or_gate", a, b), np.array([1.0, 1.0]), -0.5)


def not_gate(a):
    """NOT a: fires when the input is off, ``−a + 0.5 ≥ 0``."""
    return tlu(_bits("not_gate", a), np.array([-1.0]), 0.5)


def xor_gate(a, b):
    """a XOR b = (a AND NOT b) OR (NOT a AND b): five threshold units in three layers.

    Layer 1: ``NOT a``, ``NOT b``; layer 2: ``a AND NOT b``, ``NOT a AND b``;
    layer 3: their OR. No single unit can do it: XOR is not linearly separable.
    """
    return or_gate(and_gate(a, not_gate(b)), and_gate(not_gate(a), b))


def perceptron_predict(X, w, b):
    """The perceptron's output ``ŷ = 1[X w + b ≥ 0]`` — a TLU with learned weights."""
    return tlu(X, w, b)


def perceptron_train(X, y, lr=1.0, epochs=10):
    """Rosenblatt's perceptron learning rule, from ``w = 0, b = 0``.

    Visits the samples in order, ``epochs`` times; after each sample
    ``w += lr (y_i − ŷ_i) x_i`` and ``b += lr (y_i − ŷ_i)``, so weights move only
    on mistakes. On linearly separable data it stops changing after finitely
    many mistakes (the perceptron convergence theorem).

    Parameters
    ----------
    X : array (N, D)
    y : array (N,) of 0/1
    lr : float
    epochs : int

    Returns
    -------
    (w, b) : (array (D,), float)
    """
    X = as_matrix(X, "perceptron_train")
    y = as_labels(y, "perceptron_train", n_samples=X.shape[0], n_classes=2)
    check_same_length("perceptron_train", X, y)
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(int(epochs)):
        for x_i, y_i in zip(X, y):
            error = y_i - (x_i @ w + b >= 0)
            if error:
                w = w + lr * error * x_i
                b = b + lr * error
    return w, float(b)
