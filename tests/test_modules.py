"""Every box of nbbackprop.modules: by hand, against finite differences, against torch, and its errors."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbbackprop import losses
from nbbackprop.gradcheck import numerical_gradient, relative_error
from nbbackprop.modules import (
    Exp,
    Linear,
    Log,
    MeanSquaredError,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    SigmoidCrossEntropy,
    SoftmaxCrossEntropy,
    Square,
    Tanh,
)

TOL = 1e-7  # the gradient-check lecture's "fine" band for float64 central differences
# Random draws sometimes give an entry of size ~1e-5, where the round-off of a central
# difference (~1e-11) alone is 1e-6 relative; property tests allow that, still far below
# the 1e-4 of a one-sided difference or a real bug.
PROPERTY_TOL = 1e-6


def away_from_kink(rng, shape):
    """Mixed signs, |x| ≥ 0.1: a central difference with h = 1e-5 never crosses ReLU's kink."""
    x = rng.uniform(0.1, 2.0, shape)
    return x * rng.choice([-1.0, 1.0], shape)


def check_box(module, x, rng):
    """Relative errors of grad_x and every parameter gradient for L = Σ fprop(x) ⊙ R."""
    R = rng.standard_normal(module.fprop(x).shape)

    def loss():
        return float(np.sum(module.fprop(x) * R))

    loss()
    grad_x = module.bprop(R)
    analytic = {"x": grad_x} | {name: grad.copy() for name, _, grad in module.parameters()}
    numeric = {"x": numerical_gradient(loss, x)} | {
        name: numerical_gradient(loss, value) for name, value, _ in module.parameters()
    }
    return {name: relative_error(analytic[name], numeric[name]) for name in analytic}


def test_linear_worked_by_hand():
    lin = Linear(2, 3, np.random.default_rng(0))
    lin.W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    lin.b = np.array([0.5, 0.0, -0.5])
    # y = x W + b = [1·1 + 2·2 + 0.5, 1·0 + 2·1 + 0, 1·(−1) + 2·0 − 0.5] = [5.5, 2, −1.5]
    np.testing.assert_array_equal(lin.fprop(np.array([[1.0, 2.0]])), [[5.5, 2.0, -1.5]])
    grad_x = lin.bprop(np.array([[1.0, -1.0, 2.0]]))
    # grad_W = xᵀ g = [[1], [2]] · [1, −1, 2];  grad_b = g;  grad_x = g Wᵀ = [1 − 2, 2 − 1] = [−1, 1]
    np.testing.assert_array_equal(lin.grad_W, [[1.0, -1.0, 2.0], [2.0, -2.0, 4.0]])
    np.testing.assert_array_equal(lin.grad_b, [1.0, -1.0, 2.0])
    np.testing.assert_array_equal(grad_x, [[-1.0, 1.0]])


def test_activations_worked_by_hand():
    x = np.array([[0.0, np.log(3.0), -2.0]])
    g = np.ones((1, 3))
    s = Sigmoid()
    np.testing.assert_allclose(s.fprop(x), [[0.5, 0.75, 1 / (1 + np.e**2)]], rtol=1e-15)
    # σ' = σ(1 − σ): 1/4 at 0, 3/16 at ln 3
    np.testing.assert_allclose(s.bprop(g)[0, :2], [0.25, 3 / 16], rtol=1e-15)
    t = Tanh()
    t.fprop(x)
    assert t.bprop(g)[0, 0] == 1.0  # tanh'(0) = 1 − 0² = 1
    r = ReLU()
    np.testing.assert_array_equal(r.fprop(x), [[0.0, np.log(3.0), 0.0]])
    np.testing.assert_array_equal(r.bprop(np.array([[5.0, 6.0, 7.0]])), [[0.0, 6.0, 0.0]])  # derivative 0 at the kink


@pytest.mark.parametrize(
    "make", [lambda rng: Linear(5, 3, rng), Sigmoid, Tanh, ReLU], ids=["Linear", "Sigmoid", "Tanh", "ReLU"]
)
def test_bprop_matches_finite_differences(make):
    rng = np.random.default_rng(7)
    module = make(rng) if make not in (Sigmoid, Tanh, ReLU) else make()
    errors = check_box(module, away_from_kink(rng, (7, 5)), rng)
    assert max(errors.values()) < TOL, errors


