"""Checks for ps5_gradient_check: numerical_gradient, relative_error, check_module, buggy_modules.

Choices worth knowing when reading a verdict:

* **One-sided differences** are diagnosed ``mismatch``, with a cause naming
  them: their error is ``O(h)``, not a constant factor, so ``scale`` would mislead.
* ``numerical_gradient``'s ``value`` part differentiates a function that is
  linear in every entry, on which one-sided and central differences agree to
  rounding; a one-sided difference is charged once, in ``central``, where the
  function is curved and ``h = 1e-2`` makes its ``O(h)`` error loud. Both
  functions are separable, so an ``x`` not put back is charged once, in ``restored``; a gradient of less
  than double precision is charged once, in ``value``.
* ``relative_error``'s ``value`` part uses pairs whose entries all share one
  relative error, so the reduction cannot matter there; ``max`` and ``zeros``
  are judged with the student's own entrywise formula, so a formula bug costs once; a formula no typical
  bug explains costs in ``value`` only (``max`` and ``zeros`` then charge only raises and NaNs).
* ``check_module`` is judged in isolation: the reference ``numerical_gradient``
  and ``relative_error`` replace the student's inside it. It is judged on
  orders of magnitude (the student picks the upstream gradient): below
  ``SMALL`` on correct modules, above ``LARGE`` on the key of a planted bug.
  A check that misses a bprop ignoring ``grad_y`` (an upstream of ones) is
  diagnosed ``chain-rule``. Calling the reference ``numerical_gradient`` inside
  ``check_module`` is allowed (the judge does the same); calling
  ``gradcheck.check_module`` or ``check_model`` is ``delegation``.
* ``buggy_modules``: the visible test checks only the form (names of mystery
  modules); the hidden test checks the truth and says how many names are
  wrong, never which — else the visible test would answer the question.
"""

from functools import cache
from typing import ClassVar

import numpy as np

from .. import gradcheck as ref
from .. import modules as ref_modules
from ..mystery import MYSTERY_MODULES, N_FEATURES
from .compare import as_numbers, fmt
from .engine import OK, Raised, Suite, call, failed, finding, frozen, raised, with_collaborators
from .parts import in_double
from .probes import dims, mixed, rng_for

SMALL = 1e-6  # a right check of a right module: ~1e-10 here; one-sided differences give ~1e-5
LARGE = 1e-3  # a right check of a planted bug: 1/3 or more here
SUSPECT = 1e-4  # a mystery box is buggy when one of its relative errors is above this


@cache
def buggy_boxes():
    """The mystery modules whose ``bprop`` is wrong, found as a student should find them: the reference
    gradient check on every box, on inputs of order 1. (Computed when judging, never written down.)"""
    found = set()
    for name, box in MYSTERY_MODULES.items():
        rng = np.random.default_rng(0)
        x = mixed(rng, (5, N_FEATURES), 0.3, 1.5)
        if max(ref.check_module(box(rng), x).values()) > SUSPECT:
            found.add(name)
    return frozenset(found)


def _same_or_raised(results):
    """The first Raised among ``results``, else the results as one float array (None if not numbers)."""
    for result in results:
        if isinstance(result, Raised):
            return result
    try:
        return np.array([np.asarray(r, dtype=float) for r in results])
    except (TypeError, ValueError):
        return None


# ---- numerical_gradient ---------------------------------------------------------------------------

H_CENTRAL = 1e-2  # large enough that a one-sided difference is off by ~0.5 %, a central one by ~2e-5


def _linear_f(x, A):
    """Σ A ⊙ x: the gradient is A, and every difference quotient — one-sided or central — finds it."""
    return lambda: float(np.sum(A * x))


def _curved_f(x, c):
    """Σ c ⊙ exp(x): separable, curved, gradient c ⊙ exp(x) never near 0."""
    return lambda: float(np.sum(c * np.exp(x)))


def _differences(f, x, h, kind):
    """Difference quotients of ``f`` with respect to every entry of ``x``: ``central``, ``forward`` or ``backward``."""
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        plus = f()
        x[index] = saved - h
        minus = f()
        x[index] = saved
        here = f()
        grad[index] = {"central": (plus - minus) / (2 * h), "forward": (plus - here) / h,
                       "backward": (here - minus) / h}[kind]
    return grad


