"""Tests of nbbackprop.graph: topological order, boxes, reverse and forward mode on a DAG."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbbackprop import modules
from nbbackprop.graph import (
    Add,
    Box,
    Exp,
    FlowGraph,
    Log,
    MatMul,
    Maximum,
    Mean,
    Multiply,
    ReLU,
    Sigmoid,
    SoftmaxCrossEntropy,
    Square,
    SquaredError,
    Subtract,
    Sum,
    Tanh,
    topological_order,
)


def relative_error(a, b):
    """‖a − b‖ / (‖a‖ + ‖b‖), the gradient-check lecture's measure (0 when both are 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def numerical_gradient(f, x, h=1e-5):
    """Central differences of the scalar ``f()`` with respect to each entry of ``x`` (changed and restored)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def assert_after_inputs(order, graph):
    position = {node: i for i, node in enumerate(order)}
    for node, inputs in graph.items():
        for source in inputs:
            assert position[source] < position[node], f"{source!r} must come before {node!r}"


# ------------------------------------------------------------------ topological_order


def test_topological_order_hand_worked_dag():
    # x ─┬─> h1 ─┬─> out        leaves x, W are only mentioned as inputs
    #    │       │
    # W ─┴─> h2 ─┘   and h2 also reads h1
    graph = {"out": ["h1", "h2"], "h2": ["W", "x", "h1"], "h1": ["x", "W"]}
    order = topological_order(graph)
    assert sorted(order) == ["W", "h1", "h2", "out", "x"]
    assert_after_inputs(order, graph)
    assert order[-1] == "out" and order.index("h1") < order.index("h2")


@pytest.mark.parametrize(
    "graph",
    [{"a": ["a"]}, {"a": ["b"], "b": ["a"]}, {"x": [], "a": ["x", "c"], "b": ["a"], "c": ["b"]}],
    ids=["self-loop", "two-cycle", "three-cycle-behind-a-leaf"],
)
def test_topological_order_rejects_cycles(graph):
    with pytest.raises(ValueError, match=r"topological_order: the graph has a cycle through '[abc]'"):
        topological_order(graph)


def test_topological_order_of_an_empty_graph_and_of_isolated_nodes():
    assert topological_order({}) == []
    assert topological_order({"a": [], "b": []}) == ["a", "b"]


@st.composite
def dags(draw):
    """A random DAG with shuffled names and keys; some leaves are not keys."""
    n = draw(st.integers(1, 12))
    inputs = [draw(st.lists(st.integers(0, i - 1), max_size=3)) if i else [] for i in range(n)]
    names = draw(st.permutations(range(n)))
    keys = draw(st.permutations(range(n)))
    return {names[i]: [names[j] for j in inputs[i]] for i in keys if inputs[i] or draw(st.booleans())}, n


@settings(max_examples=200, deadline=None, derandomize=True)
@given(dags())
def test_topological_order_property_every_node_once_after_its_inputs(dag):
    graph, n = dag
    order = topological_order(graph)
    everything = set(graph) | {source for inputs in graph.values() for source in inputs}
    assert len(order) == len(set(order)) == len(everything) <= n
    assert set(order) == everything
    assert_after_inputs(order, graph)


# ------------------------------------------------------------------ a small example by hand


def affine_square_graph():
    """f = (x·w + b)²."""
    g = FlowGraph()
    x, w, b = g.input("x"), g.parameter("w", -1.5), g.parameter("b", 0.25)
    u = g.add(Multiply(), x, w, name="u")
    v = g.add(Add(), u, b, name="v")
    g.add(Square(), v, name="f")
    return g


def test_hand_worked_example_values_and_gradients():
    g = affine_square_graph()
    # u = x·w = 0.5 · (−1.5) = −0.75;  v = u + b = −0.75 + 0.25 = −0.5;  f = v² = 0.25
    assert g.fprop({"x": 0.5}) == pytest.approx(0.25, abs=1e-15)
    assert g.values["u"] == pytest.approx(-0.75, abs=1e-15)
    assert g.values["v"] == pytest.approx(-0.5, abs=1e-15)
    grads = g.bprop()
    # ∂f/∂v = 2v = −1;  ∂f/∂u = ∂f/∂v · 1 = −1;  ∂f/∂b = −1
    # ∂f/∂x = ∂f/∂u · w = −1 · (−1.5) = 1.5;   ∂f/∂w = ∂f/∂u · x = −1 · 0.5 = −0.5
    assert set(grads) == {"x", "w", "b"}
    np.testing.assert_allclose([grads["x"], grads["w"], grads["b"]], [1.5, -0.5, -1.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose([g.grads["f"], g.grads["v"], g.grads["u"]], [1.0, -1.0, -1.0], rtol=0, atol=1e-15)
    # forward mode along w: ḟ = 2v · (x · ẇ) = −1 · 0.5 · 1 = −0.5, one sweep per direction
    assert g.forward_mode({"x": 0.5}, {"w": 1.0}) == pytest.approx(-0.5, abs=1e-15)
    assert g.forward_mode({"x": 0.5}, {"x": 2.0, "b": 1.0}) == pytest.approx(1.5 * 2.0 - 1.0, abs=1e-15)


def test_a_node_used_twice_by_one_box_gets_both_gradients():
    # y = w · w with w = 3: the two inputs are the same node, so ∂y/∂w = w + w = 6
    g = FlowGraph()
    w = g.parameter("w", 3.0)
    g.add(Multiply(), w, w, name="y")
    assert g.fprop({}) == 9.0
    assert g.bprop()["w"] == 6.0


def test_a_fan_out_sums_the_gradients_of_its_consumers():
    # f = sigmoid(a) + tanh(a) · a with a = 0.3: a feeds three boxes, so
    # ∂f/∂a = σ(a)(1 − σ(a)) + (1 − tanh²a) · a + tanh a
    g = FlowGraph()
    a = g.input("a")
    t = g.add(Tanh(), a)
    g.add(Add(), g.add(Sigmoid(), a), g.add(Multiply(), t, a), name="f")
    g.fprop({"a": 0.3})
    s, th = 1 / (1 + np.exp(-0.3)), np.tanh(0.3)
    assert g.bprop()["a"] == pytest.approx(s * (1 - s) + (1 - th**2) * 0.3 + th, rel=1e-14)


# ------------------------------------------------------------------ shared parameters, against FD and torch


def shared_weights_graph(rng):
    """loss = ½ mean ‖sigmoid(tanh(X W + b) W + X) − T‖²: W feeds two MatMuls, X a MatMul and an Add."""
    g = FlowGraph()
    X, T = g.input("X"), g.input("T")
    W, b = g.parameter("W", rng.standard_normal((4, 4))), g.parameter("b", rng.standard_normal(4))
    h = g.add(Tanh(), g.add(Add(), g.add(MatMul(), X, W, name="z1"), b), name="h")
    out = g.add(Sigmoid(), g.add(Add(), g.add(MatMul(), h, W, name="z2"), X), name="out")
    g.add(SquaredError(), out, T, name="loss")
    feed = {"X": rng.standard_normal((7, 4)), "T": rng.uniform(size=(7, 4))}
    return g, feed


def test_shared_parameter_gradient_is_the_sum_over_its_uses_and_matches_finite_differences():
    g, feed = shared_weights_graph(np.random.default_rng(0))
    g.fprop(feed)
    grads = g.bprop()
    # the two uses of W, read off the gradients that reached the MatMul boxes
    use1 = g["z1"].box.a.T @ g.grads["z1"]
    use2 = g["z2"].box.a.T @ g.grads["z2"]
    np.testing.assert_allclose(grads["W"], use1 + use2, rtol=1e-13, atol=1e-15)
    assert relative_error(use1, use2) > 0.1  # both uses matter
    for name, value in [("W", g.params["W"]), ("b", g.params["b"]), ("X", feed["X"]), ("T", feed["T"])]:
        numeric = numerical_gradient(lambda: g.fprop(feed), value)
        assert relative_error(grads[name], numeric) < 1e-7, name


def test_shared_parameter_gradient_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    g, feed = shared_weights_graph(np.random.default_rng(1))
    loss = g.fprop(feed)
    grads = g.bprop()

    t = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
        for name, value in {**feed, **g.params}.items()
    }
    out = torch.sigmoid(torch.tanh(t["X"] @ t["W"] + t["b"]) @ t["W"] + t["X"])
    torch_loss = 0.5 * ((out - t["T"]) ** 2).sum(dim=1).mean()
    torch_loss.backward()

    assert loss == pytest.approx(torch_loss.item(), rel=1e-14)
    for name in ["X", "T", "W", "b"]:
        np.testing.assert_allclose(grads[name], t[name].grad.numpy(), rtol=1e-12, atol=1e-15, err_msg=name)


# ------------------------------------------------------------------ every box: bprop vs FD, fmode vs bprop


def signed(rng, shape):
    """Entries of both signs, 0.5 ≤ |x| ≤ 2: away from ReLU's kink at 0."""
    return np.asarray(rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape))


