"""Checks for ps3_backprop: the matrix-form MLP (sigmoid hidden layers, softmax output). A bug costs once:
a part that means something only once another passes passes while that one fails; backward agrees with finite
differences of the student's own forward or with the reference, train runs also over the reference helpers.

Why this module is a little over 400 lines: six targets, each a table of parts and the typical bugs they name."""

from dataclasses import replace
from itertools import pairwise
from typing import ClassVar

import numpy as np

from .. import mlp as ref
from ..datasets import load_digits
from ..logistic import sigmoid
from ..losses import softmax
from .engine import Suite, call, finding, frozen, low_precision, raised, unless_stub, with_collaborators
from .parts import as_pairs, differences, first_failed, frozen_pairs, raised_as, same_pairs, stability, unpack
from .probes import labels, mixed, rng_for
from .verdict import OK, Raised, failed

SIZES = {False: [5, 4, 3], True: [6, 5, 4, 3]}  # hidden: two hidden layers, so the δ recursion must really recurse
PROBS_CACHE = [..., ...], "a tuple of 2 (probs, cache)"  # what forward returns, as unpack takes it


def probe_params(target, hidden):
    """Weights and (non-zero, so a regularized bias shows) biases for the probe network, and a batch."""
    rng, sizes, n = rng_for(target, hidden), SIZES[hidden], 11 if hidden else 7
    params = [(0.8 * mixed(rng, (a, b)), 0.3 * mixed(rng, (b,))) for a, b in pairwise(sizes)]
    return params, mixed(rng, (n, sizes[0])), labels(rng, n, sizes[-1])


# ---- init_params ----------------------------------------------------------------------------------
class InitParamsSuite(Suite):
    target, reference, signature = "init_params", ref.init_params, "init_params(layer_sizes, rng)"
    parts: ClassVar[dict] = {"shapes": "one (W, b) per layer, W (n_in, n_out), b (n_out,)",
                             "values": "small random W (not all equal), zero b",
                             "rng": "drawn from rng: same seed, same params; another seed, other params"}
    SIZES: ClassVar[dict] = {False: [64, 30, 10], True: [64, 30, 20, 10]}

    def run_probe(self, init_params, hidden):
        return {key: as_pairs(call(init_params, list(self.SIZES[hidden]), np.random.default_rng(seed)))
                for key, seed in (("a", 1), ("b", 1), ("c", 2))}

    def run_judge(self, results, hidden):
        a, sizes, where = results["a"], self.SIZES[hidden], f"init_params({self.SIZES[hidden]}, rng)"
        if isinstance(a, Raised):  # what came is not a list: charged to shapes
            return {**dict.fromkeys(self.parts, raised(where, a)),
                    **(dict.fromkeys(("values", "rng"), OK) if a.code == "shape" else {})}
        found = dict.fromkeys(self.parts, OK)  # values judged only once the shapes are right, rng once values are
        expected, got = [((i, o), (o,)) for i, o in pairwise(sizes)], [(W.shape, b.shape) for W, b in a]
        if got != expected:
            code = "transpose" if [(w[::-1], b) for w, b in got] == expected else "shape"
            return {**found, "shapes": failed(code, f"{where} returned shapes {got}; expected {expected}.", "layer l "
                                              "has W of shape (n_{l-1}, n_l) so that a @ W works on row batches.")}
        weights, spread = np.concatenate([W.ravel() for W, _ in a]), np.std(a[0][0])
        if any(np.any(b != 0) for _, b in a):
            found["values"] = failed("mismatch", f"{where}: the biases are not zero.", "b = np.zeros(n_out).")
        elif np.unique(weights.round(12)).size < weights.size // 2:
            found["values"] = failed("mismatch", f"{where}: the weights are not random (all equal or zero).",
                                     "units that start equal get equal gradients and never differ — draw W from rng.")
        elif not 1e-3 < spread < 1.0:
            found["values"] = failed("scale", f"{where}: W of layer 0 has standard deviation {spread:.3g}; "
                                              "expected small weights (about 1/√n_in = 0.125).",
                                     "scale rng.standard_normal by 1/√n_in (or another small factor).")
        else:
            found["values"] = low_precision(where, "values", a[0][0])
        equal = [None if isinstance(r, Raised) else all(np.array_equal(W1, W2) for (W1, _), (W2, _) in zip(a, r))
                 for r in (results["b"], results["c"])]  # to the same seed's, another seed's; None: it raised
        if found["values"].passed and equal != [True, False]:
            problem = "two seeds gave the same weights" if equal[0] else "the same seed gave different weights"
            found["rng"] = failed("state", f"{where}: {problem}.", "draw the weights from the rng argument "
                                  "(rng.standard_normal), not np.random or a fixed seed.")
        return found


