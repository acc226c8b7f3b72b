"""Data sets for the lectures: truth tables, 2-D toy problems and handwritten digits.

Every generator returns float64 inputs ``X`` of shape ``(N, D)`` and int64
labels ``y`` of shape ``(N,)``. Randomness comes only from the ``rng`` you pass
(a ``numpy.random.Generator``), so the same seed gives the same data.
"""

import functools
import numbers
from importlib import resources

import numpy as np

from ._validation import as_labels, as_matrix, as_vector, check_same_length

__all__ = [
    "boolean_table",
    "circles",
    "gaussian_classes",
    "load_digits",
    "minibatches",
    "moons",
    "one_hot",
    "spirals",
    "train_test_split",
    "xor",
]


# --- argument checks ---------------------------------------------------------


def _check_rng(rng, where):
    if rng is None:
        raise ValueError(f"{where} expected rng, a numpy.random.Generator (e.g. numpy.random.default_rng(0)), got None")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{where} expected rng as a numpy.random.Generator, got {type(rng).__name__}")


def _check_int(value, where, name, low=1, high=None):
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        wanted = f"an integer >= {low}" if high is None else f"an integer in {low}..{high}"
        raise ValueError(f"{where} expected {name} as {wanted}, got {value!r}")
    return int(value)


def _check_noise(noise, where, name="noise"):
    if not isinstance(noise, numbers.Real) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"{where} expected {name} as a finite number >= 0, got {noise!r}")
    return float(noise)


def _shuffled(X, y, rng):
    order = rng.permutation(len(y))
    return X[order], y[order]


# --- truth tables ------------------------------------------------------------


def boolean_table(n_inputs=2):
    """All ``2**n_inputs`` rows of 0/1 inputs, in binary counting order.

    Row ``i`` is ``i`` written in binary, most significant bit first, so
    ``boolean_table(2)`` is ``[[0, 0], [0, 1], [1, 0], [1, 1]]``.

    Returns
    -------
    X : array (2**n_inputs, n_inputs), float64
    """
    n_inputs = _check_int(n_inputs, "boolean_table", "n_inputs", 1, 20)
    bits = np.arange(n_inputs - 1, -1, -1)
    return ((np.arange(2**n_inputs)[:, None] >> bits) & 1).astype(np.float64)


def xor(n_per_corner=None, noise=0.0, rng=None):
    """The XOR problem: ``y = x₁ ⊕ x₂``, the function no single TLU computes.

    Parameters
    ----------
    n_per_corner : int, optional
        ``None`` gives the exact truth table (4 rows, no randomness). An integer
        gives that many points around each corner of the unit square, shuffled.
    noise : float
        Standard deviation of the Gaussian noise added to the corner points.
    rng : numpy.random.Generator
        Needed when ``n_per_corner`` is given.

    Returns
    -------
    X : array (4 * n_per_corner, 2), float64
    y : array (4 * n_per_corner,), int64
        1 where exactly one of the corner's coordinates is 1.
    """
    noise = _check_noise(noise, "xor")
    corners = boolean_table(2)
    labels = (corners[:, 0] != corners[:, 1]).astype(np.int64)
    if n_per_corner is None:
        if noise > 0:
            raise ValueError(f"xor expected n_per_corner (an integer) when noise > 0, got noise={noise} alone")
        return corners, labels
    n = _check_int(n_per_corner, "xor", "n_per_corner")
    _check_rng(rng, "xor")
    X = np.repeat(corners, n, axis=0) + noise * rng.standard_normal((4 * n, 2))
    return _shuffled(X, np.repeat(labels, n), rng)


# --- Gaussian classes (LDA) --------------------------------------------------


