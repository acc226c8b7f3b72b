"""The ps3/ps4 checks against a catalogue of typical student bugs and of correct-but-different solutions.

Every student version is source text executed into a fresh namespace, as a
notebook would define it, so its collaborators (its own `forward`, …) are
found where the checks look for them. Each bug must be caught *and* named:
the listed parts get the listed diagnosis codes, every other part passes.
"""

import textwrap

import numpy as np
import pytest

from nbbackprop.checks import CheckFailure, check_linear, suite_for

PRELUDE = """
import numpy as np

def sig(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))

def softmax_rows(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
"""

LINEAR = """
class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        self.b = np.zeros(n_out)
    def fprop(self, x):
        self.x = x
        return x @ self.W + self.b
    def bprop(self, grad_y):
        self.grad_W = self.x.T @ grad_y
        self.grad_b = grad_y.sum(axis=0)
        return grad_y @ self.W.T
"""

SIGMOID = """
class Sigmoid:
    def fprop(self, x):
        self.y = sig(x)
        return self.y
    def bprop(self, grad_y):
        return grad_y * self.y * (1 - self.y)
"""

TANH = """
class Tanh:
    def fprop(self, x):
        self.y = np.tanh(x)
        return self.y
    def bprop(self, grad_y):
        return grad_y * (1 - self.y ** 2)
"""

RELU = """
class ReLU:
    def fprop(self, x):
        self.x = x
        return np.maximum(x, 0)
    def bprop(self, grad_y):
        return grad_y * (self.x > 0)
"""

SOFTMAX_CE = """
class SoftmaxCrossEntropy:
    def fprop(self, logits, y):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.p, self.y = np.exp(log_p), y
        return -log_p[np.arange(len(y)), y].mean()
    def bprop(self):
        g = self.p.copy()
        g[np.arange(len(self.y)), self.y] -= 1
        return g / len(self.y)
"""

SEQUENTIAL = """
class Sequential:
    def __init__(self, modules):
        self.modules = modules
    def fprop(self, x):
        for m in self.modules:
            x = m.fprop(x)
        return x
    def bprop(self, grad_y):
        for m in reversed(self.modules):
            grad_y = m.bprop(grad_y)
        return grad_y
"""

TOPO = """
def topological_order(graph):
    order, state = [], {}
    def visit(node):
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            raise ValueError("cycle")
        state[node] = 1
        for parent in graph.get(node, []):
            visit(parent)
        state[node] = 2
        order.append(node)
    for node in graph:
        visit(node)
    return order
"""

MLP = """
def init_params(layer_sizes, rng):
    return [(rng.standard_normal((a, b)) / np.sqrt(a), np.zeros(b)) for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]

def forward(params, X):
    acts = [X]
    for W, b in params[:-1]:
        acts.append(sig(acts[-1] @ W + b))
    probs = softmax_rows(acts[-1] @ params[-1][0] + params[-1][1])
    return probs, {"acts": acts, "probs": probs}

def cross_entropy(probs, y):
    return -np.mean(np.log(probs[np.arange(len(y)), y]))

def backward(params, cache, y, lam=0.0):
    acts, probs = cache["acts"], cache["probs"]
    delta = probs.copy()
    delta[np.arange(len(y)), y] -= 1
    delta = delta / len(y)
    grads = []
    for l in range(len(params) - 1, -1, -1):
        W, b = params[l]
        a = acts[l]
        grads.append((a.T @ delta + lam * W, delta.sum(axis=0)))
        if l > 0:
            delta = (delta @ W.T) * a * (1 - a)
    return grads[::-1]

def sgd_step(params, grads, lr):
    return [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads)]

def train(X, y, layer_sizes, lr, epochs, batch_size, lam, rng):
    params, losses = init_params(layer_sizes, rng), []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            probs, cache = forward(params, X[idx])
            params = sgd_step(params, backward(params, cache, y[idx], lam), lr)
        losses.append(cross_entropy(forward(params, X)[0], y))
    return params, {"loss": losses}
"""

MODEL = PRELUDE + LINEAR + SIGMOID + TANH + RELU + SOFTMAX_CE + SEQUENTIAL + TOPO + MLP


def student(source=MODEL, *edits):
    """Execute the model answer with ``edits`` = (old, new) pairs applied; return its namespace."""
    for old, new in edits:
        assert old in source, f"edit does not apply: {old!r}"
        source = source.replace(old, new, 1)
    namespace = {}
    exec(compile(textwrap.dedent(source), "<student>", "exec"), namespace)
    return namespace


