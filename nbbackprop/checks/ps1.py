"""Checks for ps1_neurons: the threshold logic unit, gates built from it, and the perceptron (each
suite's ``parts`` says what it checks).

A gate is judged twice: as written, and rebuilt with the reference ``tlu`` (and for XOR the
reference gates) in place of the student's own — it passes if either is right, so a bug in
``tlu`` is charged to ``tlu`` only.
"""

import itertools
from collections import Counter
from typing import ClassVar

import numpy as np

from .. import neurons as ref
from .engine import OK, Raised, Suite, call, failed, finding, frozen, on_calls, raised
from .parts import (
    as_vector,
    either,
    flat,
    gated,
    int_vector,
    listed,
    raised_as,
    read_only,
    runs_of,
    tiny_case,
    unpack,
    with_boundary,
)
from .probes import dims, mixed, rng_for


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
            Xe, we = rng.integers(-3, 4, (n, d)).astype(float), rng.choice([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0], d)
            Xe[4] = Xe[1]
            be = -float(Xe[1] @ we)
            s = Xe @ we + be
            if np.sum(s == 0) == 2 and np.sum(s > 0) >= 2 and np.sum(s < 0) >= 2:
                return (X, w, b), (Xe, we, be)

    def run_probe(self, tlu, hidden):
        (X, w, b), (Xe, we, be) = self.inputs(hidden)
        (tX, tw, tb), (eX, ew, eb) = self.TINY, self.TINY_EDGE  # copies: the code may write into them
        return {"value": call(tlu, X.copy(), w.copy(), b), "edge": call(tlu, Xe.copy(), we.copy(), be),
                "frozen": call(tlu, frozen(X), frozen(w), b), "tiny": call(tlu, tX.copy(), tw.copy(), tb),
                "tiny_edge": call(tlu, eX.copy(), ew.copy(), eb)}

    @staticmethod
    def fire(X, w, b, strict=False):
        s = X @ w + b
        return (s > 0 if strict else s >= 0).astype(float)

    def tiny(self, got, X, w, b):
        return tiny_case(f"X = {X.tolist()}, w = {w.tolist()}, b = {b:g}", flat(got, len(X)), self.fire(X, w, b),
                            show_none=True)

    def run_judge(self, results, hidden):
        (X, w, b), (Xe, we, be) = self.inputs(hidden)
        n, where = len(X), "tlu"
        found = {"value": finding(
            where, "value", flat(results["value"], n), self.fire(X, w, b), tiny=self.tiny(results["tiny"], *self.TINY),
            probe_text=f"X of shape {X.shape} (mixed signs), w of shape {w.shape}, b = {b:.3g}",
            alternatives=[
                ("sign", 1 - self.fire(X, w, b), "the comparison is reversed: fire (1) where X·w + b >= 0."),
                ("sign", self.fire(X, w, -b), "b is added to the weighted sum: X @ w + b, not X @ w − b."),
                ("mismatch", X @ w + b, "the threshold is missing: return 1 where X @ w + b >= 0, else 0."),
                ("mismatch", self.fire(X, w, 0.0), "the bias b is missing: X @ w + b >= 0."),
            ],
            causes={"exception": "X has shape (N, D) and w shape (D,): X @ w + b has shape (N,)."})}
        found["output"] = int_vector(where, [results["value"]], n, "compute X @ w + b (shape (N,)) and compare it "
                                                                  "with 0.")
        found["threshold"] = gated(found["value"].passed, where, [results["edge"]], lambda: finding(
            where, "threshold", flat(results["edge"], n), self.fire(Xe, we, be),
            probe_text=f"integer X {Xe.shape} and w, with X·w + b exactly 0 on rows 1 and 4",
            tiny=self.tiny(results["tiny_edge"], *self.TINY_EDGE),
            alternatives=[("mismatch", self.fire(Xe, we, be, strict=True),
                           "a unit exactly at its threshold fires: use X @ w + b >= 0, not > 0.")]))
        found["mutation"] = read_only(where, results["frozen"], [results["value"]], "read-only X and w")
        return found


# ---- gates: the truth of each, judge-side, and the truth tables of its typical bugs -------------------------

