"""Checks for ps1_neurons: the threshold logic unit, gates built from it, and the perceptron.

Parts per target
----------------
``tlu``
    ``value`` (1 where X·w + b ≥ 0 on inputs away from the threshold), ``output`` (an int
    array of shape (N,)), ``threshold`` (a unit exactly at the threshold fires: ``>=``, not
    ``>``), ``mutation`` (X and w are left untouched).
``and_gate``, ``or_gate``, ``not_gate``
    ``truth_table`` (every input combination, in a shuffled batch), ``output`` (int (N,)),
    ``from_tlu`` (the gate calls ``tlu``).
``xor_gate``
    ``truth_table``, ``output``, ``composition`` (built from the other gates / TLUs).
``perceptron_train``
    ``update`` (one epoch of Rosenblatt's rule, lr = 1, on a tiny hand-made set),
    ``schedule`` (several epochs with a given lr, samples in order), ``output`` (a pair
    ``(w, b)`` — tuple or list — with w of shape (D,) and b one number), ``mutation``.

A gate is judged twice: as written, and rebuilt with the reference ``tlu`` (and for XOR the
reference gates) in place of the student's own — it passes if either is right, so a bug in
``tlu`` is charged to ``tlu`` only.
"""

import contextlib
import itertools
from collections import Counter
from typing import ClassVar

import numpy as np

from .. import neurons as ref
from .engine import (
    OK,
    Raised,
    Suite,
    call,
    close,
    diagnose,
    failed,
    finding,
    frozen,
    on_calls,
    raised,
    unless_stub,
    with_collaborators,
)
from .parts import int_vector, read_only, unpack
from .probes import dims, mixed, rng_for

# ---- helpers --------------------------------------------------------------------------------------


@contextlib.contextmanager
def count_calls(names, counts):
    """Count in ``counts`` the calls of any function whose name is in ``names`` (the student's own
    ``tlu``, ``and_gate``, …), alongside any watch already running (the delegation watch)."""
    with on_calls(lambda code: code.co_name in names and counts.update([code.co_name])):
        yield counts


def _flat(value, size):
    """``value`` flattened when it has ``size`` entries (shape is judged in its own part)."""
    if isinstance(value, Raised) or value is None:
        return value
    array = np.asarray(value)
    if array.dtype.kind in "biuf" and array.size == size:
        return array.reshape(size).astype(float)
    return value


def _bits(values):
    return "[" + ", ".join(str(int(v)) for v in np.asarray(values).ravel()) + "]"


def _pair(result, d):
    """``(w, b)`` as a flat vector ``[w..., b]``, or a Raised saying why it is not a pair."""
    pair = unpack(result, [(d,), ()], "a pair (w, b)", by_size=True)
    return pair if isinstance(pair, Raised) else np.concatenate([pair[0].ravel(), pair[1].ravel()])


# ---- tlu --------------------------------------------------------------------------------------------


