"""Checks for ps2_logistic — sigmoid, cross-entropy, its gradients, gradient descent, LDA; ``parts`` name the checks.

Choices made here
-----------------
* ``sigmoid.tails`` compares σ(z) for z down to −700 with *relative* error: the form
  ``1 − σ(−z)`` rounds σ(−40) ≈ 4.2e-18 to 0, and clipping z changes σ(−700). Such a loss
  of precision on large inputs is diagnosed ``unstable`` (the cure is the stable formula
  that splits by sign), and so is ``0.5 (1 + tanh(z/2))``, which cancels the same way.
* ``lda_fit`` accepts both pooled divisors, N − 2 (unbiased) and N (maximum likelihood):
  lectures and textbooks use either, and w only scales by (N − 2)/N. ``b`` is judged
  against the w the student returned, so a bug in w is not charged again to b.
* ``fit_logistic`` with minibatches cannot be matched number for number (students shuffle in
  different ways); it is judged by what must hold whatever the shuffle.
* A graded function is judged as written and, where it calls collaborators (``sigmoid``,
  ``logistic_gradients``, …), also rebuilt with the reference ones: it passes if either is
  right, so one bug costs once.

Why this module is long (about 520 lines): five targets, each a table of parts, probes and the typical bugs
they name; ``fit_logistic`` takes a third, as a minibatch fit is judged by what holds whatever the shuffle.
"""

from typing import ClassVar

import numpy as np

from .. import logistic as ref
from .engine import OK, UNREADABLE, Raised, Suite, call, close, explain, failed, finding, frozen, raised, unless_stub
from .parts import as_vector, either, first_entry, gated, listed, raised_as, runs_of, tiny_case, unpack, with_boundary
from .probes import dims, labels, mixed, rng_for


class SigmoidSuite(Suite):
    target, reference, signature = "sigmoid", ref.sigmoid, "sigmoid(z)"
    parts: ClassVar[dict] = {"value": "σ(z) = 1 / (1 + e^(−z)) entry by entry, shape kept",
                             "stability": "no overflow warning, NaN or inf for |z| up to 1e4",
                             "tails": "relative precision for very negative z (σ(−40) ≈ 4.2e-18, not 0)"}
    TINY: ClassVar[list] = [-2.0, 0.0, 3.0]

    def inputs(self, hidden):
        z = mixed(rng_for(self.target, hidden), dims(hidden)[:2], 0.1, 6.0)
        big = np.linspace(-1e4, 1e4, 33).reshape(11, 3) if hidden else \
            np.array([-1e4, -1e3, -800.0, -100.0, 0.0, 100.0, 800.0, 1e3, 1e4])
        tails = [-720.0, -512.5, -200.0, -61.0, -37.5, -25.0] if hidden else [-700.0, -300.0, -100.0, -40.0, -20.0]
        return z, big, np.array(tails)

    def run_probe(self, sigmoid, hidden):
        return {key: call(sigmoid, frozen(v)) for key, v in zip(("value", "big", "tails", "tiny"),
                                                                 (*self.inputs(hidden), self.TINY))}

    def run_judge(self, results, hidden):
        (z, big, tails), where = self.inputs(hidden), "sigmoid"
        found = {"value": finding(
            where, "value", results["value"], ref.sigmoid(z), probe_text=f"z of shape {z.shape} (mixed signs, |z| ≤ 6)",
            tiny=tiny_case(f"z = {self.TINY}", results["tiny"], ref.sigmoid(np.array(self.TINY))),
            alternatives=[("sign", ref.sigmoid(-z), "σ(z) = 1 / (1 + e^(−z)): the exponent is −z."),
                          ("mismatch", np.tanh(z), "that is tanh(z); σ(z) = 1 / (1 + e^(−z))."),
                          ("mismatch", 1 / (1 - np.exp(-z)), "the denominator is 1 + e^(−z), not 1 − e^(−z).")],
            causes={"exception": "σ must work on whole arrays: use np.exp, not math.exp, and no Python `if` on z."})}
        found["stability"] = gated(found["value"].passed, where, [results["big"]],
                                   lambda: self.stability(results["big"], big))
        # clipping fails both stability and tails: charged once, to stability
        return {**found, "tails": gated(found["value"].passed and found["stability"].passed, where, [results["tails"]],
                                        lambda: self.tails(results["tails"], tails))}

    @staticmethod
    def stability(got, big):
        text = f"z = {listed(big)}" if big.size <= 12 else \
            f"z = np.linspace({big.min():g}, {big.max():g}, {big.size}) of shape {big.shape}"
        verdict = finding("sigmoid", "stability", got, ref.sigmoid(big), probe_text=text, causes={"unstable": (
            "np.exp(−z) overflows for z < −709 — and np.where evaluates both branches, so guarding with np.where is "
            "not enough. Compute e = np.exp(−|z|) (never large), then 1/(1 + e) where z ≥ 0 and e/(1 + e) where "
            "z < 0.")})
        if verdict.diagnosis != "mismatch":
            return verdict
        got = np.asarray(got, dtype=float).ravel()  # off by less than the printed digits: show the worst entry
        i = int(np.argmax(np.abs(got - ref.sigmoid(big).ravel())))
        return failed("mismatch", f"sigmoid: σ({big.ravel()[i]:g}) came out as {got[i]:.17g}, expected "
                      f"{ref.sigmoid(big.ravel()[i]):.17g}, on {text}.", "clipping z (or rounding) changes σ for large "
                      "|z|: use the formula that splits by sign, exp(−|z|), which is exact everywhere.")

    @staticmethod
    def tails(got, tails):
        expected = ref.sigmoid(tails)
        if isinstance(got, Raised) or np.shape(got) != expected.shape:
            return explain(got.code if isinstance(got, Raised) else "shape", "sigmoid", "tails", got, expected)
        got = np.asarray(got, dtype=float)
        ratio = np.abs(got / expected - 1.0)
        if np.all(ratio <= 1e-7):
            return OK
        i = int(np.argmax(~(ratio <= 1e-7)))
        return failed(
            "unstable", f"sigmoid loses precision for very negative z: σ({tails[i]:g}) came out as {got[i]:.3g}, "
            f"expected {expected[i]:.3g} (relative error {ratio[i]:.2g}) on z = {listed(tails)}.",
            "1 − σ(−z) (or 1 − 1/(1 + e^z), or 0.5·(1 + tanh(z/2))) subtracts two numbers close to 1 and keeps "
            "nothing; clipping z changes the answer. For z < 0 use e^z / (1 + e^z), computed from e = np.exp(−|z|).")