def test_exp_log_square_worked_by_hand_and_forward_mode_is_bprop():
    # an elementwise box has a diagonal Jacobian diag(f'(x)): its fmode(v) and its bprop(v) are the same product
    x = np.array([[1.0, 2.0, 0.5]])
    v = np.array([[3.0, -1.0, 2.0]])
    for box, y, slope in [(Exp(), np.exp(x), np.exp(x)), (Log(), np.log(x), 1 / x), (Square(), x * x, 2 * x)]:
        np.testing.assert_array_equal(box.fprop(x), y)
        np.testing.assert_array_equal(box.bprop(v), v * slope)
        np.testing.assert_array_equal(box.fmode(v), box.bprop(v))
    for box in (Sigmoid(), Tanh(), ReLU()):
        box.fprop(away_from_kink(np.random.default_rng(3), (2, 3)))
        np.testing.assert_array_equal(box.fmode(v.repeat(2, axis=0)), box.bprop(v.repeat(2, axis=0)))


def test_the_base_box_says_what_is_not_written_yet():
    class Half(Module):
        def fprop(self, x):
            return x

    box = Half()
    assert box.n_inputs == 1 and box.parameters() == []
    for call, name in [(lambda: box.bprop(np.ones(2)), "bprop"), (lambda: box.fmode(np.ones(2)), "fmode")]:
        with pytest.raises(NotImplementedError, match=rf"Half\.{name} is not written yet"):
            call()
    assert SoftmaxCrossEntropy.n_inputs == 2  # logits and labels; bprop returns the logits' gradient alone


def test_sequential_matches_finite_differences_and_names_parameters():
    rng = np.random.default_rng(8)
    model = Sequential([Linear(4, 6, rng), Tanh(), Linear(6, 5, rng), Sigmoid(), Linear(5, 3, rng)])
    assert [name for name, _, _ in model.parameters()] == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    errors = check_box(model, rng.standard_normal((7, 4)), rng)
    assert max(errors.values()) < TOL, errors
    assert len(model) == 5 and isinstance(model[1], Tanh)


def test_sequential_skips_the_input_gradient_on_request():
    rng = np.random.default_rng(9)
    model = Sequential([Linear(4, 3, rng), ReLU(), Linear(3, 2, rng)])
    model.fprop(rng.standard_normal((7, 4)))
    assert model.bprop(np.ones((7, 2)), need_grad_x=False) is None
    assert model[0].grad_W.shape == (4, 3)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 8), st.integers(2, 6), st.integers(2, 6), st.sampled_from(["Linear", "Sigmoid", "Tanh", "ReLU"]),
       st.integers(0, 2**32 - 1))
def test_property_shapes_kept_inputs_untouched_gradients_right(n, d_in, d_out, kind, seed):
    rng = np.random.default_rng(seed)
    module = {"Linear": lambda: Linear(d_in, d_out, rng), "Sigmoid": Sigmoid, "Tanh": Tanh, "ReLU": ReLU}[kind]()
    x = away_from_kink(rng, (n, d_in))
    y = module.fprop(x)
    assert y.shape == ((n, d_out) if kind == "Linear" else x.shape)
    grad_y = rng.standard_normal(y.shape)
    frozen_x, frozen_g = x.copy(), grad_y.copy()
    x.flags.writeable = False
    grad_y.flags.writeable = False
    module.fprop(x)
    assert module.bprop(grad_y).shape == x.shape
    np.testing.assert_array_equal(x, frozen_x)
    np.testing.assert_array_equal(grad_y, frozen_g)
    x.flags.writeable = True
    assert max(check_box(module, x, rng).values()) < PROPERTY_TOL