class TLUSuite(Suite):
    target, reference, signature = "tlu", ref.tlu, "tlu(X, w, b)"
    parts: ClassVar[dict] = {
        "value": "1 where X·w + b ≥ 0, else 0, on inputs away from the threshold",
        "output": "an integer array of shape (N,)",
        "threshold": "a unit exactly at the threshold (X·w + b = 0) fires: >=, not >",
        "mutation": "X and w are left untouched",
    }
    TINY = (np.array([[1.0, 2.0], [-1.0, 1.0], [2.0, -3.0]]), np.array([0.5, -1.0]), 0.5)
    TINY_EDGE = (np.array([[1.0, 1.0], [2.0, 1.0], [0.0, 1.0]]), np.array([1.0, 1.0]), -2.0)

    def inputs(self, hidden):
        n, d, _ = dims(hidden)
        rng = rng_for(self.target, hidden)
        while True:  # deterministic: the same seed always ends at the same draw
            X, w, b = mixed(rng, (n, d)), mixed(rng, (d,)), float(mixed(rng, (), 1.0, 3.0))
            s, t = X @ w + b, X @ w
            # both signs, away from 0, and b matters: dropping it or flipping its sign changes the output
            if min(np.min(np.abs(s)), np.min(np.abs(t - b))) > 0.1 and 2 <= np.sum(s > 0) <= n - 2 \
                    and np.any((s >= 0) != (t - b >= 0)) and np.any((s >= 0) != (t >= 0)):
                break
        while True:  # integer entries: X·w + b is exactly 0 on rows 1 and 4, both signs elsewhere
            Xe = rng.integers(-3, 4, (n, d)).astype(float)
            we = rng.choice([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0], d)
            Xe[4] = Xe[1]
            be = -float(Xe[1] @ we)
            s = Xe @ we + be
            if np.sum(s == 0) == 2 and np.sum(s > 0) >= 2 and np.sum(s < 0) >= 2:
                return (X, w, b), (Xe, we, be)

    def run_probe(self, tlu, hidden):
        (X, w, b), (Xe, we, be) = self.inputs(hidden)
        return {
            "value": call(tlu, X.copy(), w.copy(), b),
            "edge": call(tlu, Xe.copy(), we.copy(), be),
            "frozen": call(tlu, frozen(X), frozen(w), b),
            "tiny": call(tlu, *(v.copy() if isinstance(v, np.ndarray) else v for v in self.TINY)),
            "tiny_edge": call(tlu, *(v.copy() if isinstance(v, np.ndarray) else v for v in self.TINY_EDGE)),
        }

    @staticmethod
    def fire(X, w, b, strict=False):
        s = X @ w + b
        return (s > 0 if strict else s >= 0).astype(float)

    def tiny(self, got, edge=False):
        X, w, b = self.TINY_EDGE if edge else self.TINY
        expected = self.fire(X, w, b)
        got = _flat(got, len(X))
        if isinstance(got, Raised) or close(got, expected):
            return None
        return f"X = {X.tolist()}, w = {w.tolist()}, b = {b:g}", got, expected

    def run_judge(self, results, hidden):
        (X, w, b), (Xe, we, be) = self.inputs(hidden)
        n = len(X)
        where = "tlu"
        text = f"X of shape {X.shape} (mixed signs), w of shape {w.shape}, b = {b:.3g}"
        found = {"value": finding(
            where, "value", _flat(results["value"], n), self.fire(X, w, b), probe_text=text,
            tiny=self.tiny(results["tiny"]),
            alternatives=[
                ("sign", 1 - self.fire(X, w, b), "the comparison is reversed: fire (1) where X·w + b >= 0."),
                ("sign", self.fire(X, w, -b), "b is added to the weighted sum: X @ w + b, not X @ w − b."),
                ("mismatch", X @ w + b, "the threshold is missing: return 1 where X @ w + b >= 0, else 0."),
                ("mismatch", self.fire(X, w, 0.0), "the bias b is missing: X @ w + b >= 0."),
            ],
            causes={"exception": "X has shape (N, D) and w shape (D,): X @ w + b has shape (N,)."})}
        found["output"] = int_vector(where, [results["value"]], n, "compute X @ w + b (shape (N,)) and compare it "
                                                                  "with 0.")
        if not found["value"].passed:
            found["threshold"] = unless_stub(where, results["edge"])
        else:
            found["threshold"] = finding(
                where, "threshold", _flat(results["edge"], n), self.fire(Xe, we, be),
                probe_text=f"integer X {Xe.shape} and w, with X·w + b exactly 0 on rows 1 and 4",
                tiny=self.tiny(results["tiny_edge"], edge=True),
                alternatives=[("mismatch", self.fire(Xe, we, be, strict=True),
                               "a unit exactly at its threshold fires: use X @ w + b >= 0, not > 0.")])
        found["mutation"] = read_only(where, results["frozen"], [results["value"]], "read-only X and w")
        return found


# ---- gates --------------------------------------------------------------------------------------------


def _and(a, b):
    return (a + b >= 1.5).astype(float)


def _or(a, b):
    return (a + b >= 0.5).astype(float)


def _not(a):
    return 1.0 - a


def _xor(a, b):
    return (a != b).astype(float)


