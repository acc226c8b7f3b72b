"""Checks for ps3_backprop: the matrix-form MLP (sigmoid hidden layers, softmax output)."""

from dataclasses import replace
from itertools import pairwise
from typing import ClassVar

import numpy as np

from .. import mlp as ref
from ..datasets import load_digits
from ..logistic import sigmoid
from ..losses import softmax
from .engine import (
    OK,
    Raised,
    Suite,
    call,
    failed,
    finding,
    frozen,
    low_precision,
    raised,
    unless_stub,
    with_collaborators,
)
from .parts import stability, unpack
from .probes import labels, mixed, rng_for

VISIBLE_SIZES = [5, 4, 3]
HIDDEN_SIZES = [6, 5, 4, 3]  # two hidden layers: the δ recursion must really recurse


def _sizes(hidden):
    return HIDDEN_SIZES if hidden else VISIBLE_SIZES


def probe_params(target, hidden, salt=""):
    """Weights and (non-zero, so a regularized bias shows) biases for the probe network, and a batch."""
    rng = rng_for(target, hidden, salt)
    sizes = _sizes(hidden)
    params = [(0.8 * mixed(rng, (a, b)), 0.3 * mixed(rng, (b,))) for a, b in pairwise(sizes)]
    n = 11 if hidden else 7
    return params, mixed(rng, (n, sizes[0])), labels(rng, n, sizes[-1])


def frozen_params(params):
    return [(frozen(W), frozen(b)) for W, b in params]


def as_pairs(value):
    """A student's list of (W, b) as a list of pairs of arrays, or a Raised saying what came instead."""
    if isinstance(value, Raised):
        return value
    if not isinstance(value, (list, tuple)):  # a generator or zip would be spent after one pass
        return Raised("shape", f"returned a {type(value).__name__}, expected a list of (W, b) pairs (a one-shot "
                               "iterator is used up by the first loop over it)")
    try:
        pairs = [(np.asarray(W), np.asarray(b)) for W, b in value]
    except (TypeError, ValueError):
        return Raised("shape", f"returned {type(value).__name__}, expected a list of (W, b) pairs")
    if any(a.dtype.kind not in "biuf" for pair in pairs for a in pair):
        return Raised("shape", "returned (W, b) pairs that are not arrays of numbers")
    return [tuple(a if a.dtype.kind == "f" else a.astype(float) for a in pair) for pair in pairs]


def collaborator(candidate, name):
    """The student's own ``name`` (e.g. their ``forward``), found where their function was defined."""
    return getattr(candidate, "__globals__", {}).get(name)


def _split(value, count, what):
    return unpack(value, [...] * count, f"a tuple of {count} ({what})")


# ---- init_params ----------------------------------------------------------------------------------