def test_bprop_sets_gradients_instead_of_accumulating():
    rng = np.random.default_rng(10)
    lin = Linear(3, 2, rng)
    x, g = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    lin.fprop(x)
    lin.bprop(g)
    first = lin.grad_W.copy()
    lin.fprop(x)
    lin.bprop(g)
    np.testing.assert_array_equal(lin.grad_W, first)


def test_float32_stays_float32():
    rng = np.random.default_rng(11)
    model = Sequential([Linear(4, 3, rng, dtype=np.float32), ReLU(), Linear(3, 2, rng, dtype=np.float32)])
    out = model.fprop(rng.standard_normal((7, 4)).astype(np.float32))
    assert out.dtype == np.float32
    model.bprop(np.ones_like(out))
    assert model[0].grad_W.dtype == np.float32


# ---- losses ---------------------------------------------------------------------------------------


def test_softmax_cross_entropy_worked_by_hand():
    # logits (0, ln 2, 0) ⇒ e^z = (1, 2, 1), softmax = (¼, ½, ¼); y = 1 ⇒ loss = −log ½ = ln 2
    loss = SoftmaxCrossEntropy()
    assert loss.fprop(np.array([[0.0, np.log(2.0), 0.0]]), np.array([1])) == pytest.approx(np.log(2.0), rel=1e-15)
    # grad = (softmax − onehot) / N = (¼, ½ − 1, ¼)
    np.testing.assert_allclose(loss.bprop(), [[0.25, -0.5, 0.25]], rtol=1e-15)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = SoftmaxCrossEntropy()
        value = loss.fprop(logits, np.array([2, 1]))
        grad = loss.bprop()
    assert value == pytest.approx((2e4 + np.log(2.0)) / 2, rel=1e-12)  # −log softmax: 2·10⁴ for row 0, ln 2 for row 1
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("kind", ["softmax", "sigmoid", "mse"])
def test_losses_match_finite_differences(kind):
    rng = np.random.default_rng(12)
    if kind == "softmax":
        loss, outputs, targets = SoftmaxCrossEntropy(), rng.standard_normal((7, 4)), rng.integers(0, 4, 7)
    elif kind == "sigmoid":
        loss, outputs, targets = SigmoidCrossEntropy(), rng.standard_normal((7, 1)), rng.integers(0, 2, 7)
    else:
        loss, outputs, targets = MeanSquaredError(), rng.standard_normal((7, 3)), rng.standard_normal((7, 3))
    loss.fprop(outputs, targets)
    grad = loss.bprop()
    numeric = numerical_gradient(lambda: loss.fprop(outputs, targets), outputs)
    assert relative_error(grad, numeric) < TOL
    np.testing.assert_allclose(loss.per_sample(outputs, targets).mean(), loss.fprop(outputs, targets), rtol=1e-14)
    np.testing.assert_allclose(2.0 * loss.bprop(), loss.bprop(2.0), rtol=1e-15)