# ---- forward ---------------------------------------------------------------------------------------
def reference_forward(params, X, bug=None):
    """softmax(σ(σ(X W¹ + b¹) …) W^L + b^L) — and, with ``bug``, the answer a typical mistake gives."""
    a = X
    for W, b in params[:-1]:
        a = a @ W + b if bug == "no-sigmoid" else sigmoid(a @ W + b)
    z = a @ params[-1][0] + params[-1][1]
    return sigmoid(z) if bug == "sigmoid-output" else softmax(z, axis=0 if bug == "softmax-axis0" else -1)


FORWARD_BUGS = [("axis", "softmax-axis0"), ("activation-derivative", "no-sigmoid"), ("mismatch", "sigmoid-output")]
FORWARD_CAUSES = {"axis": "softmax normalises each row over the classes: sum over axis=1, keepdims=True.",
                  "activation-derivative": "every hidden layer applies σ to its pre-activation.",
                  "mismatch": "hidden layers use σ; the output layer uses softmax, not σ.",
                  "transpose": "with row batches a layer is a @ W + b, W of shape (n_in, n_out)."}


class ForwardSuite(Suite):
    target, reference, signature = "forward", ref.forward, "forward(params, X)"
    parts: ClassVar[dict] = {"probs": "softmax(σ(σ(X W¹ + b¹) …) W^L + b^L), shape (N, K)",
                             "stability": "finite probabilities for inputs of size 1e3",
                             "cache": "returns (probs, cache)"}

    @staticmethod
    def runs(params, X):
        """The probe, X ×1000, and the output layer ×1000: logits of order 1000, which overflow a softmax that
        exponentiates them as they are (scaling X alone saturates the sigmoids and keeps the logits small)."""
        loud = [*params[:-1], (1e3 * params[-1][0], 1e3 * params[-1][1])]
        return {"probs": (params, X), "big": (params, 1e3 * X), "loud": (loud, X)}

    def run_probe(self, forward, hidden):
        out = {}
        for key, (params, X) in self.runs(*probe_params(self.target, hidden)[:2]).items():
            result = unpack(call(forward, frozen_pairs(params), frozen(X)), *PROBS_CACHE)
            out[key] = result if isinstance(result, Raised) else result[0]
            out.setdefault("has_cache", result if isinstance(result, Raised) else result[1] is not None)
        return out

    def run_judge(self, results, hidden):
        params, X, _ = probe_params(self.target, hidden)
        expected = {key: reference_forward(*run) for key, run in self.runs(params, X).items()}
        probs = finding("forward", "probs", results["probs"], expected["probs"], causes=FORWARD_CAUSES,
                        alternatives=[(code, reference_forward(params, X, bug)) for code, bug in FORWARD_BUGS],
                        probe_text=f"X of shape {X.shape}, layers {SIZES[hidden]}")
        has = results["has_cache"]
        cache = raised("forward", has) if isinstance(has, Raised) else OK if has else failed(
            "shape", "forward returned None as its cache.", "keep the activations of every layer; backward needs them.")
        return {"probs": probs, "cache": cache, "stability": stability(
            [("forward", results[key], expected[key], probs.passed) for key in ("big", "loud")],
            "X scaled by 1000, then an output layer scaled by 1000 (logits of order 1000)",
            cause="subtract each row's max before exp in the softmax (and use log-sum-exp for its log); use a "
                  "stable σ.")}


