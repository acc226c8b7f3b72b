"""Checks for ps4_flow_graph: modules with fprop/bprop, Sequential, topological_order."""

from dataclasses import replace
from typing import ClassVar

import numpy as np

from .. import graph as ref_graph
from .. import modules as ref
from ..logistic import sigmoid
from ..losses import log_softmax, softmax
from .engine import OK, Raised, Suite, call, copied, failed, finding, frozen, low_precision, raised, unless_stub
from .parts import FD_STEP, agrees_with_own_forward, attribute, backward, first_failed, fresh_twin, in_turn, stability
from .probes import dims, labels, mixed, rng_for

BIG = (np.linspace(-1e4, 1e4, 35) + 1.5).reshape(7, 5)  # large inputs of both signs, none at ReLU's kink
BIG_LOGITS, BIG_LABELS = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [-1e4, -1e4, 0.0]]), np.array([2, 1, 0])
AD = "activation-derivative"


class ModuleSuite(Suite):
    """A box with fprop/bprop; ``runs(hidden)``: two runs of :func:`in_turn`, the first on the probe's inputs.
    Every module is also used as two instances in turn, as two layers of one kind in a network are: state kept on
    the class, or shared between instances, shows there and nowhere else."""

    attributes = ()

    def build(self, Box, hidden):
        return call(Box)

    def run_probe(self, Box, hidden):
        (run, _), box = self.runs(hidden), call(Box)
        if isinstance(box, Raised):
            return dict.fromkeys(("y", "grad", "big", "big_grad", "grad2"), box)
        (_, args, grad), out = run, dict(zip(("y", "grad"), in_turn([box], [run])[0]))
        out["big"] = copied(call(box.fprop, *map(frozen, self.big)))
        if not isinstance(out["big"], Raised):
            out["big_grad"] = backward(box, None if grad is None else np.ones_like(BIG))
        elif grad is None:
            out["big_grad"] = out["big"]  # a loss's bprop() has nothing to work from (charged if its grad passed)
        second = ({}, [arg[::-1].copy() for arg in args], grad)
        out["grad2"] = in_turn([box], [second])[0][1]
        fresh = call(Box)  # the same second call on a fresh box: state is judged against the student's own bprop
        if not isinstance(fresh, Raised):
            out["grad2_fresh"] = in_turn([fresh], [second])[0][1]
            if grad is not None:  # an activation's own fprop at x ± h: the judge differentiates it numerically
                out["y_plus"], out["y_minus"] = (copied(call(fresh.fprop, frozen(args[0] + step)))
                                                 for step in (FD_STEP, -FD_STEP))
        out["interleaved"] = self.probe_in_turn(Box, hidden)
        return out

    def probe_in_turn(self, Box, hidden):
        boxes = [self.build(Box, hidden), self.build(Box, hidden)]
        if any(isinstance(box, Raised) for box in boxes):
            return Raised("exception", "could not build two instances")
        return [answers[1:] for answers in in_turn(boxes, self.runs(hidden), self.attributes)]

    def judge_box(self, results, hidden, found, big, probe_text, cause=None):
        """``stability`` (``big``: the right answers on large inputs), ``state``; after the two parts in ``found``."""
        first, second = found.values()
        found["stability"] = stability(
            [(f"{self.target}.fprop", results["big"], big[0], first.passed),
             (f"{self.target}.bprop", results.get("big_grad"), big[1], second.passed)], probe_text, cause=cause)
        found["state"] = self.judge_in_turn(results, hidden, fresh_twin(
            f"{self.target}.bprop", results["grad2"], results.get("grad2_fresh")), first, second)
        return found

    def judge_in_turn(self, results, hidden, state, *gates):
        """Once ``state`` and every gate pass: two instances used in turn answer as the reference does alone."""
        if not state.passed or not all(gate.passed for gate in gates):
            return state
        if isinstance(results["interleaved"], Raised):
            return OK  # a box that cannot be built twice is charged where it first fails
        for label, answers, run in zip(("first", "second"), results["interleaved"], self.runs(hidden)):
            alone = in_turn([self.build(self.reference, hidden)], [run], self.attributes)[0][1:]
            if any(isinstance(value, Raised) or np.shape(value) != np.shape(expected) or
                   not np.allclose(value, expected, rtol=1e-9, atol=1e-12) for value, expected in zip(answers, alone)):
                return failed("state", f"{self.target}: with two instances used in turn (fprop A, fprop B, bprop A, "
                              f"bprop B), the {label} one's gradients came out wrong, though each is right alone.",
                              "keep what fprop needs on the instance (self.x = x), never on the class (Linear.x, "
                              "a class-level dict or list): a network has several layers of one kind.")
        return OK