def verdicts(target, namespace, hidden=False):
    suite = suite_for(target)
    return {v.id.split(".", 1)[1]: v for v in suite.verdicts(suite.probe(namespace[target], hidden), hidden)}


# (target, what the student did, edits, {part: diagnosis} expected; every other part must pass)
BUGS = [
    ("Linear", "grad_W as grad_yᵀ x", [("self.grad_W = self.x.T @ grad_y", "self.grad_W = grad_y.T @ self.x")],
     {"grad_W": "transpose"}),
    ("Linear", "grad_x with W instead of Wᵀ", [("return grad_y @ self.W.T", "return grad_y @ self.W")],
     {"grad_x": "transpose"}),
    ("Linear", "grad_b summed over features", [("grad_y.sum(axis=0)", "grad_y.sum(axis=1)")], {"grad_b": "axis"}),
    ("Linear", "grad_b as a mean", [("grad_y.sum(axis=0)", "grad_y.mean(axis=0)")], {"grad_b": "scale-batch"}),
    ("Linear", "grad_W divided by N again", [("self.x.T @ grad_y", "self.x.T @ grad_y / len(grad_y)")],
     {"grad_W": "scale-batch"}),
    ("Linear", "gradients accumulated", [("self.grad_W = self.x.T @ grad_y",
                                          "self.grad_W = getattr(self, 'grad_W', 0) + self.x.T @ grad_y")],
     {"state": "state"}),
    ("Linear", "upstream gradient ignored in grad_W",
     [("self.grad_W = self.x.T @ grad_y", "self.grad_W = self.x.T @ np.ones_like(grad_y)")], {"grad_W": "chain-rule"}),
    ("Linear", "W of shape (n_out, n_in)", [("rng.standard_normal((n_in, n_out))", "rng.standard_normal((n_out, n_in))")],
     {"init": "transpose"}),
    ("Linear", "zero initial weights", [("rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)", "np.zeros((n_in, n_out))")],
     {"init": "mismatch"}),
    ("Sigmoid", "derivative at the input", [("self.y = sig(x)", "self.x = x\n        self.y = sig(x)"),
                                            ("grad_y * self.y * (1 - self.y)", "grad_y * self.x * (1 - self.x)")],
     {"bprop": "activation-derivative"}),
    ("Sigmoid", "naive exp overflows", [("self.y = sig(x)", "self.y = 1 / (1 + np.exp(-x))")], {"stability": "unstable"}),
    ("Sigmoid", "upstream gradient dropped", [("return grad_y * self.y * (1 - self.y)", "return self.y * (1 - self.y)")],
     {"bprop": "chain-rule"}),
    ("Tanh", "1 − x² instead of 1 − y²", [("self.y = np.tanh(x)", "self.x = x\n        self.y = np.tanh(x)"),
                                         ("grad_y * (1 - self.y ** 2)", "grad_y * (1 - self.x ** 2)")],
     {"bprop": "activation-derivative"}),
    ("ReLU", "mask taken from grad_y", [("return grad_y * (self.x > 0)", "return grad_y * (grad_y > 0)")],
     {"bprop": "activation-derivative"}),
    ("ReLU", "in-place clipping of the input", [("return np.maximum(x, 0)", "x[x < 0] = 0\n        return x")],
     {"fprop": "mutation", "stability": "mutation"}),
    ("SoftmaxCrossEntropy", "sum instead of mean", [("return -log_p[np.arange(len(y)), y].mean()",
                                                     "return -log_p[np.arange(len(y)), y].sum()")],
     {"loss": "scale-batch"}),
    ("SoftmaxCrossEntropy", "gradient not divided by N", [("return g / len(self.y)", "return g")],
     {"grad": "scale-batch"}),
    ("SoftmaxCrossEntropy", "no max shift", [("shifted = logits - logits.max(axis=1, keepdims=True)", "shifted = logits")],
     {"stability": "unstable"}),
    ("SoftmaxCrossEntropy", "gradient with the wrong sign", [("return g / len(self.y)", "return -g / len(self.y)")],
     {"grad": "sign"}),
    ("Sequential", "upstream gradient not passed along", [("grad_y = m.bprop(grad_y)\n        return grad_y",
                                                           "m.bprop(grad_y)\n        return grad_y")],
     {"bprop": "chain-rule"}),
    ("topological_order", "no cycle detection", [("raise ValueError(\"cycle\")", "return")], {"cycle": "mismatch"}),
    ("topological_order", "leaves left out", [("        order.append(node)", "        if node in graph:\n"
                                                                              "            order.append(node)")],
     {"order": "mismatch"}),
    ("backward", "L2 term applied to biases too", [("delta.sum(axis=0))", "delta.sum(axis=0) + lam * b)")],
     {"regularization": "regularization"}),
    ("backward", "L2 term forgotten", [("a.T @ delta + lam * W", "a.T @ delta")], {"regularization": "regularization"}),
    ("backward", "σ' missing in the recursion", [("delta = (delta @ W.T) * a * (1 - a)", "delta = delta @ W.T")],
     {"dW_hidden": "activation-derivative", "db_hidden": "activation-derivative"}),
    ("backward", "mean taken twice", [("delta = delta / len(y)", "delta = delta / len(y) ** 2")],
     {"dW_output": "scale-batch", "db_output": "scale-batch", "dW_hidden": "scale-batch", "db_hidden": "scale-batch"}),
    ("backward", "cache changed in place", [("delta = probs.copy()", "delta = probs")], {"cache": "mutation"}),
    ("forward", "softmax over the batch axis", [("e = np.exp(z - z.max(axis=1, keepdims=True))\n    return e / e.sum(axis=1, keepdims=True)",
                                                  "e = np.exp(z - z.max(axis=0))\n    return e / e.sum(axis=0)")],
     {"probs": "axis"}),
    ("cross_entropy", "sum instead of mean", [("return -np.mean(np.log(probs[np.arange(len(y)), y]))",
                                               "return -np.sum(np.log(probs[np.arange(len(y)), y]))")],
     {"value": "scale-batch", "mean": "scale-batch"}),
    ("sgd_step", "in-place update", [("return [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads)]",
                                      "for (W, b), (dW, db) in zip(params, grads):\n        W -= lr * dW\n"
                                      "        b -= lr * db\n    return params")],
     {"inputs": "mutation"}),
    ("sgd_step", "ascent instead of descent", [("(W - lr * dW, b - lr * db)", "(W + lr * dW, b + lr * db)")],
     {"values": "sign"}),
    ("init_params", "all-zero weights", [("rng.standard_normal((a, b)) / np.sqrt(a)", "np.zeros((a, b))")],
     {"values": "mismatch"}),
    ("init_params", "global numpy seed instead of rng", [("rng.standard_normal((a, b))", "np.random.standard_normal((a, b))")],
     {"rng": "state"}),
]