ONE_SIDED = ("a one-sided difference, (f(x + h) − f(x)) / h, is only accurate to O(h); the central "
             "(f(x + h) − f(x − h)) / 2h cancels the h² term of the Taylor series and is accurate to O(h²).")
COPY = ("f() reads x itself: perturb the entries of x in place (x[i] += h …), not of a copy — "
        "f never sees a copy, so every difference is 0.")
IGNORED_H = "use the h you were given: the test passes h=0.01 and expects differences taken with it."


class NumericalGradientSuite(Suite):
    target = "numerical_gradient"
    signature = "numerical_gradient(f, x, h=1e-5)"
    reference = ref.numerical_gradient
    references = (ref._central_difference,)
    parts: ClassVar[dict] = {
        "value": "the gradient of Σ A ⊙ x is A, for x of any shape",
        "restored": "x holds exactly its original values afterwards",
        "central": "central differences (f(x + h) − f(x − h)) / 2h with the h given",
    }

    def linear_inputs(self, hidden):
        rng = rng_for(self.target, hidden, "value")
        shape = (2, 3, 4) if hidden else (3, 4)
        return mixed(rng, shape), mixed(rng, shape)

    def curved_inputs(self, hidden):
        rng = rng_for(self.target, hidden, "central")
        shape = (5, 3) if hidden else (6,)
        return mixed(rng, shape, 0.2, 1.5), mixed(rng, shape, 0.5, 2.0)

    def run_probe(self, numerical_gradient, hidden):
        out = {}
        x, A = self.linear_inputs(hidden)
        work = x.copy()
        out["value"] = call(numerical_gradient, _linear_f(work, A), work)
        out["value_x"] = work.copy()
        x, c = self.curved_inputs(hidden)
        work = x.copy()
        out["central"] = call(numerical_gradient, _curved_f(work, c), work, H_CENTRAL)
        out["central_x"] = work.copy()
        return out

    def run_judge(self, results, hidden):
        found = {}
        x, A = self.linear_inputs(hidden)
        text = f"f() = Σ A ⊙ x with x of shape {x.shape}"
        found["value"] = finding("numerical_gradient", "value", results["value"], A, probe_text=text,
                                 alternatives=[("mismatch", np.zeros_like(A), COPY)],
                                 causes={"scale": "divide the difference f(x + h) − f(x − h) by 2h, the distance "
                                                  "between the two points.",
                                         "shape": "return an array of the shape of x: one partial derivative per "
                                                  "entry (np.zeros_like(x), filled entry by entry)."})
        found["restored"] = self.judge_restored(results, hidden)
        x, c = self.curved_inputs(hidden)
        work = x.copy()
        f = _curved_f(work, c)
        expected = _differences(f, work, H_CENTRAL, "central")
        alternatives = [("mismatch", _differences(f, work, H_CENTRAL, "forward"), ONE_SIDED),
                        ("mismatch", _differences(f, work, H_CENTRAL, "backward"), ONE_SIDED),
                        ("mismatch", _differences(f, work, 1e-5, "forward"), ONE_SIDED + " Also " + IGNORED_H),
                        ("mismatch", _differences(f, work, 1e-5, "backward"), ONE_SIDED + " Also " + IGNORED_H),
                        ("mismatch", _differences(f, work, 1e-5, "central"), IGNORED_H),
                        ("mismatch", np.zeros_like(x), COPY)]
        found["central"] = finding("numerical_gradient", "central", in_double(results["central"], results["value"]),
                                   expected,
                                   alternatives=alternatives,
                                   probe_text=f"f() = Σ c ⊙ exp(x) with x of shape {x.shape}, h={H_CENTRAL}",
                                   causes={"mismatch": ONE_SIDED,
                                           "scale": "divide f(x + h) − f(x − h) by 2h, not by h."})
        return found

    def judge_restored(self, results, hidden):
        for key, (x, _) in (("value", self.linear_inputs(hidden)), ("central", self.curved_inputs(hidden))):
            got = results[key]
            if isinstance(got, Raised):
                return raised("numerical_gradient", got)
            after = as_numbers(results[f"{key}_x"])
            if after is not None and after.shape == x.shape and np.array_equal(after, x):
                continue
            if after is None or after.shape != x.shape:
                return failed("mutation", "numerical_gradient: x lost its shape or values.",
                              "change one entry at a time and put it back.")
            moved = np.argwhere(after != x)
            index = tuple(int(i) for i in moved[0])
            gap = float(np.max(np.abs(after - x)))
            where = (f"numerical_gradient changed {len(moved)} of the {x.size} entries of x "
                     f"(x of shape {x.shape}); at index {index} x was {float(x[index])!r}, afterwards "
                     f"{float(after[index])!r}.")
            if gap <= 1e-12 * max(float(np.max(np.abs(x))), 1.0):
                cause = ("adding and subtracting h does not always give back the same float (x + h − h ≠ x in "
                         "the last bit): save the entry before changing it, and put the saved value back.")
            else:
                cause = ("put every entry back after its two evaluations (saved = x[i]; …; x[i] = saved): the "
                         "caller's array — a model's weights — must come out as it went in.")
            return failed("mutation", where, cause)
        return OK


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


