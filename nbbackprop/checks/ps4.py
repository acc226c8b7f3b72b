"""Checks for ps4_flow_graph: modules with fprop/bprop, Sequential, topological_order."""

from dataclasses import replace
from typing import ClassVar

import numpy as np

from .. import graph as ref_graph
from .. import modules as ref
from ..losses import log_softmax, softmax
from .engine import (
    OK,
    Raised,
    Suite,
    call,
    copied,
    explain,
    failed,
    finding,
    frozen,
    low_precision,
    raised,
    unless_stub,
)
from .parts import FD_STEP, agrees_with_own_forward, fresh_twin, stability
from .probes import dims, labels, mixed, rng_for

_copy = copied
BIG = (np.linspace(-1e4, 1e4, 35) + 1.5).reshape(7, 5)  # large inputs of both signs, none at ReLU's kink


def interleaved(build, pair, attributes=()):
    """Two fresh instances used interleaved — fprop A, fprop B, bprop A, bprop B — as two layers of one kind in
    a network are: what each bprop returned, and the ``attributes`` it set. State kept on the class (or shared
    between instances) shows here and nowhere else."""
    boxes = [build(), build()]
    if any(isinstance(box, Raised) for box in boxes):
        return Raised("exception", "could not build two instances")
    states, calls = pair
    for box, state in zip(boxes, states):
        for name, value in state.items():
            setattr(box, name, frozen(value))
    for box, (args, _) in zip(boxes, calls):
        call(box.fprop, *map(frozen, args))
    answers = [call(box.bprop, *(() if g is None else (frozen(g),))) for box, (_, g) in zip(boxes, calls)]
    return [(_copy(answer), *(_attr(box, name) for name in attributes)) for box, answer in zip(boxes, answers)]


def judge_interleaved(where, got, pair, expected_of):
    """``state``: each of two interleaved instances must answer as if it were alone."""
    if isinstance(got, Raised):
        return OK  # a box that cannot be built twice is charged where it first fails
    for label, answers, state, calls in zip(("first", "second"), got, *pair):
        for value, expected in zip(answers, expected_of(state, calls)):
            if isinstance(value, Raised) or np.shape(value) != np.shape(expected) or \
                    not np.allclose(value, expected, rtol=1e-9, atol=1e-12):
                return failed("state", f"{where}: with two instances used in turn (fprop A, fprop B, bprop A, "
                                       f"bprop B), the {label} one's gradients came out wrong, though each is right "
                                       "alone.",
                              "keep what fprop needs on the instance (self.x = x), never on the class (Linear.x, "
                              "a class-level dict or list): a network has several layers of one kind.")
    return OK


def _attr(obj, name):
    value = getattr(obj, name, None)
    return _copy(value) if value is not None else Raised("exception", f"has no attribute {name} after bprop")


# ---- Linear -------------------------------------------------------------------------------------