class InitParamsSuite(Suite):
    target, reference, signature = "init_params", ref.init_params, "init_params(layer_sizes, rng)"
    parts: ClassVar[dict] = {
        "shapes": "one (W, b) per layer, W (n_in, n_out), b (n_out,)",
        "values": "small random W (not all equal), zero b",
        "rng": "drawn from rng: same seed, same params; another seed, other params",
    }

    def run_probe(self, init_params, hidden):
        sizes = [64, 30, 20, 10] if hidden else [64, 30, 10]
        return {
            "a": as_pairs(call(init_params, list(sizes), np.random.default_rng(1))),
            "b": as_pairs(call(init_params, list(sizes), np.random.default_rng(1))),
            "c": as_pairs(call(init_params, list(sizes), np.random.default_rng(2))),
        }

    def run_judge(self, results, hidden):
        sizes = [64, 30, 20, 10] if hidden else [64, 30, 10]
        a = results["a"]
        where = f"init_params({sizes}, rng)"
        if isinstance(a, Raised):
            return {**dict.fromkeys(self.parts, raised(where, a)),  # what came is not a list: charged to shapes
                    **(dict.fromkeys(("values", "rng"), OK) if a.code == "shape" else {})}
        found = {}
        expected = [((n_in, n_out), (n_out,)) for n_in, n_out in pairwise(sizes)]
        got = [(W.shape, b.shape) for W, b in a]
        if got == expected:
            found["shapes"] = OK
        else:
            code = "transpose" if [(w[::-1], b) for w, b in got] == expected else "shape"
            found["shapes"] = failed(code, f"{where} returned shapes {got}; expected {expected}.",
                                     "layer l has W of shape (n_{l-1}, n_l) so that a @ W works on row batches.")
        if not found["shapes"].passed:
            found["values"] = found["rng"] = OK  # judged only once the shapes are right
            return found
        weights = np.concatenate([W.ravel() for W, _ in a])
        if any(np.any(b != 0) for _, b in a):
            found["values"] = failed("mismatch", f"{where}: the biases are not zero.", "b = np.zeros(n_out).")
        elif np.unique(weights.round(12)).size < weights.size // 2:
            found["values"] = failed("mismatch", f"{where}: the weights are not random (all equal or zero).",
                                     "units that start equal get equal gradients and never differ — draw W from rng.")
        elif not 1e-3 < np.std(a[0][0]) < 1.0:
            found["values"] = failed("scale", f"{where}: W of layer 0 has standard deviation {np.std(a[0][0]):.3g}; "
                                              "expected small weights (about 1/√n_in = 0.125).",
                                     "scale rng.standard_normal by 1/√n_in (or another small factor).")
        else:
            found["values"] = low_precision(where, "values", a[0][0])
        if not found["values"].passed:
            found["rng"] = OK  # random-looking weights are judged once, under "values"
            return found
        b, c = results["b"], results["c"]
        same = not isinstance(b, Raised) and all(np.array_equal(W1, W2) for (W1, _), (W2, _) in zip(a, b))
        differ = not isinstance(c, Raised) and not all(np.array_equal(W1, W2) for (W1, _), (W2, _) in zip(a, c))
        problem = "the same seed gave different weights" if not same else "two seeds gave the same weights"
        found["rng"] = OK if same and differ else failed(
            "state", f"{where}: {problem}.", "draw the weights from the rng argument (rng.standard_normal), not "
                                             "np.random or a fixed seed.")
        return found


# ---- forward ---------------------------------------------------------------------------------------


def reference_forward(params, X):
    a = X
    for W, b in params[:-1]:
        a = sigmoid(a @ W + b)
    W, b = params[-1]
    return softmax(a @ W + b)