def _norms(errors, a, b):
    return _floored(np.linalg.norm(a - b), np.linalg.norm(a) + np.linalg.norm(b))


REDUCTIONS = {  # from entrywise errors to one number: the contract's, then the typical mistakes
    "max": (lambda errors, a, b: errors.max(), ""),
    "mean": (lambda errors, a, b: errors.mean(),
             "return the largest entrywise error (np.max), not the mean: one bad entry of the gradient must not "
             "hide among many good ones."),
    "median": (lambda errors, a, b: np.median(errors), "return the largest entrywise error (np.max), not the median."),
    "sum": (lambda errors, a, b: errors.sum(), "return the largest entrywise error (np.max), not the sum."),
    "norms": (_norms, "the contract's error is entrywise, |a − b| / (|a| + |b|) per entry, then the largest — "
                      "not ‖a − b‖ / (‖a‖ + ‖b‖) with norms of the whole arrays."),
    "first": (lambda errors, a, b: errors.flat[0], "look at every entry, not only the first."),
}


class RelativeErrorSuite(Suite):
    target = "relative_error"
    signature = "relative_error(a, b)"
    reference = ref.relative_error
    references = (ref.scaled_error,)
    parts: ClassVar[dict] = {
        "value": "|a − b| / (|a| + |b|) entry by entry",
        "max": "the largest entry of it, not the mean",
        "zeros": "entries where a = b = 0 count as 0 (floor the denominator): no NaN, no warning",
    }

    def value_pairs(self, hidden):
        """Three pairs, each with one relative error shared by all its entries (the reduction cannot matter)."""
        rng = rng_for(self.target, hidden, "value")
        shape = (4, 3) if hidden else (3, 5)
        ratios = (1.4, 1.8, -0.25) if hidden else (1.25, 1.5, -0.5)
        v, w, u = mixed(rng, shape), np.abs(mixed(rng, shape)), mixed(rng, shape)
        return [(v, ratios[0] * v), (w, ratios[1] * w), (u, ratios[2] * u)]

    def max_pair(self, hidden):
        """Small errors everywhere but one entry, where a > b > 0: the largest stands far above the mean."""
        rng = rng_for(self.target, hidden, "max")
        shape = (5, 4) if hidden else (3, 5)
        a = mixed(rng, shape)
        b = a * (1 + rng.uniform(1e-4, 1e-3, shape) * rng.choice([-1.0, 1.0], shape))
        index = (3, 1) if hidden else (1, 2)
        a[index], b[index] = 1.2, 0.6
        return a, b

    def zero_pairs(self, hidden):
        a = np.array([[0.0, 0.6, 0.0], [1.2, 0.0, -0.8]])
        b = np.array([[0.0, 0.66, 0.0], [1.2, 0.0, -1.0]])
        if hidden:
            a, b = a.T * 2.0, b.T * 2.0
        return [(a, b), (np.zeros((3, 2)), np.zeros((3, 2)))]

    def run_probe(self, relative_error, hidden):
        out = {}
        for key, pairs in (("value", self.value_pairs(hidden)), ("max", [self.max_pair(hidden)]),
                           ("zeros", self.zero_pairs(hidden))):
            out[key] = [call(relative_error, frozen(a), frozen(b)) for a, b in pairs]
        return out

    @staticmethod
    def scalars(results):
        """The student's values as a float vector, or a Raised saying why not."""
        got = _same_or_raised(results)
        if isinstance(got, Raised):
            return got
        if got is None or got.ndim != 1:
            shapes = [np.shape(r) for r in results]
            return Raised("shape", f"returned values of shapes {shapes}, expected one float each")
        return got

    def run_judge(self, results, hidden):
        found = {}
        pairs = self.value_pairs(hidden)
        got = self.scalars(results["value"])
        ratios = ", ".join(f"{float(b.flat[0] / a.flat[0]):g}" for a, b in pairs)
        text = f"three pairs a, b = r·a of shape {pairs[0][0].shape}, for r = {ratios}"
        expected = np.array([FORMULAS["contract"][0](a, b).max() for a, b in pairs])
        alternatives = [("mismatch", np.array([fn(a, b).max() for a, b in pairs]), cause)
                        for name, (fn, cause) in FORMULAS.items() if name != "contract"]
        found["value"] = self.judge_scalars(got, expected, alternatives, "value", text)
        formula = "contract"
        if not found["value"].passed and not isinstance(got, Raised):
            # the reduction and the floor are judged with the student's own formula, under any reduction;
            # None: a formula no typical bug explains, charged in value once (the other parts judge raises and NaNs)
            formula = next((name for name, (fn, _) in FORMULAS.items() for reduce, _ in REDUCTIONS.values()
                            if np.allclose(got, [reduce(fn(a, b), a, b) for a, b in pairs], rtol=1e-7, atol=0)), None)
        fn = FORMULAS[formula][0] if formula else None

        a, b = self.max_pair(hidden)
        got = self.scalars(results["max"])
        alternatives = [("mismatch", [reduce(fn(a, b), a, b)], cause)
                        for name, (reduce, cause) in REDUCTIONS.items() if fn and name != "max"]
        found["max"] = self.judge_scalars(got, fn and [fn(a, b).max()], alternatives, "max",
                                          f"a and b of shape {a.shape}, one entry far off (a = 1.2, b = 0.6)")
        reduce = REDUCTIONS["max"][0]
        if fn and not found["max"].passed and not isinstance(got, Raised):
            for candidate, _ in REDUCTIONS.values():
                if np.allclose(got, [candidate(fn(a, b), a, b)], rtol=1e-7, atol=0):
                    reduce = candidate  # the floor is judged with the student's own reduction
                    break

        pairs = self.zero_pairs(hidden)
        got = self.scalars(results["zeros"])
        expected = fn and [reduce(fn(a, b), a, b) for a, b in pairs]
        text = f"a = {fmt(pairs[0][0], 2)}, b = {fmt(pairs[0][1], 2)}, then two zero arrays"
        zero_cause = ("where a = b = 0 the formula is 0 / 0: floor the denominator, "
                      "np.maximum(|a| + |b|, 1e-12), so those entries count as 0 (np.where(d > 0, n / d, 0) "
                      "still computes n / d everywhere and warns).")
        found["zeros"] = self.judge_scalars(got, expected, [], "zeros", text,
                                            causes={"unstable": zero_cause, "mismatch": zero_cause})
        return found

    @staticmethod
    def judge_scalars(got, expected, alternatives, part, text, causes=None):
        cause = {"shape": "return one float, e.g. float(np.max(errors)): the largest entrywise error."}
        if expected is None and not isinstance(got, Raised):  # an unknown formula: no expected value here
            return OK if np.all(np.isfinite(got)) else failed(
                "unstable", f"relative_error: {part} came out as {fmt(got)} on {text}.", (causes or {}).get("unstable"))
        return finding("relative_error", part, got, np.asarray(expected, dtype=float),
                       alternatives=[(code, np.asarray(value, dtype=float), why) for code, value, why in alternatives],
                       probe_text=text, causes={**cause, **(causes or {})})


