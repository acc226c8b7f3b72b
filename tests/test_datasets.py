"""Tests of nbbackprop.datasets: shapes, dtypes, determinism, statistics, the digits file, bad arguments."""

import numpy as np
import pytest

from nbbackprop import datasets
from nbbackprop.datasets import (
    boolean_table,
    circles,
    gaussian_classes,
    load_digits,
    minibatches,
    moons,
    one_hot,
    spirals,
    train_test_split,
    xor,
)

MEANS = np.array([[0.0, 0.0], [3.0, 1.0], [-1.0, 2.0]])
COV = np.array([[1.0, 0.6], [0.6, 2.0]])

# name -> function of rng giving (X, y), and the expected (N, D, number of classes)
GENERATORS = {
    "xor": (lambda rng: xor(25, noise=0.1, rng=rng), (100, 2, 2)),
    "gaussian_classes": (lambda rng: gaussian_classes(90, MEANS, COV, rng=rng), (90, 2, 3)),
    "moons": (lambda rng: moons(101, noise=0.1, rng=rng), (101, 2, 2)),
    "circles": (lambda rng: circles(101, noise=0.05, rng=rng), (101, 2, 2)),
    "spirals": (lambda rng: spirals(100, n_classes=3, rng=rng), (100, 2, 3)),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_shapes_dtypes_and_labels(name):
    make, (n, d, k) = GENERATORS[name]
    X, y = make(np.random.default_rng(0))
    assert X.shape == (n, d) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(k))
    assert np.isfinite(X).all()


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_same_seed_same_data_other_seed_other_data(name):
    make, _ = GENERATORS[name]
    X1, y1 = make(np.random.default_rng(7))
    X2, y2 = make(np.random.default_rng(7))
    X3, _ = make(np.random.default_rng(8))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(X1, X3)


@pytest.mark.parametrize("name", ["moons", "circles", "spirals"])
def test_toy_sets_are_balanced_and_shuffled(name):
    _, y = GENERATORS[name][0](np.random.default_rng(0))
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1
    assert len(set(y[:20])) > 1  # not sorted by class


def test_boolean_table_by_hand():
    np.testing.assert_array_equal(boolean_table(2), [[0, 0], [0, 1], [1, 0], [1, 1]])
    table = boolean_table(3)
    assert table.shape == (8, 3) and table.dtype == np.float64
    # row i is i in binary, most significant bit first: 6 = 110
    np.testing.assert_array_equal(table[6], [1, 1, 0])
    np.testing.assert_array_equal(table @ [4, 2, 1], np.arange(8))


def test_xor_truth_table_needs_no_rng():
    X, y = xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    assert y.dtype == np.int64


def test_xor_noisy_points_stay_near_their_corner():
    X, y = xor(50, noise=0.05, rng=np.random.default_rng(1))
    corners = np.round(X)
    np.testing.assert_array_equal(y, corners[:, 0] != corners[:, 1])
    np.testing.assert_array_equal(np.bincount(y), [100, 100])


def test_moons_and_circles_without_noise_lie_on_their_curves():
    X, y = circles(40, noise=0.0, factor=0.3, rng=np.random.default_rng(0))
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), np.where(y == 0, 1.0, 0.3))
    X, y = moons(40, noise=0.0, rng=np.random.default_rng(0))
    centre = np.where(y[:, None] == 0, [0.0, 0.0], [1.0, 0.5])  # upper moon around 0, lower around (1, ½)
    np.testing.assert_allclose(np.linalg.norm(X - centre, axis=1), 1.0)


def test_spirals_arms_reach_radius_one():
    X, y = spirals(300, n_classes=3, noise=0.0, rng=np.random.default_rng(0))
    radius = np.linalg.norm(X, axis=1)
    for k in range(3):
        assert radius[y == k].min() == pytest.approx(0.0) and radius[y == k].max() == pytest.approx(1.0)


def test_gaussian_classes_statistics_match_the_model():
    rng = np.random.default_rng(0)
    priors = np.array([0.5, 0.3, 0.2])
    X, y = gaussian_classes(20_000, MEANS, COV, priors=priors, rng=rng)
    # class counts are multinomial: standard deviation sqrt(N p (1-p)) <= 71 here
    np.testing.assert_allclose(np.bincount(y) / len(y), priors, atol=0.015)
    for k in range(3):
        np.testing.assert_allclose(X[y == k].mean(axis=0), MEANS[k], atol=0.06)
    pooled = np.cov((X - MEANS[y]).T)  # the shared covariance, around each class mean
    np.testing.assert_allclose(pooled, COV, atol=0.06)