AND, OR = (lambda a, b: (a + b >= 1.5).astype(float)), (lambda a, b: (a + b >= 0.5).astype(float))
NOT, XOR = (lambda a: 1.0 - a), (lambda a, b: (a != b).astype(float))
ALWAYS, NEVER = (lambda a, *_: np.ones_like(a)), (lambda a, *_: np.zeros_like(a))

AND_BUGS = (
    ("mismatch", OR, "this is OR's truth table: lower the bias so both inputs are needed (w = (1, 1), b = −1.5)."),
    ("sign", lambda a, b: 1 - AND(a, b), "this is NAND, AND inverted: the signs of w and b are flipped."),
    ("mismatch", ALWAYS, "the unit always fires: its bias is too large (w = (1, 1), b = −1.5)."),
    ("mismatch", NEVER, "the unit never fires: its bias is too small (w = (1, 1), b = −1.5)."),
)
OR_BUGS = (
    ("mismatch", AND, "this is AND's truth table: raise the bias so one input is enough (w = (1, 1), b = −0.5)."),
    ("mismatch", XOR, "this is XOR: OR also fires when both inputs are on."),
    ("sign", lambda a, b: 1 - OR(a, b), "this is NOR, OR inverted: the signs of w and b are flipped."),
    ("mismatch", ALWAYS, "the unit always fires: its bias is too large (w = (1, 1), b = −0.5)."),
    ("mismatch", NEVER, "the unit never fires: its bias is too small (w = (1, 1), b = −0.5)."),
)
NOT_BUGS = (
    ("sign", lambda a: a, "the output equals the input: NOT needs a negative weight, w = (−1,), b = 0.5."),
    ("mismatch", ALWAYS, "the unit always fires: w = (−1,), b = 0.5."),
    ("mismatch", NEVER, "the unit never fires: w = (−1,), b = 0.5."),
)
XOR_BUGS = (
    ("mismatch", OR, "this is OR: XOR is 0 when both inputs are on — (a AND NOT b) OR (NOT a AND b)."),
    ("sign", lambda a, b: 1 - XOR(a, b), "this is XNOR, XOR inverted — check where the NOTs go: "
                                         "(a AND NOT b) OR (NOT a AND b)."),
    ("mismatch", AND, "this is AND: XOR = (a AND NOT b) OR (NOT a AND b)."),
    ("mismatch", lambda a, b: 1 - AND(a, b), "this is NAND: it also fires on (0, 0); AND it with OR(a, b)."),
)