def labels(rng, shape):
    return rng.integers(0, 3, shape)


BOX_CASES = {
    "Add": (Add, [(signed, (5, 3)), (signed, (5, 3))]),
    "Add-bias": (Add, [(signed, (5, 3)), (signed, (3,))]),
    "Add-column": (Add, [(signed, (5, 1)), (signed, (5, 3))]),
    "Subtract-bias": (Subtract, [(signed, (5, 3)), (signed, (3,))]),
    "Multiply": (Multiply, [(signed, (5, 3)), (signed, (5, 3))]),
    "Multiply-scalar": (Multiply, [(signed, ()), (signed, (5, 3))]),
    "MatMul": (MatMul, [(signed, (5, 3)), (signed, (3, 2))]),
    "Maximum": (Maximum, [(signed, (5, 3)), (signed, (5, 3))]),
    "Maximum-broadcast": (Maximum, [(signed, (5, 3)), (signed, (3,))]),
    "Sigmoid": (Sigmoid, [(signed, (5, 3))]),
    "Tanh": (Tanh, [(signed, (5, 3))]),
    "ReLU": (ReLU, [(signed, (5, 3))]),
    "Exp": (Exp, [(signed, (5, 3))]),
    "Log": (Log, [(lambda rng, shape: np.abs(signed(rng, shape)), (5, 3))]),
    "Square": (Square, [(signed, (5, 3))]),
    "Sum": (Sum, [(signed, (5, 3))]),
    "Mean": (Mean, [(signed, (5, 3))]),
    "SquaredError": (SquaredError, [(signed, (5, 3)), (signed, (5, 3))]),
    "SoftmaxCrossEntropy": (SoftmaxCrossEntropy, [(signed, (5, 3)), (labels, (5,))]),
}


