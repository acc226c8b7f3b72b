"""The matrix-form MLP: a network worked by hand, finite differences, the modules, and the digits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbbackprop import mlp
from nbbackprop.gradcheck import numerical_gradient, relative_error
from nbbackprop.modules import Linear, Sequential, Sigmoid, SoftmaxCrossEntropy


def test_a_tiny_network_worked_by_hand():
    # X = [[1, 0]], W¹ = 0, b¹ = 0 ⇒ a¹ = σ(0) = (½, ½)
    # W² = [[1, −1], [1, −1]], b² = 0 ⇒ z² = (½ + ½, −½ − ½) = (1, −1)
    # softmax(1, −1) = (e, e⁻¹)/(e + e⁻¹) = (0.880797, 0.119203);  y = 0 ⇒ loss = −log 0.880797 = 0.126928
    params = [(np.zeros((2, 2)), np.zeros(2)), (np.array([[1.0, -1.0], [1.0, -1.0]]), np.zeros(2))]
    probs, cache = mlp.forward(params, np.array([[1.0, 0.0]]))
    p0 = np.e / (np.e + 1 / np.e)
    np.testing.assert_allclose(probs, [[p0, 1 - p0]], rtol=1e-15)
    assert mlp.cross_entropy(probs, np.array([0])) == pytest.approx(-np.log(p0), rel=1e-14)
    (dW1, db1), (dW2, db2) = mlp.backward(params, cache, np.array([0]))
    # δ² = p − onehot = (−0.119203, 0.119203);  ∂W² = a¹ᵀ δ² = ½ δ² in each row;  ∂b² = δ²
    d = 1 - p0
    np.testing.assert_allclose(dW2, [[-d / 2, d / 2], [-d / 2, d / 2]], rtol=1e-14)
    np.testing.assert_allclose(db2, [-d, d], rtol=1e-14)
    # δ¹ = (δ² W²ᵀ) ⊙ a¹(1 − a¹) = (−d − d, −d − d) · ¼ = (−d/2, −d/2);  ∂W¹ = Xᵀ δ¹ = [[−d/2, −d/2], [0, 0]]
    np.testing.assert_allclose(dW1, [[-d / 2, -d / 2], [0.0, 0.0]], rtol=1e-14)
    np.testing.assert_allclose(db1, [-d / 2, -d / 2], rtol=1e-14)


@settings(max_examples=20, deadline=None, derandomize=True)  # the same examples every run, as in test_graph
@given(st.lists(st.integers(2, 6), min_size=2, max_size=4), st.sampled_from([0.0, 0.3]), st.integers(0, 2**32 - 1))
def test_backward_matches_finite_differences_of_the_regularized_cost(sizes, lam, seed):
    rng = np.random.default_rng(seed)
    params = mlp.init_params(sizes, rng)
    X, y = rng.standard_normal((7, sizes[0])), rng.integers(0, sizes[-1], 7)

    def cost():
        probs, _ = mlp.forward(params, X)
        return mlp.cross_entropy(probs, y) + 0.5 * lam * sum(np.sum(W * W) for W, _ in params)

    grads = mlp.backward(params, mlp.forward(params, X)[1], y, lam)
    for (W, b), (dW, db) in zip(params, grads):
        assert relative_error(dW, numerical_gradient(cost, W)) < 1e-6  # see PROPERTY_TOL in test_modules
        assert relative_error(db, numerical_gradient(cost, b)) < 1e-6  # see PROPERTY_TOL in test_modules


def test_regularization_adds_lam_W_to_weights_and_nothing_to_biases():
    rng = np.random.default_rng(1)
    params = mlp.init_params([4, 5, 3], rng)
    X, y = rng.standard_normal((7, 4)), rng.integers(0, 3, 7)
    cache = mlp.forward(params, X)[1]
    plain, decayed = mlp.backward(params, cache, y, 0.0), mlp.backward(params, cache, y, 0.25)
    for (W, _), (dW0, db0), (dW1, db1) in zip(params, plain, decayed):
        np.testing.assert_allclose(dW1 - dW0, 0.25 * W, rtol=1e-12, atol=1e-16)
        np.testing.assert_array_equal(db1, db0)


def test_matrix_form_equals_the_module_form():
    rng = np.random.default_rng(2)
    params = mlp.init_params([6, 5, 4, 3], rng)
    X, y = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
    layers = []
    for W, b in params:
        lin = Linear(*W.shape, rng)
        lin.W, lin.b = W.copy(), b.copy()
        layers += [lin, Sigmoid()]
    model, loss = Sequential(layers[:-1]), SoftmaxCrossEntropy()
    value = loss.fprop(model.fprop(X), y)
    model.bprop(loss.bprop())
    probs, cache = mlp.forward(params, X)
    assert mlp.cross_entropy(probs, y) == pytest.approx(value, rel=1e-13)
    for (dW, db), lin in zip(mlp.backward(params, cache, y), model.modules[::2]):
        np.testing.assert_allclose(dW, lin.grad_W, rtol=1e-12)
        np.testing.assert_allclose(db, lin.grad_b, rtol=1e-12, atol=1e-17)


def test_sgd_step_returns_new_params_and_leaves_the_old_ones():
    params = [(np.ones((2, 2)), np.ones(2))]
    grads = [(np.full((2, 2), 2.0), np.full(2, -1.0))]
    new = mlp.sgd_step(params, grads, 0.25)
    np.testing.assert_array_equal(new[0][0], 0.5)  # 1 − 0.25·2
    np.testing.assert_array_equal(new[0][1], 1.25)  # 1 − 0.25·(−1)
    np.testing.assert_array_equal(params[0][0], 1.0)


def test_forward_and_backward_do_not_mutate_inputs():
    rng = np.random.default_rng(3)
    params = mlp.init_params([3, 4, 2], rng)
    X, y = rng.standard_normal((7, 3)), rng.integers(0, 2, 7)
    for W, b in params:
        W.flags.writeable = b.flags.writeable = False
    X.flags.writeable = False
    probs, cache = mlp.forward(params, X)
    frozen = probs.copy()
    mlp.backward(params, cache, y, 0.1)
    np.testing.assert_array_equal(cache["probs"], frozen)  # the cache can be used again


def test_init_params_is_small_random_and_not_symmetric():
    params = mlp.init_params([64, 30, 10], np.random.default_rng(4))
    assert [W.shape for W, _ in params] == [(64, 30), (30, 10)]
    W1 = params[0][0]
    assert 0.09 < W1.std() < 0.16  # ≈ 1/√64 = 0.125
    assert len(np.unique(W1.round(12))) == W1.size  # no two units start equal
    assert all(np.all(b == 0) for _, b in params)


def test_training_on_digits_reaches_97_percent():
    from nbbackprop.datasets import load_digits

    X_train, y_train, X_test, y_test = load_digits()
    params, history = mlp.train(X_train, y_train, [64, 64, 10], lr=0.5, epochs=60, batch_size=32, lam=1e-4,
                                rng=np.random.default_rng(0))
    assert history["loss"][-1] < history["loss"][0] / 5
    assert mlp.accuracy(params, X_test, y_test) >= 0.97


def test_the_module_network_on_digits_reaches_97_percent():
    from nbbackprop.datasets import load_digits
    from nbbackprop.modules import ReLU
    from nbbackprop.optim import evaluate, fit

    X_train, y_train, X_test, y_test = load_digits()
    rng = np.random.default_rng(0)
    model = Sequential([Linear(64, 128, rng), ReLU(), Linear(128, 10, rng)])
    fit(model, SoftmaxCrossEntropy(), X_train, y_train, lr=0.1, epochs=50, batch_size=32, rng=rng)
    assert evaluate(model, SoftmaxCrossEntropy(), X_test, y_test)[1] >= 0.97


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: mlp.init_params([5], np.random.default_rng(0)), "at least 2 positive sizes"),
        (lambda: mlp.forward(mlp.init_params([3, 2], np.random.default_rng(0)), np.zeros((4, 5))),
         "expected W of layer 0 of shape (5, n_out)"),
        (lambda: mlp.cross_entropy(np.full((2, 3), 1 / 3), np.array([0, 3])), "y in 0..2"),
        (lambda: mlp.train(np.zeros((4, 3)), np.zeros(4, int), [4, 2], 0.1, 1, 2, 0.0, np.random.default_rng(0)),
         "layer_sizes[0] == 3"),
    ],
)
def test_input_errors_are_clear(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)