class BinaryCrossEntropySuite(Suite):
    target, reference, signature = "binary_cross_entropy", ref.binary_cross_entropy, "binary_cross_entropy(a, y)"
    parts: ClassVar[dict] = {"value": "−mean(y log a + (1 − y) log(1 − a)), a single number",
                             "saturated": "finite and right when a is exactly 0 or 1 on correctly classified samples"}
    TINY: ClassVar[tuple] = ([0.9, 0.2, 0.6], [1, 0, 0])

    def inputs(self, hidden):
        n, rng = dims(hidden)[0], rng_for(self.target, hidden)
        a, y = rng.uniform(0.05, 0.95, n), labels(rng, n, 2)
        a_sat = np.array([1.0, 0.0, 1.0, 0.3, 0.0, 0.8, 1.0] + ([0.0, 0.45, 1.0, 0.0] if hidden else []))
        y_sat = np.array([1, 0, 1, 0, 0, 1, 1] + ([0, 1, 1, 0] if hidden else []))
        return a, y, a_sat, y_sat

    def run_probe(self, bce, hidden):
        a, y, a_sat, y_sat = self.inputs(hidden)
        return {key: call(bce, *map(frozen, args)) for key, args in
                (("value", (a, y)), ("saturated", (a_sat, y_sat)), ("tiny", self.TINY))}

    def run_judge(self, results, hidden):
        a, y, a_sat, y_sat = self.inputs(hidden)
        where, loss = "binary_cross_entropy", ref.binary_cross_entropy(a, y)
        terms = -(y * np.log(a) + (1 - y) * np.log(1 - a))  # one loss per sample
        found = {"value": finding(
            where, "value", results["value"], loss, batch=len(a),
            probe_text=f"a of shape {a.shape} in (0.05, 0.95), y = {y.tolist()}",
            tiny=tiny_case(f"a = {self.TINY[0]}, y = {self.TINY[1]}", results["tiny"],
                           ref.binary_cross_entropy(*(np.array(v, dtype=float) for v in self.TINY))),
            alternatives=[
                ("shape", terms, "that is one loss per sample: return their mean, a single number."),
                ("mismatch", -np.mean(y * np.log(a)), "the (1 − y) log(1 − a) term is missing: samples of class 0 "
                                                      "cost nothing."),
                ("mismatch", -np.mean((1 - y) * np.log(a) + y * np.log(1 - a)),
                 "y and 1 − y are swapped: y log a + (1 − y) log(1 − a)."),
                ("scale", loss / np.log(10), "that is log10: use the natural log, np.log."),
                ("scale", loss / np.log(2), "that is log2: use the natural log, np.log.")],
            causes={"scale-batch": "the loss is the mean over samples (divide by N), not the sum.",
                    "sign": "the loss is −log-likelihood, a positive number: mind the leading minus.",
                    "scale": "use the natural log, np.log (not log2 or log10), and no extra factor.",
                    "unstable": "log(0) on ordinary inputs: are a and y swapped? The signature is "
                                "binary_cross_entropy(a, y)."})}
        return {**found, "saturated": gated(found["value"].passed, where, [results["saturated"]],
                                            lambda: self.saturated(results["saturated"], a_sat, y_sat))}

    @staticmethod
    def saturated(got, a_sat, y_sat):
        where, expected = "binary_cross_entropy", ref.binary_cross_entropy(a_sat, y_sat)
        text = f"a = {listed(a_sat)}, y = {y_sat.tolist()}"
        cause = ("a saturated sigmoid gives a = 1.0 exactly, and 0 · log(0) is nan: clip a into [1e-15, 1 − 1e-15] "
                 "(np.clip) before taking logs.")
        if isinstance(got, Raised):
            return raised(where, got, probe_text=text, causes={"unstable": cause})
        value = np.asarray(got, dtype=float)
        if value.size == 1 and np.isfinite(value).all() and abs(float(value.ravel()[0]) - expected) <= 1e-6:
            return OK
        code = "unstable" if value.size == 1 and not np.isfinite(value).all() else "mismatch"
        shown = f"{float(value.ravel()[0]):.4g}" if value.size == 1 else f"an array of shape {value.shape}"
        return failed(code, f"{where}: got {shown}, expected {expected:.3g} on {text} (confident and right: almost "
                            "no loss).", cause)