class LinearSuite(Suite):
    target = "Linear"
    reference = ref.Linear
    signature = "Linear(n_in, n_out, rng)"
    parts: ClassVar[dict] = {
        "init": "W of shape (n_in, n_out) drawn from rng, b zeros of shape (n_out,)",
        "fprop": "y = x W + b",
        "grad_x": "bprop returns grad_x = grad_y Wᵀ",
        "grad_W": "bprop sets grad_W = xᵀ grad_y",
        "grad_b": "bprop sets grad_b = Σ_n grad_y",
        "state": "a second identical fprop/bprop gives the same gradients",
    }

    def inputs(self, hidden, square=False):
        n, n_in, n_out = dims(hidden)
        if square:
            n_out = n_in
        rng = rng_for(self.target, hidden, "square" if square else "")
        return mixed(rng, (n, n_in)), mixed(rng, (n_in, n_out)), mixed(rng, (n_out,)), mixed(rng, (n, n_out))

    def run_probe(self, Linear, hidden):
        x, W, b, g = self.inputs(hidden)
        n_in, n_out = W.shape
        out = {}
        layer = call(Linear, n_in, n_out, np.random.default_rng(0))
        if isinstance(layer, Raised):
            return dict.fromkeys(("init", "y", "grad_x", "grad_W", "grad_b"), layer)
        twin = call(Linear, n_in, n_out, np.random.default_rng(0))
        other = call(Linear, n_in, n_out, np.random.default_rng(1))
        out["init"] = (_attr(layer, "W"), _attr(layer, "b"), _attr(twin, "W") if not isinstance(twin, Raised) else twin,
                       _attr(other, "W") if not isinstance(other, Raised) else other)
        layer.W, layer.b = frozen(W), frozen(b)
        out["y"] = _copy(call(layer.fprop, frozen(x)))
        out["grad_x"] = _copy(call(layer.bprop, frozen(g)))
        out["grad_W"], out["grad_b"] = _attr(layer, "grad_W"), _attr(layer, "grad_b")
        call(layer.fprop, frozen(x))
        call(layer.bprop, frozen(g))
        out["grad_W_again"], out["grad_b_again"] = _attr(layer, "grad_W"), _attr(layer, "grad_b")
        out["interleaved"] = interleaved(lambda: call(Linear, n_in, n_out, np.random.default_rng(0)),
                                         self.pair(hidden), ("grad_W", "grad_b"))
        # a square layer tells W from Wᵀ when the non-square one just raised
        xs, Ws, bs, gs = self.inputs(hidden, square=True)
        square = call(Linear, *Ws.shape, np.random.default_rng(0))
        if not isinstance(square, Raised):
            square.W, square.b = frozen(Ws), frozen(bs)
            call(square.fprop, frozen(xs))
            out["square_grad_x"] = _copy(call(square.bprop, frozen(gs)))
        return out

    def pair(self, hidden):
        """Two layers' worth of (W, b, x, grad_y), for two instances used interleaved."""
        x, W, b, g = self.inputs(hidden)
        rng = rng_for(self.target, hidden, "pair")
        return [{"W": W, "b": b}, {"W": mixed(rng, W.shape), "b": mixed(rng, b.shape)}], \
            [((x,), g), ((mixed(rng, x.shape),), mixed(rng, g.shape))]

    @staticmethod
    def pair_expected(state, calls):
        (x,), g = calls
        return g @ state["W"].T, x.T @ g, g.sum(axis=0)

    def run_judge(self, results, hidden):
        x, W, b, g = self.inputs(hidden)
        n = len(x)
        text = f"x of shape {x.shape}, W {W.shape}, grad_y {g.shape}"
        found = {}
        init = results["init"]
        if isinstance(init, Raised):
            found["init"] = raised("Linear(n_in, n_out, rng)", init)
        else:
            found["init"] = self.judge_init(init, W.shape)
        found["fprop"] = finding("Linear.fprop", "fprop", results["y"], x @ W + b, probe_text=text,
                                 causes={"transpose": "x @ W.T or W @ x: rows of x are samples, W is (n_in, n_out)."})
        grad_x = results["grad_x"]
        alternatives = [("chain-rule", np.ones_like(g) @ W.T)]
        if isinstance(grad_x, Raised) and grad_x.code == "exception" and "square_grad_x" in results:
            _, Ws, _, gs = self.inputs(hidden, square=True)
            square = results["square_grad_x"]
            if not isinstance(square, Raised) and np.allclose(square, gs @ Ws, rtol=1e-7):
                grad_x = Raised("transpose", grad_x.message)
        if isinstance(grad_x, Raised) and grad_x.code == "transpose":
            found["grad_x"] = explain("transpose", "Linear.bprop", "grad_x", grad_x, g @ W.T, probe_text=text,
                                      causes={"transpose": "grad_x = grad_y @ W.T — you used W, not Wᵀ."})
        else:
            found["grad_x"] = finding("Linear.bprop", "grad_x", grad_x, g @ W.T, alternatives=alternatives,
                                      batch=n, probe_text=text,
                                      causes={"transpose": "grad_x = grad_y @ W.T — you used W, not Wᵀ.",
                                              "chain-rule": "grad_x must use grad_y: grad_x = grad_y @ W.T."})
        found["grad_W"] = finding(
            "Linear.bprop", "grad_W", results["grad_W"], x.T @ g,
            alternatives=[("chain-rule", x.T @ np.ones_like(g))], batch=n, probe_text=text,
            causes={"transpose": "grad_W = x.T @ grad_y has the shape of W, (n_in, n_out); you have grad_y.T @ x.",
                    "scale-batch": "grad_y already carries the 1/N of the mean loss: don't divide (or sum) again.",
                    "chain-rule": "grad_W = x.T @ grad_y — the upstream grad_y is missing."})
        found["grad_b"] = finding(
            "Linear.bprop", "grad_b", results["grad_b"], g.sum(axis=0),
            alternatives=[("axis", g.sum(axis=1)), ("axis", g.sum()), ("axis", g)], batch=n, probe_text=text,
            causes={"axis": "grad_b sums grad_y over the batch: grad_y.sum(axis=0), shape (n_out,).",
                    "scale-batch": "grad_b = grad_y.sum(axis=0): a sum over the batch, not a mean.",
                    "shape": "grad_b has the shape of b, (n_out,): grad_y.sum(axis=0)."})
        found["state"] = self.judge_state(results, x.T @ g, g.sum(axis=0))
        if found["state"].passed and all(found[p].passed for p in ("fprop", "grad_x", "grad_W", "grad_b")):
            found["state"] = judge_interleaved("Linear", results["interleaved"], self.pair(hidden), self.pair_expected)
        return found

    @staticmethod
    def judge_init(init, shape):
        W0, b0, W_twin, W_other = init
        where = "Linear(n_in, n_out, rng)"
        verdict = finding(where, "init", np.shape(W0) if not isinstance(W0, Raised) else W0,
                          np.array(shape), probe_text=f"n_in={shape[0]}, n_out={shape[1]}",
                          causes={"transpose": "W has shape (n_in, n_out) so that y = x @ W.",
                                  "mismatch": "W has shape (n_in, n_out) so that y = x @ W."})
        if not verdict.passed:
            if not isinstance(W0, Raised) and tuple(np.shape(W0)) == shape[::-1]:
                return replace(verdict, diagnosis="transpose")
            return verdict
        verdict = finding(where, "init", b0, np.zeros(shape[1]),
                          causes={"mismatch": "b starts at zero: np.zeros(n_out)."})
        if not verdict.passed:
            return verdict
        W0 = np.asarray(W0, dtype=float)
        if np.all(W0 == 0) or np.unique(W0.round(12)).size < W0.size // 2:
            return failed("mismatch", f"{where}: W is not random.", "draw W from rng (e.g. rng.standard_normal("
                          "(n_in, n_out)) * scale); equal weights stay equal forever.")
        if not (isinstance(W_twin, np.ndarray) and np.array_equal(W0, W_twin)):
            return failed("state", f"{where}: two layers built with the same seed differ.",
                          "draw the weights from the rng argument, not from np.random or a fixed seed.")
        if isinstance(W_other, np.ndarray) and np.array_equal(W0, W_other):
            return failed("state", f"{where}: layers built with default_rng(0) and default_rng(1) have the same W.",
                          "draw the weights from the rng argument you were given — not from np.random, a seed of "
                          "your own or a generator made inside: every layer of a network would start the same.")
        precision = low_precision(where, "W", init[0])
        if not precision.passed:
            return precision
        if not 1e-3 < np.std(W0) < 2.0:
            return failed("scale", f"{where}: W has standard deviation {np.std(W0):.3g}.",
                          "use a small scale such as 1/√n_in.")
        return OK

    @staticmethod
    def judge_state(results, grad_W, grad_b):
        for name in ("grad_W", "grad_b"):
            again = results.get(f"{name}_again")
            first = results.get(name)
            if isinstance(first, Raised) or isinstance(again, Raised) or first is None:
                continue
            if not np.allclose(again, first, rtol=1e-12, atol=0):
                return failed("state", f"Linear.bprop: calling fprop/bprop twice with the same input changed {name} "
                                       f"(first {np.linalg.norm(first):.3g}, then {np.linalg.norm(again):.3g} in "
                                       "norm).",
                              "set gradients with `=`, don't accumulate them with `+=`.")
        return unless_stub("Linear.bprop", results.get("grad_W"), results.get("grad_b"))