# ---- check_module ---------------------------------------------------------------------------------


class _DoubledGradW(ref_modules.Linear):
    """A planted bug: grad_W twice too large."""

    def bprop(self, grad_y, need_grad_x=True):
        grad_x = super().bprop(grad_y, need_grad_x)
        self.grad_W = 2.0 * self.grad_W
        return grad_x


class _MeanGradB(ref_modules.Linear):
    """A planted bug: grad_b a mean over the batch, not a sum."""

    def bprop(self, grad_y, need_grad_x=True):
        grad_x = super().bprop(grad_y, need_grad_x)
        self.grad_b = np.asarray(grad_y).mean(axis=0)
        return grad_x


class _TanhIgnoringUpstream(ref_modules.Tanh):
    """A planted bug: returns tanh'(x), forgetting to multiply by grad_y."""

    def bprop(self, grad_y, need_grad_x=True):
        return 1.0 - self.y * self.y


class _SigmoidIgnoringUpstream(ref_modules.Sigmoid):
    """A planted bug: returns σ'(x), forgetting to multiply by grad_y."""

    def bprop(self, grad_y, need_grad_x=True):
        return self.y * (1.0 - self.y)


class CheckModuleSuite(Suite):
    target = "check_module"
    signature = "check_module(module, x, h=1e-5)"
    reference = ref.check_module
    references = (ref.check_model, ref.check_directional)
    parts: ClassVar[dict] = {
        "keys": "'grad_x' and 'grad_<p>' for every parameter p, nothing else",
        "correct": "tiny errors for right modules; x and the parameters left as they were",
        "buggy": "a large error, on the right key, for a module with a planted bug",
    }

    def cases(self, hidden):
        """(label, module, x, the key of the planted bug or None) — rebuilt identically on both sides."""
        n, n_in, n_out = dims(hidden)
        rng = rng_for(self.target, hidden)
        x = mixed(rng, (n, n_in))
        squash, ignoring, planted = ((ref_modules.Sigmoid, _SigmoidIgnoringUpstream, _MeanGradB) if hidden else
                                     (ref_modules.Tanh, _TanhIgnoringUpstream, _DoubledGradW))
        bug = "grad_b" if hidden else "grad_W"
        bug_text = "grad_b is a mean over the batch" if hidden else "grad_W is doubled"
        name = squash.__name__
        linear = ref_modules.Linear(n_in, n_out, rng)
        linear.b = 0.3 * mixed(rng, (n_out,))
        bad_linear = planted(n_in, n_out, rng)
        bad_linear.b = 0.3 * mixed(rng, (n_out,))
        return [
            (f"Linear({n_in}, {n_out})", linear, x, None),
            (f"{name}()", squash(), x, None),
            (f"a Linear({n_in}, {n_out}) whose {bug_text}", bad_linear, x, bug),
            (f"a {name} whose bprop forgets to multiply by grad_y", ignoring(), x, "grad_x"),
        ]

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
        found = {"keys": OK, "correct": OK, "buggy": OK}
        for label, module, x, bug in cases:
            got = results[label]
            expected_keys = ["grad_x"] + ["grad_" + p for p in module.param_names]
            if not isinstance(got, dict):
                verdict = failed("shape", f"check_module returned {type(got).__name__} for {label}; expected a dict "
                                          f"such as {{{', '.join(repr(k) + ': 1e-10' for k in expected_keys)}}}.",
                                 "return a dict key → relative error.")
                return dict.fromkeys(found, verdict)
            if found["keys"].passed and sorted(got) != sorted(expected_keys):
                found["keys"] = failed(
                    "mismatch", f"check_module returned the keys {sorted(got)} for {label}; expected "
                                f"{sorted(expected_keys)}.",
                    "one entry 'grad_x' for the input, and one 'grad_' + p for every p in module.param_names (none "
                    "for an activation) — the gradient bprop sets.")
            values = {}
            for key, value in got.items():
                array = as_numbers(value)
                if array is None or array.size != 1:
                    verdict = failed("shape", f"check_module's {key!r} for {label} is {fmt(value)}; expected one "
                                              "float.",
                                     "each value is relative_error(analytic, numeric), the largest entrywise error "
                                     "— one number per gradient.")
                    found["correct"] = found["correct"] if not found["correct"].passed else verdict
                    values = None
                    break
                values[key] = float(array.reshape(()))
            if values is None:
                continue
            if bug is None:
                if found["correct"].passed:
                    found["correct"] = self.judge_correct(label, module, x, values, results)
            elif found["buggy"].passed and (bug in values or found["keys"].passed):
                # a missing key is charged once, in keys
                found["buggy"] = self.judge_buggy(label, module, x, values, bug)
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
        bad = {key: value for key, value in values.items() if not (np.isfinite(value) and 0 <= value < SMALL)}
        if not bad:
            return OK
        key, value = next(iter(bad.items()))
        if not np.isfinite(value):
            return failed("unstable", f"check_module reported {value} for {key} of {label}.",
                          "a 0/0 in the relative error (floor its denominator) or a NaN in the objective.")
        if value < 0:
            return failed("sign", f"check_module reported {value:.2g} for {key} of {label}; a relative error is "
                                  "never negative.", "|analytic − numeric|, with the absolute value.")
        reference = ref.check_module(module, x).get(key, 0.0)
        band = "far too large" if value > 1e-3 else "suspicious (between 1e-6 and 1e-3)"
        return failed(
            "mismatch", f"check_module reported {value:.1e} for {key} of a correct {label} on x of shape {x.shape} — "
                        f"{band}; a right check gives about {max(reference, 1e-12):.0e} here.",
            "the objective must be L = Σ fprop(x) ⊙ R with the same R passed to bprop(R); take the analytic gradients "
            "from that bprop *before* the finite differences move the module's cache; use central differences.")

    @staticmethod
    def judge_buggy(label, module, x, values, bug):
        value = values.get(bug, max(values.values(), default=0.0))
        if np.isfinite(value) and value > LARGE:
            return OK
        reference = ref.check_module(module, x)[bug]
        seen = f"check_module reported {value:.1e} for {bug} of {label} (x of shape {x.shape}); a right check " \
               f"reports {reference:.2g}."
        if bug == "grad_x" and "forgets" in label:
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
        items = list(candidate)
    except TypeError:
        return Raised("shape", f"buggy_modules is a {type(candidate).__name__}; expected a list of names")
    names = []
    for item in items:
        if isinstance(item, type):
            item = item.__name__  # the class itself, MYSTERY_MODULES["BoxX"]: its name is meant
        if not isinstance(item, str):
            return Raised("shape", f"buggy_modules holds {item!r} ({type(item).__name__}); expected names (str)")
        names.append(item)
    return sorted(set(names))


