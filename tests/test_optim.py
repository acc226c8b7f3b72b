"""SGD, weight decay and the training loop."""

import numpy as np
import pytest

from nbbackprop.modules import Linear, MeanSquaredError, ReLU, Sequential, SoftmaxCrossEntropy
from nbbackprop.optim import SGD, evaluate, fit, l2_penalty


def test_sgd_step_worked_by_hand_with_decay_on_weights_only():
    lin = Linear(1, 1, np.random.default_rng(0))
    lin.W[:] = 1.0
    lin.b[:] = 1.0
    lin.grad_W, lin.grad_b = np.array([[0.5]]), np.array([0.5])
    SGD(lin, lr=0.1, weight_decay=0.2).step()
    # W ← 1 − 0.1·(0.5 + 0.2·1) = 0.93;  b ← 1 − 0.1·0.5 = 0.95 (biases do not decay)
    assert lin.W[0, 0] == pytest.approx(0.93, abs=1e-15)
    assert lin.b[0] == pytest.approx(0.95, abs=1e-15)
    assert l2_penalty(lin, 0.2) == pytest.approx(0.1 * 0.93**2, rel=1e-14)


def test_sgd_refuses_to_step_without_gradients():
    with pytest.raises(RuntimeError, match="grad_W is not set"):
        SGD(Linear(2, 2, np.random.default_rng(0)), lr=0.1).step()


@pytest.mark.parametrize(("batch_size", "steps"), [(1, 7), (3, 3), (None, 1)])
def test_fit_takes_one_step_per_batch(batch_size, steps, monkeypatch):
    rng = np.random.default_rng(1)
    model = Sequential([Linear(3, 4, rng), ReLU(), Linear(4, 2, rng)])
    counted = []
    real_step = SGD.step
    monkeypatch.setattr(SGD, "step", lambda self, **kw: counted.append(1) or real_step(self, **kw))
    history = fit(model, SoftmaxCrossEntropy(), rng.standard_normal((7, 3)), rng.integers(0, 2, 7),
                  lr=0.1, epochs=2, batch_size=batch_size, rng=rng)
    assert len(counted) == 2 * steps
    assert len(history["loss"]) == 2 and len(history["accuracy"]) == 2


def test_full_batch_fit_equals_hand_rolled_gradient_descent():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((7, 3)), rng.integers(0, 3, 7)
    model = Sequential([Linear(3, 3, np.random.default_rng(5))])
    fit(model, SoftmaxCrossEntropy(), X, y, lr=0.5, epochs=3, lam=0.1)
    W, b = Linear(3, 3, np.random.default_rng(5)).W, np.zeros(3)
    for _ in range(3):
        z = X @ W + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(7), y] -= 1
        W, b = W - 0.5 * (X.T @ p / 7 + 0.1 * W), b - 0.5 * p.sum(0) / 7
    np.testing.assert_allclose(model[0].W, W, rtol=1e-13)
    np.testing.assert_allclose(model[0].b, b, rtol=1e-13)


def test_fit_regresses_a_linear_function_with_mse():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((64, 2))
    t = X @ np.array([[2.0], [-1.0]]) + 0.5
    model = Sequential([Linear(2, 1, rng)])
    history = fit(model, MeanSquaredError(), X, t, lr=0.1, epochs=100, batch_size=8, rng=rng)
    assert history["loss"][-1] < 1e-6
    np.testing.assert_allclose(model[0].W.ravel(), [2.0, -1.0], atol=1e-3)


def test_fit_is_deterministic_and_records_what_was_asked(capsys):
    def run():
        rng = np.random.default_rng(4)
        model = Sequential([Linear(3, 5, rng), ReLU(), Linear(5, 2, rng)])
        X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, 20)
        history = fit(model, SoftmaxCrossEntropy(), X, y, lr=0.1, epochs=3, batch_size=4, rng=rng,
                      X_val=X[:5], y_val=y[:5], record_grad_norms=True)
        return model, history

    (m1, h1), (m2, h2) = run(), run()
    np.testing.assert_array_equal(m1[0].W, m2[0].W)
    assert h1 == h2
    assert set(h1) == {"loss", "accuracy", "val_loss", "val_accuracy", "grad_norms"}
    assert set(h1["grad_norms"]) == {"0.W", "2.W"} and len(h1["grad_norms"]["0.W"]) == 3
    assert capsys.readouterr().err == ""  # no progress bar unless asked


def test_evaluate_matches_a_single_pass():
    rng = np.random.default_rng(6)
    model = Sequential([Linear(3, 4, rng)])
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 4, 10)
    loss, acc = evaluate(model, SoftmaxCrossEntropy(), X, y, batch_size=3)
    logits = model.fprop(X)
    assert loss == pytest.approx(SoftmaxCrossEntropy().fprop(logits, y), rel=1e-13)
    assert acc == np.mean(logits.argmax(1) == y)


