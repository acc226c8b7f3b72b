"""Checks for ps5_gradient_check: numerical_gradient, relative_error, check_module, buggy_modules.

Choices worth knowing when reading a verdict:

* ``numerical_gradient``: ``value`` differentiates Σ A ⊙ x, linear in every entry, on which one-sided and central
  differences agree to rounding; a one-sided difference is charged once, in ``central``, where the function is
  curved and ``h = 1e-2`` makes its ``O(h)`` error loud — ``mismatch`` with a cause naming it (not a constant
  factor, so ``scale`` would mislead). Both functions are separable, so an ``x`` not put back costs once, in
  ``restored``; a gradient of less than double precision once, in ``value``.
* ``relative_error``: ``value`` uses pairs whose entries all share one relative error, so the reduction cannot
  matter there; ``max`` and ``zeros`` are judged with the student's own entrywise formula, so a formula bug costs
  once; a formula no typical bug explains costs in ``value`` only (``max`` and ``zeros`` then charge only raises
  and NaNs).
* ``check_module`` is judged in isolation (the reference ``numerical_gradient`` and ``relative_error`` replace the
  student's inside it; calling them is allowed, calling ``gradcheck.check_module`` or ``check_model`` is
  ``delegation``) and on orders of magnitude, as the student picks the upstream gradient: below ``SMALL`` on
  correct modules, above ``LARGE`` on the key of a planted bug. Missing a bprop that ignores ``grad_y`` (an
  upstream of ones) is ``chain-rule``.
* ``buggy_modules``: the visible test checks only the form (names of mystery modules); the hidden test checks the
  truth and says how many names are wrong, never which — else the visible test would answer the question.

Why this module is a little over 400 lines: four targets, and ``check_module`` is judged on modules of its own
(right ones and planted bugs) with the student's helpers swapped for the reference ones.
"""

from functools import cache
from typing import ClassVar

import numpy as np

from .. import gradcheck as ref
from .. import modules as ref_modules
from ..mystery import MYSTERY_MODULES, N_FEATURES
from .compare import as_numbers, fmt
from .engine import OK, Raised, Suite, call, failed, finding, frozen, raised, with_collaborators
from .parts import first_failed, restored, scalars
from .probes import dims, mixed, rng_for

SMALL = 1e-6  # a right check of a right module: ~1e-10 here; one-sided differences give ~1e-5
LARGE = 1e-3  # a right check of a planted bug: 1/3 or more here
SUSPECT = 1e-4  # a mystery box is buggy when one of its relative errors is above this


@cache
def buggy_boxes():
    """The mystery modules whose ``bprop`` is wrong, found as a student should find them: the reference
    gradient check on every box, on inputs of order 1. (Computed when judging, never written down.)"""
    def worst(box, rng):  # x drawn first, then the box's own parameters
        x = mixed(rng, (5, N_FEATURES), 0.3, 1.5)
        return max(ref.check_module(box(rng), x).values())

    return frozenset(name for name, box in MYSTERY_MODULES.items() if worst(box, np.random.default_rng(0)) > SUSPECT)


# ---- numerical_gradient ---------------------------------------------------------------------------

H_CENTRAL = 1e-2  # large enough that a one-sided difference is off by ~0.5 %, a central one by ~2e-5
ONE_SIDED = ("a one-sided difference, (f(x + h) − f(x)) / h, is only accurate to O(h); the central "
             "(f(x + h) − f(x − h)) / 2h cancels the h² term of the Taylor series and is accurate to O(h²).")
COPY = ("f() reads x itself: perturb the entries of x in place (x[i] += h …), not of a copy — "
        "f never sees a copy, so every difference is 0.")
IGNORED_H = "use the h you were given: the test passes h=0.01 and expects differences taken with it."
DRIFT = ("adding and subtracting h does not always give back the same float (x + h − h ≠ x in the last bit): save "
         "the entry before changing it, and put the saved value back.")