# ---- cross_entropy --------------------------------------------------------------------------------
class CrossEntropySuite(Suite):
    target, reference, signature = "cross_entropy", ref.cross_entropy, "cross_entropy(probs, y)"
    parts: ClassVar[dict] = {"value": "−(1/N) Σ_n log p[n, y_n]", "mean": "a mean over the batch, for any N"}
    BATCHES: ClassVar[dict] = {"value": 7, "mean": 13}

    def inputs(self, hidden, n):
        rng = rng_for(self.target, hidden, str(n))
        return softmax(2 * mixed(rng, (n, 4))), labels(rng, n, 4)

    def run_probe(self, cross_entropy, hidden):
        return {str(n): call(cross_entropy, *map(frozen, self.inputs(hidden, n))) for n in self.BATCHES.values()}

    def run_judge(self, results, hidden):
        return {part: finding(
            "cross_entropy", part, results[str(n)], -np.mean(np.log(probs[np.arange(n), y])), batch=n,
            probe_text=f"probs of shape {probs.shape}",
            alternatives=[("axis", -np.mean(np.log(probs.max(axis=1)))), ("mismatch", -np.mean(np.log(probs)))],
            causes={"scale-batch": "the loss is the mean over the N samples, not the sum.",
                    "sign": "the loss is −log p, a positive number.",
                    "mismatch": "pick each sample's probability of its own label: probs[np.arange(N), y]."})
            for part, n in self.BATCHES.items() for probs, y in [self.inputs(hidden, n)]}


# ---- backward -------------------------------------------------------------------------------------
def reference_backward(params, X, y, lam, bug=None):
    """The δ recursion — and, with ``bug``, the answer a typical mistake gives."""
    activations = [X]
    for W, b in params[:-1]:
        activations.append(sigmoid(activations[-1] @ W + b))
    n, delta = len(y), softmax(activations[-1] @ params[-1][0] + params[-1][1])
    delta[np.arange(n), y] -= 1
    delta /= 1 if bug == "no-mean" else n
    reg = {"no-reg": 0.0, "double-reg": 2 * lam, "half-reg": lam / 2, "reg-over-n": lam / n}.get(bug, lam)
    grads = []
    for layer in range(len(params) - 1, -1, -1):
        (W, b), a_prev = params[layer], activations[layer]
        grads.append((a_prev.T @ delta + reg * W, {"bias-axis": delta.sum(axis=1), "bias-total": delta.sum()}.get(
            bug, delta.sum(axis=0) + (lam * b if bug == "reg-bias" else 0.0))))
        if layer > 0:
            z = activations[layer - 1] @ params[layer - 1][0] + params[layer - 1][1]
            upstream = {"no-upstream": np.ones_like(delta) @ W.T, "slope-only": 1.0}.get(bug, delta @ W.T)
            delta = upstream * {"no-derivative": 1.0, "derivative-at-z": z * (1 - z),
                                "sigmoid-of-a": sigmoid(a_prev) * (1 - sigmoid(a_prev))}.get(bug, a_prev * (1 - a_prev))
    return grads[::-1]


# the typical bugs by the diagnosis they get (by their names in reference_backward), tried in this order
BACKWARD_BUGS = {False: {"activation-derivative": ("no-derivative", "derivative-at-z", "sigmoid-of-a"),
                         "chain-rule": ("no-upstream", "slope-only"), "scale-batch": ("no-mean",),
                         "axis": ("bias-axis", "bias-total")},
                 True: {"regularization": ("no-reg", "double-reg", "reg-bias", "half-reg", "reg-over-n")}}  # with λ