class BuggyModulesSuite(Suite):
    target = "buggy_modules"
    signature = "buggy_modules = [name, ...]"
    parts: ClassVar[dict] = {
        "found": "every mystery module whose bprop is wrong is listed",
        "clean": "no mystery module whose bprop is right is listed",
    }
    HOW = ("run your check_module on every box of MYSTERY_MODULES, on inputs of order 1 (x near 0 hides some bugs); "
           "a bprop is wrong when one of its relative errors is above 1e-4.")

    def probe(self, candidate, hidden=False):
        return {"names": _names(candidate)}

    def judge(self, results, hidden=False):
        names = results["names"]
        if isinstance(names, Raised):
            cause = {"not-implemented": "replace the `raise NotImplementedError` line by buggy_modules = [...].",
                     "shape": "a list of the names (str) of the buggy boxes, e.g. ['BoxX', 'BoxY']."}[names.code]
            return dict.fromkeys(self.parts, failed(names.code, f"{names.message}.", cause))
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
        found = {"found": OK, "clean": OK}
        if missed:
            found["found"] = failed("mismatch", f"buggy_modules misses {missed} mystery module"
                                                f"{'s' if missed > 1 else ''} whose bprop is wrong.", self.HOW)
        if false:
            found["clean"] = failed(
                "mismatch", f"buggy_modules lists {false} mystery module{'s' if false > 1 else ''} whose bprop is "
                            "right.",
                "an unusual function is not a bug — trust the check (errors below 1e-7), and make sure your "
                "check_module passes its own tests first.")
        return found

    def run(self, candidate, part=None, hidden=False):
        super().run(candidate, part=part, hidden=hidden)
        if not hidden:
            print("(the visible test checks only that these are names of mystery modules; "
                  "whether they are the buggy ones is graded by the hidden test)")


SUITES = [NumericalGradientSuite(), RelativeErrorSuite(), CheckModuleSuite(), BuggyModulesSuite()]

__all__ = ["LARGE", "SMALL", "SUITES", "buggy_boxes"]