GRADIENT_BUGS = (  # typical bugs, by their answer in LogisticGradientsSuite.answers: code, cause in dw, cause in db
    ("z", "activation-derivative", "a = σ(z): the error is a − y with the sigmoid's output, not z − y.",
     "a = σ(z): db = mean(a − y), not mean(z − y)."),
    ("mse", "activation-derivative", "with cross-entropy σ'(z) cancels: dz = a − y. Multiplying by a (1 − a) is the "
     "squared-error gradient.", "with cross-entropy σ'(z) cancels: db = mean(a − y)."),
    ("axis", "axis", "average over the samples (axis 0), not over the features: X.T @ (a − y) / N.",
     "that is one value per sample: db = mean(a − y), one number."),
    ("unsummed", "shape", "that is one gradient per sample: sum them over the batch, X.T @ (a − y) / N.", None),
)


class LogisticGradientsSuite(Suite):
    target, reference, signature = "logistic_gradients", ref.logistic_gradients, "logistic_gradients(X, y, w, b)"
    parts: ClassVar[dict] = {"dw": "dw = Xᵀ (a − y) / N with a = σ(X w + b), shape (D,)",
                             "db": "db = mean(a − y), one number"}
    TINY: ClassVar[tuple] = ([[1.0, 2.0], [0.0, -1.0], [2.0, 1.0]], [1, 0, 0], [0.5, -0.5], 0.25)
    PAIR = "a 2-tuple (dw, db)"

    def inputs(self, hidden, square=False):
        n, d, _ = dims(hidden)
        n, rng = d if square else n, rng_for(self.target, hidden, "square" if square else "")
        return mixed(rng, (n, d)), labels(rng, n, 2), 0.5 * mixed(rng, (d,)), float(mixed(rng, ()))

    def run_probe(self, gradients, hidden):  # also judged in isolation from their sigmoid
        runs = {"main": self.inputs(hidden), "square": self.inputs(hidden, square=True), "tiny": self.TINY}
        return {run: {key: call(function, frozen(X), frozen(y), frozen(w), b) for key, (X, y, w, b) in runs.items()}
                for run, function in runs_of(gradients, ref, ["sigmoid"]).items()}

    @staticmethod
    def answers(X, y, w, b):
        """The right (dw, db) and those of typical bugs, as {name: (dw, db)}."""
        z, n = X @ w + b, len(y)
        a = ref.sigmoid(z)
        return {"right": (X.T @ (a - y) / n, np.mean(a - y)), "z": (X.T @ (z - y) / n, np.mean(z - y)),
                "mse": (X.T @ ((a - y) * a * (1 - a)) / n, np.mean((a - y) * a * (1 - a))),
                "axis": (np.mean(X * (a - y)[:, None], axis=1), a - y), "unsummed": (X * (a - y)[:, None] / n, None),
                "transpose": (X @ (a - y) / n if X.shape[0] == X.shape[1] else None, None)}

    def run_judge(self, results, hidden):  # right with the reference sigmoid: charged there
        return either(lambda run: self.judge_once(run, hidden), results)

    def judge_once(self, results, hidden):
        X, y, w, b = self.inputs(hidden)
        n, where, ans = len(X), "logistic_gradients", self.answers(X, y, w, b)
        text = f"X of shape {X.shape}, y = {y.tolist()}, w of shape {w.shape}, b = {b:.3g}"
        tiny_right = self.answers(*(np.array(v, dtype=float) for v in self.TINY))["right"]
        main, tiny = (unpack(results[key], [None, None], self.PAIR) for key in ("main", "tiny"))

        def judged(part, k, got, causes):  # dw (k = 0) or db (k = 1)
            return finding(where, part, got, ans["right"][k], batch=n, probe_text=text, causes=causes,
                           alternatives=[(code, ans[name][k], bug[k]) for name, code, *bug in GRADIENT_BUGS if bug[k]],
                           tiny=None if isinstance(tiny, Raised) else tiny_case(
                               "X = {}, y = {}, w = {}, b = {:g}".format(*self.TINY), tiny[k], tiny_right[k]))

        if raised_as(main, "exception"):  # X @ (a − y) fails unless X is square: there, is it the transpose?
            square, sq = unpack(results["square"], [None, None], self.PAIR), self.answers(*self.inputs(hidden, True))
            if not isinstance(square, Raised) and close(np.ravel(square[0]), sq["transpose"][0]) and not close(
                    np.ravel(square[0]), sq["right"][0]):
                main = Raised("transpose", main.message, main.trace)
        causes = {"scale-batch": "the loss is a mean, so dw = Xᵀ (a − y) / N: divide by N once.",
                  "sign": "the error is a − y (prediction minus label), not y − a.",
                  "transpose": "X @ (a − y) pairs features with samples: dw = X.T @ (a − y) / N has the shape of w, "
                               "(D,).",
                  "shape": "dw has the shape of w, (D,): X.T @ (a − y) / N sums over the samples.",
                  "exception": "X is (N, D) and a − y is (N,): dw = X.T @ (a − y) / N."}
        found = {"dw": judged("dw", 0, first_entry(main), causes)}
        if isinstance(main, Raised):  # a pair of the wrong shape, or a transpose: charged once, to dw
            return {**found, "db": gated(not raised_as(main, "shape", "transpose"), where, [main],
                                         lambda: raised(where, main, probe_text=text, causes=causes))}
        found["db"] = judged("db", 1, main[1].reshape(()) if main[1].size == 1 else main[1],
                             {"scale-batch": "db = mean(a − y): divide the sum by N.",
                              "sign": "the error is a − y (prediction minus label), not y − a."})
        if found["db"].diagnosis == found["dw"].diagnosis in ("sign", "activation-derivative"):
            found["db"] = OK  # the shared dz = a − y is wrong: charged once, to dw
        return found


