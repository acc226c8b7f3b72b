"""Tests of nbbackprop.gradcheck: finite differences, relative errors, module and model checks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbbackprop.gradcheck import (
    REL_ERROR_OK,
    REL_ERROR_WRONG,
    check_directional,
    check_model,
    check_module,
    error_band,
    model_numerical_gradients,
    numerical_gradient,
    relative_error,
    scaled_error,
)
from nbbackprop.modules import (
    Linear,
    MeanSquaredError,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropy,
    Tanh,
)

# --- helpers -----------------------------------------------------------------


def away_from_kink(rng, shape, low=0.5, high=2.0):
    """Mixed signs, every |entry| in [low, high]: ReLU's kink at 0 is far."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def digits_net(rng):
    return Sequential([Linear(64, 128, rng), ReLU(), Linear(128, 10, rng)])


def snapshot(model):
    return {name: getattr(owner, attr).copy() for name, owner, attr in model.named_parameters()}


def assert_bitwise_unchanged(model, before):
    for name, owner, attr in model.named_parameters():
        assert getattr(owner, attr).tobytes() == before[name].tobytes(), name


class Scale(Module):
    """A box that is not Linear: ``y = x ⊙ s`` with a parameter vector ``s`` (the generic path)."""

    param_names = ("s",)

    def __init__(self, s):
        self.s = np.asarray(s, dtype=np.float64)

    def fprop(self, x):
        self.x = x
        return x * self.s

    def bprop(self, grad_y, need_grad_x=True):
        self.grad_s = (grad_y * self.x).sum(axis=0)
        return grad_y * self.s


# --- numerical_gradient --------------------------------------------------------


def test_numerical_gradient_of_sum_of_squares_is_2x():
    x = np.array([[1.5, -2.0, 0.25], [0.0, 3.0, -0.75]])
    grad = numerical_gradient(lambda: np.sum(x**2), x)
    # ((x+h)² − (x−h)²) / 2h = 2x exactly in real arithmetic; only rounding (~1e-11) is left.
    np.testing.assert_allclose(grad, 2 * x, rtol=0, atol=1e-9)


def test_numerical_gradient_of_a_product_of_three_entries():
    x = np.array([2.0, -3.0, 0.5])
    grad = numerical_gradient(lambda: x[0] * x[1] * x[2], x)
    # ∂/∂x0 = x1·x2 = −1.5, ∂/∂x1 = x0·x2 = 1, ∂/∂x2 = x0·x1 = −6
    np.testing.assert_allclose(grad, [-1.5, 1.0, -6.0], rtol=0, atol=1e-9)


def test_numerical_gradient_restores_x_bit_for_bit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3)) * 1e-7  # tiny next to h: (x + h) − h != x in float64
    assert np.any((x + 1e-5) - 1e-5 != x)
    before = x.copy()
    numerical_gradient(lambda: np.sum(np.sin(x)), x)
    assert x.tobytes() == before.tobytes()


def test_central_differences_are_second_order_one_sided_are_not():
    x = np.array([1.3])
    h = 1e-5
    grad = numerical_gradient(lambda: x[0] ** 3, x, h=h)
    exact = 3 * 1.3**2
    # central: error h² f'''/6 = 1e-10; one-sided: error h f''/2 = 1e-5 · 3.9 ≈ 3.9e-5
    assert abs(grad[0] - exact) < 1e-9
    one_sided = ((1.3 + h) ** 3 - 1.3**3) / h
    assert abs(one_sided - exact) > 1e-5


def test_numerical_gradient_works_on_a_strided_view():
    base = np.arange(12.0).reshape(3, 4)
    view = base[:, ::2]  # not contiguous: a reshape would copy, the perturbation must reach base
    grad = numerical_gradient(lambda: np.sum(base**2), view)
    np.testing.assert_allclose(grad, 2 * view, atol=1e-8)
    assert np.array_equal(base, np.arange(12.0).reshape(3, 4))


def test_numerical_gradient_rejects_bad_inputs():
    with pytest.raises(TypeError, match=r"numerical_gradient expected x as a float ndarray.*int64"):
        numerical_gradient(lambda: 0.0, np.arange(3))
    with pytest.raises(TypeError, match="got list"):
        numerical_gradient(lambda: 0.0, [1.0, 2.0])
    read_only = np.ones(3)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        numerical_gradient(lambda: 0.0, read_only)
    with pytest.raises(ValueError, match="expected h as a finite number > 0, got 0"):
        numerical_gradient(lambda: 0.0, np.ones(2), h=0)
    with pytest.raises(ValueError, match=r"f\(\) to return a scalar, got shape \(2,\)"):
        x = np.ones(2)
        numerical_gradient(lambda: x * 2, x)
    with pytest.raises(TypeError, match="callable"):
        numerical_gradient(3.0, np.ones(2))