def test_fit_errors():
    rng = np.random.default_rng(0)
    model = Sequential([Linear(3, 2, rng)])
    with pytest.raises(ValueError, match="fit expected X and y with the same number of samples, got 4 and 3"):
        fit(model, SoftmaxCrossEntropy(), np.zeros((4, 3)), np.zeros(3, int), lr=0.1, epochs=1)
    with pytest.raises(ValueError, match="batch_size >= 1"):
        fit(model, SoftmaxCrossEntropy(), np.zeros((4, 3)), np.zeros(4, int), lr=0.1, epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="lr > 0"):
        SGD(model, lr=0.0)


def test_step_leaves_the_gradients_as_bprop_set_them():
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((7, 3)), rng.integers(0, 2, 7)
    model = Sequential([Linear(3, 4, np.random.default_rng(1)), ReLU(), Linear(4, 2, np.random.default_rng(2))])
    loss = SoftmaxCrossEntropy()
    loss.fprop(model.fprop(X), y)
    model.bprop(loss.bprop())
    before = [(value.copy(), grad.copy()) for _, value, grad in model.parameters()]
    optimizer = SGD(model, lr=0.3, weight_decay=0.1)
    for _ in range(2):  # the second step reuses the buffers of the first
        optimizer.step()
    for (name, value, grad), (old_value, old_grad) in zip(model.parameters(), before):
        np.testing.assert_array_equal(grad, old_grad)  # ∂L/∂p, untouched
        decay = 0.1 * 0.3 if name.endswith("W") else 0.0
        expected = old_value
        for _ in range(2):
            expected = expected * (1 - decay) - 0.3 * old_grad
        np.testing.assert_allclose(value, expected, rtol=1e-14)


def test_after_fit_grad_w_is_the_gradient_of_the_last_batch():
    # full batch, one epoch: the gradients fit leaves behind are those at the initial weights
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((7, 3)), rng.integers(0, 2, 7)
    trained, fresh = (Sequential([Linear(3, 4, np.random.default_rng(1)), ReLU(),
                                  Linear(4, 2, np.random.default_rng(2))]) for _ in range(2))
    history = fit(trained, SoftmaxCrossEntropy(), X, y, lr=0.7, epochs=1, record_grad_norms=True)
    loss = SoftmaxCrossEntropy()
    loss.fprop(fresh.fprop(X), y)
    fresh.bprop(loss.bprop())
    for (name, _, grad), (_, _, expected) in zip(trained.parameters(), fresh.parameters()):
        np.testing.assert_allclose(grad, expected, rtol=1e-13, err_msg=f"grad of {name} after fit")
    assert history["grad_norms"]["0.W"] == [pytest.approx(np.linalg.norm(fresh[0].grad_W), rel=1e-13)]


def test_float32_parameters_stay_float32():
    rng = np.random.default_rng(9)
    model = Sequential([Linear(3, 2, rng, dtype=np.float32)])
    fit(model, SoftmaxCrossEntropy(), rng.standard_normal((6, 3)).astype(np.float32), rng.integers(0, 2, 6),
        lr=0.1, epochs=2, batch_size=3)
    assert model[0].W.dtype == model[0].grad_W.dtype == np.float32


def test_a_prescaled_step_equals_the_plain_one_and_unscaling_restores_the_gradients():
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((7, 3)), rng.integers(0, 2, 7)
    models = [Sequential([Linear(3, 4, np.random.default_rng(1)), ReLU(), Linear(4, 2, np.random.default_rng(2))])
              for _ in range(2)]
    for model, prescaled in zip(models, (False, True)):
        loss = SoftmaxCrossEntropy()
        loss.fprop(model.fprop(X), y)
        model.bprop(loss.bprop(0.3 if prescaled else 1.0))
        optimizer = SGD(model, lr=0.3, weight_decay=0.1)
        optimizer.step(prescaled=prescaled)
        if prescaled:
            optimizer.unscale_gradients()
    for (_, a, grad_a), (_, b, grad_b) in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-14)
        np.testing.assert_allclose(grad_a, grad_b, rtol=1e-14)


def test_an_interrupted_fit_still_leaves_true_gradients(monkeypatch):
    rng = np.random.default_rng(10)
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)
    model = Sequential([Linear(3, 2, np.random.default_rng(1))])
    real_step, calls = SGD.step, []

    def step_then_stop(self, **kw):
        real_step(self, **kw)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(SGD, "step", step_then_stop)
    with pytest.raises(KeyboardInterrupt):
        fit(model, SoftmaxCrossEntropy(), X, y, lr=0.5, epochs=3, batch_size=3)
    before_last_step = model[0].W + 0.5 * model[0].grad_W  # undo the last step: W = W_prev − lr ∂L/∂W
    loss = SoftmaxCrossEntropy()
    loss.fprop(X[3:] @ before_last_step + (model[0].b + 0.5 * model[0].grad_b), y[3:])
    np.testing.assert_allclose(model[0].grad_W, X[3:].T @ loss.bprop(), rtol=1e-12)