class LinearSuite(ModuleSuite):
    target, reference, signature = "Linear", ref.Linear, "Linear(n_in, n_out, rng)"
    attributes = ("grad_W", "grad_b")
    parts: ClassVar[dict] = {"init": "W of shape (n_in, n_out) drawn from rng, b zeros of shape (n_out,)",
                             "fprop": "y = x W + b", "grad_x": "bprop returns grad_x = grad_y Wᵀ",
                             "grad_W": "bprop sets grad_W = xᵀ grad_y", "grad_b": "bprop sets grad_b = Σ_n grad_y",
                             "state": "a second identical fprop/bprop gives the same gradients"}

    def inputs(self, hidden, square=False):
        n, n_in, n_out = dims(hidden)
        rng = rng_for(self.target, hidden, "square" if square else "")
        n_out = n_in if square else n_out
        return mixed(rng, (n, n_in)), mixed(rng, (n_in, n_out)), mixed(rng, (n_out,)), mixed(rng, (n, n_out))

    def runs(self, hidden):
        x, W, b, g = self.inputs(hidden)
        rng = rng_for(self.target, hidden, "pair")
        return [({"W": W, "b": b}, (x,), g),
                ({"W": mixed(rng, W.shape), "b": mixed(rng, b.shape)}, (mixed(rng, x.shape),), mixed(rng, g.shape))]

    def build(self, Linear, hidden, seed=0):
        return call(Linear, *dims(hidden)[1:], np.random.default_rng(seed))

    def run_probe(self, Linear, hidden):
        run, layer = self.runs(hidden)[0], self.build(Linear, hidden)
        if isinstance(layer, Raised):
            return dict.fromkeys(("init", "y", "grad_x", "grad_W", "grad_b"), layer)
        twin, other = self.build(Linear, hidden), self.build(Linear, hidden, seed=1)
        out = {"init": (attribute(layer, "W"), attribute(layer, "b"),
                        *(box if isinstance(box, Raised) else attribute(box, "W") for box in (twin, other)))}
        out["y"], out["grad_x"], out["grad_W"], out["grad_b"] = in_turn([layer], [run], self.attributes)[0]
        out["grad_W_again"], out["grad_b_again"] = in_turn([layer], [({}, *run[1:])], self.attributes)[0][2:]
        out["interleaved"] = self.probe_in_turn(Linear, hidden)
        xs, Ws, bs, gs = self.inputs(hidden, square=True)  # a square layer tells W from Wᵀ when this one raised
        square = call(Linear, *Ws.shape, np.random.default_rng(0))
        if not isinstance(square, Raised):
            out["square_grad_x"] = in_turn([square], [({"W": Ws, "b": bs}, (xs,), gs)])[0][1]
        return out

    def run_judge(self, results, hidden):
        x, W, b, g = self.inputs(hidden)
        n, text, grad_x = len(x), f"x of shape {x.shape}, W {W.shape}, grad_y {g.shape}", results["grad_x"]
        if isinstance(grad_x, Raised) and grad_x.code == "exception" and "square_grad_x" in results:
            _, Ws, _, gs = self.inputs(hidden, square=True)
            square = results["square_grad_x"]
            if not isinstance(square, Raised) and np.allclose(square, gs @ Ws, rtol=1e-7):
                grad_x = Raised("transpose", grad_x.message, grad_x.trace)
        ones = np.ones_like(g)
        parts = [  # part, where, got, expected, typical bugs, batch, causes
            ("fprop", "fprop", results["y"], x @ W + b, [], None,
             {"transpose": "x @ W.T or W @ x: rows of x are samples, W is (n_in, n_out)."}),
            ("grad_x", "bprop", grad_x, g @ W.T, [("chain-rule", ones @ W.T)], n,
             {"transpose": "grad_x = grad_y @ W.T — you used W, not Wᵀ.",
              "chain-rule": "grad_x must use grad_y: grad_x = grad_y @ W.T."}),
            ("grad_W", "bprop", results["grad_W"], x.T @ g, [("chain-rule", x.T @ ones)], n,
             {"transpose": "grad_W = x.T @ grad_y has the shape of W, (n_in, n_out); you have grad_y.T @ x.",
              "scale-batch": "grad_y already carries the 1/N of the mean loss: don't divide (or sum) again.",
              "chain-rule": "grad_W = x.T @ grad_y — the upstream grad_y is missing."}),
            ("grad_b", "bprop", results["grad_b"], g.sum(axis=0), [("axis", v) for v in (g.sum(axis=1), g.sum(), g)], n,
             {"axis": "grad_b sums grad_y over the batch: grad_y.sum(axis=0), shape (n_out,).",
              "scale-batch": "grad_b = grad_y.sum(axis=0): a sum over the batch, not a mean.",
              "shape": "grad_b has the shape of b, (n_out,): grad_y.sum(axis=0)."}),
        ]
        found = {part: finding(f"Linear.{method}", part, got, expected, alternatives=bugs, batch=batch,
                               probe_text=text, causes=causes)
                 for part, method, got, expected, bugs, batch, causes in parts}
        found["state"] = self.judge_in_turn(results, hidden, self.judge_state(results), *found.values())
        init = results["init"]
        found["init"] = raised(self.signature, init) if isinstance(init, Raised) else self.judge_init(init, W.shape)
        return found

    def judge_init(self, init, shape):
        (W0, b0, W_twin, W_other), where = init, self.signature
        verdict = finding(where, "init", W0 if isinstance(W0, Raised) else np.shape(W0), np.array(shape),
                          probe_text=f"n_in={shape[0]}, n_out={shape[1]}", causes=dict.fromkeys(
                              ("transpose", "mismatch"), "W has shape (n_in, n_out) so that y = x @ W."))
        if not verdict.passed:
            transposed = not isinstance(W0, Raised) and tuple(np.shape(W0)) == shape[::-1]
            return replace(verdict, diagnosis="transpose") if transposed else verdict
        verdict = finding(where, "init", b0, np.zeros(shape[1]),
                          causes={"mismatch": "b starts at zero: np.zeros(n_out)."})
        if not verdict.passed:
            return verdict
        W0 = np.asarray(W0, dtype=float)
        rules = [  # what fails, its code, what was seen, the likely cause: the first that fails is named
            (np.all(W0 == 0) or np.unique(W0.round(12)).size < W0.size // 2, "mismatch", "W is not random.",
             "draw W from rng (e.g. rng.standard_normal((n_in, n_out)) * scale); equal weights stay equal forever."),
            (not (isinstance(W_twin, np.ndarray) and np.array_equal(W0, W_twin)), "state",
             "two layers built with the same seed differ.",
             "draw the weights from the rng argument, not from np.random or a fixed seed."),
            (isinstance(W_other, np.ndarray) and np.array_equal(W0, W_other), "state",
             "layers built with default_rng(0) and default_rng(1) have the same W.",
             "draw the weights from the rng argument you were given — not from np.random, a seed of your own or a "
             "generator made inside: every layer of a network would start the same."),
        ]
        found = first_failed([*(failed(code, f"{where}: {seen}", cause) for bad, code, seen, cause in rules if bad),
                              low_precision(where, "W", init[0])])
        return found if not found.passed or 1e-3 < np.std(W0) < 2.0 else failed(
            "scale", f"{where}: W has standard deviation {np.std(W0):.3g}.", "use a small scale such as 1/√n_in.")

    @staticmethod
    def judge_state(results):
        for name in ("grad_W", "grad_b"):
            again, first = results.get(f"{name}_again"), results.get(name)
            if not (isinstance(first, Raised) or isinstance(again, Raised) or first is None) and \
                    not np.allclose(again, first, rtol=1e-12, atol=0):
                return failed("state", f"Linear.bprop: calling fprop/bprop twice with the same input changed {name} "
                                       f"(first {np.linalg.norm(first):.3g}, then {np.linalg.norm(again):.3g} in "
                                       "norm).", "set gradients with `=`, don't accumulate them with `+=`.")
        return unless_stub("Linear.bprop", results.get("grad_W"), results.get("grad_b"))


