"""Logistic regression: hand-worked values, finite differences, stability, LDA."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbbackprop.gradcheck import numerical_gradient, relative_error
from nbbackprop.logistic import (
    binary_cross_entropy,
    fit_logistic,
    lda_fit,
    log_sigmoid,
    logistic_gradients,
    logistic_loss,
    predict_logistic,
    sigmoid,
)


def test_sigmoid_worked_by_hand():
    # σ(0) = 1/2;  σ(ln 3) = 1/(1 + 1/3) = 3/4;  σ(−ln 3) = 1/4
    np.testing.assert_allclose(sigmoid(np.array([0.0, np.log(3), -np.log(3)])), [0.5, 0.75, 0.25], rtol=1e-15)


def test_sigmoid_is_exact_and_quiet_for_huge_inputs():
    z = np.array([-1e4, -745.0, -40.0, 40.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sigmoid(z)
    assert out[0] == 0.0 and out[-1] == 1.0
    # σ(−40) = e^{−40}/(1 + e^{−40}) to full relative precision, not 1 − (1 − tiny)
    np.testing.assert_allclose(out[2], np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=1e-15)
    np.testing.assert_allclose(out[3], 1.0 / (1 + np.exp(-40.0)), rtol=1e-15)


@given(st.floats(-700, 700))
def test_sigmoid_symmetry(z):
    # σ(−z) = 1 − σ(z) and log σ matches log of σ where σ is representable
    assert abs(sigmoid(-z) - (1.0 - sigmoid(z))) <= 1e-15
    if sigmoid(z) > 1e-300:
        assert abs(log_sigmoid(z) - np.log(sigmoid(z))) <= 1e-12 * max(1.0, abs(z))


def test_binary_cross_entropy_worked_by_hand():
    # −½ (log 0.8 + log(1 − 0.4)) = −½ (−0.22314355 − 0.51082562) = 0.36698459
    assert binary_cross_entropy(np.array([0.8, 0.4]), np.array([1.0, 0.0])) == pytest.approx(0.3669845875, abs=1e-9)


def test_binary_cross_entropy_of_a_confident_mistake_is_large_but_finite():
    loss = binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    assert np.isfinite(loss) and loss > 30


def test_logistic_loss_equals_bce_with_mapped_labels():
    rng = np.random.default_rng(0)
    z = 3 * rng.standard_normal(11)
    t = rng.choice([-1.0, 1.0], size=11)
    assert logistic_loss(z, t) == pytest.approx(binary_cross_entropy(sigmoid(z), (t + 1) / 2), rel=1e-12)


def test_logistic_gradients_worked_by_hand():
    # X = [[1, 2], [3, −1]], y = [1, 0], w = 0, b = 0 ⇒ a = [½, ½], a − y = [−½, ½]
    # dw = Xᵀ(a − y)/2 = ([1·(−½) + 3·½], [2·(−½) + (−1)·½]) / 2 = (1, −1.5)/2 = (0.5, −0.75); db = 0
    dw, db = logistic_gradients(np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([1.0, 0.0]), np.zeros(2), 0.0)
    np.testing.assert_allclose(dw, [0.5, -0.75], rtol=1e-15)
    assert db == 0.0


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 9), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_logistic_gradients_match_finite_differences(n, d, seed):
    rng = np.random.default_rng(seed)
    X, w = rng.standard_normal((n, d)), rng.standard_normal(d)
    y = rng.integers(0, 2, n).astype(float)
    b = np.array([0.3])
    frozen = X.copy()

    def loss():
        return binary_cross_entropy(sigmoid(X @ w + b[0]), y)

    dw, db = logistic_gradients(X, y, w, b[0])
    assert relative_error(dw, numerical_gradient(loss, w)) < 1e-6  # see PROPERTY_TOL in test_modules
    assert relative_error(np.array([db]), numerical_gradient(loss, b)) < 1e-6  # see PROPERTY_TOL in test_modules
    np.testing.assert_array_equal(X, frozen)


def test_fit_logistic_batch_and_minibatch_learn_a_separable_problem():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 2))
    y = (X @ np.array([2.0, -1.0]) + 0.5 > 0).astype(float)
    w, b, losses = fit_logistic(X, y, lr=0.5, epochs=200)
    assert len(losses) == 200 and losses[-1] < losses[0] / 3
    assert np.all(np.diff(losses) <= 1e-12)  # full-batch descent with a small step never goes up here
    assert np.mean(predict_logistic(X, w, b) == y) > 0.97
    w2, b2, _ = fit_logistic(X, y, lr=0.5, epochs=20, batch_size=16, rng=np.random.default_rng(2))
    assert np.mean(predict_logistic(X, w2, b2) == y) > 0.97
    w3, _, _ = fit_logistic(X, y, lr=0.5, epochs=20, batch_size=16, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(w2, w3)  # deterministic given the generator


def test_fit_logistic_minibatch_needs_a_generator():
    with pytest.raises(ValueError, match="rng"):
        fit_logistic(np.zeros((4, 2)), np.zeros(4), batch_size=2)


def test_lda_worked_by_hand():
    # class 0: the corners (−1 ± 1, ±1) of a square around μ₀ = (−1, 0); class 1: the same around μ₁ = (1, 0)
    X0 = np.array([[-2.0, 1.0], [0.0, -1.0], [-2.0, -1.0], [0.0, 1.0]])
    X1 = X0 + np.array([2.0, 0.0])
    X = np.concatenate([X0, X1])
    y = np.array([0] * 4 + [1] * 4)
    # the 8 centred points are (±1, ±1): Σ xxᵀ = 8·I (the ±1 cross terms cancel), Σ = 8·I / (8 − 2) = (4/3) I
    # w = Σ⁻¹ (μ₁ − μ₀) = (3/4)·(2, 0) = (1.5, 0);  b = −½ (μ₁ + μ₀)·w + log(4/4) = −½ (0, 0)·w = 0
    w, b = lda_fit(X, y)
    np.testing.assert_allclose(w, [1.5, 0.0], atol=1e-12)
    assert b == pytest.approx(0.0, abs=1e-12)


def test_lda_posterior_is_the_sigmoid_of_a_linear_function():
    # Bayes' rule with the true Gaussian densities equals σ(wᵀx + b) from the closed form
    mu0, mu1 = np.array([0.0, 1.0]), np.array([2.0, -1.0])
    cov = np.array([[1.0, 0.3], [0.3, 0.5]])
    prior1 = 0.3
    inv = np.linalg.inv(cov)
    x = np.random.default_rng(4).standard_normal((9, 2))

    def density(mu):
        d = x - mu
        return np.exp(-0.5 * np.einsum("ni,ij,nj->n", d, inv, d))  # the shared normaliser cancels

    posterior = prior1 * density(mu1) / (prior1 * density(mu1) + (1 - prior1) * density(mu0))
    w = inv @ (mu1 - mu0)
    b = -0.5 * mu1 @ inv @ mu1 + 0.5 * mu0 @ inv @ mu0 + np.log(prior1 / (1 - prior1))
    np.testing.assert_allclose(sigmoid(x @ w + b), posterior, rtol=1e-12)
    # and lda_fit recovers w, b from a large sample
    rng = np.random.default_rng(5)
    n1 = 30_000
    n0 = 70_000
    X = np.concatenate([rng.multivariate_normal(mu0, cov, n0), rng.multivariate_normal(mu1, cov, n1)])
    y = np.array([0] * n0 + [1] * n1)
    w_hat, b_hat = lda_fit(X, y)
    np.testing.assert_allclose(w_hat, w, rtol=0.05)
    assert b_hat == pytest.approx(b, abs=0.1)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: logistic_gradients(np.zeros((3, 2)), np.zeros(3), np.zeros(4), 0.0), "w as a 1-D array of shape (2,)"),
        (lambda: logistic_gradients(np.zeros((3, 2)), np.zeros(2), np.zeros(2), 0.0), "y as a 1-D array of shape (3,)"),
        (lambda: binary_cross_entropy(np.zeros((2, 2)), np.zeros(2)), "binary_cross_entropy expected a"),
        (lambda: lda_fit(np.zeros((3, 2)), np.array([0, 0, 0])), "both classes"),
        (lambda: logistic_loss(np.zeros(2), np.array([0.0, 1.0])), "{-1, 1}"),
    ],
)
def test_input_errors_are_clear(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


def test_inputs_are_not_mutated():
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    y = np.array([1.0, 0.0])
    w = np.array([0.1, 0.2])
    for array in (X, y, w):
        array.flags.writeable = False
    logistic_gradients(X, y, w, 0.0)
    fit_logistic(X, y, epochs=2)