class ForwardSuite(Suite):
    target, reference, signature = "forward", ref.forward, "forward(params, X)"
    parts: ClassVar[dict] = {
        "probs": "softmax(σ(σ(X W¹ + b¹) …) W^L + b^L), shape (N, K)",
        "stability": "finite probabilities for inputs of size 1e3",
        "cache": "returns (probs, cache)",
    }

    def run_probe(self, forward, hidden):
        params, X, _ = probe_params(self.target, hidden)
        result = _split(call(forward, frozen_params(params), frozen(X)), 2, "probs, cache")
        out = {"probs": result if isinstance(result, Raised) else result[0]}
        big = _split(call(forward, frozen_params(params), frozen(1e3 * X)), 2, "probs, cache")
        out["big"] = big if isinstance(big, Raised) else big[0]
        loud = _split(call(forward, frozen_params(self.loud(params)), frozen(X)), 2, "probs, cache")
        out["loud"] = loud if isinstance(loud, Raised) else loud[0]
        out["has_cache"] = result if isinstance(result, Raised) else result[1] is not None
        return out

    def run_judge(self, results, hidden):
        params, X, _ = probe_params(self.target, hidden)
        text = f"X of shape {X.shape}, layers {_sizes(hidden)}"
        found = {"probs": finding(
            "forward", "probs", results["probs"], reference_forward(params, X), probe_text=text,
            alternatives=[("axis", self.softmax_axis0(params, X)),
                          ("activation-derivative", self.no_sigmoid(params, X)),
                          ("mismatch", self.sigmoid_output(params, X))],
            causes={"axis": "softmax normalises each row over the classes: sum over axis=1, keepdims=True.",
                    "activation-derivative": "every hidden layer applies σ to its pre-activation.",
                    "mismatch": "hidden layers use σ; the output layer uses softmax, not σ.",
                    "transpose": "with row batches a layer is a @ W + b, W of shape (n_in, n_out)."})}
        found["stability"] = stability(
            [("forward", results["big"], reference_forward(params, 1e3 * X), found["probs"].passed),
             ("forward", results.get("loud"), reference_forward(self.loud(params), X), found["probs"].passed)],
            "X scaled by 1000, then an output layer scaled by 1000 (logits of order 1000)",
            cause="subtract each row's max before exp in the softmax (and use log-sum-exp for its log); use a "
                  "stable σ.")
        has = results["has_cache"]
        found["cache"] = raised("forward", has) if isinstance(has, Raised) else OK if has else failed(
            "shape", "forward returned None as its cache.", "keep the activations of every layer; backward needs them.")
        return found

    @staticmethod
    def loud(params):
        """The probe network with its output layer ×1000: logits of order 1000, which overflow a softmax that
        exponentiates them as they are (scaling X alone saturates the sigmoids and keeps the logits small)."""
        return [*params[:-1], (1e3 * params[-1][0], 1e3 * params[-1][1])]

    @staticmethod
    def softmax_axis0(params, X):
        a = X
        for W, b in params[:-1]:
            a = sigmoid(a @ W + b)
        z = a @ params[-1][0] + params[-1][1]
        e = np.exp(z - z.max(axis=0))
        return e / e.sum(axis=0)

    @staticmethod
    def no_sigmoid(params, X):
        a = X
        for W, b in params[:-1]:
            a = a @ W + b
        return softmax(a @ params[-1][0] + params[-1][1])

    @staticmethod
    def sigmoid_output(params, X):
        a = X
        for W, b in params:
            a = sigmoid(a @ W + b)
        return a


# ---- cross_entropy --------------------------------------------------------------------------------


class CrossEntropySuite(Suite):
    target, reference, signature = "cross_entropy", ref.cross_entropy, "cross_entropy(probs, y)"
    parts: ClassVar[dict] = {"value": "−(1/N) Σ_n log p[n, y_n]", "mean": "a mean over the batch, for any N"}

    def inputs(self, hidden, n):
        rng = rng_for(self.target, hidden, str(n))
        return softmax(2 * mixed(rng, (n, 4))), labels(rng, n, 4)

    def run_probe(self, cross_entropy, hidden):
        return {str(n): call(cross_entropy, *map(frozen, self.inputs(hidden, n))) for n in (7, 13)}

    def run_judge(self, results, hidden):
        found = {}
        for part, n in (("value", 7), ("mean", 13)):
            probs, y = self.inputs(hidden, n)
            picked = probs[np.arange(n), y]
            found[part] = finding(
                "cross_entropy", part, results[str(n)], -np.mean(np.log(picked)), batch=n,
                probe_text=f"probs of shape {probs.shape}",
                alternatives=[("axis", -np.mean(np.log(probs[np.arange(n), :].max(axis=1)))),
                              ("mismatch", -np.mean(np.log(probs)))],
                causes={"scale-batch": "the loss is the mean over the N samples, not the sum.",
                        "sign": "the loss is −log p, a positive number.",
                        "mismatch": "pick each sample's probability of its own label: probs[np.arange(N), y]."})
        return found


# ---- backward -------------------------------------------------------------------------------------