def gradients(box, grad_out):
    """``box.bprop(grad_out)`` as one gradient per input: a box of one input returns its ``grad_x`` itself."""
    sent = box.bprop(grad_out)
    assert isinstance(sent, tuple) == (box.n_inputs > 1)  # a tuple for several inputs, grad_x for one
    return (sent,) if box.n_inputs == 1 else sent


def make_box_case(case, seed=0):
    rng = np.random.default_rng(seed)
    box_class, makers = BOX_CASES[case]
    inputs = [make(rng, shape) for make, shape in makers]
    grad_out = signed(rng, np.shape(box_class().fprop(*inputs)))
    return box_class, inputs, grad_out, rng


@pytest.mark.parametrize("case", BOX_CASES)
def test_box_bprop_matches_finite_differences(case):
    box_class, inputs, grad_out, _ = make_box_case(case)
    copies = [x.copy() for x in inputs]
    box = box_class()
    box.fprop(*inputs)
    grads = gradients(box, grad_out)
    assert len(grads) == len(inputs) == box.n_inputs
    for x, copy in zip(inputs, copies, strict=True):
        np.testing.assert_array_equal(x, copy)  # no input mutated
    for i, (x, grad) in enumerate(zip(inputs, grads, strict=True)):
        if x.dtype.kind == "i":  # labels: no gradient
            assert grad is None
            continue
        assert np.shape(grad) == x.shape, f"input {i}"
        # a fresh box per evaluation: L = Σ fprop(inputs) ⊙ grad_out has gradient bprop(grad_out)
        numeric = numerical_gradient(lambda: np.sum(box_class().fprop(*inputs) * grad_out), x)
        assert relative_error(grad, numeric) < 1e-7, f"input {i}"