def gaussian_classes(n_samples, means, cov, priors=None, rng=None):
    """Samples from K Gaussian classes that share one covariance matrix.

    The generative model of linear discriminant analysis (lecture L02)::

        y ~ Categorical(priors),    x | y ~ N(means[y], cov)

    Each label is drawn independently from ``priors``, so the class counts are
    random (multinomial); the samples come out already in random order.
    ``x = means[y] + L z`` with ``z ~ N(0, I)`` and ``cov = L Lᵀ`` (Cholesky).

    Parameters
    ----------
    n_samples : int
    means : array (K, D)
        One row per class.
    cov : array (D, D)
        Shared covariance; must be symmetric positive definite.
    priors : array (K,), optional
        Class probabilities, non-negative, summing to 1; uniform by default.
    rng : numpy.random.Generator

    Returns
    -------
    X : array (n_samples, D), float64
    y : array (n_samples,), int64 in ``0..K-1``
    """
    where = "gaussian_classes"
    n_samples = _check_int(n_samples, where, "n_samples")
    means = as_matrix(means, where, "means")
    n_classes, n_features = means.shape
    cov = as_matrix(cov, where, "cov", n_features)
    if cov.shape != (n_features, n_features):
        raise ValueError(f"{where} expected cov of shape ({n_features}, {n_features}), got shape {cov.shape}")
    if not np.allclose(cov, cov.T):
        raise ValueError(f"{where} expected a symmetric cov, got one with cov != cov.T")
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        eigenvalues = np.linalg.eigvalsh(cov)
        raise ValueError(
            f"{where} expected a positive definite cov, got smallest eigenvalue {eigenvalues.min():.3g}"
        ) from None
    if priors is None:
        priors = np.full(n_classes, 1.0 / n_classes)
    priors = as_vector(priors, where, "priors", n_classes)
    if np.any(priors < 0) or not np.isclose(priors.sum(), 1.0):
        raise ValueError(f"{where} expected priors >= 0 summing to 1, got {np.round(priors, 3).tolist()}")
    _check_rng(rng, where)
    y = rng.choice(n_classes, size=n_samples, p=priors / priors.sum()).astype(np.int64)
    X = means[y] + rng.standard_normal((n_samples, n_features)) @ chol.T
    return X, y


# --- 2-D toy problems --------------------------------------------------------


def moons(n_samples, noise=0.1, rng=None):
    """Two interleaving half circles, shuffled.

    Class 0 is the upper moon ``(cos t, sin t)``, class 1 the lower one
    ``(1 − cos t, ½ − sin t)``, for ``t`` evenly spaced in ``[0, π]``;
    Gaussian noise of standard deviation ``noise`` is added to both coordinates.

    Returns
    -------
    X : array (n_samples, 2), float64
    y : array (n_samples,), int64 in {0, 1}
    """
    n_samples = _check_int(n_samples, "moons", "n_samples", 2)
    noise = _check_noise(noise, "moons")
    _check_rng(rng, "moons")
    n_upper = n_samples // 2
    t_upper = np.linspace(0, np.pi, n_upper)
    t_lower = np.linspace(0, np.pi, n_samples - n_upper)
    X = np.concatenate([
        np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
        np.column_stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)]),
    ])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_upper, n_samples - n_upper])
    return _shuffled(X + noise * rng.standard_normal(X.shape), y, rng)


def circles(n_samples, noise=0.05, factor=0.5, rng=None):
    """Two concentric circles, shuffled: class 0 of radius 1, class 1 of radius ``factor``.

    Points are evenly spaced in angle; Gaussian noise of standard deviation
    ``noise`` is added to both coordinates.

    Returns
    -------
    X : array (n_samples, 2), float64
    y : array (n_samples,), int64 in {0, 1}
    """
    n_samples = _check_int(n_samples, "circles", "n_samples", 2)
    noise = _check_noise(noise, "circles")
    if not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"circles expected factor (inner radius / outer radius) in (0, 1), got {factor!r}")
    _check_rng(rng, "circles")
    n_outer = n_samples // 2
    t_outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0, 2 * np.pi, n_samples - n_outer, endpoint=False)
    X = np.concatenate([
        np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
        factor * np.column_stack([np.cos(t_inner), np.sin(t_inner)]),
    ])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_outer, n_samples - n_outer])
    return _shuffled(X + noise * rng.standard_normal(X.shape), y, rng)


def spirals(n_samples, n_classes=3, noise=0.2, rng=None):
    """K interleaved spiral arms, one per class (the CS231n spiral), shuffled.

    Arm ``k`` has radius ``r`` evenly spaced in ``[0, 1]`` and angle
    ``θ = 4k + 4r + ε`` with ``ε ~ N(0, noise²)``: the point is ``r (sin θ, cos θ)``.
    Note that ``noise`` is in radians, on the angle, as in CS231n.

    Returns
    -------
    X : array (n_samples, 2), float64
    y : array (n_samples,), int64 in ``0..n_classes-1``
        Classes as balanced as ``n_samples`` allows.
    """
    n_classes = _check_int(n_classes, "spirals", "n_classes", 2)
    n_samples = _check_int(n_samples, "spirals", "n_samples", n_classes)
    noise = _check_noise(noise, "spirals")
    _check_rng(rng, "spirals")
    counts = [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]
    y = np.repeat(np.arange(n_classes, dtype=np.int64), counts)
    radius = np.concatenate([np.linspace(0, 1, count) for count in counts])
    theta = 4 * y + 4 * radius + noise * rng.standard_normal(n_samples)
    X = radius[:, None] * np.column_stack([np.sin(theta), np.cos(theta)])
    return _shuffled(X, y, rng)