class GateSuite(Suite):
    """A Boolean gate on 0/1 arrays, built from ``tlu``: its truth, the likely cause of a wrong truth
    table, and its typical bugs as ``(code, the bug's truth, cause)``."""

    collaborators, min_calls = ("tlu",), 1  # the student's functions counted, and how many calls are enough
    parts: ClassVar[dict] = {"truth_table": "the right output for every input combination",
                             "output": "an integer array of shape (N,)",
                             "from_tlu": "built from tlu: the gate calls tlu"}
    unused = ("{where} never called tlu on {tiny}.",
              "the exercise asks for the gate as one threshold unit — pick w and b and return "
              "tlu(np.stack([a, b], axis=1), w, b), not Python or numpy logic operators.")
    TINY: ClassVar[dict] = {1: [np.array([0, 1])], 2: [np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])]}

    def __init__(self, signature, truth, cause, bugs):
        self.signature, self.truth, self.causes, self.bugs = signature, truth, {"mismatch": cause}, bugs
        self.target = signature.split("(")[0]
        self.reference, self.arity = getattr(ref, self.target), signature.count(",") + 1

    def inputs(self, hidden):
        n = dims(hidden)[0]
        rng = rng_for(self.target, hidden)
        pairs = np.array([(0, 0), (0, 1), (1, 0), (1, 1)] * 3)
        rows = np.concatenate([pairs[:4], pairs[rng.choice(len(pairs), n - 4)]])[rng.permutation(n)]
        dtype = float if hidden else np.int64  # hidden: 0.0/1.0 floats, as a TLU network passes them on
        return [rows[:, k].astype(dtype) for k in range(self.arity)]

    def run_probe(self, gate, hidden):
        args, counts = self.inputs(hidden), Counter()
        # count the calls of the student's own tlu, and_gate, … (alongside the delegation watch)
        with on_calls(lambda code: code.co_name in self.collaborators and counts.update([code.co_name])):
            out = {run: {"value": call(function, *map(frozen, args)),
                         "tiny": call(function, *map(frozen, self.TINY[self.arity]))}
                   for run, function in runs_of(gate, ref, self.collaborators).items()}
        return {**out, "calls": float(sum(counts.values()))}

    @staticmethod
    def text(args):
        return ", ".join(f"{name} = {listed(v)}" for name, v in zip("ab", args))

    def run_judge(self, results, hidden):
        args = [np.asarray(a, dtype=float) for a in self.inputs(hidden)]
        tiny = [a.astype(float) for a in self.TINY[self.arity]]
        n, where = len(args[0]), self.signature
        found = either(lambda run: {"truth_table": finding(  # right over the reference tlu: charged there
            where, "truth_table", flat(run["value"], n), self.truth(*args), probe_text=self.text(args),
            tiny=tiny_case(self.text(tiny), flat(run["tiny"], len(tiny[0])), self.truth(*tiny), show_none=True),
            alternatives=[(code, bug(*args), cause) for code, bug, cause in self.bugs], causes=self.causes)}, results)
        own, isolated = results["own"]["value"], results.get("isolated", {}).get("value")
        found["output"] = int_vector(where, [own, isolated], n, "return the TLU's output: one 0/1 per sample, "
                                                                "shape (N,).")
        if hidden and found["output"].diagnosis == "mismatch":  # float 0/1 in, float out: the dtype is judged on
            small = [run["tiny"] for run in results.values() if isinstance(run, dict)]  # integer inputs
            if int_vector(where, small, len(tiny[0]), "").passed:  # as on the visible test: right there
                found["output"] = OK
        runs = [own] if isolated is None else [own, isolated]  # all raised: charged to truth_table
        found[list(self.parts)[-1]] = gated(not all(isinstance(run, Raised) for run in runs), where, runs, lambda: (
            OK if results["calls"] >= self.min_calls else failed("mismatch", self.unused[0].format(
                where=where, calls=int(results["calls"]), tiny=self.text(tiny)), self.unused[1])))
        return found


class XorGateSuite(GateSuite):
    collaborators, min_calls = ("tlu", "and_gate", "or_gate", "not_gate"), 2
    parts: ClassVar[dict] = {**dict(list(GateSuite.parts.items())[:2]),
                             "composition": "built from the other gates (or TLUs): no single unit computes XOR"}
    unused = ("{where} called and_gate/or_gate/not_gate/tlu {calls} time(s) on {tiny}.",
              "build XOR from your gates, or_gate(and_gate(a, not_gate(b)), and_gate(not_gate(a), b)), not "
              "from ^ or != — the point is that one unit cannot, but a network of them can.")


# ---- perceptron_train ------------------------------------------------------------------------------


def perceptron(X, y, lr, epochs, *, sign=1.0, bias=True, always=False, plus_minus=False, strict=False,
               classic=False, order=None):
    """Rosenblatt's rule and its typical bugs (the judge's side; never the student's code)."""
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for i in range(len(X)) if order is None else order:
            s = X[i] @ w + b
            fired = float(s > 0 if strict else s >= 0)
            target = 2.0 * y[i] - 1.0 if plus_minus else float(y[i])
            error = target if always else target - fired
            if classic:  # the ±1 textbook rule: update by t·x when t·s <= 0
                error = (2.0 * y[i] - 1.0) * float((2.0 * y[i] - 1.0) * s <= 0)
            w, b = w + sign * lr * error * X[i], b + sign * lr * error * bias
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