# --- relative errors and bands -------------------------------------------------


def test_relative_error_by_hand():
    a = np.array([1.0, -2.0, 0.0])
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, a) == 0.0
    assert relative_error(a, 2 * a) == pytest.approx(1 / 3, abs=1e-15)  # |a − 2a| / (|a| + |2a|)
    assert relative_error(a, -a) == 1.0
    # the largest over entries: [1e-3/2.001, 0, 0] → 1e-3 / 2.001
    assert relative_error([1.0, 5.0], [1.001, 5.0]) == pytest.approx(1e-3 / 2.001, rel=1e-12)
    assert relative_error(2.0, 2.0) == 0.0


def test_relative_error_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"relative_error.*\(2, 3\) and \(3, 2\)"):
        relative_error(np.zeros((2, 3)), np.zeros((3, 2)))


def test_scaled_error_judges_entries_against_the_largest():
    a = np.array([1.0, 1e-8, -0.5])
    b = np.array([1.0, 2e-8, -0.5])
    assert relative_error(a, b) == pytest.approx(1 / 3)  # the tiny entry is off by 2×
    error, worst = scaled_error(a, b)
    assert worst == 1
    assert error == pytest.approx(1e-8 / 2.0)  # |1e-8 − 2e-8| / (1 + 1)
    assert scaled_error(np.zeros(2), np.zeros(2)) == (0.0, 0)


def test_error_bands_follow_the_lecture():
    assert REL_ERROR_OK == 1e-7 and REL_ERROR_WRONG == 1e-4
    assert error_band(0.0) == "ok"
    assert error_band(5e-8) == "ok"
    assert error_band(1e-6) == "suspicious"
    assert error_band(1e-2) == "wrong"
    assert error_band(float("nan")) == "wrong"


# --- check_module --------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: Linear(5, 3, rng),
        lambda rng: Sigmoid(),
        lambda rng: Tanh(),
        lambda rng: ReLU(),
        lambda rng: Sequential([Linear(5, 4, rng), Tanh(), Linear(4, 3, rng), Sigmoid()]),
    ],
    ids=["Linear", "Sigmoid", "Tanh", "ReLU", "Sequential"],
)
def test_check_module_passes_correct_modules(make):
    rng = np.random.default_rng(7)
    module = make(rng)
    x = away_from_kink(rng, (7, 5))
    before = x.copy()
    errors = check_module(module, x, rng=rng)
    expected_keys = {"grad_x"} | {"grad_" + name for name, _, _ in module.named_parameters()}
    assert set(errors) == expected_keys
    assert max(errors.values()) < 1e-7, errors
    assert np.array_equal(x, before)


def test_check_module_names_linear_gradients():
    errors = check_module(Linear(4, 3, np.random.default_rng(0)), np.random.default_rng(1).standard_normal((7, 4)))
    assert list(errors) == ["grad_x", "grad_W", "grad_b"]


class TransposedGradW(Linear):
    def bprop(self, grad_y, need_grad_x=True):
        grad_x = super().bprop(grad_y, need_grad_x)
        self.grad_W = self.grad_W.T.copy()
        return grad_x


class SignFlippedGradX(Linear):
    def bprop(self, grad_y, need_grad_x=True):
        return -super().bprop(grad_y, need_grad_x)


class SigmoidWithoutChainRule(Sigmoid):
    def bprop(self, grad_y, need_grad_x=True):
        return self.y * (1.0 - self.y)  # ignores grad_y


@pytest.mark.parametrize(
    ("make", "wrong_key"),
    [
        (lambda rng: TransposedGradW(4, 4, rng), "grad_W"),
        (lambda rng: SignFlippedGradX(4, 3, rng), "grad_x"),
        (lambda rng: SigmoidWithoutChainRule(), "grad_x"),
    ],
    ids=["transpose", "sign", "chain-rule"],
)
def test_check_module_catches_buggy_modules(make, wrong_key):
    rng = np.random.default_rng(3)
    errors = check_module(make(rng), away_from_kink(rng, (7, 4)), rng=rng)
    assert errors[wrong_key] > 1e-2
    assert error_band(errors[wrong_key]) == "wrong"