NOT_BACK = ("put every entry back after its two evaluations (saved = x[i]; …; x[i] = saved): the caller's array — "
            "a model's weights — must come out as it went in.")


def in_double(got, *earlier):
    """``got`` as float64 when one of the ``earlier`` results (judged by an earlier part) already holds floats
    of less than double precision, so that precision costs once, where it first shows; else ``got`` as it is."""
    def short(value):
        dtype = getattr(value, "dtype", None)
        return dtype is not None and dtype.kind == "f" and dtype.itemsize < 8

    return got.astype(np.float64) if short(got) and any(short(result) for result in earlier) else got


class NumericalGradientSuite(Suite):
    target, reference, signature = "numerical_gradient", ref.numerical_gradient, "numerical_gradient(f, x, h=1e-5)"
    references = (ref._central_difference,)
    parts: ClassVar[dict] = {"value": "the gradient of Σ A ⊙ x is A, for x of any shape",
                             "restored": "x holds exactly its original values afterwards",
                             "central": "central differences (f(x + h) − f(x − h)) / 2h with the h given"}

    def inputs(self, hidden):
        """Per part probed: x, coefficients, the objective f() over the array it reads, the h passed (if any).
        ``value``: Σ A ⊙ x, gradient A, which every difference quotient finds, one-sided or central;
        ``central``: Σ c ⊙ exp(x), separable, curved, gradient c ⊙ exp(x) never near 0."""
        linear, curved = rng_for(self.target, hidden, "value"), rng_for(self.target, hidden, "central")
        shape, bent = ((2, 3, 4), (5, 3)) if hidden else ((3, 4), (6,))
        return {"value": (mixed(linear, shape), mixed(linear, shape), lambda x, A: lambda: float(np.sum(A * x)), ()),
                "central": (mixed(curved, bent, 0.2, 1.5), mixed(curved, bent, 0.5, 2.0),
                            lambda x, c: lambda: float(np.sum(c * np.exp(x))), (H_CENTRAL,))}

    def run_probe(self, numerical_gradient, hidden):
        out = {}
        for key, (x, coefficients, objective, h) in self.inputs(hidden).items():
            work = x.copy()
            out[key], out[f"{key}_x"] = call(numerical_gradient, objective(work, coefficients), work, *h), work.copy()
        return out

    def run_judge(self, results, hidden):
        inputs = self.inputs(hidden)
        (_, A, _, _), (x, c, objective, _) = inputs.values()
        found = {"value": finding(
            "numerical_gradient", "value", results["value"], A, alternatives=[("mismatch", np.zeros_like(A), COPY)],
            probe_text=f"f() = Σ A ⊙ x with x of shape {A.shape}",
            causes={"scale": "divide the difference f(x + h) − f(x − h) by 2h, the distance between the two points.",
                    "shape": "return an array of the shape of x: one partial derivative per entry (np.zeros_like(x), "
                             "filled entry by entry)."})}
        found["restored"] = first_failed(  # the first probe that raised, or did not put x back exactly
            raised("numerical_gradient", results[key]) if isinstance(results[key], Raised) else
            restored("numerical_gradient", before, results[f"{key}_x"], DRIFT, NOT_BACK)
            for key, (before, *_) in inputs.items())
        work, slope = x.copy(), c * np.exp(x)  # one-sided quotients of Σ c ⊙ exp(x): c e^x (e^s − 1) / s, s = ±h
        alternatives = [("mismatch", slope * np.expm1(step) / step, ONE_SIDED + also)
                        for h, also in ((H_CENTRAL, ""), (1e-5, " Also " + IGNORED_H)) for step in (h, -h)]
        found["central"] = finding(
            "numerical_gradient", "central", in_double(results["central"], results["value"]),
            ref.numerical_gradient(objective(work, c), work, H_CENTRAL),
            alternatives=[*alternatives, ("mismatch", ref.numerical_gradient(objective(work, c), work, 1e-5),
                                          IGNORED_H), ("mismatch", np.zeros_like(x), COPY)],
            probe_text=f"f() = Σ c ⊙ exp(x) with x of shape {x.shape}, h={H_CENTRAL}",
            causes={"mismatch": ONE_SIDED, "scale": "divide f(x + h) − f(x − h) by 2h, not by h."})
        return found