def descend(X, y, lr, epochs, batch=None, *, sign=1.0, mean=True, bias=True, before=False, orders=None, over=None,
            drop_last=False, first_only=False, accumulate=False):
    """Gradient descent from zeros and its typical bugs (judge's side): ``([w…, b], losses)``, each loss after its
    epoch (``before``: before it); minibatches of ``batch`` samples (default all) in each epoch's order of ``orders``
    (default in order), each gradient divided by its size, by ``over`` instead, or (``mean=False``) by nothing."""
    n, w, b = len(y), np.zeros(X.shape[1]), 0.0
    losses = [ref.binary_cross_entropy(ref.sigmoid(X @ w + b), y)]
    for order in orders or [np.arange(n)] * epochs:
        slices = [order[i:i + (batch or n)] for i in range(0, n, batch or n)]
        slices = [s for s in slices if len(s) == batch] if drop_last else slices[:1] if first_only else slices
        total_w, total_b = np.zeros_like(w), 0.0
        for index in slices:
            dz = ref.sigmoid(X[index] @ w + b) - y[index]
            count = (over or len(index)) if mean else 1
            dw, db = X[index].T @ dz / count, dz.sum() / count
            if accumulate:
                total_w, total_b = total_w + dw, total_b + db
            else:
                w, b = w - sign * lr * dw, b - sign * lr * db * bias
        if accumulate:
            w, b = w - lr * total_w, b - lr * total_b
        losses.append(ref.binary_cross_entropy(ref.sigmoid(X @ w + b), y))
    return np.concatenate([w, [b]]), np.array(losses[:-1] if before else losses[1:])