@pytest.mark.parametrize("case", BOX_CASES)
def test_box_fmode_is_the_transpose_of_bprop(case):
    # ⟨ẏ, ḡ⟩ = Σ_i ⟨ẋ_i, grad_x_i⟩: the JVP and the VJP of the same Jacobian
    box_class, inputs, grad_out, rng = make_box_case(case, seed=1)
    box = box_class()
    box.fprop(*inputs)
    tangents = [signed(rng, x.shape) if x.dtype.kind == "f" else np.zeros(x.shape) for x in inputs]
    forward = np.sum(box.fmode(*tangents) * grad_out)
    grads = gradients(box, grad_out)
    reverse = sum(np.sum(v * grad) for v, grad in zip(tangents, grads, strict=True) if grad is not None)
    assert forward == pytest.approx(reverse, rel=1e-12, abs=1e-14)


# ------------------------------------------------------------------ forward mode vs reverse mode on graphs


def test_forward_mode_gives_the_directional_derivative_of_reverse_mode():
    g, feed = shared_weights_graph(np.random.default_rng(2))
    g.fprop(feed)
    grads = g.bprop()
    rng = np.random.default_rng(3)
    for _ in range(5):
        directions = {name: rng.standard_normal(np.shape(grad)) for name, grad in grads.items()}
        expected = sum(np.sum(grads[name] * v) for name, v in directions.items())
        assert g.forward_mode(feed, directions) == pytest.approx(expected, rel=1e-10)
    # one direction per sweep: the basis vector e_b[2] gives one entry of the gradient
    e = np.zeros(4)
    e[2] = 1.0
    assert g.forward_mode(feed, {"b": e}) == pytest.approx(grads["b"][2], rel=1e-12)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(n=st.integers(1, 6), d=st.integers(1, 5), k=st.integers(2, 4), seed=st.integers(0, 2**16))
def test_property_mlp_graph_gradients_match_forward_mode_and_finite_differences(n, d, k, seed):
    rng = np.random.default_rng(seed)
    sizes = [(d, 3), (3,), (3, k), (k,)]
    g = mlp_graph(*(rng.standard_normal(size) for size in sizes), Tanh)
    feed = {"X": rng.standard_normal((n, d)), "y": rng.integers(0, k, n)}
    g.fprop(feed)
    grads = g.bprop()
    assert set(grads) == {"X", "W1", "b1", "W2", "b2"}  # labels have no gradient
    directions = {name: rng.standard_normal(np.shape(grad)) for name, grad in grads.items()}
    expected = sum(np.sum(grads[name] * v) for name, v in directions.items())
    assert g.forward_mode(feed, directions) == pytest.approx(expected, rel=1e-10, abs=1e-13)
    numeric = numerical_gradient(lambda: g.fprop(feed), g.params["W1"])
    np.testing.assert_allclose(grads["W1"], numeric, rtol=1e-6, atol=1e-9)  # atol: entries near 0


# ------------------------------------------------------------------ the MLP of the modules, as a flow graph


def mlp_graph(W1, b1, W2, b2, activation):
    """loss = softmax-cross-entropy(activation(X W1 + b1) W2 + b2, y)."""
    g = FlowGraph()
    X, y = g.input("X"), g.input("y")
    z1 = g.add(Add(), g.add(MatMul(), X, g.parameter("W1", W1)), g.parameter("b1", b1))
    h = g.add(activation(), z1, name="h")
    logits = g.add(Add(), g.add(MatMul(), h, g.parameter("W2", W2)), g.parameter("b2", b2), name="logits")
    g.add(SoftmaxCrossEntropy(), logits, y, name="loss")
    return g