class GateSuite(Suite):
    """A Boolean gate on 0/1 arrays, built from ``tlu``."""

    arity = 2
    collaborators = ("tlu",)
    uses = "from_tlu"
    parts: ClassVar[dict] = {
        "truth_table": "the right output for every input combination",
        "output": "an integer array of shape (N,)",
        "from_tlu": "built from tlu: the gate calls tlu",
    }

    def inputs(self, hidden):
        n = dims(hidden)[0]
        rng = rng_for(self.target, hidden)
        pairs = np.array([(0, 0), (0, 1), (1, 0), (1, 1)] * 3)
        rows = np.concatenate([pairs[:4], pairs[rng.choice(len(pairs), n - 4)]])
        rows = rows[rng.permutation(n)]
        dtype = float if hidden else np.int64  # hidden: 0.0/1.0 floats, as a TLU network passes them on
        return [rows[:, k].astype(dtype) for k in range(self.arity)]

    def tiny_inputs(self):
        return [np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])][: self.arity] if self.arity == 2 else \
            [np.array([0, 1])]

    def run_probe(self, gate, hidden):
        args = self.inputs(hidden)
        counts = Counter()
        isolated = with_collaborators(gate, **{name: getattr(ref, name) for name in self.collaborators})
        out = {}
        with count_calls(self.counted, counts):
            out["own"] = call(gate, *(frozen(a) for a in args))
            out["tiny"] = call(gate, *(frozen(a) for a in self.tiny_inputs()))
            if isolated is not None:
                out["isolated"] = call(isolated, *(frozen(a) for a in args))
                out["tiny_isolated"] = call(isolated, *(frozen(a) for a in self.tiny_inputs()))
        out["calls"] = float(sum(counts.values()))
        return out

    counted = ("tlu",)

    def tiny_text(self):
        names = "ab"
        return ", ".join(f"{name} = {_bits(v)}" for name, v in zip(names, self.tiny_inputs()))

    def run_judge(self, results, hidden):
        args = [np.asarray(a, dtype=float) for a in self.inputs(hidden)]
        n = len(args[0])
        expected = self.truth(*args)
        tiny_expected = self.truth(*(a.astype(float) for a in self.tiny_inputs()))
        where = self.signature
        text = ", ".join(f"{name} = {_bits(v)}" for name, v in zip("ab", args))
        own, isolated = results["own"], results.get("isolated")
        tiny_got = _flat(results["tiny"], len(tiny_expected))
        tiny = None if isinstance(tiny_got, Raised) or close(tiny_got, tiny_expected) else (
            self.tiny_text(), tiny_got, tiny_expected)
        verdict = finding(where, "truth_table", _flat(own, n), expected, probe_text=text, tiny=tiny,
                          alternatives=self.bugs(*args), causes=self.causes)
        if not verdict.passed and diagnose(_flat(isolated, n), expected) == "ok":
            verdict = OK  # right with the reference collaborators: the bug is theirs, charged there
        found = {"truth_table": verdict}
        found["output"] = int_vector(where, [own, isolated], n, "return the TLU's output: one 0/1 per sample, "
                                                                "shape (N,).")
        runs = [own] if isolated is None else [own, isolated]
        if all(isinstance(run, Raised) for run in runs):
            found[self.uses] = unless_stub(where, *runs)  # a crash is charged to truth_table
        elif results["calls"] >= self.min_calls:
            found[self.uses] = OK
        else:
            found[self.uses] = self.not_used(where, int(results["calls"]))
        return found

    min_calls = 1

    def not_used(self, where, calls):
        return failed("mismatch", f"{where} never called tlu on {self.tiny_text()}.",
                      "the exercise asks for the gate as one threshold unit — pick w and b and return "
                      "tlu(np.stack([a, b], axis=1), w, b), not Python or numpy logic operators.")