class ActivationSuite(ModuleSuite):
    parts: ClassVar[dict] = {"fprop": "y = f(x) entry by entry", "bprop": "grad_x = grad_y ⊙ f'(x)",
                             "stability": "no overflow, NaN or inf for |x| up to 1e4",
                             "state": "bprop after a second fprop uses the second input"}
    big = (BIG,)

    def __init__(self, target, f, df, bugs, derivative, chain):
        self.target, self.reference, self.signature = target, getattr(ref, target), f"{target}()"
        self.f, self.df, self.bugs, self.causes = f, df, bugs, {AD: derivative, "chain-rule": chain}

    def runs(self, hidden):
        shape, rng, pair = dims(hidden)[:2], rng_for(self.target, hidden), rng_for(self.target, hidden, "pair")
        return [({}, (mixed(rng, shape, 0.1, 3.0),), mixed(rng, shape)),
                ({}, (mixed(pair, shape, 0.1, 3.0),), mixed(pair, shape))]

    def run_judge(self, results, hidden):
        (_, (x,), g), _ = self.runs(hidden)
        where, text = self.target, f"x of shape {x.shape} (mixed signs)"
        found = {"fprop": finding(f"{where}.fprop", "fprop", results["y"], self.f(x), probe_text=text),
                 "bprop": finding(f"{where}.bprop", "bprop", results["grad"], g * self.df(x), batch=len(x),
                                  alternatives=self.bugs(x, g, self.f(x)), probe_text=text, causes=self.causes)}
        if not found["fprop"].passed and not found["bprop"].passed and agrees_with_own_forward(
                results.get("y_plus"), results.get("y_minus"), results.get("grad"), g):
            found["bprop"] = OK  # the derivative of the student's own (wrong) fprop: charged once, there
        return self.judge_box(results, hidden, found, (self.f(BIG), self.df(BIG)), "x from -1e4 to 1e4")