@pytest.mark.parametrize(("target", "what", "edits", "expected"), BUGS, ids=[f"{b[0]}: {b[1]}" for b in BUGS])
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_each_typical_bug_is_caught_and_named(target, what, edits, expected, hidden):
    found = verdicts(target, student(MODEL, *edits), hidden)
    got = {part: v.diagnosis for part, v in found.items() if not v.passed}
    assert got == expected, f"{what}: {[v.message for v in found.values() if not v.passed]}"
    for part in expected:
        message = found[part].message
        assert target.split("_")[0] in message or "backward" in message or "forward" in message


CORRECT = [
    ("Linear", "einsum gradients", [("self.grad_W = self.x.T @ grad_y", "self.grad_W = np.einsum('ni,nj->ij', self.x, grad_y)")]),
    ("Linear", "loop over the batch", [("self.grad_b = grad_y.sum(axis=0)",
                                        "self.grad_b = np.zeros(grad_y.shape[1])\n"
                                        "        for row in grad_y:\n            self.grad_b = self.grad_b + row")]),
    ("Sigmoid", "tanh-free split formula via logaddexp", [("self.y = sig(x)", "self.y = np.exp(-np.logaddexp(0, -x))")]),
    ("ReLU", "np.where mask", [("return grad_y * (self.x > 0)", "return np.where(self.x > 0, grad_y, 0.0)")]),
    ("SoftmaxCrossEntropy", "one-hot matrix", [("g = self.p.copy()\n        g[np.arange(len(self.y)), self.y] -= 1",
                                                "g = self.p - np.eye(self.p.shape[1])[self.y]")]),
    ("Sequential", "index loop backwards", [("for m in reversed(self.modules):", "for m in self.modules[::-1]:")]),
    ("backward", "lists instead of tuples", [("grads.append((a.T @ delta + lam * W, delta.sum(axis=0)))",
                                              "grads.append([a.T @ delta + lam * W, delta.sum(axis=0)])")]),
    ("sgd_step", "explicit loop", [("return [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads)]",
                                    "new = []\n    for i in range(len(params)):\n"
                                    "        new.append((params[i][0] - lr * grads[i][0], params[i][1] - lr * grads[i][1]))\n"
                                    "    return new")]),
    ("topological_order", "Kahn's algorithm", [(TOPO, """
def topological_order(graph):
    nodes = set(graph) | {p for inputs in graph.values() for p in inputs}
    waiting = {n: len(set(graph.get(n, []))) for n in nodes}
    users = {n: [m for m in graph if n in graph[m]] for n in nodes}
    ready = sorted(n for n in nodes if waiting[n] == 0)
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for user in users[node]:
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    if len(order) != len(nodes):
        raise ValueError("cycle")
    return order
""")]),
]