BACKWARD_CAUSES = {
    "regularization": "the L2 term adds λ·W to each weight gradient — once, and never to the biases.",
    "activation-derivative": "δˡ⁻¹ = (δˡ Wˡᵀ) ⊙ aˡ⁻¹ ⊙ (1 − aˡ⁻¹): σ' at the layer's output a, from the cache.",
    "chain-rule": "δˡ⁻¹ must start from the upstream δˡ: (δˡ Wˡᵀ) ⊙ σ'.",
    "scale-batch": "δ^L = (probs − onehot(y)) / N: divide by N exactly once, at the output.",
    "axis": "∂J/∂bˡ = Σ_n δˡ_n: sum over the batch (axis=0), shape (n_out,).",
    "transpose": "∂J/∂Wˡ = (aˡ⁻¹)ᵀ δˡ, of the shape of Wˡ.",
    "mutation": "backward must not change the cache (or params): copy before modifying in place.",
}


def own_fd(forward, params, X, y):
    """Central differences of the mean cross-entropy of the student's own forward, as (dW, db) per layer — the
    loss computed here from the probabilities it returns — or the Raised of a shifted forward that failed."""
    shifted = [(W.copy(), b.copy()) for W, b in params]

    def loss():
        result = unpack(call(forward, shifted, X), *PROBS_CACHE)
        try:
            return result if isinstance(result, Raised) else \
                -np.log(np.clip(np.asarray(result[0], dtype=float)[np.arange(len(y)), y], 1e-300, None)).mean()
        except (IndexError, TypeError, ValueError):  # probs that are not (N, K) numbers: no differences either
            return Raised("shape", "forward returned probs of another shape")
    grads = differences(loss, [array for pair in shifted for array in pair])
    return grads if isinstance(grads, Raised) else list(zip(grads[::2], grads[1::2]))