# ---- activations --------------------------------------------------------------------------------


class ActivationSuite(Suite):
    """Sigmoid, Tanh, ReLU: value, gradient, large inputs, no hidden state."""

    parts: ClassVar[dict] = {
        "fprop": "y = f(x) entry by entry",
        "bprop": "grad_x = grad_y ⊙ f'(x)",
        "stability": "no overflow, NaN or inf for |x| up to 1e4",
        "state": "bprop after a second fprop uses the second input",
    }

    def inputs(self, hidden):
        n, d, _ = dims(hidden)
        rng = rng_for(self.target, hidden)
        return mixed(rng, (n, d), 0.1, 3.0), mixed(rng, (n, d))

    def run_probe(self, Box, hidden):
        x, g = self.inputs(hidden)
        box = call(Box)
        if isinstance(box, Raised):
            return dict.fromkeys(("y", "grad_x", "big", "grad_x2"), box)
        out = {"y": _copy(call(box.fprop, frozen(x)))}
        out["grad_x"] = _copy(call(box.bprop, frozen(g)))
        out["big"] = _copy(call(box.fprop, frozen(BIG)))
        if not isinstance(out["big"], Raised):
            out["big_grad"] = _copy(call(box.bprop, frozen(np.ones_like(BIG))))
        call(box.fprop, frozen(x[::-1].copy()))
        out["grad_x2"] = _copy(call(box.bprop, frozen(g)))
        fresh = call(Box)  # the same second call on a fresh box: state is judged against the student's own bprop
        if not isinstance(fresh, Raised):
            call(fresh.fprop, frozen(x[::-1].copy()))
            out["grad_x2_fresh"] = _copy(call(fresh.bprop, frozen(g)))
            # the student's own fprop at x ± h: the judge differentiates it numerically
            out["y_plus"] = _copy(call(fresh.fprop, frozen(x + FD_STEP)))
            out["y_minus"] = _copy(call(fresh.fprop, frozen(x - FD_STEP)))
        out["interleaved"] = interleaved(lambda: call(Box), self.pair(hidden))
        return out

    def pair(self, hidden):
        x, g = self.inputs(hidden)
        rng = rng_for(self.target, hidden, "pair")
        return [{}, {}], [((x,), g), ((mixed(rng, x.shape, 0.1, 3.0),), mixed(rng, g.shape))]

    def pair_expected(self, state, calls):
        (x,), g = calls
        return (g * self.df(x),)

    def run_judge(self, results, hidden):
        x, g = self.inputs(hidden)
        text = f"x of shape {x.shape} (mixed signs)"
        where = f"{self.target}"
        found = {"fprop": finding(f"{where}.fprop", "fprop", results["y"], self.f(x), probe_text=text)}
        found["bprop"] = finding(f"{where}.bprop", "bprop", results["grad_x"], g * self.df(x),
                                 alternatives=self.bugs(x, g), batch=len(x), probe_text=text,
                                 causes=self.causes)
        if not found["fprop"].passed and not found["bprop"].passed and agrees_with_own_forward(
                results.get("y_plus"), results.get("y_minus"), results.get("grad_x"), g):
            found["bprop"] = OK  # the derivative of the student's own (wrong) fprop: charged once, there
        found["stability"] = stability(
            [(f"{where}.fprop", results["big"], self.f(BIG), found["fprop"].passed),
             (f"{where}.bprop", results.get("big_grad"), self.df(BIG), found["bprop"].passed)],
            "x from -1e4 to 1e4")
        found["state"] = fresh_twin(f"{where}.bprop", results["grad_x2"], results.get("grad_x2_fresh"))
        if found["state"].passed and found["fprop"].passed and found["bprop"].passed:
            found["state"] = judge_interleaved(where, results["interleaved"], self.pair(hidden), self.pair_expected)
        return found