class AndGateSuite(GateSuite):
    target, reference, signature = "and_gate", ref.and_gate, "and_gate(a, b)"
    truth = staticmethod(_and)
    causes: ClassVar[dict] = {"mismatch": "AND fires only when both inputs are on: with w = (1, 1), b = −1.5."}

    def bugs(self, a, b):
        return [("mismatch", _or(a, b), "this is OR's truth table: lower the bias so both inputs are needed "
                                        "(w = (1, 1), b = −1.5)."),
                ("sign", 1 - _and(a, b), "this is NAND, AND inverted: the signs of w and b are flipped."),
                ("mismatch", np.ones_like(a), "the unit always fires: its bias is too large (w = (1, 1), b = −1.5)."),
                ("mismatch", np.zeros_like(a), "the unit never fires: its bias is too small (w = (1, 1), b = −1.5).")]


class OrGateSuite(GateSuite):
    target, reference, signature = "or_gate", ref.or_gate, "or_gate(a, b)"
    truth = staticmethod(_or)
    causes: ClassVar[dict] = {"mismatch": "OR fires when at least one input is on: with w = (1, 1), b = −0.5."}

    def bugs(self, a, b):
        return [("mismatch", _and(a, b), "this is AND's truth table: raise the bias so one input is enough "
                                         "(w = (1, 1), b = −0.5)."),
                ("mismatch", _xor(a, b), "this is XOR: OR also fires when both inputs are on."),
                ("sign", 1 - _or(a, b), "this is NOR, OR inverted: the signs of w and b are flipped."),
                ("mismatch", np.ones_like(a), "the unit always fires: its bias is too large (w = (1, 1), b = −0.5)."),
                ("mismatch", np.zeros_like(a), "the unit never fires: its bias is too small (w = (1, 1), b = −0.5).")]


class NotGateSuite(GateSuite):
    target, reference, signature = "not_gate", ref.not_gate, "not_gate(a)"
    arity = 1
    truth = staticmethod(_not)
    causes: ClassVar[dict] = {"mismatch": "NOT fires when its input is off: w = (−1,), b = 0.5."}

    def tiny_text(self):
        return "a = [0, 1]"

    def bugs(self, a):
        return [("sign", a.copy(), "the output equals the input: NOT needs a negative weight, w = (−1,), b = 0.5."),
                ("mismatch", np.ones_like(a), "the unit always fires: w = (−1,), b = 0.5."),
                ("mismatch", np.zeros_like(a), "the unit never fires: w = (−1,), b = 0.5.")]


class XorGateSuite(GateSuite):
    target, reference, signature = "xor_gate", ref.xor_gate, "xor_gate(a, b)"
    truth = staticmethod(_xor)
    collaborators = ("tlu", "and_gate", "or_gate", "not_gate")
    counted = collaborators
    uses = "composition"
    min_calls = 2
    parts: ClassVar[dict] = {
        "truth_table": "the right output for every input combination",
        "output": "an integer array of shape (N,)",
        "composition": "built from the other gates (or TLUs): no single unit computes XOR",
    }
    causes: ClassVar[dict] = {"mismatch": "XOR = (a AND NOT b) OR (NOT a AND b)."}

    def bugs(self, a, b):
        return [("mismatch", _or(a, b), "this is OR: XOR is 0 when both inputs are on — "
                                        "(a AND NOT b) OR (NOT a AND b)."),
                ("sign", 1 - _xor(a, b), "this is XNOR, XOR inverted — check where the NOTs go: "
                                         "(a AND NOT b) OR (NOT a AND b)."),
                ("mismatch", _and(a, b), "this is AND: XOR = (a AND NOT b) OR (NOT a AND b)."),
                ("mismatch", 1 - _and(a, b), "this is NAND: it also fires on (0, 0); AND it with OR(a, b).")]

    def not_used(self, where, calls):
        return failed("mismatch", f"{where} called and_gate/or_gate/not_gate/tlu {calls} time(s) on "
                                  f"{self.tiny_text()}.",
                      "build XOR from your gates, or_gate(and_gate(a, not_gate(b)), and_gate(not_gate(a), b)), not "
                      "from ^ or != — the point is that one unit cannot, but a network of them can.")


# ---- perceptron_train ------------------------------------------------------------------------------