class BackwardSuite(Suite):
    target, reference, signature = "backward", ref.backward, "backward(params, cache, y, lam=0.0)"
    parts: ClassVar[dict] = {
        "dW_output": "∂J/∂W of the output layer", "db_output": "∂J/∂b of the output layer",
        "dW_hidden": "∂J/∂W of the hidden layers (the δ recursion)", "db_hidden": "∂J/∂b of the hidden layers",
        "regularization": "λ W added to weight gradients only", "cache": "backward leaves the cache as it found it"}
    LAM = 0.3

    def run_probe(self, backward, hidden):
        params, X, y = probe_params(self.target, hidden)
        forward = getattr(backward, "__globals__", {}).get("forward")  # the student's own, beside their backward
        forward = ref.forward if forward is None else forward  # none in sight: judged with the reference's cache

        def fresh_cache():  # one for each call, so a mutated cache costs only "cache"
            return unpack(call(forward, frozen_pairs(params), frozen(X)), *PROBS_CACHE)
        result = fresh_cache()
        if isinstance(result, Raised):
            return {"forward": result}
        out = {"own_probs": np.array(result[0], dtype=float)}
        for lam in (0.0, self.LAM):
            out[f"grads_{lam}"] = as_pairs(call(backward, frozen_pairs(params), fresh_cache()[1], frozen(y), lam))
        cache = fresh_cache()[1]
        for key in ("grads_first", "grads_again"):
            out[key] = as_pairs(call(backward, frozen_pairs(params), cache, frozen(y), self.LAM))
        return {**out, "fd": own_fd(forward, params, X, y)}

    def run_judge(self, results, hidden):
        params, X, y = probe_params(self.target, hidden)
        text, last = f"X of shape {X.shape}, layers {SIZES[hidden]}", len(params) - 1
        if "forward" in results:
            bad = results["forward"]
            return dict.fromkeys(self.parts, replace(raised("forward (needed by backward)", bad), diagnosis=(
                "not-implemented" if bad.code == "not-implemented" else "exception")))
        # a right derivative of the student's own wrong forward costs nothing here: forward pays for that bug
        fd = None if np.allclose(results["own_probs"], reference_forward(params, X), rtol=1e-7) or \
            isinstance(results["fd"], Raised) else results["fd"]

        def judge(part, got, lam, cells):
            """The first wrong (layer, 0 for dW / 1 for db) of ``cells``; one that agrees with ``fd`` is right."""
            where = text + (f", lam={lam}" if lam else "")
            if isinstance(got, Raised):
                return raised("backward", got, causes=BACKWARD_CAUSES)
            if len(got) != len(params):
                return failed("shape", f"backward returned {len(got)} (dW, db) pairs for {len(params)} layers "
                                       f"({where}).", "one pair per layer, in the order of params.")
            right = reference_backward(params, X, y, lam)
            bugs = [(code, reference_backward(params, X, y, lam, bug))
                    for code, names in BACKWARD_BUGS[lam > 0].items() for bug in names]
            return first_failed(
                finding("backward", part, got[i][w], right[i][w], alternatives=[(c, g[i][w]) for c, g in bugs],
                        batch=len(y), probe_text=f"{where}, {'dW' if w == 0 else 'db'} of layer {i}",
                        causes=BACKWARD_CAUSES)
                for i, w in cells if fd is None or np.shape(got[i][w]) != np.shape(right[i][w]) or not np.allclose(
                    got[i][w], fd[i][w] + (lam * params[i][0] if w == 0 else 0.0), rtol=1e-5, atol=1e-7))
        plain, reg = results["grads_0.0"], results[f"grads_{self.LAM}"]
        cells = {"dW_output": [(last, 0)], "db_output": [(last, 1)], "dW_hidden": [(i, 0) for i in range(last)],
                 "db_hidden": [(i, 1) for i in range(last)]}
        found = {part: judge(part, plain, 0.0, layers) for part, layers in cells.items()}
        if raised_as(plain, "shape"):  # not a list: charged once, in the first part
            return {**found, **dict.fromkeys(list(self.parts)[1:], OK)}
        bad = next((v for v in (reg, plain) if isinstance(v, Raised)), None)
        if all(v.passed for v in found.values()):
            found["regularization"] = judge("regularization", reg, self.LAM, list(np.ndindex(len(params), 2)))
        else:  # λ judged on the difference it makes, so a bug without λ is not charged twice
            found["regularization"] = raised("backward", bad) if bad else self.difference(reg, plain, params, text)
        first_run, again = results["grads_first"], results["grads_again"]
        if raised_as(first_run) or raised_as(again):
            return {**found, "cache": unless_stub("backward", first_run)}
        same = all(np.allclose(a, b, rtol=1e-12) for pa, pb in zip(first_run, again) for a, b in zip(pa, pb))
        return {**found, "cache": OK if same else failed(
            "mutation", f"backward gave different gradients when called twice on the same cache ({text}).",
            BACKWARD_CAUSES["mutation"])}

    def difference(self, reg, plain, params, text):
        """dW(λ) − dW(0) must be λ W, and db(λ) − db(0) zero, layer by layer."""
        def verdicts():
            for layer, ((dW1, db1), (dW0, db0), (W, _)) in enumerate(zip(reg, plain, params)):
                yield finding("backward", "regularization", np.asarray(dW1) - np.asarray(dW0), self.LAM * W,
                              alternatives=[("regularization", 0 * W), ("regularization", 2 * self.LAM * W)],
                              probe_text=f"{text}: dW(λ={self.LAM}) − dW(λ=0) of layer {layer}",
                              causes=BACKWARD_CAUSES)
                db = finding("backward", "regularization", np.asarray(db1) - np.asarray(db0), np.zeros_like(db0),
                             probe_text=f"{text}: db(λ={self.LAM}) − db(λ=0) of layer {layer}",
                             causes={"mismatch": BACKWARD_CAUSES["regularization"], "shape": BACKWARD_CAUSES["axis"]})
                yield replace(db, diagnosis="regularization") if db.diagnosis == "mismatch" else db
        return first_failed(verdicts())