# ---- relative_error -------------------------------------------------------------------------------


def _floored(numerator, denominator):
    return numerator / np.maximum(denominator, ref.TINY)


FORMULAS = {  # entrywise relative error: the contract's, then the typical mistakes (name → (function, cause))
    "contract": (lambda a, b: _floored(np.abs(a - b), np.abs(a) + np.abs(b)), ""),
    "first": (lambda a, b: _floored(np.abs(a - b), np.abs(a)),
              "divide by |a| + |b|, not by |a|: the error must not depend on which array comes first."),
    "larger": (lambda a, b: _floored(np.abs(a - b), np.maximum(np.abs(a), np.abs(b))),
               "the contract divides by |a| + |b| (the lecture's formula), not by max(|a|, |b|)."),
    "sum": (lambda a, b: _floored(np.abs(a - b), np.abs(a + b)),
            "divide by |a| + |b|, not by |a + b|: with opposite signs |a + b| is small and the error explodes."),
    "signed": (lambda a, b: _floored(a - b, np.abs(a) + np.abs(b)),
               "take the absolute value of the difference: |a − b|, else a negative error looks smallest."),
}
NOT_THE = "return the largest entrywise error (np.max), not the"
REDUCTIONS = {  # from entrywise errors to one number: the contract's, then the typical mistakes
    "max": (lambda errors, a, b: errors.max(), ""),
    "mean": (lambda errors, a, b: errors.mean(),
             f"{NOT_THE} mean: one bad entry of the gradient must not hide among many good ones."),
    "median": (lambda errors, a, b: np.median(errors), f"{NOT_THE} median."),
    "sum": (lambda errors, a, b: errors.sum(), f"{NOT_THE} sum."),
    "norms": (lambda errors, a, b: _floored(np.linalg.norm(a - b), np.linalg.norm(a) + np.linalg.norm(b)),
              "the contract's error is entrywise, |a − b| / (|a| + |b|) per entry, then the largest — "
              "not ‖a − b‖ / (‖a‖ + ‖b‖) with norms of the whole arrays."),
    "first": (lambda errors, a, b: errors.flat[0], "look at every entry, not only the first."),
}
TOP = REDUCTIONS["max"][0]
ZERO_CAUSE = ("where a = b = 0 the formula is 0 / 0: floor the denominator, np.maximum(|a| + |b|, 1e-12), so those "
              "entries count as 0 (np.where(d > 0, n / d, 0) still computes n / d everywhere and warns).")


def _errors(formula, reduce, pairs):
    """The relative error of each pair, with an entrywise ``formula`` and a ``reduce`` of the tables above."""
    return [reduce(formula(a, b), a, b) for a, b in pairs]


def _fitting(got, candidates, pairs, default=None):
    """The first (formula, reduce) of ``candidates`` whose errors on ``pairs`` are the student's, else ``default``."""
    return next((c for c in candidates if np.allclose(got, _errors(*c, pairs), rtol=1e-7, atol=0)), default)