def rule_bugs(X, y, lr, epochs):
    return [(code, perceptron(X, y, lr, epochs, **bug), cause) for code, bug, cause in RULE_BUGS]


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
        while True:  # every bug of the rule gives another answer
            X, y = rng.integers(-3, 4, (5, 3)).astype(float), rng.integers(0, 2, 5)
            right = perceptron(X, y, 1.0, 1)
            if 0 < y.sum() < 5 and not any(np.allclose(bug, right) for _, bug, _ in rule_bugs(X, y, 1.0, 1)):
                return X, y

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
        (Xh, yh), (X, y, lr, epochs) = self.hand(hidden), self.inputs(hidden)
        return {"update": call(train, Xh.copy(), yh.copy(), lr=1.0, epochs=1),
                "schedule": call(train, X.copy(), y.copy(), lr=lr, epochs=epochs),
                "frozen": call(train, frozen(X), frozen(y), lr=lr, epochs=epochs)}

    def run_judge(self, results, hidden):
        (Xh, yh), (X, y, lr, epochs) = self.hand(hidden), self.inputs(hidden)
        where = "perceptron_train"
        pair, got = (as_vector(unpack(results[key], [(x.shape[1],), ()], "a pair (w, b)", by_size=True))
                     for key, x in (("schedule", X), ("update", Xh)))
        found = {"output": OK if not isinstance(pair, Raised) else raised(
            where, pair, probe_text=f"X of shape {X.shape}",
            causes={"shape": "return w, b — w of shape (D,) like a row of X, b a single number."})}
        # update: Rosenblatt's rule on the hand-made set, lr = 1, one epoch (a pair of the wrong shape: `output`)
        found["update"] = gated(not raised_as(got, "shape"), where, [results["update"]], lambda: finding(
            where, "update", got, perceptron(Xh, yh, 1.0, 1),
            probe_text=f"X = {Xh.astype(int).tolist()}, y = {yh.tolist()}, lr = 1, epochs = 1 (as [w…, b])",
            alternatives=rule_bugs(Xh, yh, 1.0, 1) + [
                ("mismatch", perceptron(Xh, yh, 1.0, 1, order=list(order)),
                 "the samples were visited in another order: go through X row by row, without shuffling.")
                for order in itertools.permutations(range(len(Xh))) if list(order) != sorted(order)],
            causes={"mismatch": "from w = 0, b = 0, for each sample in order: ŷ = 1 if x·w + b >= 0 else 0; "
                                "w += lr·(y − ŷ)·x; b += lr·(y − ŷ)."}))
        if not hidden:  # the hand-made set is 2-D: draw the student's line over the reference's
            found["update"] = with_boundary(found["update"], Xh, yh, got, perceptron(Xh, yh, 1.0, 1), lr=1.0, epochs=1)
        # schedule: lr and epochs honoured, in order — judged once the rule itself is right
        found["schedule"] = gated(found["update"].passed and not raised_as(pair, "shape"), where,
                                  [results["schedule"]], lambda: finding(
            where, "schedule", pair, perceptron(X, y, lr, epochs),
            probe_text=f"X of shape {X.shape}, lr = {lr}, epochs = {epochs}",
            alternatives=[
                *rule_bugs(X, y, lr, epochs),
                ("scale", perceptron(X, y, 1.0, epochs), "lr is ignored: multiply each update by lr."),
                ("mismatch", perceptron(X, y, lr, epochs - 1), "one epoch too few: run exactly `epochs` passes."),
                ("mismatch", perceptron(X, y, lr, epochs + 1), "one epoch too many: run exactly `epochs` passes."),
                ("mismatch", perceptron(X, y, lr, 1), "only one pass was made: loop over the data `epochs` times."),
                ("mismatch", perceptron(X, y, lr, epochs, order=range(len(X))[::-1]),
                 "the samples were visited in reverse order: go through X from the first row."),
            ],
            causes={"mismatch": "visit the samples in order, `epochs` times, with step lr; don't shuffle, and "
                                "keep updating until the last epoch."}))
        found["mutation"] = read_only(where, results["frozen"], [results["schedule"]], "read-only X and y", {
            "mutation": "your code writes into X or y (e.g. y[y == 0] = -1); work on a copy."})
        return found


SUITES = [
    TLUSuite(),
    GateSuite("and_gate(a, b)", AND, "AND fires only when both inputs are on: with w = (1, 1), b = −1.5.", AND_BUGS),
    GateSuite("or_gate(a, b)", OR, "OR fires when at least one input is on: with w = (1, 1), b = −0.5.", OR_BUGS),
    GateSuite("not_gate(a)", NOT, "NOT fires when its input is off: w = (−1,), b = 0.5.", NOT_BUGS),
    XorGateSuite("xor_gate(a, b)", XOR, "XOR = (a AND NOT b) OR (NOT a AND b).", XOR_BUGS),
    PerceptronTrainSuite(),
]