ACTIVATIONS = [  # target, f, f', grad_x of typical bugs from (x, grad_y, y = f(x)), causes: derivative, chain rule
    ActivationSuite(
        "Sigmoid", sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x)),
        lambda x, g, s: [(AD, g * x * (1 - x)), (AD, g * sigmoid(s) * (1 - sigmoid(s))), (AD, g), (AD, g * s),
                         ("chain-rule", s * (1 - s))],
        "σ'(x) = y (1 − y) with y = σ(x), the output fprop kept — not x (1 − x).",
        "grad_x = grad_y * y * (1 − y): the upstream grad_y is missing."),
    ActivationSuite(
        "Tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2,
        lambda x, g, t: [(AD, g * (1 - x**2)), (AD, g * (1 - np.tanh(t) ** 2)), (AD, g), (AD, g * (1 - t)),
                         ("chain-rule", 1 - t**2)],
        "tanh'(x) = 1 − y² with y = tanh(x), the output fprop kept — not 1 − x².",
        "grad_x = grad_y * (1 − y²): the upstream grad_y is missing."),
    ActivationSuite(
        "ReLU", lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float),
        lambda x, g, _: [(AD, g * (g > 0)), (AD, g), (AD, g * np.maximum(x, 0)),
                         ("chain-rule", (x > 0).astype(float)), (AD, np.maximum(g, 0))],
        "grad_x = grad_y * (x > 0): the mask comes from the input x fprop saw, and multiplies grad_y.",
        "grad_x = grad_y * (x > 0): the upstream grad_y is missing."),
]


class SoftmaxCrossEntropySuite(ModuleSuite):
    target, reference, signature = "SoftmaxCrossEntropy", ref.SoftmaxCrossEntropy, "SoftmaxCrossEntropy()"
    parts: ClassVar[dict] = {"loss": "mean over the batch of −log softmax(z)[y]",
                             "grad": "bprop() = (softmax(z) − onehot(y)) / N",
                             "stability": "finite loss and gradient for logits up to 1e4",
                             "state": "bprop uses the latest fprop"}
    big = (BIG_LOGITS, BIG_LABELS)

    def runs(self, hidden):
        (n, _, k), rng, pair = dims(hidden), rng_for(self.target, hidden), rng_for(self.target, hidden, "pair")
        return [({}, (2 * mixed(rng, (n, k)), labels(rng, n, k)), None),
                ({}, (2 * mixed(pair, (n, k)), labels(pair, n, k)), None)]

    @staticmethod
    def reference_values(z, y):
        n = len(y)
        return -np.mean(log_softmax(z)[np.arange(n), y]), (softmax(z) - np.eye(z.shape[1])[y]) / n

    def run_judge(self, results, hidden):
        (_, (z, y), _), _ = self.runs(hidden)
        n, (loss, grad), text = len(y), self.reference_values(z, y), f"logits of shape {z.shape}, y = {y.tolist()}"
        p0 = np.exp(z) / np.exp(z).sum(axis=0, keepdims=True)  # normalised over the batch: the axis bug
        found = {"loss": finding(
            "SoftmaxCrossEntropy.fprop", "loss", results["y"], loss, batch=n, probe_text=text,
            alternatives=[("axis", -np.mean(np.log(p0[np.arange(n), y])))],
            causes={"scale-batch": "the loss is the mean over the batch, not the sum.",
                    "axis": "softmax normalises each row (axis=1): the classes of one sample, not the batch.",
                    "sign": "the loss is −log p, a positive number."})}
        found["grad"] = finding(
            "SoftmaxCrossEntropy.bprop", "grad", results["grad"], grad, batch=n, probe_text=text,
            alternatives=[("axis", (p0 - np.eye(z.shape[1])[y]) / n), ("mismatch", softmax(z) / n)],
            causes={"scale-batch": "the loss is a mean, so its gradient is (softmax − onehot) / N — once.",
                    "axis": "softmax normalises each row (axis=1).",
                    "sign": "∂L/∂z = softmax(z) − onehot(y), not onehot − softmax."})
        return self.judge_box(results, hidden, found, self.reference_values(*self.big), "logits up to ±1e4",
                              cause="subtract each row's max before exp, and use log-sum-exp.")