def reference_backward(params, X, y, lam, bug=None):
    """The δ recursion — and, with ``bug``, the answer a typical mistake gives."""
    activations = [X]
    for W, b in params[:-1]:
        activations.append(sigmoid(activations[-1] @ W + b))
    probs = softmax(activations[-1] @ params[-1][0] + params[-1][1])
    n = len(y)
    delta = probs.copy()
    delta[np.arange(n), y] -= 1
    delta /= 1 if bug == "no-mean" else n
    grads = []
    for layer in range(len(params) - 1, -1, -1):
        W, b = params[layer]
        a_prev = activations[layer]
        reg = {"no-reg": 0.0, "double-reg": 2 * lam, "half-reg": lam / 2, "reg-over-n": lam / n}.get(bug, lam)
        db = delta.sum(axis=0) + (lam * b if bug == "reg-bias" else 0.0)
        if bug == "bias-axis":
            db = delta.sum(axis=1)
        elif bug == "bias-total":
            db = delta.sum()
        grads.append((a_prev.T @ delta + reg * W, db))
        if layer > 0:
            upstream = {"no-upstream": np.ones_like(delta) @ W.T, "slope-only": 1.0}.get(bug, delta @ W.T)
            slope = {"no-derivative": 1.0,
                     "derivative-at-z": None,
                     "sigmoid-of-a": sigmoid(a_prev) * (1 - sigmoid(a_prev))}.get(bug, a_prev * (1 - a_prev))
            if bug == "derivative-at-z":
                z = activations[layer - 1] @ params[layer - 1][0] + params[layer - 1][1]
                slope = z * (1 - z)
            delta = upstream * slope
    return grads[::-1]


BACKWARD_BUGS = [
    ("regularization", "no-reg"), ("regularization", "double-reg"), ("regularization", "reg-bias"),
    ("regularization", "half-reg"), ("regularization", "reg-over-n"),
    ("activation-derivative", "no-derivative"), ("activation-derivative", "derivative-at-z"),
    ("activation-derivative", "sigmoid-of-a"), ("chain-rule", "no-upstream"), ("chain-rule", "slope-only"),
    ("scale-batch", "no-mean"), ("axis", "bias-axis"), ("axis", "bias-total"),
]

BACKWARD_CAUSES = {
    "regularization": "the L2 term adds λ·W to each weight gradient — once, and never to the biases.",
    "activation-derivative": "δˡ⁻¹ = (δˡ Wˡᵀ) ⊙ aˡ⁻¹ ⊙ (1 − aˡ⁻¹): σ' at the layer's output a, from the cache.",
    "chain-rule": "δˡ⁻¹ must start from the upstream δˡ: (δˡ Wˡᵀ) ⊙ σ'.",
    "scale-batch": "δ^L = (probs − onehot(y)) / N: divide by N exactly once, at the output.",
    "axis": "∂J/∂bˡ = Σ_n δˡ_n: sum over the batch (axis=0), shape (n_out,).",
    "transpose": "∂J/∂Wˡ = (aˡ⁻¹)ᵀ δˡ, of the shape of Wˡ.",
    "mutation": "backward must not change the cache (or params): copy before modifying in place.",
}