class FitLogisticSuite(Suite):
    target, reference, signature = "fit_logistic", ref.fit_logistic, "fit_logistic(X, y, lr, epochs, batch_size, rng)"
    parts: ClassVar[dict] = {"weights": "batch gradient descent from w = 0, b = 0: (w, b) after `epochs` steps",
                             "losses": "one loss per epoch, on the whole training set, after that epoch's step",
                             "minibatch": "minibatch SGD: batch_size = N is batch descent; small batches fit a "
                                          "separable set",
                             "rng": "the same rng seed gives the same fit, another seed another fit"}

    def inputs(self, hidden):
        n, d, rng = dims(hidden)[0], dims(hidden)[1] - 2, rng_for(self.target, hidden)  # (7, 3) or (11, 4)
        return mixed(rng, (n, d)), labels(rng, n, 2), *((0.3, 12) if hidden else (0.5, 8))  # X, y, lr, epochs

    def separable(self, hidden):
        (n, d, batch), rng = (37, 3, 5) if hidden else (29, 2, 4), rng_for(self.target, hidden, "separable")
        w_true, X = mixed(rng, (d,), 1.0, 2.0), rng.standard_normal((n, d))
        s = X @ w_true + 0.3
        X += 0.5 * np.sign(s)[:, None] * w_true / np.linalg.norm(w_true)  # a margin on both sides
        return X, (s >= 0).astype(np.int64), batch, 0.5, 40

    def step_inputs(self, hidden):
        """N samples that are all the same: minibatch SGD then gives one answer whatever the order, so the
        steps themselves — their count, their size, their divisor — can be checked exactly."""
        n, row = 11 if hidden else 7, mixed(rng_for(self.target, hidden, "step"), (1, 3))
        return frozen(np.repeat(row, n, axis=0)), frozen(np.ones(n, dtype=np.int64))  # read-only, as probed

    def run_probe(self, fit, hidden):
        (X, y, lr, epochs), (Xs, ys, batch, lr_s, epochs_s) = self.inputs(hidden), self.separable(hidden)
        sgd, seeded = {"lr": lr_s, "epochs": epochs_s, "batch_size": batch}, np.random.default_rng
        return {run: {
            "batch": call(function, frozen(X), frozen(y), lr=lr, epochs=epochs),
            "full": call(function, frozen(X), frozen(y), lr=lr, epochs=3, batch_size=len(y), rng=seeded(1)),
            "sgd": call(function, frozen(Xs), frozen(ys), **sgd, rng=seeded(7)),
            "again": call(function, frozen(Xs), frozen(ys), **sgd, rng=seeded(7)),
            "other": call(function, frozen(Xs), frozen(ys), **sgd, rng=seeded(8)),
            "step": call(function, *self.step_inputs(hidden), lr=0.5, epochs=2, batch_size=3, rng=seeded(3)),
        } for run, function in runs_of(fit, ref, ("sigmoid", "binary_cross_entropy", "logistic_gradients")).items()}

    @staticmethod
    def outcome(result, d, epochs=None):
        """``([w…, b], losses)`` of one call, or a Raised."""
        parts = unpack(result, [(d,), (), None], "a 3-tuple (w, b, losses)")
        if isinstance(parts, Raised):
            return parts
        losses = parts[2].ravel() if parts[2].ndim != 1 and parts[2].size == (epochs or parts[2].size) else parts[2]
        return as_vector(parts[:2]), losses

    def run_judge(self, results, hidden):  # the same loop over the reference sigmoid, BCE and gradients
        found = either(lambda run: self.judge_run(run, hidden), results)
        if hidden or (found["weights"].passed and found["minibatch"].passed):
            return found
        fits = [results[run]["sgd"] for run in ("own", "isolated") if run in results]
        return {**found, **self.boundaries(found, fits)}

    def judge_run(self, probes, hidden):
        """Every part, on the probes of one run (the student's own, or over the reference helpers)."""
        (X, y, lr, epochs), where = self.inputs(hidden), "fit_logistic"
        text = f"X of shape {X.shape}, y = {y.tolist()}, lr = {lr}, epochs = {epochs} (batch_size=None)"
        got = self.outcome(probes["batch"], X.shape[1], epochs)
        found = {"weights": finding(
            where, "weights", first_entry(got), descend(X, y, lr, epochs)[0], probe_text=text + ", as [w…, b]",
            alternatives=[
                ("sign", descend(X, y, lr, epochs, sign=-1.0)[0],
                 "that is gradient *ascent*: step against the gradient, w = w − lr·dw."),
                ("scale-batch", descend(X, y, lr, epochs, mean=False)[0],
                 "the gradient of the *mean* loss divides by N: use the mean, not the sum, over samples."),
                ("mismatch", descend(X, y, lr, epochs, bias=False)[0], "b is never updated: also b = b − lr·db."),
                ("mismatch", descend(X, y, lr, epochs - 1)[0], "one step too few: one full-batch step per epoch."),
                ("mismatch", descend(X, y, lr, epochs + 1)[0], "one step too many: one full-batch step per epoch."),
                ("mismatch", descend(X, y, 1.0, epochs)[0], "lr is ignored: w = w − lr·dw.")],
            causes={"shape": "return (w, b, losses): w of shape (D,), b a number, losses a list.",
                    "mismatch": "start from w = 0, b = 0 and take `epochs` steps w −= lr·dw, b −= lr·db with the "
                                "gradients of the mean loss."})}
        passed, ran = found["weights"].passed, [probes[k] for k in ("batch", "full", "sgd")]
        expected_losses = descend(X, y, lr, epochs)[1]
        found["losses"] = gated(passed, where, ran, lambda: finding(
            where, "losses", got[1], expected_losses, batch=len(y), probe_text=text,
            alternatives=[
                ("mismatch", descend(X, y, lr, epochs, before=True)[1],
                 "each loss was recorded before its step: record it after the update, so losses[-1] is the loss "
                 "of the returned (w, b)."),
                ("shape", np.concatenate([[np.log(2.0)], expected_losses]),
                 "the loss of the starting point is included: one loss per epoch, len(losses) == epochs.")],
            causes={"shape": "one loss per epoch: len(losses) == epochs.",
                    "mismatch": "losses[k] is the mean BCE on the whole training set after epoch k's step."}))
        found["minibatch"] = gated(passed, where, ran, lambda: self.judge_minibatch(probes, hidden))
        return {**found, "rng": gated(passed and found["minibatch"].passed, where,
                                      [probes["again"], probes["other"]] if passed else ran,
                                      lambda: self.judge_rng(probes, hidden))}

    def boundaries(self, found, fits):
        """``weights`` and ``minibatch``, where they failed, with the student's line over the reference's on the
        visible separable set, the one 2-D probe (seed 7, as probed): the first of ``fits`` (their own run, then
        theirs over the reference helpers) that gave numbers."""
        Xs, ys, batch, lr, epochs = self.separable(False)
        got = None
        for fit in fits:
            try:  # a result the judge cannot read fails no part here: the picture is only left out
                got = self.outcome(fit, Xs.shape[1], epochs)
            except UNREADABLE:
                continue
            if not isinstance(got, Raised):
                break
        if got is None or isinstance(got, Raised):
            return {}
        w, b, _ = ref.fit_logistic(Xs, ys, lr=lr, epochs=epochs, batch_size=batch, rng=np.random.default_rng(7))
        return {part: with_boundary(found[part], Xs, ys, got[0], [*w, b], lr=lr, epochs=epochs, batch_size=batch,
                                    rng_seed=7) for part in ("weights", "minibatch")}

    def judge_minibatch(self, probes, hidden):
        (X, y, lr, _), where = self.inputs(hidden), "fit_logistic"
        verdict = finding(
            where, "minibatch", first_entry(self.outcome(probes["full"], X.shape[1], 3)), descend(X, y, lr, 3)[0],
            batch=len(y), probe_text=f"batch_size = N = {len(y)}, lr = {lr}, epochs = 3 (one minibatch of everything: "
                                     "must equal batch descent)",
            causes={"scale-batch": "average each minibatch's gradient over its own samples.",
                    "exception": "minibatch SGD: for each epoch, order = rng.permutation(N), then one step per slice "
                                 "order[i:i + batch_size]."})
        if not verdict.passed:
            return verdict
        Xr, yr = self.step_inputs(hidden)
        verdict = finding(
            where, "minibatch", first_entry(self.outcome(probes["step"], Xr.shape[1], 2)),
            descend(Xr, yr, 0.5, 2, 3)[0],
            probe_text=f"{len(yr)} identical samples, batch_size = 3, lr = 0.5, epochs = 2 (any order gives the same "
                       "steps)",
            alternatives=[
                ("scale-batch", descend(Xr, yr, 0.5, 2, 3, over=len(yr))[0], "each minibatch step divides by the "
                 "whole N: average a minibatch's gradient over its own len(idx) samples."),
                ("mismatch", descend(Xr, yr, 0.5, 2, 3, drop_last=True)[0], "the last, shorter minibatch is "
                 "dropped: slice order[i:i + batch_size] for i in range(0, N, batch_size), the rest included."),
                ("mismatch", descend(Xr, yr, 0.5, 2, 3, first_only=True)[0], "one step per epoch: take a step "
                 "for every minibatch, not only the first."),
                ("mismatch", descend(Xr, yr, 0.5, 2, 3, accumulate=True)[0], "the minibatch gradients are added "
                 "up into one step per epoch: step after each minibatch, with that minibatch's gradient.")],
            causes={"mismatch": "for each epoch, split a fresh order into minibatches of batch_size (the last may be "
                                "shorter) and take one step w −= lr·dw per minibatch, dw its mean gradient."})
        if not verdict.passed:
            return verdict
        Xs, ys, batch, lr_s, epochs_s = self.separable(hidden)
        text = f"a separable set X of shape {Xs.shape}, batch_size = {batch}, lr = {lr_s}, epochs = {epochs_s}"
        got = self.outcome(probes["sgd"], Xs.shape[1], epochs_s)
        if isinstance(got, Raised):
            return raised(where, got, probe_text=text)
        params, losses = got
        if losses.shape != (epochs_s,):
            return failed("shape", f"{where}: losses has shape {losses.shape}, expected ({epochs_s},) on {text}.",
                          "one loss per epoch, not per minibatch.")
        accuracy = float(np.mean((Xs @ params[:-1] + params[-1] >= 0) == ys))
        if not np.all(np.isfinite(params)) or accuracy < 0.9 or not losses[-1] < min(0.5 * np.log(2), losses[0]):
            return failed("mismatch", f"{where}: after training, accuracy {accuracy:.0%} and loss {losses[0]:.3g} → "
                                      f"{losses[-1]:.3g} on {text}; expected ≥ 90% and a falling loss.",
                          "each minibatch step must use the gradient of that minibatch, w −= lr·dw, b −= lr·db.")
        fixed = np.random.default_rng(7).permutation(len(ys))
        if close(params, descend(Xs, ys, lr_s, epochs_s, batch, orders=[fixed] * epochs_s)[0]):
            return failed("mismatch", f"{where}: on {text} every epoch visited the samples in the same shuffled order.",
                          "draw a new order every epoch: order = rng.permutation(N) inside the loop over epochs.")
        if close(params, descend(Xs, ys, lr_s, epochs_s)[0]):
            return failed("mismatch", f"{where}: with batch_size = {batch} the result equals batch gradient descent "
                          f"on {text}.", "batch_size is ignored — take one step per minibatch of batch_size samples.")
        return OK

    def judge_rng(self, probes, hidden):
        Xs, ys, batch, lr_s, epochs_s = self.separable(hidden)
        where, text = "fit_logistic", f"X of shape {Xs.shape}, batch_size = {batch}"
        first, again, other = (self.outcome(probes[k], Xs.shape[1], epochs_s) for k in ("sgd", "again", "other"))
        if raised_as(again) or raised_as(other):
            return raised(where, again if raised_as(again) else other, probe_text=text)
        if not np.allclose(first[0], again[0], rtol=1e-12, atol=0):
            return failed("state", f"{where}: two runs with rng = np.random.default_rng(7) gave different weights on "
                          f"{text}.", "shuffle with the rng argument (rng.permutation(N)), not with np.random — the "
                          "same seed must give the same fit.")
        if np.allclose(first[0], other[0], rtol=1e-12, atol=0):
            if close(first[0], descend(Xs, ys, lr_s, epochs_s, batch)[0]):
                return failed("mismatch", f"{where}: seeds 7 and 8 gave exactly the same weights on {text}, those of "
                                          "minibatches taken in order.",
                              "the samples are not shuffled — draw a fresh order each epoch with rng.permutation(N).")
            return failed("state", f"{where}: seeds 7 and 8 gave exactly the same weights on {text}.", "shuffle with "
                          "the rng you were given — not a generator made inside fit_logistic, or a seed of your own.")
        return OK