def perceptron(X, y, lr, epochs, *, sign=1.0, bias=True, always=False, plus_minus=False, strict=False,
               classic=False, order=None):
    """Rosenblatt's rule and its typical bugs (the judge's side; never the student's code)."""
    w, b = np.zeros(X.shape[1]), 0.0
    order = range(len(X)) if order is None else order
    for _ in range(epochs):
        for i in order:
            s = X[i] @ w + b
            fired = float(s > 0 if strict else s >= 0)
            target = 2.0 * y[i] - 1.0 if plus_minus else float(y[i])
            error = target if always else target - fired
            if classic:  # the ±1 textbook rule: update by t·x when t·s <= 0
                error = (2.0 * y[i] - 1.0) * float((2.0 * y[i] - 1.0) * s <= 0)
            w = w + sign * lr * error * X[i]
            if bias:
                b = b + sign * lr * error
    return np.concatenate([w, [b]])


RULE_BUGS = (
    ("sign", {"sign": -1.0}, "the update goes the wrong way: w += lr·(y_i − ŷ_i)·x_i (target minus prediction)."),
    ("mismatch", {"bias": False}, "b is never updated: after each sample also b += lr·(y_i − ŷ_i)."),
    ("mismatch", {"strict": True}, "the prediction fires at exactly 0 (ŷ = 1 when x·w + b >= 0), so from w = 0, "
                                   "b = 0 the first sample is predicted 1."),
    ("mismatch", {"always": True}, "the weights change on every sample: update by (y_i − ŷ_i), which is 0 when "
                                   "the prediction is right."),
    ("mismatch", {"plus_minus": True}, "labels are 0/1 here, not ±1: the error is y_i − ŷ_i with y_i, ŷ_i in {0, 1}."),
    ("mismatch", {"classic": True}, "that is the ±1 rule (update when t·(x·w + b) <= 0); here labels are 0/1 and "
                                    "x·w + b = 0 predicts 1, so it is no mistake when y = 1: use y_i − ŷ_i."),
)