class SigmoidSuite(ActivationSuite):
    target, reference, signature = "Sigmoid", ref.Sigmoid, "Sigmoid()"

    @staticmethod
    def f(x):
        return ref.sigmoid(x)

    def df(self, x):
        s = ref.sigmoid(x)
        return s * (1 - s)

    def bugs(self, x, g):
        s = ref.sigmoid(x)
        s2 = ref.sigmoid(s)
        return [("activation-derivative", g * x * (1 - x)), ("activation-derivative", g * s2 * (1 - s2)),
                ("activation-derivative", g), ("activation-derivative", g * s),
                ("chain-rule", s * (1 - s))]

    causes: ClassVar[dict] = {
        "activation-derivative": "σ'(x) = y (1 − y) with y = σ(x), the output fprop kept — not x (1 − x).",
              "chain-rule": "grad_x = grad_y * y * (1 − y): the upstream grad_y is missing."}


class TanhSuite(ActivationSuite):
    target, reference, signature = "Tanh", ref.Tanh, "Tanh()"

    @staticmethod
    def f(x):
        return np.tanh(x)

    def df(self, x):
        return 1 - np.tanh(x) ** 2

    def bugs(self, x, g):
        t = np.tanh(x)
        return [("activation-derivative", g * (1 - x**2)), ("activation-derivative", g * (1 - np.tanh(t) ** 2)),
                ("activation-derivative", g), ("activation-derivative", g * (1 - t)),
                ("chain-rule", 1 - t**2)]

    causes: ClassVar[dict] = {
        "activation-derivative": "tanh'(x) = 1 − y² with y = tanh(x), the output fprop kept — not 1 − x².",
              "chain-rule": "grad_x = grad_y * (1 − y²): the upstream grad_y is missing."}