class SequentialSuite(Suite):
    target, reference, signature = "Sequential", ref.Sequential, "Sequential(modules)"
    parts: ClassVar[dict] = {"fprop": "runs the modules in order",
                             "bprop": "runs them in reverse order, passing each grad along, and returns grad_x",
                             "params": "every module's parameter gradients are set"}
    GRADS = ("grad_W", "grad_b")

    def inputs(self, hidden, square=False):
        n, width = dims(hidden)[0], 8 if hidden else 6
        # square: every width equal, so a chain that passes the wrong gradient along still runs
        d_in, d_out = (width, width) if square else dims(hidden)[1:]
        rng = rng_for(self.target, hidden, "square" if square else "")
        layers = [ref.Linear(d_in, width, rng), ref.Tanh(), ref.Linear(width, d_out, rng), ref.Sigmoid()]
        return layers, mixed(rng, (n, d_in)), mixed(rng, (n, d_out))

    def run_probe(self, Sequential, hidden):
        layers, x, g = self.inputs(hidden)
        model = call(Sequential, layers)
        if isinstance(model, Raised):
            return dict.fromkeys(("y", "grad_x", "grads"), model)
        out = dict(zip(("y", "grad_x"), in_turn([model], [({}, (x,), g)])[0]))
        out["grads"] = [attribute(layer, name) for layer in layers[::2] for name in self.GRADS]
        layers, x, g = self.inputs(hidden, square=True)
        square = call(Sequential, layers)
        if not isinstance(square, Raised):
            out["square_grad_x"] = in_turn([square], [({}, (x,), g)])[0][1]
        return out

    def expected(self, hidden, square=False, ones=False):
        """The reference Sequential on the probe's layers (upstream ones, or grad_y): layers, x, grad_y, y, grad_x."""
        layers, x, g = self.inputs(hidden, square)
        return layers, x, g, *in_turn([ref.Sequential(layers)], [({}, (x,), np.ones_like(g) if ones else g)])[0]

    def run_judge(self, results, hidden):
        layers, x, g, y, grad_x = self.expected(hidden)
        text, got = f"Sequential([Linear, Tanh, Linear, Sigmoid]) on x of shape {x.shape}", results["grad_x"]
        found = {"fprop": finding("Sequential.fprop", "fprop", results["y"], y, probe_text=text,
                                  causes={"mismatch": "feed each module's output into the next: x = m.fprop(x)."})}
        if isinstance(got, Raised) and got.code == "exception" and "square_grad_x" in results:
            # the chain raised on its way down: on a chain of equal widths, see what the student passes along
            square_layers, _, g_square, _, right = self.expected(hidden, square=True)
            square = results["square_grad_x"]
            if not isinstance(square, Raised) and not np.allclose(square, right) and any(
                    np.allclose(square, value) for value in [g_square, *(m.bprop(g_square) for m in square_layers)]):
                got = Raised("chain-rule", got.message)
        # typical bugs: every module gets the original grad_y (the gradient is not passed along), or ones
        found["bprop"] = finding("Sequential.bprop", "bprop", got, grad_x, probe_text=text,
                                 alternatives=[("chain-rule", g), ("chain-rule", self.expected(hidden, ones=True)[4])],
                                 causes={"chain-rule": "pass each module's grad_x on: grad = m.bprop(grad), "
                                                       "and return the last one.",
                                         "exception": "bprop runs the modules in reverse: reversed(self.modules)."})
        grads = results["grads"]
        if not found["bprop"].passed:
            found["params"] = unless_stub("Sequential.bprop", results["grad_x"])
        else:
            found["params"] = raised("Sequential.bprop", grads) if isinstance(grads, Raised) else first_failed(
                finding("Sequential.bprop", "params", value, getattr(layers[i], name), probe_text=f"{text}, {i}.{name}")
                for (i, name), value in zip(((i, name) for i in (0, 2) for name in self.GRADS), grads))
        return found