class RelativeErrorSuite(Suite):
    target, reference, signature = "relative_error", ref.relative_error, "relative_error(a, b)"
    references = (ref.scaled_error,)
    parts: ClassVar[dict] = {"value": "|a − b| / (|a| + |b|) entry by entry",
                             "max": "the largest entry of it, not the mean",
                             "zeros": "entries where a = b = 0 count as 0 (floor the denominator): no NaN, no warning"}

    def pairs(self, hidden):
        """Per part, the (a, b) pairs passed. ``value``: three pairs, each with one relative error shared by all its
        entries (the reduction cannot matter); ``max``: small errors everywhere but one entry, where a > b > 0 (the
        largest stands far above the mean); ``zeros``: a = b = 0 in places, then two zero arrays."""
        rng, shape = rng_for(self.target, hidden, "value"), (4, 3) if hidden else (3, 5)
        ratios = (1.4, 1.8, -0.25) if hidden else (1.25, 1.5, -0.5)
        value = [(v, r * v) for v, r in zip((mixed(rng, shape), np.abs(mixed(rng, shape)), mixed(rng, shape)), ratios)]
        rng, shape = rng_for(self.target, hidden, "max"), (5, 4) if hidden else (3, 5)
        a, index = mixed(rng, shape), (3, 1) if hidden else (1, 2)
        b = a * (1 + rng.uniform(1e-4, 1e-3, shape) * rng.choice([-1.0, 1.0], shape))
        a[index], b[index] = 1.2, 0.6
        p, q = np.array([[0.0, 0.6, 0.0], [1.2, 0.0, -0.8]]), np.array([[0.0, 0.66, 0.0], [1.2, 0.0, -1.0]])
        zeros = [(p.T * 2.0, q.T * 2.0) if hidden else (p, q), (np.zeros((3, 2)), np.zeros((3, 2)))]
        return {"value": value, "max": [(a, b)], "zeros": zeros}

    def run_probe(self, relative_error, hidden):
        return {part: [call(relative_error, frozen(a), frozen(b)) for a, b in pairs]
                for part, pairs in self.pairs(hidden).items()}

    def run_judge(self, results, hidden):
        pairs, got = self.pairs(hidden), scalars(results["value"])
        ratios = ", ".join(f"{float(b.flat[0] / a.flat[0]):g}" for a, b in pairs["value"])
        formula = FORMULAS["contract"][0]
        found = {"value": self.judge_scalars(
            got, _errors(formula, TOP, pairs["value"]),
            [("mismatch", _errors(fn, TOP, pairs["value"]), cause) for fn, cause in list(FORMULAS.values())[1:]],
            "value", f"three pairs a, b = r·a of shape {pairs['value'][0][0].shape}, for r = {ratios}")}
        if not found["value"].passed and not isinstance(got, Raised):
            # max and zeros are judged with the student's own formula, found under any reduction; None when no
            # typical bug explains it (charged in value once)
            formula = _fitting(got, [(fn, reduce) for fn, _ in FORMULAS.values() for reduce, _ in REDUCTIONS.values()],
                               pairs["value"], (None,))[0]
        (a, b), got = pairs["max"][0], scalars(results["max"])
        found["max"] = self.judge_scalars(
            got, formula and _errors(formula, TOP, pairs["max"]),
            [("mismatch", _errors(formula, reduce, pairs["max"]), cause)
             for reduce, cause in list(REDUCTIONS.values())[1:] if formula],
            "max", f"a and b of shape {a.shape}, one entry far off (a = 1.2, b = 0.6)")
        reduce = TOP  # the floor is judged with the student's own reduction
        if formula and not found["max"].passed and not isinstance(got, Raised):
            reduce = _fitting(got, [(formula, reduce) for reduce, _ in REDUCTIONS.values()], pairs["max"],
                              (formula, TOP))[1]
        (a, b), got = pairs["zeros"][0], scalars(results["zeros"])
        found["zeros"] = self.judge_scalars(got, formula and _errors(formula, reduce, pairs["zeros"]), [], "zeros",
                                            f"a = {fmt(a, 2)}, b = {fmt(b, 2)}, then two zero arrays",
                                            causes={"unstable": ZERO_CAUSE, "mismatch": ZERO_CAUSE})
        return found

    @staticmethod
    def judge_scalars(got, expected, alternatives, part, text, causes=None):
        causes = {"shape": "return one float, e.g. float(np.max(errors)): the largest entrywise error.",
                  **(causes or {})}
        if expected is None and not isinstance(got, Raised):  # an unknown formula: no expected value here
            return OK if np.all(np.isfinite(got)) else failed(
                "unstable", f"relative_error: {part} came out as {fmt(got)} on {text}.", causes.get("unstable"))
        return finding("relative_error", part, got, np.asarray(expected, dtype=float), probe_text=text, causes=causes,
                       alternatives=[(code, np.asarray(value, dtype=float), why) for code, value, why in alternatives])


