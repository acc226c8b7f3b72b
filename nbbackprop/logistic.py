"""Logistic regression: the sigmoid, cross-entropy, its gradients, gradient descent and LDA.

Notation of lecture L02: a sample ``x`` (a row of ``X``), ``z = wᵀx + b``,
``a = σ(z)``, labels ``y ∈ {0, 1}``. On the logistic-regression graph the
backward pass is ``dz = a − y``, ``dw = (a − y) x``, ``db = a − y``,
averaged over the batch.
"""

import numpy as np

from ._validation import as_labels, as_matrix, as_vector
from .datasets import minibatches

__all__ = [
    "binary_cross_entropy",
    "fit_logistic",
    "lda_fit",
    "log_sigmoid",
    "logistic_gradients",
    "logistic_loss",
    "predict_logistic",
    "sigmoid",
]


def sigmoid(z):
    """σ(z) = 1 / (1 + e^{−z}), exact and without overflow for any finite ``z``.

    For ``z ≥ 0`` the textbook formula is safe; for ``z < 0`` it is rewritten as
    ``e^{z} / (1 + e^{z})`` so that the exponential never overflows.
    """
    z = np.asarray(z)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))[()]


def log_sigmoid(z):
    """log σ(z) = −log(1 + e^{−z}), computed without overflow or log(0)."""
    z = np.asarray(z, dtype=np.float64)
    return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))


def binary_cross_entropy(a, y):
    """Mean binary cross-entropy ``−mean(y log a + (1 − y) log(1 − a))``.

    Parameters
    ----------
    a : array (N,)
        Predicted probabilities σ(z), clipped into ``[1e-15, 1 − 1e-15]`` so a
        confident mistake costs a large but finite loss.
    y : array (N,)
        Labels in {0, 1}.
    """
    a = as_vector(a, "binary_cross_entropy", "a")
    y = as_vector(y, "binary_cross_entropy", "y", length=a.shape[0])
    a = np.clip(a, 1e-15, 1.0 - 1e-15)
    return float(-np.mean(y * np.log(a) + (1.0 - y) * np.log1p(-a)))


def logistic_loss(z, t):
    """Mean logistic loss ``mean(log(1 + e^{−t z}))`` for labels ``t ∈ {−1, 1}``.

    The same loss as cross-entropy with ``y = (t + 1) / 2``, written for ±1 labels.
    """
    z = as_vector(z, "logistic_loss", "z")
    t = as_vector(t, "logistic_loss", "t", length=z.shape[0])
    if not np.all(np.abs(t) == 1):
        raise ValueError("logistic_loss expected labels t in {-1, 1}, got other values")
    return float(-np.mean(log_sigmoid(t * z)))


def _check_logistic_inputs(where, X, y, w=None):
    X = as_matrix(X, where)
    y = as_vector(y, where, "y", length=X.shape[0])
    if w is not None:
        w = as_vector(w, where, "w", length=X.shape[1])
    return X, y, w


def logistic_gradients(X, y, w, b):
    """Gradient of the mean BCE of ``σ(X w + b)`` with respect to ``w`` and ``b``.

    ``dw = Xᵀ (a − y) / N`` of shape ``(D,)``, ``db = mean(a − y)``.

    Parameters
    ----------
    X : array (N, D)
    y : array (N,) of 0/1
    w : array (D,)
    b : float

    Returns
    -------
    (dw, db) : (array (D,), float)
    """
    X, y, w = _check_logistic_inputs("logistic_gradients", X, y, w)
    dz = sigmoid(X @ w + b) - y  # (N,)
    return X.T @ dz / X.shape[0], float(dz.mean())


def predict_logistic(X, w, b):
    """Class 1 where ``σ(X w + b) ≥ ½``, i.e. where ``X w + b ≥ 0``; int array ``(N,)``."""
    X = as_matrix(X, "predict_logistic")
    w = as_vector(w, "predict_logistic", "w", length=X.shape[1])
    return (X @ w + b >= 0).astype(np.int64)


def fit_logistic(X, y, lr=0.1, epochs=100, batch_size=None, rng=None):
    """Fit logistic regression by gradient descent on the mean BCE, from ``w = 0, b = 0``.

    Parameters
    ----------
    X : array (N, D)
    y : array (N,) of 0/1
    lr : float
        Step size.
    epochs : int
        Passes over the data.
    batch_size : int or None
        ``None`` for batch gradient descent (one step per epoch); otherwise
        minibatch SGD visiting the samples in a fresh random order each epoch.
    rng : numpy.random.Generator
        Needed for minibatch SGD (the shuffling); unused for batch descent.

    Returns
    -------
    (w, b, losses) : (array (D,), float, list of float)
        ``losses[k]`` is the loss on the whole training set after epoch ``k``.
    """
    X, y, _ = _check_logistic_inputs("fit_logistic", X, y)
    if batch_size is not None and rng is None:
        raise ValueError("fit_logistic expected rng (a numpy.random.Generator) for minibatch SGD, got None")
    n = X.shape[0]
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        # batch descent: one batch of every sample, in order; no draw from rng
        for idx in minibatches(n, n, None) if batch_size is None else minibatches(n, batch_size, rng):
            dw, db = logistic_gradients(X[idx], y[idx], w, b)
            w, b = w - lr * dw, b - lr * db
        losses.append(binary_cross_entropy(sigmoid(X @ w + b), y))
    return w, b, losses


def lda_fit(X, y):
    """Linear discriminant analysis for two Gaussian classes with a shared covariance.

    With class means ``μ₀, μ₁``, pooled covariance ``Σ`` and priors ``π₀, π₁``,
    the posterior is ``P(y=1 | x) = σ(wᵀx + b)`` with

    ``w = Σ⁻¹ (μ₁ − μ₀)``,
    ``b = −½ μ₁ᵀ Σ⁻¹ μ₁ + ½ μ₀ᵀ Σ⁻¹ μ₀ + log(π₁ / π₀)``.

    Returns
    -------
    (w, b) : (array (D,), float)
    """
    X = as_matrix(X, "lda_fit")
    y = as_labels(y, "lda_fit", n_samples=X.shape[0], n_classes=2)
    X0, X1 = X[y == 0], X[y == 1]
    if len(X0) < 1 or len(X1) < 1 or len(X) < 3:
        raise ValueError("lda_fit expected samples of both classes 0 and 1, got only one class")
    mu0, mu1 = X0.mean(axis=0), X1.mean(axis=0)
    centred = np.concatenate([X0 - mu0, X1 - mu1])
    cov = centred.T @ centred / (len(X) - 2)  # pooled, unbiased
    w = np.linalg.solve(cov, mu1 - mu0)
    b = -0.5 * (mu1 + mu0) @ w + np.log(len(X1) / len(X0))
    return w, float(b)