class BackwardSuite(Suite):
    target, reference, signature = "backward", ref.backward, "backward(params, cache, y, lam=0.0)"
    parts: ClassVar[dict] = {
        "dW_output": "∂J/∂W of the output layer",
        "db_output": "∂J/∂b of the output layer",
        "dW_hidden": "∂J/∂W of the hidden layers (the δ recursion)",
        "db_hidden": "∂J/∂b of the hidden layers",
        "regularization": "λ W added to weight gradients only",
        "cache": "backward leaves the cache as it found it",
    }
    LAM = 0.3

    def run_probe(self, backward, hidden):
        params, X, y = probe_params(self.target, hidden)
        forward = collaborator(backward, "forward")
        if forward is None:
            forward = ref.forward  # no student forward in sight: judge with the reference's cache
        out = {}

        def fresh_cache():
            return _split(call(forward, frozen_params(params), frozen(X)), 2, "probs, cache")

        result = fresh_cache()
        if isinstance(result, Raised):
            return {"forward": result}
        out["own_probs"] = np.array(result[0], dtype=float)
        for lam in (0.0, self.LAM):  # each call gets its own cache, so a mutated cache costs only "cache"
            out[f"grads_{lam}"] = as_pairs(call(backward, frozen_params(params), fresh_cache()[1], frozen(y), lam))
        cache = fresh_cache()[1]
        out["grads_first"] = as_pairs(call(backward, frozen_params(params), cache, frozen(y), self.LAM))
        out["grads_again"] = as_pairs(call(backward, frozen_params(params), cache, frozen(y), self.LAM))
        # finite differences of the student's own forward: probabilities at θ ± h e_i, the loss computed judge-side
        out["fd_probs"] = self.fd_probs(forward, params, X)
        return out

    H = 1e-5

    def fd_probs(self, forward, params, X):
        rows = []
        for layer, (W, b) in enumerate(params):
            for which, array in ((0, W), (1, b)):
                for index in np.ndindex(array.shape):
                    for sign in (1, -1):
                        shifted = [(W2.copy(), b2.copy()) for W2, b2 in params]
                        shifted[layer][which][index] += sign * self.H
                        result = _split(call(forward, shifted, X), 2, "probs, cache")
                        if isinstance(result, Raised):
                            return result
                        rows.append(np.asarray(result[0], dtype=float))
        return np.stack(rows)

    def fd_grads(self, fd_probs, params, y, lam):
        """Central differences of J = CE(student probs) + (λ/2) Σ‖W‖², computed here from returned probabilities."""
        n = len(y)
        losses = -np.log(np.clip(fd_probs[:, np.arange(n), y], 1e-300, None)).mean(axis=1)
        grads, k = [], 0
        for W, b in params:
            pair = []
            for which, array in ((0, W), (1, b)):
                size = array.size
                diff = (losses[k:k + 2 * size:2] - losses[k + 1:k + 2 * size:2]) / (2 * self.H)
                k += 2 * size
                pair.append(diff.reshape(array.shape) + (lam * array if which == 0 else 0.0))
            grads.append(tuple(pair))
        return grads

    def run_judge(self, results, hidden):
        params, X, y = probe_params(self.target, hidden)
        text = f"X of shape {X.shape}, layers {_sizes(hidden)}"
        if "forward" in results:
            bad = results["forward"]
            verdict = raised("forward (needed by backward)", bad)
            return dict.fromkeys(self.parts, replace(verdict, diagnosis="not-implemented" if bad.code ==
                                                     "not-implemented" else "exception"))
        own_forward_right = np.allclose(results["own_probs"], reference_forward(params, X), rtol=1e-7) \
            if not isinstance(results["own_probs"], Raised) else False
        fd = None if own_forward_right or isinstance(results["fd_probs"], Raised) else results["fd_probs"]
        found = {}
        plain_grads = results["grads_0.0"]
        expected = reference_backward(params, X, y, 0.0)
        bugs = {code_bug: reference_backward(params, X, y, 0.0, code_bug[1]) for code_bug in BACKWARD_BUGS
                if code_bug[0] != "regularization"}
        fd_plain = self.fd_grads(fd, params, y, 0.0) if fd is not None else None
        last = len(params) - 1
        for part, layers, which in (("dW_output", [last], 0), ("db_output", [last], 1),
                                    ("dW_hidden", range(last), 0), ("db_hidden", range(last), 1)):
            found[part] = self.judge_layers(part, plain_grads, expected, bugs, fd_plain, layers, which, text, len(y))
        if isinstance(plain_grads, Raised) and plain_grads.code == "shape":  # not a list: charged once, first part
            found.update(dict.fromkeys(("db_output", "dW_hidden", "db_hidden", "regularization"), OK))
            found["cache"] = OK
            return found
        reg = results[f"grads_{self.LAM}"]
        expected_reg = reference_backward(params, X, y, self.LAM)
        reg_bugs = {code_bug: reference_backward(params, X, y, self.LAM, code_bug[1]) for code_bug in BACKWARD_BUGS
                    if code_bug[0] == "regularization"}
        fd_reg = self.fd_grads(fd, params, y, self.LAM) if fd is not None else None
        found["regularization"] = OK
        if not all(found[p].passed for p in ("dW_output", "db_output", "dW_hidden", "db_hidden")):
            # judge λ on the difference it makes, so an unregularized bug is not charged twice
            if isinstance(reg, Raised) or isinstance(plain_grads, Raised):
                bad = reg if isinstance(reg, Raised) else plain_grads
                found["regularization"] = raised("backward", bad)
            else:
                found["regularization"] = self.judge_difference(reg, plain_grads, params, text)
        else:
            found["regularization"] = self.judge_layers("regularization", reg, expected_reg, reg_bugs, fd_reg,
                                                        range(len(params)), None, text + f", lam={self.LAM}", len(y))
        first, again = results["grads_first"], results["grads_again"]
        if isinstance(first, Raised) or isinstance(again, Raised):
            found["cache"] = unless_stub("backward", first)
        elif all(np.allclose(a, b, rtol=1e-12) for pa, pb in zip(first, again) for a, b in zip(pa, pb)):
            found["cache"] = OK
        else:
            found["cache"] = failed("mutation", f"backward gave different gradients when called twice on the same "
                                                f"cache ({text}).", BACKWARD_CAUSES["mutation"])
        return found

    @staticmethod
    def judge_layers(part, got, expected, bugs, fd, layers, which, text, n):
        if isinstance(got, Raised):
            return raised("backward", got, causes=BACKWARD_CAUSES)
        if len(got) != len(expected):
            return failed("shape", f"backward returned {len(got)} (dW, db) pairs for {len(expected)} layers ({text}).",
                          "one pair per layer, in the order of params.")
        for layer in layers:
            for w in ((0, 1) if which is None else (which,)):
                name = f"{'dW' if w == 0 else 'db'} of layer {layer}"
                target = expected[layer][w]
                value = got[layer][w]
                if fd is not None and np.shape(value) == np.shape(target) and \
                        np.allclose(value, fd[layer][w], rtol=1e-5, atol=1e-7):
                    continue  # consistent with the student's own (wrong) forward: that bug was charged there
                alternatives = [(code, bug_grads[layer][w]) for (code, _), bug_grads in bugs.items()]
                verdict = finding("backward", part, value, target, alternatives=alternatives, batch=n,
                                  probe_text=f"{text}, {name}", causes=BACKWARD_CAUSES)
                if not verdict.passed:
                    return verdict
        return OK

    def judge_difference(self, reg, plain_grads, params, text):
        for layer, ((dW1, db1), (dW0, db0), (W, _)) in enumerate(zip(reg, plain_grads, params)):
            verdict = finding("backward", "regularization", np.asarray(dW1) - np.asarray(dW0), self.LAM * W,
                              alternatives=[("regularization", 0 * W), ("regularization", 2 * self.LAM * W)],
                              probe_text=f"{text}: dW(λ={self.LAM}) − dW(λ=0) of layer {layer}",
                              causes=BACKWARD_CAUSES)
            if verdict.passed:
                verdict = finding("backward", "regularization", np.asarray(db1) - np.asarray(db0),
                                  np.zeros_like(db0), alternatives=[],
                                  probe_text=f"{text}: db(λ={self.LAM}) − db(λ=0) of layer {layer}",
                                  causes={"mismatch": BACKWARD_CAUSES["regularization"],
                                          "shape": BACKWARD_CAUSES["axis"]})
                if verdict.diagnosis == "mismatch":
                    verdict = replace(verdict, diagnosis="regularization")
            if not verdict.passed:
                return verdict
        return OK