# ---- sgd_step -------------------------------------------------------------------------------------
class SgdStepSuite(Suite):
    target, reference, signature = "sgd_step", ref.sgd_step, "sgd_step(params, grads, lr)"
    parts: ClassVar[dict] = {"values": "W − lr dW and b − lr db for every layer",
                             "inputs": "params and grads are left untouched (new arrays returned)"}

    def inputs(self, hidden):
        params, rng = probe_params(self.target, hidden)[0], rng_for(self.target, hidden, "grads")
        return params, [(mixed(rng, W.shape), mixed(rng, b.shape)) for W, b in params], 0.37

    def run_probe(self, sgd_step, hidden):
        params, grads, lr = self.inputs(hidden)
        writable = [(W.copy(), b.copy()) for W, b in params]
        return {"frozen": as_pairs(call(sgd_step, frozen_pairs(params), frozen_pairs(grads), lr)),
                "writable": as_pairs(call(sgd_step, writable, [(W.copy(), b.copy()) for W, b in grads], lr)),
                "after": writable}

    def run_judge(self, results, hidden):
        params, grads, lr = self.inputs(hidden)
        got, on_frozen = results["writable"], results["frozen"]
        if isinstance(got, Raised):
            values = raised("sgd_step", got)
        elif len(got) != len(params):
            values = failed("shape", f"sgd_step returned {len(got)} layers, expected {len(params)}.", "")
        else:
            values = first_failed(
                finding("sgd_step", "values", value, p - lr * g, alternatives=[("sign", p + lr * g)],
                        probe_text=f"lr={lr}, layer {layer} {name}",
                        causes={"sign": "gradient descent steps against the gradient: W − lr·dW."})
                for layer, pairs in enumerate(zip(got, params, grads)) for name, value, p, g in zip("Wb", *pairs))
        unchanged = all(np.array_equal(W_after, W) and np.array_equal(b_after, b)
                        for (W_after, b_after), (W, b) in zip(results["after"], params))
        if raised_as(on_frozen, "mutation") or not unchanged:
            inputs = failed("mutation", "sgd_step changed the params it was given (W -= lr * dW works in place).",
                            "return new arrays, W - lr * dW, so the caller's params survive.")
        else:  # a call that raised costs here too, except a wrong container (charged to values)
            inputs = OK if not raised_as(on_frozen) or on_frozen.code == "shape" else raised("sgd_step", on_frozen)
        return {"values": values, "inputs": inputs}