@pytest.mark.parametrize(
    ("graph_activation", "module_activation"),
    [(Sigmoid, modules.Sigmoid), (ReLU, modules.ReLU)],
    ids=["sigmoid", "relu"],
)
def test_mlp_flow_graph_matches_sequential_modules(graph_activation, module_activation):
    rng = np.random.default_rng(4)
    net = modules.Sequential([modules.Linear(4, 5, rng), module_activation(), modules.Linear(5, 3, rng)])
    net[0].b, net[2].b = rng.standard_normal(5), rng.standard_normal(3)
    X, y = rng.standard_normal((7, 4)), np.array([0, 2, 1, 1, 0, 2, 2])

    criterion = modules.SoftmaxCrossEntropy()
    expected_loss = criterion.fprop(net.fprop(X), y)
    expected_grad_X = net.bprop(criterion.bprop(), need_grad_x=True)

    g = mlp_graph(net[0].W, net[0].b, net[2].W, net[2].b, graph_activation)
    loss = g.fprop({"X": X, "y": y})
    grads = g.bprop()
    assert loss == pytest.approx(expected_loss, rel=1e-14)
    for name, expected in [
        ("X", expected_grad_X),
        ("W1", net[0].grad_W),
        ("b1", net[0].grad_b),
        ("W2", net[2].grad_W),
        ("b2", net[2].grad_b),
    ]:
        np.testing.assert_allclose(grads[name], expected, rtol=1e-12, atol=1e-15, err_msg=name)


def test_training_a_flow_graph_by_gradient_descent_lowers_the_loss():
    rng = np.random.default_rng(5)
    g = mlp_graph(0.5 * rng.standard_normal((2, 8)), np.zeros(8), 0.5 * rng.standard_normal((8, 2)), np.zeros(2), Tanh)
    X = rng.standard_normal((40, 2))
    feed = {"X": X, "y": (X[:, 0] * X[:, 1] > 0).astype(int)}  # XOR of the signs
    first = g.fprop(feed)
    for _ in range(300):
        g.fprop(feed)
        for name, grad in g.bprop().items():
            if name in g.params:
                g.params[name] -= 1.0 * grad
    assert g.fprop(feed) < 0.5 * first


# ------------------------------------------------------------------ structure and bookkeeping


def test_as_dict_feeds_topological_order_and_can_be_restricted_to_an_output():
    g = affine_square_graph()
    graph = g.as_dict()
    assert [node.name for node in graph] == ["x", "w", "b", "u", "v", "f"]
    assert [node.name for node in graph[g["v"]]] == ["u", "b"]
    assert_after_inputs(topological_order(graph), graph)
    assert {node.name for node in g.as_dict("u")} == {"u", "x", "w"}
    assert str(g["u"]) == "u" and repr(g["u"]) == "Node('u')" and g["u"].kind == "box"
    assert [g[name].kind for name in "xw"] == ["input", "parameter"]


def test_runs_are_independent_and_nothing_is_mutated():
    g, feed = shared_weights_graph(np.random.default_rng(6))
    copies = {name: v.copy() for name, v in {**feed, **g.params}.items()}
    g.fprop(feed)
    first = {name: grad.copy() for name, grad in g.bprop().items()}
    g.fprop(feed)
    second = g.bprop()
    g.forward_mode(feed, {"W": np.ones((4, 4))})
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])  # no accumulation across runs
    for name, value in {**feed, **g.params}.items():
        np.testing.assert_array_equal(value, copies[name])


def test_feeding_a_parameter_overrides_its_stored_value_for_one_run():
    g = affine_square_graph()
    assert g.fprop({"x": 0.5, "w": 1.5}) == pytest.approx((0.75 + 0.25) ** 2)
    assert g.params["w"] == -1.5
    assert g.fprop({"x": 0.5}) == pytest.approx(0.25)


def test_bprop_from_an_inner_scalar_node_of_the_last_fprop():
    g = affine_square_graph()
    g.fprop({"x": 0.5})
    assert g.bprop("u") == {"x": -1.5, "w": 0.5}


# ------------------------------------------------------------------ errors a student will meet