class PerceptronTrainSuite(Suite):
    target, reference, signature = "perceptron_train", ref.perceptron_train, "perceptron_train(X, y, lr, epochs)"
    parts: ClassVar[dict] = {
        "update": "one epoch of w += lr·(y_i − ŷ_i)·x_i, b += lr·(y_i − ŷ_i) from zeros, on a tiny set",
        "schedule": "several epochs with the given lr, the samples visited in order",
        "output": "a pair (w, b), tuple or list: w of shape (D,), b one number",
        "mutation": "X and y are left untouched",
    }

    def hand(self, hidden):
        if not hidden:
            # From w = (0, 0), b = 0, lr = 1, in order:
            #   x = ( 2,  1), y = 1: s = 0  → ŷ = 1, right, no change
            #   x = ( 1, −1), y = 0: s = 0  → ŷ = 1, wrong: w = (−1, 1), b = −1
            #   x = (−1,  2), y = 0: s = 2  → ŷ = 1, wrong: w = ( 0, −1), b = −2
            #   x = ( 1,  1), y = 1: s = −3 → ŷ = 0, wrong: w = ( 1, 0), b = −1
            return np.array([[2.0, 1.0], [1.0, -1.0], [-1.0, 2.0], [1.0, 1.0]]), np.array([1, 0, 0, 1])
        rng = rng_for(self.target, hidden, "hand")
        while True:
            X = rng.integers(-3, 4, (5, 3)).astype(float)
            y = rng.integers(0, 2, 5)
            if 0 < y.sum() < 5 and self.distinct(X, y):
                return X, y

    @staticmethod
    def distinct(X, y):
        right = perceptron(X, y, 1.0, 1)
        return all(not np.allclose(perceptron(X, y, 1.0, 1, **bug), right) for _, bug, _ in RULE_BUGS)

    def inputs(self, hidden):
        n, d, _ = dims(hidden)
        d -= 2  # (7, 3) visible, (11, 4) hidden
        rng = rng_for(self.target, hidden)
        while True:
            X, w_true, b_true = mixed(rng, (n, d)), mixed(rng, (d,)), float(mixed(rng, ()))
            s = X @ w_true + b_true
            y = (s >= 0).astype(np.int64)
            if np.min(np.abs(s)) > 0.2 and 2 <= y.sum() <= n - 2:
                break
        lr, epochs = (0.25, 7) if hidden else (0.5, 5)
        return X, y, lr, epochs

    def run_probe(self, train, hidden):
        Xh, yh = self.hand(hidden)
        X, y, lr, epochs = self.inputs(hidden)
        return {
            "update": call(train, Xh.copy(), yh.copy(), lr=1.0, epochs=1),
            "schedule": call(train, X.copy(), y.copy(), lr=lr, epochs=epochs),
            "frozen": call(train, frozen(X), frozen(y), lr=lr, epochs=epochs),
        }

    def run_judge(self, results, hidden):
        Xh, yh = self.hand(hidden)
        X, y, lr, epochs = self.inputs(hidden)
        where = "perceptron_train"
        found = {}
        # output: the pair itself
        pair = _pair(results["schedule"], X.shape[1])
        found["output"] = OK if not isinstance(pair, Raised) else raised(
            where, pair, probe_text=f"X of shape {X.shape}",
            causes={"shape": "return w, b — w of shape (D,) like a row of X, b a single number."})
        # update: Rosenblatt's rule on the hand-made set, lr = 1, one epoch
        got = _pair(results["update"], Xh.shape[1])
        expected = perceptron(Xh, yh, 1.0, 1)
        alternatives = [(code, perceptron(Xh, yh, 1.0, 1, **bug), cause) for code, bug, cause in RULE_BUGS]
        alternatives += [("mismatch", perceptron(Xh, yh, 1.0, 1, order=list(order)),
                          "the samples were visited in another order: go through X row by row, without shuffling.")
                         for order in itertools.permutations(range(len(Xh))) if list(order) != sorted(order)]
        hand_text = f"X = {Xh.astype(int).tolist()}, y = {yh.tolist()}, lr = 1, epochs = 1"
        if isinstance(got, Raised) and got.code == "shape":
            found["update"] = unless_stub(where, results["update"])  # charged once, to `output`
        else:
            found["update"] = finding(
                where, "update", got, expected, alternatives=alternatives, probe_text=hand_text + " (as [w…, b])",
                causes={"mismatch": "from w = 0, b = 0, for each sample in order: ŷ = 1 if x·w + b >= 0 else 0; "
                                    "w += lr·(y − ŷ)·x; b += lr·(y − ŷ)."})
        # schedule: lr and epochs honoured, in order — judged once the rule itself is right
        got = pair
        expected = perceptron(X, y, lr, epochs)
        if not found["update"].passed or (isinstance(got, Raised) and got.code == "shape"):
            found["schedule"] = unless_stub(where, results["schedule"])
        else:
            found["schedule"] = finding(
                where, "schedule", got, expected, probe_text=f"X of shape {X.shape}, lr = {lr}, epochs = {epochs}",
                alternatives=[
                    *((code, perceptron(X, y, lr, epochs, **bug), cause) for code, bug, cause in RULE_BUGS),
                    ("scale", perceptron(X, y, 1.0, epochs), "lr is ignored: multiply each update by lr."),
                    ("mismatch", perceptron(X, y, lr, epochs - 1), "one epoch too few: run exactly `epochs` passes."),
                    ("mismatch", perceptron(X, y, lr, epochs + 1), "one epoch too many: run exactly `epochs` passes."),
                    ("mismatch", perceptron(X, y, lr, 1), "only one pass was made: loop over the data `epochs` "
                                                          "times."),
                    ("mismatch", perceptron(X, y, lr, epochs, order=range(len(X))[::-1]),
                     "the samples were visited in reverse order: go through X from the first row."),
                ],
                causes={"mismatch": "visit the samples in order, `epochs` times, with step lr; don't shuffle, and "
                                    "keep updating until the last epoch."})
        found["mutation"] = read_only(where, results["frozen"], [results["schedule"]], "read-only X and y",
                                      {"mutation": "your code writes into X or y (e.g. y[y == 0] = -1); work on a "
                                                   "copy."})
        return found


SUITES = [TLUSuite(), AndGateSuite(), OrGateSuite(), NotGateSuite(), XorGateSuite(), PerceptronTrainSuite()]