class ReLUSuite(ActivationSuite):
    target, reference, signature = "ReLU", ref.ReLU, "ReLU()"

    @staticmethod
    def f(x):
        return np.maximum(x, 0)

    def df(self, x):
        return (x > 0).astype(float)

    def bugs(self, x, g):
        return [("activation-derivative", g * (g > 0)), ("activation-derivative", g),
                ("activation-derivative", g * np.maximum(x, 0)), ("chain-rule", (x > 0).astype(float)),
                ("activation-derivative", np.maximum(g, 0))]

    causes: ClassVar[dict] = {
        "activation-derivative": "grad_x = grad_y * (x > 0): the mask comes from the input x fprop saw, "
                                 "and multiplies grad_y.",
        "chain-rule": "grad_x = grad_y * (x > 0): the upstream grad_y is missing."}


# ---- SoftmaxCrossEntropy ------------------------------------------------------------------------


class SoftmaxCrossEntropySuite(Suite):
    target, reference, signature = "SoftmaxCrossEntropy", ref.SoftmaxCrossEntropy, "SoftmaxCrossEntropy()"
    parts: ClassVar[dict] = {
        "loss": "mean over the batch of −log softmax(z)[y]",
        "grad": "bprop() = (softmax(z) − onehot(y)) / N",
        "stability": "finite loss and gradient for logits up to 1e4",
        "state": "bprop uses the latest fprop",
    }

    def inputs(self, hidden):
        n, _, k = dims(hidden)
        rng = rng_for(self.target, hidden)
        return 2 * mixed(rng, (n, k)), labels(rng, n, k)

    def run_probe(self, Loss, hidden):
        z, y = self.inputs(hidden)
        box = call(Loss)
        if isinstance(box, Raised):
            return dict.fromkeys(("loss", "grad", "big_loss", "big_grad", "grad2"), box)
        out = {"loss": _copy(call(box.fprop, frozen(z), frozen(y)))}
        out["grad"] = _copy(call(box.bprop))
        big = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [-1e4, -1e4, 0.0]])
        out["big_loss"] = _copy(call(box.fprop, frozen(big), frozen(np.array([2, 1, 0]))))
        out["big_grad"] = _copy(call(box.bprop)) if not isinstance(out["big_loss"], Raised) else out["big_loss"]
        call(box.fprop, frozen(z[::-1].copy()), frozen(y[::-1].copy()))
        out["grad2"] = _copy(call(box.bprop))
        fresh = call(Loss)
        if not isinstance(fresh, Raised):
            call(fresh.fprop, frozen(z[::-1].copy()), frozen(y[::-1].copy()))
            out["grad2_fresh"] = _copy(call(fresh.bprop))
        out["interleaved"] = interleaved(lambda: call(Loss), self.pair(hidden))
        return out

    def pair(self, hidden):
        z, y = self.inputs(hidden)
        rng = rng_for(self.target, hidden, "pair")
        return [{}, {}], [((z, y), None), ((2 * mixed(rng, z.shape), labels(rng, *z.shape)), None)]

    def pair_expected(self, state, calls):
        (z, y), _ = calls
        return (self.reference_values(z, y)[1],)

    @staticmethod
    def reference_values(z, y):
        p = softmax(z)
        n = len(y)
        loss = -np.mean(log_softmax(z)[np.arange(n), y])
        onehot = np.eye(z.shape[1])[y]
        return loss, (p - onehot) / n

    def run_judge(self, results, hidden):
        z, y = self.inputs(hidden)
        n = len(y)
        loss, grad = self.reference_values(z, y)
        text = f"logits of shape {z.shape}, y = {y.tolist()}"
        p0 = np.exp(z) / np.exp(z).sum(axis=0, keepdims=True)  # normalised over the batch: the axis bug
        onehot = np.eye(z.shape[1])[y]
        found = {"loss": finding(
            "SoftmaxCrossEntropy.fprop", "loss", results["loss"], loss, batch=n, probe_text=text,
            alternatives=[("axis", -np.mean(np.log(p0[np.arange(n), y])))],
            causes={"scale-batch": "the loss is the mean over the batch, not the sum.",
                    "axis": "softmax normalises each row (axis=1): the classes of one sample, not the batch.",
                    "sign": "the loss is −log p, a positive number."})}
        found["grad"] = finding(
            "SoftmaxCrossEntropy.bprop", "grad", results["grad"], grad, batch=n, probe_text=text,
            alternatives=[("axis", (p0 - onehot) / n), ("mismatch", softmax(z) / n)],
            causes={"scale-batch": "the loss is a mean, so its gradient is (softmax − onehot) / N — once.",
                    "axis": "softmax normalises each row (axis=1).",
                    "sign": "∂L/∂z = softmax(z) − onehot(y), not onehot − softmax."})
        big = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [-1e4, -1e4, 0.0]])
        big_loss, big_grad = self.reference_values(big, np.array([2, 1, 0]))
        found["stability"] = stability(
            [("SoftmaxCrossEntropy.fprop", results["big_loss"], big_loss, found["loss"].passed),
             ("SoftmaxCrossEntropy.bprop", results["big_grad"], big_grad, found["grad"].passed)],
            "logits up to ±1e4", cause="subtract each row's max before exp, and use log-sum-exp.")
        found["state"] = fresh_twin("SoftmaxCrossEntropy.bprop", results["grad2"], results.get("grad2_fresh"))
        if found["state"].passed and found["loss"].passed and found["grad"].passed:
            found["state"] = judge_interleaved("SoftmaxCrossEntropy", results["interleaved"], self.pair(hidden),
                                               self.pair_expected)
        return found