def test_check_module_explains_a_missing_or_misshapen_gradient():
    class NoGradB(Linear):
        def bprop(self, grad_y, need_grad_x=True):
            grad_x = super().bprop(grad_y, need_grad_x)
            self.grad_b = None
            return grad_x

    class WrongShape(Linear):
        def bprop(self, grad_y, need_grad_x=True):
            grad_x = super().bprop(grad_y, need_grad_x)
            self.grad_W = self.grad_W.T
            return grad_x

    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 4))
    with pytest.raises(ValueError, match=r"check_module expected NoGradB\.bprop to set grad_b, got None"):
        check_module(NoGradB(4, 3, rng), x)
    with pytest.raises(ValueError, match=r"grad_W of shape \(4, 3\), got shape \(3, 4\)"):
        check_module(WrongShape(4, 3, rng), x)


def test_check_module_default_rng_is_deterministic():
    module = Linear(3, 2, np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((5, 3))
    assert check_module(module, x) == check_module(module, x)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 7),
    n_in=st.integers(1, 7),
    n_out=st.integers(1, 7),
    seed=st.integers(0, 2**32 - 1),
)
def test_check_module_linear_property(n, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    module = Linear(n_in, n_out, rng)
    module.b[:] = rng.standard_normal(n_out)
    x = rng.standard_normal((n, n_in))
    before = x.copy()
    errors = check_module(module, x, rng=rng)
    assert max(errors.values()) < 1e-7
    assert x.tobytes() == before.tobytes()


# --- check_model ---------------------------------------------------------------


@pytest.fixture
def digits_problem():
    rng = np.random.default_rng(42)
    model = digits_net(rng)
    X = rng.standard_normal((32, 64))
    y = rng.integers(0, 10, size=32)
    return model, SoftmaxCrossEntropy(), X, y


def test_check_model_on_the_digits_net(digits_problem):
    model, loss, X, y = digits_problem
    before = snapshot(model)
    report = check_model(model, loss, X, y)
    assert [r.name for r in report] == ["0.W", "0.b", "2.W", "2.b"]
    assert [r.n_checked for r in report] == [64 * 128, 128, 128 * 10, 10]
    assert report.max_error < 1e-6, str(report)
    assert report.passed and report.band == "ok"
    assert_bitwise_unchanged(model, before)
    for record in report:
        assert record.numeric_value == record.numeric[record.worst_index]
        assert record.analytic_value == record.analytic[record.worst_index]
    text = str(report)
    for name in ("0.W", "0.b", "2.W", "2.b", "rel. error", "worst"):
        assert name in text


def test_check_model_on_bundled_digits_when_available():
    datasets = pytest.importorskip("nbbackprop.datasets")
    loaded = datasets.load_digits()
    X, y = loaded[0], loaded[1]
    rng = np.random.default_rng(0)
    model = digits_net(rng)
    report = check_model(model, SoftmaxCrossEntropy(), X[:32] / max(1.0, float(np.max(X))), y[:32])
    assert report.max_error < 1e-6, str(report)


@pytest.mark.parametrize("activation", [Tanh, ReLU, Sigmoid])
def test_model_numerical_gradients_are_numerical_gradient_of_the_loss(activation):
    rng = np.random.default_rng(5)
    model = Sequential([Linear(5, 6, rng), activation(), Linear(6, 4, rng), activation(), Linear(4, 3, rng)])
    loss = SoftmaxCrossEntropy()
    X = away_from_kink(rng, (7, 5))
    y = rng.integers(0, 3, size=7)
    before = snapshot(model)
    numeric = model_numerical_gradients(model, loss, X, y)
    assert list(numeric) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert_bitwise_unchanged(model, before)
    for name, owner, attr in model.named_parameters():  # the one routine, on the loss of the whole model
        direct = numerical_gradient(lambda: loss.fprop(model.fprop(X), y), getattr(owner, attr))
        np.testing.assert_array_equal(numeric[name], direct, err_msg=name)
    loss.fprop(model.fprop(X), y)
    model.bprop(loss.bprop())
    for name, _, grad in model.parameters():
        assert scaled_error(grad, numeric[name])[0] < REL_ERROR_OK, name


def test_a_module_that_is_not_linear():
    rng = np.random.default_rng(1)
    model = Sequential([Linear(4, 5, rng), Scale(rng.uniform(0.5, 2.0, 5)), Tanh(), Linear(5, 3, rng)])
    loss = SoftmaxCrossEntropy()
    X = rng.standard_normal((7, 4))
    y = rng.integers(0, 3, size=7)
    before = snapshot(model)
    report = check_model(model, loss, X, y)
    assert report.max_error < 1e-6, str(report)
    assert report["1.s"].n_checked == 5
    assert_bitwise_unchanged(model, before)


def test_nested_sequential_and_mse_targets():
    rng = np.random.default_rng(2)
    inner = Sequential([Linear(3, 4, rng), Tanh()])
    model = Sequential([inner, Linear(4, 2, rng)])
    X = rng.standard_normal((7, 3))
    targets = rng.standard_normal((7, 2))
    report = check_model(model, MeanSquaredError(), X, targets)
    assert [r.name for r in report] == ["0.0.W", "0.0.b", "1.W", "1.b"]
    assert report.max_error < 1e-6, str(report)


def test_check_model_catches_a_planted_bug():
    class DoubledGradW(Linear):
        def bprop(self, grad_y, need_grad_x=True):
            grad_x = super().bprop(grad_y, need_grad_x)
            self.grad_W = 2 * self.grad_W
            return grad_x

    rng = np.random.default_rng(4)
    model = Sequential([Linear(6, 5, rng), Tanh(), DoubledGradW(5, 3, rng)])
    report = check_model(model, SoftmaxCrossEntropy(), rng.standard_normal((7, 6)), rng.integers(0, 3, 7))
    assert report["2.W"].band == "wrong"
    assert report["2.W"].error == pytest.approx(1 / 3, rel=1e-4)  # 2g against g
    assert report["0.W"].band == "ok"
    assert not report.passed


def test_kinks_are_detected_and_dropped():
    rng = np.random.default_rng(6)
    model = Sequential([Linear(5, 6, rng), ReLU(), Linear(6, 3, rng)])
    X = away_from_kink(rng, (7, 5))
    y = rng.integers(0, 3, size=7)
    first = model[0]
    first.b[2] = -(X[0] @ first.W[:, 2])  # sample 0's pre-activation of unit 2 sits at the kink
    assert abs(X[0] @ first.W + first.b)[2] < 1e-12
    loss = SoftmaxCrossEntropy()

    handled = check_model(model, loss, X, y)
    assert handled.n_near_kink >= 1 and handled.kinks_handled
    assert handled.n_samples == 7
    assert handled.max_error < 1e-6, str(handled)
    assert "dropped" in str(handled)

    kept = check_model(model, loss, X, y, handle_kinks=False)
    assert kept.n_near_kink == handled.n_near_kink and not kept.kinks_handled
    assert kept.max_error > REL_ERROR_WRONG  # the difference quotient straddles the jump
    assert "kept" in str(kept)


def test_max_entries_checks_a_random_subset():
    rng = np.random.default_rng(8)
    model = digits_net(rng)
    X = rng.standard_normal((9, 64))
    y = rng.integers(0, 10, size=9)
    report = check_model(model, SoftmaxCrossEntropy(), X, y, rng=np.random.default_rng(0), max_entries=50)
    assert [r.n_checked for r in report] == [50, 50, 50, 10]
    assert np.isnan(report["0.W"].numeric).sum() == 64 * 128 - 50
    assert report.max_error < 1e-6


def test_check_model_validates_its_inputs(digits_problem):
    model, loss, X, y = digits_problem
    with pytest.raises(ValueError, match=r"check_model expected X as a 2-D array.*got shape \(64,\)"):
        check_model(model, loss, X[0], y[:1])
    with pytest.raises(ValueError, match="check_model expected X and y with the same number of samples, got 32 and 5"):
        check_model(model, loss, X, y[:5])
    with pytest.raises(ValueError, match="h as a finite number > 0"):
        check_model(model, loss, X, y, h=-1.0)
    with pytest.raises(TypeError, match="check_model expected loss with fprop, bprop"):
        check_model(model, "cross-entropy", X, y)
    with pytest.raises(TypeError, match=r"rng as a numpy\.random\.Generator"):
        check_model(model, loss, X, y, rng=0)


# --- check_directional -----------------------------------------------------------


def test_check_directional_passes_a_correct_model(digits_problem):
    model, loss, X, y = digits_problem
    before = snapshot(model)
    result = check_directional(model, loss, X, y, rng=np.random.default_rng(0))
    assert result.error < REL_ERROR_OK and result.passed
    assert result.numeric == pytest.approx(result.analytic, rel=1e-7)
    assert_bitwise_unchanged(model, before)
    assert "directional" in str(result)


def test_check_directional_catches_a_doubled_grad_w(digits_problem):
    class DoubledGradW(Linear):
        def bprop(self, grad_y, need_grad_x=True):
            grad_x = super().bprop(grad_y, need_grad_x)
            self.grad_W = 2 * self.grad_W
            return grad_x

    _, loss, X, y = digits_problem
    rng = np.random.default_rng(9)
    model = Sequential([DoubledGradW(64, 128, rng), ReLU(), Linear(128, 10, rng)])
    result = check_directional(model, loss, X, y, rng=np.random.default_rng(0))
    assert result.band == "wrong"
    assert result.error > 1e-2