@pytest.mark.parametrize(("target", "what", "edits"), CORRECT, ids=[f"{c[0]}: {c[1]}" for c in CORRECT])
def test_correct_but_different_solutions_get_full_marks(target, what, edits):
    for hidden in (False, True):
        found = verdicts(target, student(MODEL, *edits), hidden)
        assert all(v.passed for v in found.values()), f"{what}: {[v.message for v in found.values() if not v.passed]}"


@pytest.mark.parametrize("target", ["Linear", "Sigmoid", "Tanh", "ReLU", "SoftmaxCrossEntropy", "Sequential",
                                    "topological_order", "init_params", "forward", "cross_entropy", "backward",
                                    "sgd_step", "train"])
def test_the_model_answer_passes_and_a_stub_fails_everything(target):
    namespace = student()
    assert all(v.passed for v in verdicts(target, namespace, hidden=True).values())

    def stub(*args, **kwargs):
        raise NotImplementedError("replace this line with your code")

    stubbed = dict(namespace, **{target: stub})
    if target == "backward":
        stubbed["forward"] = stub
    assert {v.diagnosis for v in verdicts(target, stubbed).values()} == {"not-implemented"}


def test_backward_consistent_with_a_wrong_forward_is_not_charged_again():
    # tanh hidden units in forward and backward: forward is wrong (charged there), backward agrees
    # with finite differences of that forward, so backward keeps its points
    namespace = student(MODEL, ("acts.append(sig(acts[-1] @ W + b))", "acts.append(np.tanh(acts[-1] @ W + b))"),
                        ("delta = (delta @ W.T) * a * (1 - a)", "delta = (delta @ W.T) * (1 - a ** 2)"))
    assert {v.diagnosis for v in verdicts("forward", namespace).values()} != {"ok"}
    assert all(v.passed for v in verdicts("backward", namespace).values())


def test_an_activation_whose_bprop_matches_its_own_wrong_fprop_is_charged_once():
    # fprop computes softplus instead of σ; bprop is softplus' derivative, σ(x): consistent with its own fprop
    namespace = student(MODEL, ("self.y = sig(x)", "self.x = x\n        self.y = np.logaddexp(0, x)"),
                        ("return grad_y * self.y * (1 - self.y)", "return grad_y * sig(self.x)"))
    found = verdicts("Sigmoid", namespace)
    assert found["fprop"].diagnosis == "mismatch"
    assert found["bprop"].passed


def test_delegating_to_the_reference_scores_nothing():
    import nbbackprop.modules

    found = verdicts("Linear", {"Linear": nbbackprop.modules.Linear})
    assert {v.diagnosis for v in found.values()} == {"delegation"}

    class Sneaky(nbbackprop.modules.Linear):
        pass

    assert {v.diagnosis for v in verdicts("Linear", {"Linear": Sneaky}).values()} == {"delegation"}


def test_a_grade_cell_raises_an_assertion_naming_code_part_and_cause(capsys):
    good = student()
    check_linear(good["Linear"], "grad_W")
    assert "Linear: grad_W passed" in capsys.readouterr().out
    bad = student(MODEL, ("self.grad_W = self.x.T @ grad_y", "self.grad_W = grad_y.T @ self.x"))
    with pytest.raises(CheckFailure) as info:
        check_linear(bad["Linear"], "grad_W")
    text = str(info.value)
    assert isinstance(info.value, AssertionError)
    assert text.startswith("[transpose] [grad_W] Linear.bprop")
    assert "expected (5, 3)" in text and "Likely cause" in text
    with pytest.raises(CheckFailure) as info:  # a hidden test names the bug and its cause, never its inputs
        check_linear(bad["Linear"], "grad_W", hidden=True)
    text = str(info.value)
    assert text.startswith("[transpose] [grad_W] Linear passes the visible test of grad_W but fails a hidden one")
    assert "Likely cause" in text and "(6, 4)" not in text and "shape" not in text.split("Likely cause")[0]
    with pytest.raises(ValueError, match="expected part in"):
        check_linear(good["Linear"], "grad_w")
    assert np.isfinite(0.0)