# ---- Sequential ----------------------------------------------------------------------------------


class SequentialSuite(Suite):
    target, reference, signature = "Sequential", ref.Sequential, "Sequential(modules)"
    parts: ClassVar[dict] = {
        "fprop": "runs the modules in order",
        "bprop": "runs them in reverse order, passing each grad along, and returns grad_x",
        "params": "every module's parameter gradients are set",
    }

    def inputs(self, hidden, square=False):
        n, d_in, d_out = dims(hidden)
        width = 6 if not hidden else 8
        if square:  # every width equal: a chain that passes the wrong gradient along still runs
            d_in = d_out = width
        rng = rng_for(self.target, hidden, "square" if square else "")
        layers = [ref.Linear(d_in, width, rng), ref.Tanh(), ref.Linear(width, d_out, rng), ref.Sigmoid()]
        return layers, mixed(rng, (n, d_in)), mixed(rng, (n, d_out))

    def run_probe(self, Sequential, hidden):
        layers, x, g = self.inputs(hidden)
        model = call(Sequential, layers)
        if isinstance(model, Raised):
            return dict.fromkeys(("y", "grad_x", "grads"), model)
        out = {"y": _copy(call(model.fprop, frozen(x)))}
        out["grad_x"] = _copy(call(model.bprop, frozen(g)))
        out["grads"] = [_attr(layer, name) for layer in layers[::2] for name in ("grad_W", "grad_b")]
        layers, x, g = self.inputs(hidden, square=True)
        square = call(Sequential, layers)
        if not isinstance(square, Raised):
            call(square.fprop, frozen(x))
            out["square_grad_x"] = _copy(call(square.bprop, frozen(g)))
        return out

    def square_reference(self, hidden):
        layers, x, g = self.inputs(hidden, square=True)
        model = ref.Sequential(layers)
        model.fprop(x)
        return g, model.bprop(g), [layer.bprop(g) for layer in layers]

    def run_judge(self, results, hidden):
        layers, x, g = self.inputs(hidden)
        for layer in layers:
            layer.grad_W = layer.grad_b = None
        model = ref.Sequential(layers)
        y = model.fprop(x)
        grad_x = model.bprop(g)
        grads = [getattr(layer, name) for layer in layers[::2] for name in ("grad_W", "grad_b")]
        text = f"Sequential([Linear, Tanh, Linear, Sigmoid]) on x of shape {x.shape}"
        # typical bug: every module gets the original grad_y (the gradient is not passed along)
        found = {"fprop": finding("Sequential.fprop", "fprop", results["y"], y, probe_text=text,
                                  causes={"mismatch": "feed each module's output into the next: x = m.fprop(x)."})}
        got = results["grad_x"]
        if isinstance(got, Raised) and got.code == "exception" and "square_grad_x" in results:
            # the chain raised on its way down: on a chain of equal widths, see what the student passes along
            g_square, right, each = self.square_reference(hidden)
            square = results["square_grad_x"]
            if not isinstance(square, Raised) and not np.allclose(square, right) and any(
                    np.allclose(square, value) for value in [g_square, *each]):
                got = Raised("chain-rule", got.message)
        ones_layers, _, _ = self.inputs(hidden)
        ones_model = ref.Sequential(ones_layers)
        ones_model.fprop(x)
        found["bprop"] = finding("Sequential.bprop", "bprop", got, grad_x, probe_text=text,
                                 alternatives=[("chain-rule", g), ("chain-rule", ones_model.bprop(np.ones_like(g)))],
                                 causes={"chain-rule": "pass each module's grad_x on: grad = m.bprop(grad), "
                                                       "and return the last one.",
                                         "exception": "bprop runs the modules in reverse: reversed(self.modules)."})
        got = results["grads"]
        if not found["bprop"].passed:
            found["params"] = unless_stub("Sequential.bprop", results["grad_x"])
        elif isinstance(got, Raised):
            found["params"] = raised("Sequential.bprop", got)
        else:
            found["params"] = OK
            for (name, expected), value in zip(zip(("0.grad_W", "0.grad_b", "2.grad_W", "2.grad_b"), grads), got):
                verdict = finding("Sequential.bprop", "params", value, expected, probe_text=f"{text}, {name}")
                if not verdict.passed:
                    found["params"] = verdict
                    break
        return found