# ---- check_module ---------------------------------------------------------------------------------


def _planted(base, bug):
    """``base``, a reference box, whose bprop has a planted bug on the key ``bug``: ``grad_W`` twice too large,
    ``grad_b`` a mean over the batch (not a sum), or ``grad_x`` the local derivative (grad_y ignored)."""

    def bprop(self, grad_y, need_grad_x=True):
        grad_x = base.bprop(self, np.ones_like(grad_y) if bug == "grad_x" else grad_y, need_grad_x)
        if bug == "grad_W":
            self.grad_W = 2.0 * self.grad_W
        elif bug == "grad_b":
            self.grad_b = np.asarray(grad_y).mean(axis=0)
        return grad_x

    return type(f"Planted{base.__name__}", (base,), {"bprop": bprop})


class CheckModuleSuite(Suite):
    target, reference, signature = "check_module", ref.check_module, "check_module(module, x, h=1e-5)"
    references = (ref.check_model, ref.check_directional)
    parts: ClassVar[dict] = {"keys": "'grad_x' and 'grad_<p>' for every parameter p, nothing else",
                             "correct": "tiny errors for right modules; x and the parameters left as they were",
                             "buggy": "a large error, on the right key, for a module with a planted bug"}

    def cases(self, hidden):
        """(label, module, x, the key of the planted bug or None) — rebuilt identically on both sides."""
        (n, n_in, n_out), rng = dims(hidden), rng_for(self.target, hidden)
        x = mixed(rng, (n, n_in))
        squash, bug, bug_text = ((ref_modules.Sigmoid, "grad_b", "grad_b is a mean over the batch") if hidden else
                                 (ref_modules.Tanh, "grad_W", "grad_W is doubled"))
        linears, name = [], squash.__name__
        for klass in (ref_modules.Linear, _planted(ref_modules.Linear, bug)):
            linears.append(klass(n_in, n_out, rng))
            linears[-1].b = 0.3 * mixed(rng, (n_out,))
        return [(f"Linear({n_in}, {n_out})", linears[0], x, None), (f"{name}()", squash(), x, None),
                (f"a Linear({n_in}, {n_out}) whose {bug_text}", linears[1], x, bug),
                (f"a {name} whose bprop forgets to multiply by grad_y", _planted(squash, "grad_x")(), x, "grad_x")]

    def run_probe(self, check_module, hidden):
        own = with_collaborators(check_module, numerical_gradient=ref.numerical_gradient,
                                 relative_error=ref.relative_error) or check_module
        out = {}
        for label, module, x, _ in self.cases(hidden):
            work = x.copy()
            out[label] = call(own, module, work)
            out[f"{label}/x"] = work
            out[f"{label}/params"] = [np.array(getattr(module, p), copy=True) for p in module.param_names]
        return out

    def run_judge(self, results, hidden):
        cases = self.cases(hidden)
        first = next((results[label] for label, *_ in cases if isinstance(results[label], Raised)), None)
        if first is not None:
            return dict.fromkeys(self.parts, raised("check_module", first))
        found = dict.fromkeys(self.parts, OK)
        for label, module, x, bug in cases:
            got, keys = results[label], ["grad_x"] + ["grad_" + p for p in module.param_names]
            if not isinstance(got, dict):
                return dict.fromkeys(found, failed(
                    "shape", f"check_module returned {type(got).__name__} for {label}; expected a dict such as "
                             f"{{{', '.join(repr(k) + ': 1e-10' for k in keys)}}}.",
                    "return a dict key → relative error."))
            if found["keys"].passed and sorted(got) != sorted(keys):
                found["keys"] = failed(
                    "mismatch", f"check_module returned the keys {sorted(got)} for {label}; expected {sorted(keys)}.",
                    "one entry 'grad_x' for the input, and one 'grad_' + p for every p in module.param_names (none "
                    "for an activation) — the gradient bprop sets.")
            values = {key: as_numbers(value) for key, value in got.items()}
            odd = next((key for key, value in values.items() if value is None or value.size != 1), None)
            if odd is not None:
                found["correct"] = found["correct"] if not found["correct"].passed else failed(
                    "shape", f"check_module's {odd!r} for {label} is {fmt(got[odd])}; expected one float.",
                    "each value is relative_error(analytic, numeric), the largest entrywise error — one number per "
                    "gradient.")
                continue
            values = {key: float(value.reshape(())) for key, value in values.items()}
            if bug is None and found["correct"].passed:
                found["correct"] = self.judge_correct(label, module, x, values, results)
            elif bug is not None and found["buggy"].passed and (bug in values or found["keys"].passed):
                found["buggy"] = self.judge_buggy(label, module, x, values, bug)  # a missing key costs in keys
        return found

    @staticmethod
    def judge_correct(label, module, x, values, results):
        after = results[f"{label}/x"]
        if not (isinstance(after, np.ndarray) and after.shape == x.shape and np.array_equal(after, x)):
            return failed("mutation", f"check_module changed the x it was given ({label}, x of shape {x.shape}).",
                          "copy x first (x = np.array(x, dtype=float)); the caller's data must come out as it went in.")
        for p, value in zip(module.param_names, results[f"{label}/params"]):
            if not np.array_equal(value, getattr(module, p)):
                return failed("mutation", f"check_module left {label}'s parameter {p} changed.",
                              "every entry perturbed by the finite differences must be put back exactly.")
        key, value = next(((k, v) for k, v in values.items() if not (np.isfinite(v) and 0 <= v < SMALL)), (None, 0))
        if key is None:
            return OK
        if not np.isfinite(value):
            return failed("unstable", f"check_module reported {value} for {key} of {label}.",
                          "a 0/0 in the relative error (floor its denominator) or a NaN in the objective.")
        if value < 0:
            return failed("sign", f"check_module reported {value:.2g} for {key} of {label}; a relative error is "
                                  "never negative.", "|analytic − numeric|, with the absolute value.")
        band, right = ("far too large" if value > 1e-3 else "suspicious (between 1e-6 and 1e-3)",
                       max(ref.check_module(module, x).get(key, 0.0), 1e-12))
        return failed(
            "mismatch", f"check_module reported {value:.1e} for {key} of a correct {label} on x of shape {x.shape} — "
                        f"{band}; a right check gives about {right:.0e} here.",
            "the objective must be L = Σ fprop(x) ⊙ R with the same R passed to bprop(R); take the analytic gradients "
            "from that bprop *before* the finite differences move the module's cache; use central differences.")

    @staticmethod
    def judge_buggy(label, module, x, values, bug):
        value = values.get(bug, max(values.values(), default=0.0))
        if np.isfinite(value) and value > LARGE:
            return OK
        seen = (f"check_module reported {value:.1e} for {bug} of {label} (x of shape {x.shape}); a right check "
                f"reports {ref.check_module(module, x)[bug]:.2g}.")
        if bug == "grad_x":
            return failed("chain-rule", seen, "the upstream gradient R is all ones (or L = Σ fprop(x)): then a bprop "
                                              "that ignores grad_y looks right. Draw R at random, L = Σ fprop(x) ⊙ R, "
                                              "bprop(R).")
        return failed("mismatch", seen, f"compare the gradient bprop set (module.{bug}, read right after bprop) with "
                                        "the numerical gradient of L with respect to that very array.")