# ---- sgd_step -------------------------------------------------------------------------------------


class SgdStepSuite(Suite):
    target, reference, signature = "sgd_step", ref.sgd_step, "sgd_step(params, grads, lr)"
    parts: ClassVar[dict] = {"values": "W − lr dW and b − lr db for every layer",
                             "inputs": "params and grads are left untouched (new arrays returned)"}

    def inputs(self, hidden):
        params, _, _ = probe_params(self.target, hidden)
        rng = rng_for(self.target, hidden, "grads")
        grads = [(mixed(rng, W.shape), mixed(rng, b.shape)) for W, b in params]
        return params, grads, 0.37

    def run_probe(self, sgd_step, hidden):
        params, grads, lr = self.inputs(hidden)
        out = {"frozen": as_pairs(call(sgd_step, frozen_params(params), frozen_params(grads), lr))}
        writable = [(W.copy(), b.copy()) for W, b in params]
        out["writable"] = as_pairs(call(sgd_step, writable, [(W.copy(), b.copy()) for W, b in grads], lr))
        out["after"] = writable
        return out

    def run_judge(self, results, hidden):
        params, grads, lr = self.inputs(hidden)
        expected = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads)]
        plus = [(W + lr * dW, b + lr * db) for (W, b), (dW, db) in zip(params, grads)]
        got = results["writable"]
        found = {"values": OK}
        if isinstance(got, Raised):
            found["values"] = raised("sgd_step", got)
        elif len(got) != len(expected):
            found["values"] = failed("shape", f"sgd_step returned {len(got)} layers, expected {len(expected)}.", "")
        else:
            for layer, ((W, b), (eW, eb), (pW, pb)) in enumerate(zip(got, expected, plus)):
                for value, target, wrong, name in ((W, eW, pW, "W"), (b, eb, pb, "b")):
                    found["values"] = finding("sgd_step", "values", value, target, alternatives=[("sign", wrong)],
                                              probe_text=f"lr={lr}, layer {layer} {name}",
                                              causes={"sign": "gradient descent steps against the gradient: "
                                                              "W − lr·dW."})
                    if not found["values"].passed:
                        break
                if not found["values"].passed:
                    break
        frozen_result = results["frozen"]
        unchanged = all(np.array_equal(W_after, W) and np.array_equal(b_after, b)
                        for (W_after, b_after), (W, b) in zip(results["after"], params))
        if (isinstance(frozen_result, Raised) and frozen_result.code == "mutation") or not unchanged:
            found["inputs"] = failed("mutation", "sgd_step changed the params it was given (W -= lr * dW works in "
                                                 "place).",
                                     "return new arrays, W - lr * dW, so the caller's params survive.")
        elif isinstance(frozen_result, Raised) and frozen_result.code != "shape":  # (a wrong container: values)
            found["inputs"] = raised("sgd_step", frozen_result)
        else:
            found["inputs"] = OK
        return found


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

    def run_probe(self, train, hidden):
        settings = self.SETTINGS[hidden]
        out = {"run": self.one_run(train, settings, 0)}
        if not isinstance(out["run"], Raised):
            out["again"] = self.one_run(train, settings, 0)
            out["other"] = self.one_run(train, settings, 1)
        accuracy = None if isinstance(out["run"], Raised) else self.accuracy(out["run"][0])
        if accuracy is None or accuracy < self.THRESHOLD[hidden]:
            # judged in isolation: the student's own loop over the reference init, forward, backward, sgd_step
            isolated = with_collaborators(train, **{name: getattr(ref, name) for name in self.COLLABORATORS})
            if isolated is not None:
                out["isolated"] = self.one_run(isolated, settings, 0)
        return out

    COLLABORATORS = ("init_params", "forward", "cross_entropy", "backward", "sgd_step")

    @staticmethod
    def one_run(train, settings, seed):
        """``(params, losses)`` of one training run, or a Raised."""
        X_train, y_train, _, _ = load_digits()
        result = _split(call(train, frozen(X_train), frozen(y_train), rng=np.random.default_rng(seed),
                             time_limit=60, **settings), 2, "params, history")
        if isinstance(result, Raised):
            return result
        history = result[1]
        losses = history.get("loss") if isinstance(history, dict) else history
        try:
            losses = np.asarray(losses, dtype=float).ravel()
        except (TypeError, ValueError):
            losses = Raised("shape", "history has no list of losses")
        return as_pairs(result[0]), losses

    @staticmethod
    def accuracy(params):
        """Held-out accuracy of ``params`` on the digits, or None when the network cannot use them."""
        _, _, X_test, y_test = load_digits()
        try:
            return float(np.mean(reference_forward(params, X_test).argmax(axis=1) == y_test))
        except (TypeError, ValueError, IndexError):
            return None

    def run_judge(self, results, hidden):
        where = f"train(digits, **{self.SETTINGS[hidden]})"
        found = self.judge_run(results["run"], hidden, where)
        isolated = results.get("isolated")
        if not all(v.passed for v in found.values()) and isolated is not None and \
                all(v.passed for v in self.judge_run(isolated, hidden, where).values()):
            return dict.fromkeys(self.parts, OK)  # right with the reference helpers: their bug is charged there
        if isinstance(results["run"], Raised):
            return found
        run, again, other = (results[key][0] if not isinstance(results[key], Raised) else results[key]
                             for key in ("run", "again", "other"))
        if not all(found[p].passed for p in ("accuracy", "history")):
            found["deterministic"] = OK  # a run that does not learn is charged there
        elif not _same_params(run, again):
            found["deterministic"] = failed(
                "state", f"{where}: two runs with the same seed gave different params.",
                "take all randomness (init, shuffling) from the rng argument.")
        elif _same_params(run, other):
            found["deterministic"] = failed(
                "state", f"{where}: runs with rng = default_rng(0) and default_rng(1) gave the same params.",
                "use the rng you were given for the initial weights and the shuffling — not np.random, a seed of "
                "your own, or a generator made inside train.")
        return found

    def judge_run(self, outcome, hidden, where):
        """accuracy and history of one run (deterministic passes here: it needs several runs)."""
        settings = self.SETTINGS[hidden]
        if isinstance(outcome, Raised):
            return dict.fromkeys(self.parts, raised(where, outcome))
        run, losses = outcome
        found = {"deterministic": OK}
        accuracy = None if isinstance(run, Raised) else self.accuracy(run)
        if accuracy is None:
            found["accuracy"] = failed("shape", f"{where} returned params the network cannot use.", "")
        else:
            need = self.THRESHOLD[hidden]
            found["accuracy"] = OK if accuracy >= need else failed(
                "mismatch", f"{where}: held-out accuracy {accuracy:.1%}, expected at least {need:.0%}.",
                "check that every epoch visits all samples in minibatches, that the step uses the gradients of the "
                "current batch, and that params are updated (sgd_step's result kept).")
        if isinstance(losses, Raised) or losses is None:
            found["history"] = failed("shape", f"{where}: the history should be a dict with 'loss' (one value per "
                                               "epoch) or a list of per-epoch losses.", "")
        elif len(losses) != settings["epochs"]:
            found["history"] = failed("shape", f"{where}: {len(losses)} losses for {settings['epochs']} epochs.",
                                      "record one loss per epoch.")
        elif not losses[-1] < losses[0]:
            found["history"] = failed("mismatch", f"{where}: the loss went from {losses[0]:.3g} to {losses[-1]:.3g}.",
                                      "the step direction or the learning rate.")
        else:
            found["history"] = OK
        return found


def _same_params(a, b):
    return not isinstance(a, Raised) and not isinstance(b, Raised) and len(a) == len(b) and all(
        np.array_equal(x, y) for pa, pb in zip(a, b) for x, y in zip(pa, pb))


SUITES = [InitParamsSuite(), ForwardSuite(), CrossEntropySuite(), BackwardSuite(), SgdStepSuite(), TrainSuite()]