# ---- topological_order ------------------------------------------------------------------------


class TopologicalOrderSuite(Suite):
    target, reference, signature = "topological_order", ref_graph.topological_order, "topological_order(graph)"
    parts: ClassVar[dict] = {
        "order": "every node exactly once, after all of its inputs",
        "cycle": "a cycle raises ValueError",
    }

    def inputs(self, hidden):
        if not hidden:
            # the lecture's graph: h = W·x + b, a = σ(h), loss(a, y); W also feeds a penalty (fan-out)
            return {"h": ["W", "x", "b"], "a": ["h"], "loss": ["a", "y", "penalty"], "penalty": ["W"]}
        rng = rng_for(self.target, hidden)
        names = [f"n{i}" for i in range(14)]
        graph = {}
        for i, name in enumerate(names[3:], start=3):
            k = int(rng.integers(1, 4))
            graph[name] = [names[j] for j in rng.choice(i, size=k, replace=False)]
        keys = list(graph)
        rng.shuffle(keys)
        return {key: graph[key] for key in keys}

    CYCLE: ClassVar[dict] = {"a": ["c"], "b": ["a"], "c": ["b", "x"], "d": ["c"]}

    def run_probe(self, topological_order, hidden):
        graph = self.inputs(hidden)
        out = {"order": call(topological_order, {k: list(v) for k, v in graph.items()}, time_limit=5)}
        def on_cycle():
            try:
                return ("returned", repr(topological_order({k: list(v) for k, v in self.CYCLE.items()}))[:80])
            except ValueError as error:  # a subclass is a ValueError too (graphlib.CycleError)
                return ("raised", f"ValueError: {type(error).__name__}")

        cycle = call(on_cycle, time_limit=5)
        out["cycle"] = cycle if not isinstance(cycle, Raised) or cycle.code != "exception" else ("raised",
                                                                                                 cycle.message)
        if isinstance(out["order"], list):
            out["order"] = [str(node) for node in out["order"]]
        return out

    def run_judge(self, results, hidden):
        graph = self.inputs(hidden)
        nodes = set(graph) | {p for inputs in graph.values() for p in inputs}
        order = results["order"]
        found = {}
        if isinstance(order, Raised):
            found["order"] = raised("topological_order", order)
        elif not isinstance(order, list) or sorted(order) != sorted(nodes):
            got = sorted(order) if isinstance(order, list) else order
            missing = sorted(nodes - set(order)) if isinstance(order, list) else []
            found["order"] = failed("mismatch", f"topological_order returned {got!r}; expected every node exactly "
                                    f"once ({len(nodes)} nodes){', missing ' + repr(missing) if missing else ''}.",
                                    "leaves (inputs that are not keys) are nodes too, and each node is emitted once.")
        else:
            position = {node: i for i, node in enumerate(order)}
            late = [(node, p) for node, inputs in graph.items() for p in inputs if position[p] > position[node]]
            found["order"] = OK if not late else failed(
                "mismatch", f"topological_order put {late[0][0]!r} before its input {late[0][1]!r} (order {order}).",
                "emit a node only after all of its inputs (depth-first, post-order).")
        cycle = results["cycle"]
        if isinstance(cycle, Raised):
            found["cycle"] = raised("topological_order", cycle, probe_text="a graph with the cycle a → b → c → a",
                                    causes={"timeout": "a cycle makes a naive search loop forever: track the nodes "
                                                       "on the current path and raise ValueError when you meet one "
                                                       "again."})
        elif cycle[0] == "raised" and cycle[1].startswith("ValueError"):
            found["cycle"] = OK
        else:
            what = f"raised {cycle[1]}" if cycle[0] == "raised" else f"returned {cycle[1]}"
            found["cycle"] = failed("mismatch", f"topological_order {what} on a graph with the cycle a → b → c → a; "
                                    "expected ValueError.", "track the nodes on the current path and raise "
                                    "ValueError when you meet one again.")
        return found


SUITES = [LinearSuite(), SigmoidSuite(), TanhSuite(), ReLUSuite(), SoftmaxCrossEntropySuite(), SequentialSuite(),
          TopologicalOrderSuite()]