# --- handwritten digits ------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _load_digits_raw():
    """Read ``data/digits.npz`` once; the arrays are made read-only to protect the cache."""
    with resources.files(__package__).joinpath("data/digits.npz").open("rb") as file, np.load(file) as data:
        arrays = {key: data[key] for key in ("X_train", "y_train", "X_test", "y_test")}
    for array in arrays.values():
        array.flags.writeable = False
    return arrays


def load_digits(scale=True):
    """The 8×8 handwritten digits, split 1438 train / 359 test (fixed, stratified).

    The images are the UCI "Optical Recognition of Handwritten Digits" set
    (Alpaydin & Kaynak, 1998) in the 8×8 form shipped with scikit-learn
    (BSD-3-Clause, data CC BY 4.0), stored in ``nbbackprop/data/digits.npz``:
    each pixel counts the "on" cells of a 4×4 block of a 32×32 bitmap, 0..16.
    No network access and no scikit-learn needed.

    Parameters
    ----------
    scale : bool
        Divide the pixels by 16 into ``[0, 1]`` (default); else keep 0..16.

    Returns
    -------
    X_train : array (1438, 64), float64
        One flattened image per row; ``X_train[i].reshape(8, 8)`` is the image.
    y_train : array (1438,), int64 in 0..9
    X_test : array (359, 64), float64
    y_test : array (359,), int64 in 0..9
        Fresh copies at every call: changing them never changes the next call.
    """
    if not isinstance(scale, bool):
        raise ValueError(f"load_digits expected scale as True or False, got {scale!r}")
    raw = _load_digits_raw()
    divisor = 16.0 if scale else 1.0
    return tuple(
        raw[key].astype(np.float64) / divisor if key.startswith("X") else raw[key].astype(np.int64)
        for key in ("X_train", "y_train", "X_test", "y_test")
    )


# --- helpers for training ----------------------------------------------------


def one_hot(y, n_classes):
    """One-hot rows: ``Y[i, k] = 1`` if ``y[i] == k`` else 0.

    Parameters
    ----------
    y : array (N,) of int in ``0..n_classes-1``
    n_classes : int

    Returns
    -------
    Y : array (N, n_classes), float64
    """
    n_classes = _check_int(n_classes, "one_hot", "n_classes")
    y = as_labels(y, "one_hot", n_classes=n_classes)
    Y = np.zeros((y.shape[0], n_classes))
    Y[np.arange(y.shape[0]), y] = 1.0
    return Y


def train_test_split(X, y, test_fraction=0.2, rng=None):
    """Shuffle the samples with ``rng`` and hold out ``round(test_fraction · N)`` of them.

    Returns ``(X_train, y_train, X_test, y_test)``, the order of
    :func:`load_digits` (not scikit-learn's). The inputs are not changed.

    Parameters
    ----------
    X : array (N, D)
    y : array (N,) of int
    test_fraction : float in (0, 1)
    rng : numpy.random.Generator
    """
    X = as_matrix(X, "train_test_split")
    y = as_labels(y, "train_test_split")
    check_same_length("train_test_split", X, y)
    if not isinstance(test_fraction, numbers.Real) or not 0 < test_fraction < 1:
        raise ValueError(f"train_test_split expected test_fraction in (0, 1), got {test_fraction!r}")
    n_test = round(test_fraction * len(y))
    if not 0 < n_test < len(y):
        raise ValueError(
            f"train_test_split expected a split with samples on both sides, "
            f"got {n_test} test samples out of {len(y)}"
        )
    _check_rng(rng, "train_test_split")
    order = rng.permutation(len(y))
    train, test = order[n_test:], order[:n_test]
    return X[train], y[train], X[test], y[test]


def minibatches(n_samples, batch_size, rng=None):
    """Index arrays that cover ``range(n_samples)`` once, ``batch_size`` at a time.

    The order is shuffled by ``rng``, or kept as is when ``rng`` is None; the
    last batch is smaller when ``batch_size`` does not divide ``n_samples``.
    Use as ``for idx in minibatches(len(y), 32, rng): step(X[idx], y[idx])``.
    """
    n_samples = _check_int(n_samples, "minibatches", "n_samples")
    batch_size = _check_int(batch_size, "minibatches", "batch_size")
    if rng is not None:
        _check_rng(rng, "minibatches")
    order = np.arange(n_samples) if rng is None else rng.permutation(n_samples)
    return (order[start : start + batch_size] for start in range(0, n_samples, batch_size))