class LDAFitSuite(Suite):
    target, reference, signature = "lda_fit", ref.lda_fit, "lda_fit(X, y)"
    parts: ClassVar[dict] = {"w": "w = Σ⁻¹ (μ₁ − μ₀) with the pooled covariance Σ (divisor N − 2 or N)",
                             "b": "b = −½ (μ₁ + μ₀)·w + log(π₁ / π₀)"}

    def inputs(self, hidden):
        (d, n0, n1), rng = (4, 7, 12) if hidden else (3, 5, 8), rng_for(self.target, hidden)
        A = mixed(rng, (d, d), 0.3, 1.0) + 2 * np.eye(d)
        X0, X1 = (rng.standard_normal((m, d)) @ A + mixed(rng, (d,)) for m in (n0, n1))
        order = rng.permutation(n0 + n1)
        return np.concatenate([X0, X1])[order], np.array([0] * n0 + [1] * n1)[order]

    def plane(self):
        """A visible 2-D probe, only to draw the student's boundary over the reference's (it grades nothing)."""
        rng = rng_for(self.target, False, "plane")
        centres = np.array([[-1.0, 0.5]] * 6 + [[1.0, -0.5]] * 9)
        X = rng.standard_normal(centres.shape) + centres
        return X, np.array([0] * 6 + [1] * 9)

    def run_probe(self, lda_fit, hidden):
        # "plane" in both, so the two probes have the same keys; only the visible judge draws it
        return {"main": call(lda_fit, *map(frozen, self.inputs(hidden))),
                "plane": call(lda_fit, *map(frozen, self.plane()))}

    def run_judge(self, results, hidden):
        found = self.judge_parts(results, hidden)
        if hidden or all(verdict.passed for verdict in found.values()):
            return found
        X, y = self.plane()
        got, (w, b) = unpack(results.get("plane"), [(2,), ()], "a 2-tuple (w, b)"), ref.lda_fit(X, y)
        if isinstance(got, Raised):
            return found
        return {part: with_boundary(verdict, X, y, as_vector(got), [*w, b]) for part, verdict in found.items()}

    def judge_parts(self, results, hidden):
        X, y = self.inputs(hidden)
        (n, d), X0, X1 = X.shape, X[y == 0], X[y == 1]
        mu0, mu1 = X0.mean(axis=0), X1.mean(axis=0)
        scatter = (X0 - mu0).T @ (X0 - mu0) + (X1 - mu1).T @ (X1 - mu1)
        delta, prior = mu1 - mu0, np.log(len(X1) / len(X0))
        w_unbiased, w_ml = np.linalg.solve(scatter / (n - 2), delta), np.linalg.solve(scatter / n, delta)
        where, text = "lda_fit", f"X of shape {X.shape}, {len(X0)} samples of class 0 and {len(X1)} of class 1"
        got = unpack(results["main"], [(d,), ()], "a 2-tuple (w, b)")
        w_causes = {"shape": "return (w, b): w of shape (D,), b a number.",
                    "sign": "w = Σ⁻¹ (μ₁ − μ₀): class 1's mean minus class 0's.",
                    "mismatch": "pool the two classes' scatter around their own means: "
                                "Σ = (Σ₀-scatter + Σ₁-scatter) / (N − 2), then w = np.linalg.solve(Σ, μ₁ − μ₀)."}
        if isinstance(got, Raised):
            return {"w": raised(where, got, probe_text=text, causes=w_causes), "b": unless_stub(where, got)}
        (w, b), cov0, cov1 = got, np.cov(X0, rowvar=False), np.cov(X1, rowvar=False)
        found = {"w": finding(
            where, "w", w, w_unbiased, probe_text=text, causes=w_causes,
            alternatives=[
                ("ok", w_ml),  # the maximum-likelihood divisor N
                ("mismatch", np.linalg.solve((cov0 + cov1) / 2, delta),
                 "the two class covariances were averaged with equal weights: pool them by sample count, "
                 "Σ = ((n₀ − 1) Σ₀ + (n₁ − 1) Σ₁) / (N − 2)."),
                ("mismatch", np.linalg.solve(np.cov(X, rowvar=False), delta),
                 "that is the covariance of all X around the overall mean: centre each class on its own mean."),
                ("mismatch", np.linalg.solve(cov0, delta), "only class 0's covariance was used: pool both classes."),
                ("mismatch", np.linalg.solve(cov1, delta), "only class 1's covariance was used: pool both classes."),
                ("mismatch", delta, "Σ⁻¹ is missing: w = Σ⁻¹ (μ₁ − μ₀), e.g. np.linalg.solve(Σ, μ₁ − μ₀)."),
                ("mismatch", (scatter / (n - 2)) @ delta, "multiply by Σ⁻¹, not by Σ: np.linalg.solve(Σ, μ₁ − μ₀).")])}
        # b is judged against the right w and against the student's own w: a bug in w costs once
        candidates = [w_unbiased, w_ml] + ([w] if np.all(np.isfinite(w)) else [])
        if any(close(b, -0.5 * (mu1 + mu0) @ v + prior) for v in candidates):
            return {**found, "b": OK}
        quad = -0.5 * (mu1 + mu0) @ (w if not found["w"].passed else w_unbiased if close(w, w_unbiased) else w_ml)
        return {**found, "b": finding(
            where, "b", b, quad + prior, probe_text=text + " (judged with your w)",
            alternatives=[
                ("mismatch", quad, f"the log prior ratio is missing: b = −½ (μ₁ + μ₀)·w + log(π₁/π₀), and here "
                                   f"π₁/π₀ = {len(X1)}/{len(X0)}, so log(π₁/π₀) = {prior:.3g}."),
                ("mismatch", quad - prior, "the prior ratio is upside down: + log(π₁/π₀), class 1 over class 0."),
                ("sign", -quad + prior, "b = −½ (μ₁ + μ₀)·w + log(π₁/π₀): the first term has a minus sign."),
                ("scale", 2 * quad + prior, "the ½ is missing: b = −½ (μ₁ + μ₀)·w + log(π₁/π₀).")],
            causes={"mismatch": "b = −½ (μ₁ + μ₀)·w + log(π₁/π₀), with the priors π_c = n_c / N."})}


SUITES = [SigmoidSuite(), BinaryCrossEntropySuite(), LogisticGradientsSuite(), FitLogisticSuite(), LDAFitSuite()]