def test_losses_agree_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    logits, y = rng.standard_normal((7, 5)), rng.integers(0, 5, 7)
    t_logits = torch.tensor(logits, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(t_logits, torch.tensor(y))
    t_loss.backward()
    loss = SoftmaxCrossEntropy()
    assert loss.fprop(logits, y) == pytest.approx(t_loss.item(), rel=1e-13)
    np.testing.assert_allclose(loss.bprop(), t_logits.grad.numpy(), rtol=1e-12, atol=1e-15)

    z, t = rng.standard_normal(7), rng.integers(0, 2, 7)
    t_z = torch.tensor(z, requires_grad=True)
    t_bce = torch.nn.functional.binary_cross_entropy_with_logits(t_z, torch.tensor(t, dtype=torch.float64))
    t_bce.backward()
    bce = SigmoidCrossEntropy()
    assert bce.fprop(z, t) == pytest.approx(t_bce.item(), rel=1e-13)
    np.testing.assert_allclose(bce.bprop(), t_z.grad.numpy(), rtol=1e-12)


def test_a_module_chain_agrees_with_torch_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(14)
    model = Sequential([Linear(6, 5, rng), Tanh(), Linear(5, 4, rng), ReLU(), Linear(4, 3, rng)])
    x, y = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
    loss = SoftmaxCrossEntropy()
    loss.fprop(model.fprop(x), y)
    model.bprop(loss.bprop())
    weights = [torch.tensor(value, requires_grad=True) for _, value, _ in model.parameters()]
    W0, b0, W2, b2, W4, b4 = weights
    h = torch.relu(torch.tanh(torch.tensor(x) @ W0 + b0) @ W2 + b2)
    torch.nn.functional.cross_entropy(h @ W4 + b4, torch.tensor(y)).backward()
    for (name, _, grad), reference in zip(model.parameters(), weights):
        np.testing.assert_allclose(grad, reference.grad.numpy(), rtol=1e-11, atol=1e-15, err_msg=name)


# ---- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: Linear(5, 2, np.random.default_rng(0)).fprop(np.zeros((7, 3))), ValueError,
         "Linear.fprop expected x with 5 features (shape (N, 5)), got shape (7, 3)"),
        (lambda: Linear(5, 2, np.random.default_rng(0)).fprop(np.zeros(5)), ValueError,
         "Linear.fprop expected x as a 2-D array of shape (N, 5), got shape (5,)"),
        (lambda: Linear(5, 2, rng=0), TypeError, "Linear expected rng as a numpy.random.Generator, got int"),
        (lambda: Linear(5, 2, np.random.default_rng(0)).bprop(np.zeros((7, 2))), RuntimeError,
         "Linear.bprop called before fprop"),
        (lambda: SoftmaxCrossEntropy().fprop(np.zeros((3, 4)), np.array([0, 1, 4])), ValueError,
         "SoftmaxCrossEntropy.fprop expected y in 0..3, got values from 0 to 4"),
        (lambda: SoftmaxCrossEntropy().fprop(np.zeros((3, 4)), np.array([0, 1])), ValueError,
         "SoftmaxCrossEntropy.fprop expected y as integer labels of shape (3,), got shape (2,)"),
        (lambda: MeanSquaredError().fprop(np.zeros((3, 2)), np.zeros((3, 3))), ValueError,
         "MeanSquaredError.fprop expected targets with the shape of the predictions (3, 2), got shape (3, 3)"),
        (lambda: Sequential([Linear(2, 2, np.random.default_rng(0)), "relu"]), TypeError,
         "Sequential expected modules with fprop and bprop, got str at index 1"),
    ],
)
def test_errors_name_what_was_expected_and_what_came(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


def test_bprop_with_the_wrong_gradient_shape():
    relu = ReLU()
    relu.fprop(np.ones((7, 3)))
    with pytest.raises(ValueError, match=r"ReLU.bprop expected grad_y of shape \(7, 3\).*got shape \(3, 7\)"):
        relu.bprop(np.ones((3, 7)))


def test_input_checks_still_fire_after_a_first_good_call():
    """The fast paths skip only conversions: a bad input after a good one of the same shape is still refused."""
    rng = np.random.default_rng(0)
    lin, relu, ce = Linear(5, 2, rng), ReLU(), SoftmaxCrossEntropy()
    for _ in range(2):  # a good round trip, twice, so any per-shape state is warm
        ce.fprop(lin.fprop(relu.fprop(rng.standard_normal((7, 5)))), np.arange(7) % 2)
        relu.bprop(lin.bprop(ce.bprop()))
    bad_calls = [
        (lambda: lin.fprop(np.zeros((7, 3))), ValueError,
         "Linear.fprop expected x with 5 features (shape (N, 5)), got shape (7, 3)"),
        (lambda: lin.bprop(np.zeros((6, 2))), ValueError,
         "Linear.bprop expected grad_y of shape (7, 2) (the shape of the last fprop output), got shape (6, 2)"),
        (lambda: relu.bprop(np.zeros((5, 7))), ValueError,
         "ReLU.bprop expected grad_y of shape (7, 5) (the shape of the last fprop output), got shape (5, 7)"),
        (lambda: relu.bprop(np.zeros((7, 5))[None]), ValueError,
         "ReLU.bprop expected grad_y of shape (7, 5) (the shape of the last fprop output), got shape (1, 7, 5)"),
        (lambda: ce.fprop(np.zeros((7, 2)), np.array([0, 1, 2, 0, 1, 0, 1])), ValueError,
         "SoftmaxCrossEntropy.fprop expected y in 0..1, got values from 0 to 2"),
        (lambda: ce.fprop(np.zeros((7, 2)), np.array([0, 1, -1, 0, 1, 0, 1])), ValueError,
         "SoftmaxCrossEntropy.fprop expected y in 0..1, got values from -1 to 1"),
        (lambda: ce.fprop(np.zeros((7, 2)), np.array([0, 1, np.nan, 0, 1, 0, 1])), TypeError,
         "SoftmaxCrossEntropy.fprop expected y as integer labels, got dtype float64"),
        (lambda: ce.fprop(np.zeros((7, 2)), np.zeros(6, dtype=int)), ValueError,
         "SoftmaxCrossEntropy.fprop expected y as integer labels of shape (7,), got shape (6,)"),
        (lambda: ce.fprop(np.full((7, 2), "a"), np.zeros(7, dtype=int)), TypeError,
         "SoftmaxCrossEntropy.fprop expected logits as an array of numbers, got ndarray"),
        (lambda: ce.fprop(np.zeros(7), np.zeros(7, dtype=int)), ValueError,
         "SoftmaxCrossEntropy.fprop expected logits as a 2-D array of shape (N, D), got shape (7,)"),
    ]
    for call, error, message in bad_calls:
        with pytest.raises(error) as info:
            call()
        assert str(info.value) == message
    assert relu.fprop(np.array([[1, -2]])).dtype == np.float64  # integers still become float64
    np.testing.assert_array_equal(relu.bprop([[3.0, 4.0]]), [[3.0, 0.0]])  # a list is still taken


def test_loss_bprop_of_one_is_a_fresh_array_equal_to_the_scaled_one():
    rng = np.random.default_rng(1)
    for loss, targets in ((SoftmaxCrossEntropy(), np.arange(6) % 3), (SigmoidCrossEntropy(), np.arange(6) % 2),
                          (MeanSquaredError(), rng.standard_normal((6, 3)))):
        outputs = rng.standard_normal((6, 3) if not isinstance(loss, SigmoidCrossEntropy) else (6,))
        loss.fprop(outputs, targets)
        first = loss.bprop()
        first[...] = np.nan  # the caller may write into it: the loss's own state is untouched
        np.testing.assert_array_equal(loss.bprop(), loss.bprop(np.float64(1.0)))
        np.testing.assert_array_equal(loss.bprop(2.0), 2.0 * loss.bprop())
        assert not np.isnan(loss.bprop()).any()


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32])
def test_label_range_check_of_every_integer_width_after_the_batch_size_changes(dtype):
    """The range check's unsigned view and the row index kept per batch size, over a change of both."""
    rng = np.random.default_rng(2)
    ce, logits = SoftmaxCrossEntropy(), rng.standard_normal((7, 3))
    ce.fprop(logits, np.arange(7).astype(dtype) % 3)  # warm: rows 0..6 kept
    small = rng.standard_normal((5, 3))
    labels = np.array([2, 0, 1, 1, 0], dtype=dtype)
    assert ce.fprop(small, labels) == pytest.approx(losses.softmax_cross_entropy(small, labels.astype(int)), rel=1e-15)
    np.testing.assert_allclose(ce.bprop(), losses.softmax_cross_entropy_grad(small, labels.astype(int)), rtol=1e-15)
    too_big = np.array([0, 1, 3, 0, 1], dtype=dtype)
    with pytest.raises(ValueError) as info:
        ce.fprop(small, too_big)
    assert str(info.value) == "SoftmaxCrossEntropy.fprop expected y in 0..2, got values from 0 to 3"
    if np.issubdtype(dtype, np.signedinteger):
        with pytest.raises(ValueError) as info:
            ce.fprop(logits, np.array([0, 1, -1, 0, 1, 0, 1], dtype=dtype))
        assert str(info.value) == "SoftmaxCrossEntropy.fprop expected y in 0..2, got values from -1 to 1"