class TopologicalOrderSuite(Suite):
    target, reference, signature = "topological_order", ref_graph.topological_order, "topological_order(graph)"
    parts: ClassVar[dict] = {"order": "every node exactly once, after all of its inputs",
                             "cycle": "a cycle raises ValueError"}
    CYCLE: ClassVar[dict] = {"a": ["c"], "b": ["a"], "c": ["b", "x"], "d": ["c"]}
    ON_PATH = "track the nodes on the current path and raise ValueError when you meet one again."

    def inputs(self, hidden):
        if not hidden:
            # the lecture's graph: h = W·x + b, a = σ(h), loss(a, y); W also feeds a penalty (fan-out)
            return {"h": ["W", "x", "b"], "a": ["h"], "loss": ["a", "y", "penalty"], "penalty": ["W"]}
        rng, names = rng_for(self.target, hidden), [f"n{i}" for i in range(14)]
        graph = {name: [names[j] for j in rng.choice(i, size=int(rng.integers(1, 4)), replace=False)]
                 for i, name in enumerate(names[3:], start=3)}
        keys = list(graph)
        rng.shuffle(keys)
        return {key: graph[key] for key in keys}

    def run_probe(self, topological_order, hidden):
        out = {"order": call(topological_order, {k: list(v) for k, v in self.inputs(hidden).items()}, time_limit=5)}

        def on_cycle():
            try:
                return ("returned", repr(topological_order({k: list(v) for k, v in self.CYCLE.items()}))[:80])
            except ValueError as error:  # a subclass is a ValueError too (graphlib.CycleError)
                return ("raised", f"ValueError: {type(error).__name__}")

        cycle = call(on_cycle, time_limit=5)
        out["cycle"] = ("raised", cycle.message) if isinstance(cycle, Raised) and cycle.code == "exception" else cycle
        if isinstance(out["order"], list):
            out["order"] = [str(node) for node in out["order"]]
        return out

    def run_judge(self, results, hidden):
        graph, (order, cycle) = self.inputs(hidden), (results["order"], results["cycle"])
        nodes = set(graph) | {p for inputs in graph.values() for p in inputs}
        if isinstance(order, Raised):
            found = {"order": raised("topological_order", order)}
        elif not isinstance(order, list) or sorted(order) != sorted(nodes):
            got = sorted(order) if isinstance(order, list) else order
            missing = sorted(nodes - set(order)) if isinstance(order, list) else []
            found = {"order": failed("mismatch", f"topological_order returned {got!r}; expected every node exactly "
                                     f"once ({len(nodes)} nodes){', missing ' + repr(missing) if missing else ''}.",
                                     "leaves (inputs that are not keys) are nodes too, and each node is emitted once.")}
        else:
            position = {node: i for i, node in enumerate(order)}
            late = [(node, p) for node, inputs in graph.items() for p in inputs if position[p] > position[node]]
            found = {"order": OK if not late else failed(
                "mismatch", f"topological_order put {late[0][0]!r} before its input {late[0][1]!r} (order {order}).",
                "emit a node only after all of its inputs (depth-first, post-order).")}
        if isinstance(cycle, Raised):
            found["cycle"] = raised("topological_order", cycle, probe_text="a graph with the cycle a → b → c → a",
                                    causes={"timeout": f"a cycle makes a naive search loop forever: {self.ON_PATH}"})
        else:  # ("raised", what) or ("returned", what)
            found["cycle"] = OK if cycle[0] == "raised" and cycle[1].startswith("ValueError") else failed(
                "mismatch", f"topological_order {cycle[0]} {cycle[1]} on a graph with the cycle a → b → c → a; "
                "expected ValueError.", self.ON_PATH)
        return found


SUITES = [LinearSuite(), *ACTIVATIONS, SoftmaxCrossEntropySuite(), SequentialSuite(), TopologicalOrderSuite()]