# ---- train ----------------------------------------------------------------------------------------
class TrainSuite(Suite):
    target, reference = "train", ref.train
    signature = "train(X, y, layer_sizes, lr, epochs, batch_size, lam, rng)"
    parts: ClassVar[dict] = {"accuracy": "held-out accuracy on the digits ≥ 95 % (visible) / 96 % (hidden)",
                             "history": "a history with one loss per epoch, going down",
                             "deterministic": "the same rng seed gives the same params"}
    SETTINGS: ClassVar[dict] = {False: dict(layer_sizes=[64, 48, 10], lr=0.5, epochs=25, batch_size=32, lam=1e-4),
                                True: dict(layer_sizes=[64, 64, 10], lr=0.5, epochs=40, batch_size=16, lam=1e-4)}
    THRESHOLD: ClassVar[dict] = {False: 0.95, True: 0.96}
    COLLABORATORS = ("init_params", "forward", "cross_entropy", "backward", "sgd_step")

    def run_probe(self, train, hidden):
        settings = self.SETTINGS[hidden]
        out = {"run": self.one_run(train, settings, 0)}
        if not isinstance(out["run"], Raised):
            out["again"], out["other"] = self.one_run(train, settings, 0), self.one_run(train, settings, 1)
        isolated = with_collaborators(train, **{name: getattr(ref, name) for name in self.COLLABORATORS})
        if not self.judge_run(out["run"], hidden, "")["accuracy"].passed and isolated is not None:
            out["isolated"] = self.one_run(isolated, settings, 0)  # their loop over the reference helpers
        return out

    @staticmethod
    def one_run(train, settings, seed):
        """``(params, losses)`` of one training run, or a Raised."""
        X_train, y_train, _, _ = load_digits()
        result = unpack(call(train, frozen(X_train), frozen(y_train), rng=np.random.default_rng(seed), time_limit=60,
                             **settings), [..., ...], "a tuple of 2 (params, history)")
        if isinstance(result, Raised):
            return result
        history = result[1].get("loss") if isinstance(result[1], dict) else result[1]
        try:
            losses = np.asarray(history, dtype=float).ravel()
        except (TypeError, ValueError):
            losses = Raised("shape", "history has no list of losses")
        return as_pairs(result[0]), losses

    def run_judge(self, results, hidden):
        where = f"train(digits, **{self.SETTINGS[hidden]})"
        found, isolated = self.judge_run(results["run"], hidden, where), results.get("isolated")
        if not all(v.passed for v in found.values()) and isolated is not None and \
                all(v.passed for v in self.judge_run(isolated, hidden, where).values()):
            return dict.fromkeys(self.parts, OK)  # right with the reference helpers: their bug is charged there
        if isinstance(results["run"], Raised) or not (found["accuracy"].passed and found["history"].passed):
            return found  # (deterministic passes: a run that does not learn is charged there)
        run, again, other = (r if raised_as(r) else r[0] for r in map(results.get, ("run", "again", "other")))
        if not same_pairs(run, again):
            found["deterministic"] = failed("state", f"{where}: two runs with the same seed gave different params.",
                                            "take all randomness (init, shuffling) from the rng argument.")
        elif same_pairs(run, other):
            found["deterministic"] = failed(
                "state", f"{where}: runs with rng = default_rng(0) and default_rng(1) gave the same params.",
                "use the rng you were given for the initial weights and the shuffling — not np.random, a seed of "
                "your own, or a generator made inside train.")
        return found

    def judge_run(self, outcome, hidden, where):
        """accuracy and history of one run (deterministic passes here: it needs several runs)."""
        if isinstance(outcome, Raised):
            return dict.fromkeys(self.parts, raised(where, outcome))
        (run, losses), epochs, need = outcome, self.SETTINGS[hidden]["epochs"], self.THRESHOLD[hidden]
        _, _, X, y = load_digits()
        try:  # held-out accuracy, or None when the network cannot use the params
            accuracy = None if raised_as(run) else float(np.mean(reference_forward(run, X).argmax(axis=1) == y))
        except (TypeError, ValueError, IndexError):
            accuracy = None
        found = dict.fromkeys(self.parts, OK)
        if accuracy is None:
            found["accuracy"] = failed("shape", f"{where} returned params the network cannot use.", "")
        elif not accuracy >= need:
            found["accuracy"] = failed(
                "mismatch", f"{where}: held-out accuracy {accuracy:.1%}, expected at least {need:.0%}.",
                "check that every epoch visits all samples in minibatches, that the step uses the gradients of the "
                "current batch, and that params are updated (sgd_step's result kept).")
        if isinstance(losses, Raised) or losses is None:
            found["history"] = failed("shape", f"{where}: the history should be a dict with 'loss' (one value per "
                                               "epoch) or a list of per-epoch losses.", "")
        elif len(losses) != epochs:
            found["history"] = failed("shape", f"{where}: {len(losses)} losses for {epochs} epochs.",
                                      "record one loss per epoch.")
        elif not losses[-1] < losses[0]:
            found["history"] = failed("mismatch", f"{where}: the loss went from {losses[0]:.3g} to {losses[-1]:.3g}.",
                                      "the step direction or the learning rate.")
        return found


SUITES = [InitParamsSuite(), ForwardSuite(), CrossEntropySuite(), BackwardSuite(), SgdStepSuite(), TrainSuite()]