def test_missing_feed_names_the_input():
    g = affine_square_graph()
    with pytest.raises(ValueError, match=r"FlowGraph.fprop expected a feed value for input 'x', got feed keys \[\]"):
        g.fprop({})


def test_unknown_feed_name_is_reported():
    with pytest.raises(ValueError, match=r"feed names among \['x', 'w', 'b', 'u', 'v', 'f'\], got \['X'\]"):
        affine_square_graph().fprop({"X": 0.5})


def test_reusing_a_box_at_two_nodes_is_refused():
    g = FlowGraph()
    x = g.input("x")
    act = Sigmoid()
    g.add(act, x, name="h1")
    with pytest.raises(ValueError, match=r"new box for node 'h2', got the Sigmoid\(\) already used at node 'h1'"):
        g.add(act, x, name="h2")


def test_a_shape_error_inside_a_box_names_the_node_and_the_box():
    g, feed = shared_weights_graph(np.random.default_rng(7))
    feed["X"] = np.ones((7, 3))
    with pytest.raises(ValueError, match=r"FlowGraph.fprop: box 'z1' \(MatMul\) failed: ValueError: matmul"):
        g.fprop(feed)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda g: g.input("x"), "expected a new node name, got 'x'"),
        (lambda g: g.add(Add(), "x"), r"expected 2 input\(s\) for Add\(\), got 1"),
        (lambda g: g.add(Square(), "nowhere"), "expected a node of this graph .or its name., got 'nowhere'"),
        (lambda g: g.add(Square(), FlowGraph().input("x")), r"got Node\('x'\)"),
    ],
    ids=["duplicate-name", "arity", "unknown-name", "node-of-another-graph"],
)
def test_building_errors(build, message):
    g = FlowGraph()
    g.input("x")
    with pytest.raises(ValueError, match=message):
        build(g)
    with pytest.raises(TypeError, match="expected a box with fprop and bprop, got ufunc"):
        g.add(np.tanh, "x")
    with pytest.raises(TypeError, match=r"FlowGraph\.input expected a name as a str, got int"):
        g.input(3)


def test_bprop_needs_a_scalar_output_of_a_previous_fprop():
    g = FlowGraph()
    g.add(Tanh(), g.input("x"), name="h")
    with pytest.raises(RuntimeError, match="before fprop"):
        g.bprop()
    g.fprop({"x": np.ones(3)})
    with pytest.raises(ValueError, match=r"expected a scalar output, got 'h' of shape \(3,\)"):
        g.bprop()


def test_a_box_returning_a_wrong_gradient_is_caught_with_its_name():
    class Transposed(Box):
        def fprop(self, x):
            self.x = x
            return x.sum()

        def bprop(self, grad_out):
            return np.ones(self.x.shape[::-1])

    g = FlowGraph()
    g.add(Transposed(), g.input("x"), name="bad")
    g.fprop({"x": np.ones((2, 3))})
    with pytest.raises(
        ValueError, match=r"box 'bad' \(Transposed\) expected a gradient for 'x' of shape \(2, 3\), got"
    ):
        g.bprop()
    with pytest.raises(ValueError, match=r"FlowGraph.fmode: box 'bad' \(Transposed\) failed: NotImplementedError: Tr"):
        g.forward_mode({"x": np.ones((2, 3))}, {})


def test_forward_mode_checks_tangent_names_and_shapes():
    g = affine_square_graph()
    for name in ["z", "u"]:  # unknown, and a box node (its tangent is computed, not given)
        with pytest.raises(ValueError, match=rf"tangents for leaves of the graph, got \['{name}'\]"):
            g.forward_mode({"x": 0.5}, {name: 1.0})
    with pytest.raises(ValueError, match=r"tangent of 'w' with shape \(\), got shape \(2,\)"):
        g.forward_mode({"x": 0.5}, {"w": [1.0, 2.0]})