# ---- buggy_modules --------------------------------------------------------------------------------


def _names(candidate):
    """The student's answer as a sorted list of names, or a Raised saying why not."""
    if candidate is None or candidate is NotImplemented or candidate is Ellipsis:
        return Raised("not-implemented", "buggy_modules is still None: set it to a list of names")
    if isinstance(candidate, str):
        return Raised("shape", f"buggy_modules is the string {candidate!r}; expected a list of names such as "
                               "['BoxX', 'BoxY']")
    try:
        names = [item.__name__ if isinstance(item, type) else item for item in candidate]  # a class means its name
    except TypeError:
        return Raised("shape", f"buggy_modules is a {type(candidate).__name__}; expected a list of names")
    odd = next((item for item in names if not isinstance(item, str)), None)
    if odd is not None:
        return Raised("shape", f"buggy_modules holds {odd!r} ({type(odd).__name__}); expected names (str)")
    return sorted(set(names))


class BuggyModulesSuite(Suite):
    target, signature = "buggy_modules", "buggy_modules = [name, ...]"
    parts: ClassVar[dict] = {"found": "every mystery module whose bprop is wrong is listed",
                             "clean": "no mystery module whose bprop is right is listed"}
    CAUSES: ClassVar[dict] = {  # what to do, by code or part
        "found": "run your check_module on every box of MYSTERY_MODULES, on inputs of order 1 (x near 0 hides some "
                 "bugs); a bprop is wrong when one of its relative errors is above 1e-4.",
        "not-implemented": "replace the `raise NotImplementedError` line by buggy_modules = [...].",
        "shape": "a list of the names (str) of the buggy boxes, e.g. ['BoxX', 'BoxY'].",
        "clean": "an unusual function is not a bug — trust the check (errors below 1e-7), and make sure your "
                 "check_module passes its own tests first."}

    def probe(self, candidate, hidden=False):
        return {"names": _names(candidate)}

    def judge(self, results, hidden=False):
        names = results["names"]
        if isinstance(names, Raised):
            return dict.fromkeys(self.parts, failed(names.code, f"{names.message}.", self.CAUSES[names.code]))
        unknown = [name for name in names if name not in MYSTERY_MODULES]
        if unknown:
            return dict.fromkeys(self.parts, failed(
                "mismatch", f"buggy_modules lists {unknown}, which {'is' if len(unknown) == 1 else 'are'} not in "
                            "MYSTERY_MODULES.",
                f"use the names exactly as MYSTERY_MODULES spells them: {', '.join(MYSTERY_MODULES)}."))
        if not hidden:  # the visible test checks the form only: it must not answer the question
            return dict.fromkeys(self.parts, OK)
        buggy = buggy_boxes()
        missed, false = len(buggy - set(names)), len(set(names) - buggy)
        return {"found": failed("mismatch", f"buggy_modules misses {missed} mystery module{'s' if missed > 1 else ''}"
                                            " whose bprop is wrong.", self.CAUSES["found"]) if missed else OK,
                "clean": failed("mismatch", f"buggy_modules lists {false} mystery module{'s' if false > 1 else ''} "
                                            "whose bprop is right.", self.CAUSES["clean"]) if false else OK}

    def run(self, candidate, part=None, hidden=False):
        super().run(candidate, part=part, hidden=hidden)
        if not hidden:
            print("(the visible test checks only that these are names of mystery modules; "
                  "whether they are the buggy ones is graded by the hidden test)")


SUITES = [NumericalGradientSuite(), RelativeErrorSuite(), CheckModuleSuite(), BuggyModulesSuite()]

__all__ = ["LARGE", "SMALL", "SUITES", "buggy_boxes"]