@pytest.mark.parametrize(
    ("cov", "message"),
    [
        ([[1.0, 2.0], [2.0, 1.0]], "positive definite"),  # eigenvalues 3 and -1
        ([[1.0, 0.5], [0.0, 1.0]], "symmetric"),
        ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], "cov"),
    ],
)
def test_gaussian_classes_rejects_a_bad_cov(cov, message):
    with pytest.raises(ValueError, match=f"gaussian_classes.*{message}"):
        gaussian_classes(10, MEANS, cov, rng=np.random.default_rng(0))


def test_gaussian_classes_rejects_bad_priors():
    with pytest.raises(ValueError, match=r"gaussian_classes.*priors"):
        gaussian_classes(10, MEANS, COV, priors=[0.5, 0.6, -0.1], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"gaussian_classes.*priors"):
        gaussian_classes(10, MEANS, COV, priors=[0.5, 0.5], rng=np.random.default_rng(0))


def test_load_digits_splits_and_ranges():
    X_train, y_train, X_test, y_test = load_digits()
    assert X_train.shape == (1438, 64) and X_test.shape == (359, 64)
    assert y_train.shape == (1438,) and y_test.shape == (359,)
    assert X_train.dtype == X_test.dtype == np.float64
    assert y_train.dtype == y_test.dtype == np.int64
    for X in (X_train, X_test):
        assert X.min() == 0.0 and X.max() == 1.0
    for y in (y_train, y_test):
        np.testing.assert_array_equal(np.unique(y), np.arange(10))
    raw = load_digits(scale=False)[0]
    np.testing.assert_array_equal(raw, 16 * X_train)
    assert raw.max() == 16.0


def test_load_digits_returns_fresh_copies():
    X_train, y_train, X_test, _ = load_digits()
    before = X_train[0].copy()
    X_train[:] = -1.0
    y_train[:] = 99
    X_test *= 0
    again = load_digits()
    np.testing.assert_array_equal(again[0][0], before)
    assert again[1].max() == 9 and again[2].max() == 1.0
    assert datasets._load_digits_raw.cache_info().hits >= 1  # read from disk once


def test_one_hot_by_hand():
    np.testing.assert_array_equal(one_hot([2, 0, 1, 2], 3), [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert one_hot(np.array([1]), 4).dtype == np.float64
    with pytest.raises(ValueError, match=r"one_hot expected y in 0\.\.2"):
        one_hot([0, 3], 3)


def test_train_test_split_partitions_the_samples():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    X_train, y_train, _, y_test = train_test_split(X, y, 0.3, rng=np.random.default_rng(0))
    assert len(y_test) == 3 and len(y_train) == 7
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_test])), y)
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)  # rows stay with their labels
    np.testing.assert_array_equal(X[:, 0], np.arange(0, 20, 2))  # input untouched


def test_minibatches_cover_every_index_once():
    np.testing.assert_array_equal(np.concatenate(list(minibatches(7, 3))), np.arange(7))
    assert [len(batch) for batch in minibatches(7, 3)] == [3, 3, 1]
    shuffled = np.concatenate(list(minibatches(50, 8, rng=np.random.default_rng(0))))
    assert sorted(shuffled) == list(range(50)) and not np.array_equal(shuffled, np.arange(50))


@pytest.mark.parametrize(
    ("call", "where"),
    [
        (lambda: boolean_table(0), "boolean_table"),
        (lambda: boolean_table(2.5), "boolean_table"),
        (lambda: xor(noise=0.1), "xor"),
        (lambda: xor(0, rng=np.random.default_rng(0)), "xor"),
        (lambda: xor(5), "xor"),  # no rng
        (lambda: moons(100, noise=-0.1, rng=np.random.default_rng(0)), "moons"),
        (lambda: moons(100), "moons"),
        (lambda: circles(100, factor=1.5, rng=np.random.default_rng(0)), "circles"),
        (lambda: spirals(100, n_classes=1, rng=np.random.default_rng(0)), "spirals"),
        (lambda: gaussian_classes(0, MEANS, COV, rng=np.random.default_rng(0)), "gaussian_classes"),
        (lambda: gaussian_classes(10, [0.0, 1.0], COV, rng=np.random.default_rng(0)), "gaussian_classes"),
        (lambda: load_digits(scale="yes"), "load_digits"),
        (lambda: one_hot([0, 1], 0), "one_hot"),
        (lambda: train_test_split(np.ones((4, 2)), [0, 1, 0], 0.5, np.random.default_rng(0)), "train_test_split"),
        (lambda: train_test_split(np.ones((4, 2)), [0, 1, 0, 1], 1.5, np.random.default_rng(0)), "train_test_split"),
        (lambda: minibatches(10, 0), "minibatches"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_function(call, where):
    with pytest.raises(ValueError, match=f"^{where} expected .* got "):
        call()


def test_rng_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match=r"moons expected rng as a numpy\.random\.Generator, got int"):
        moons(100, rng=0)