def test_consumers_are_the_nodes_that_read_a_node():
    g = FlowGraph()
    x, w = g.input("x"), g.parameter("w", 2.0)
    xw = g.add(Multiply(), x, w, name="xw")
    ww = g.add(Multiply(), w, w, name="ww")  # read twice by one box: listed once
    g.add(Add(), xw, ww, name="L")
    assert [n.name for n in g.consumers("w")] == ["xw", "ww"]
    assert [n.name for n in g.consumers(x)] == ["xw"]
    assert g.consumers("L") == []
    g.fprop({"x": 3.0})
    assert float(g.bprop()["w"]) == pytest.approx(3.0 + 2 * 2.0)  # x from xw, 2w from ww: the sum over consumers
    with pytest.raises(ValueError, match=r"FlowGraph\.consumers expected a node of this graph"):
        g.consumers("nope")


def test_maximum_routes_the_gradient_to_the_winner():
    box = Maximum()
    y = box.fprop(np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0, 3.0]))
    np.testing.assert_array_equal(y, [1.0, 4.0, 3.0])
    grad_a, grad_b = box.bprop(np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(grad_a, [10.0, 0.0, 30.0])  # a wins the first, and the tie
    np.testing.assert_array_equal(grad_b, [0.0, 20.0, 0.0])


# ------------------------------------------------------------------ one contract: modules are boxes


def test_the_one_input_boxes_are_the_modules():
    assert (Sigmoid, Tanh, ReLU, Exp, Log, Square) == (
        modules.Sigmoid, modules.Tanh, modules.ReLU, modules.Exp, modules.Log, modules.Square)
    assert Box is modules.Module
    assert all(issubclass(box, Box) for box, _ in BOX_CASES.values())


def test_a_linear_module_and_a_sequential_are_nodes_of_a_flow_graph():
    # L = mean softmax-CE(tanh(X W1 + b1) W2 + b2): one node per module, the parameters inside them
    rng = np.random.default_rng(8)
    first, rest = modules.Linear(4, 5, rng), modules.Sequential([modules.Tanh(), modules.Linear(5, 3, rng)])
    first.b[:] = rng.standard_normal(5)
    X, y = rng.standard_normal((7, 4)), rng.integers(0, 3, 7)
    g = FlowGraph()
    g.add(SoftmaxCrossEntropy(), g.add(rest, g.add(first, g.input("X"), name="z1"), name="z2"), g.input("y"))
    loss = g.fprop({"X": X, "y": y})
    grads = g.bprop()
    assert set(grads) == {"X"}  # the modules' parameters are no graph leaves: their gradients sit on the modules
    net, criterion = modules.Sequential([first, *rest]), modules.SoftmaxCrossEntropy()
    assert loss == criterion.fprop(net.fprop(X), y)
    grad_X = net.bprop(criterion.bprop())
    np.testing.assert_array_equal(grads["X"], grad_X)
    numeric = numerical_gradient(lambda: g.fprop({"X": X, "y": y}), first.W)
    g.fprop({"X": X, "y": y})
    g.bprop()
    assert relative_error(first.grad_W, numeric) < 1e-7


def test_a_one_input_box_returning_a_tuple_is_told_the_contract():
    class OldStyle(Box):
        def fprop(self, x):
            self.x = x
            return np.sum(x)

        def bprop(self, grad_out):
            return (np.full(np.shape(self.x), grad_out),)

    g = FlowGraph()
    g.add(OldStyle(), g.input("x"), name="old")
    g.fprop({"x": np.ones(3)})
    with pytest.raises(ValueError, match=r"box 'old' \(OldStyle\) expected bprop to return the gradient of its "
                                         r"one input, got a tuple: a box of one input returns grad_x itself"):
        g.bprop()


def test_a_loss_module_in_a_flow_graph_points_to_the_graph_losses():
    g = FlowGraph()
    g.add(modules.SoftmaxCrossEntropy(), g.input("z"), g.input("y"), name="L")
    g.fprop({"z": np.zeros((2, 3)), "y": np.array([0, 2])})
    with pytest.raises(ValueError, match=r"tuple of 2 gradient\(s\), got a ndarray \(a loss of nbbackprop.modules "
                                         r"sends back ∂L/∂outputs alone; in a flow graph use graph.Softmax"):
        g.bprop()
