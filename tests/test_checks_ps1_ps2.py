"""The ps1/ps2 graders against student code: right answers pass, stubs and delegation are caught,
and a catalogue of typical bugs each gets its diagnosis on its part — and only there.

Student code is written out here as plain functions (never importing the reference, which would be
delegation); functions that need a notebook's namespace (gates calling *their* tlu) are exec'd into
one, as the notebook would define them.
"""

import numpy as np
import pytest

import nbbackprop.checks as checks
from nbbackprop import logistic, neurons
from nbbackprop.checks import CheckFailure, engine, suite_for


def verdicts(target, candidate, hidden=False):
    suite = suite_for(target)
    return {v.id.split(".", 1)[1]: v for v in suite.verdicts(engine.plain(suite.probe(candidate, hidden)), hidden)}


def codes(target, candidate, hidden=False):
    return {part: v.diagnosis for part, v in verdicts(target, candidate, hidden).items()}


def notebook(source):
    """A namespace as a notebook would build it: the student's definitions calling one another."""
    namespace = {"np": np}
    exec(source, namespace)
    return namespace


# ---- ps1: right answers, written as a student would ------------------------------------------------

PS1_SOURCE = '''
def tlu(X, w, b):
    return (X @ w + b >= 0).astype(int)

def and_gate(a, b):
    return tlu(np.stack([a, b], axis=1), np.array([1.0, 1.0]), -1.5)

def or_gate(a, b):
    return tlu(np.stack([a, b], axis=1), np.array([1.0, 1.0]), -0.5)

def not_gate(a):
    return tlu(np.asarray(a).reshape(-1, 1), np.array([-1.0]), 0.5)

def xor_gate(a, b):
    return or_gate(and_gate(a, not_gate(b)), and_gate(not_gate(a), b))

def perceptron_train(X, y, lr=1.0, epochs=10):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            error = y_i - int(x_i @ w + b >= 0)
            w = w + lr * error * x_i
            b = b + lr * error
    return w, b
'''
PS1 = notebook(PS1_SOURCE)

# ---- ps2: right answers ---------------------------------------------------------------------------

PS2 = notebook('''
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))

def binary_cross_entropy(a, y):
    a = np.clip(a, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(a) + (1 - y) * np.log(1 - a)))

def logistic_gradients(X, y, w, b):
    dz = sigmoid(X @ w + b) - y
    return X.T @ dz / len(y), float(np.mean(dz))

def fit_logistic(X, y, lr=0.1, epochs=100, batch_size=None, rng=None):
    n = len(y)
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        if batch_size is None:
            batches = [np.arange(n)]
        else:
            order = rng.permutation(n)
            batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
        for idx in batches:
            dw, db = logistic_gradients(X[idx], y[idx], w, b)
            w, b = w - lr * dw, b - lr * db
        losses.append(binary_cross_entropy(sigmoid(X @ w + b), y))
    return w, b, losses

def lda_fit(X, y):
    X0, X1 = X[y == 0], X[y == 1]
    mu0, mu1 = X0.mean(axis=0), X1.mean(axis=0)
    scatter = (X0 - mu0).T @ (X0 - mu0) + (X1 - mu1).T @ (X1 - mu1)
    w = np.linalg.solve(scatter / (len(X) - 2), mu1 - mu0)
    b = -0.5 * (mu1 + mu0) @ w + np.log(len(X1) / len(X0))
    return w, b
''')

TARGETS = [*checks.TARGETS["ps1_neurons"], *checks.TARGETS["ps2_logistic"]]


def right(target):
    return (PS1 if target in checks.TARGETS["ps1_neurons"] else PS2)[target]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("target", TARGETS)
def test_right_answers_pass_every_part(target, hidden):
    assert codes(target, right(target), hidden) == dict.fromkeys(suite_for(target).parts, "ok")


@pytest.mark.parametrize("target", TARGETS)
def test_stub_fails_every_part_not_implemented(target):
    def stub(*args, **kwargs):
        raise NotImplementedError("replace this line with your code")

    for hidden in (False, True):
        found = verdicts(target, stub, hidden)
        assert {v.diagnosis for v in found.values()} == {"not-implemented"}
        assert all(target in v.message for v in found.values())


@pytest.mark.parametrize("target", TARGETS)
def test_delegation_to_the_reference_is_caught(target):
    reference = getattr(neurons, target, None) or getattr(logistic, target)

    def delegating(*args, **kwargs):
        return reference(*args, **kwargs)

    assert set(codes(target, delegating).values()) == {"delegation"}
    assert set(codes(target, delegating, hidden=True).values()) == {"delegation"}


def test_a_gate_calling_the_reference_tlu_is_not_delegation_of_the_gate():
    def and_gate(a, b):
        return neurons.tlu(np.stack([a, b], axis=1), np.array([1.0, 1.0]), -1.5)

    assert set(codes("and_gate", and_gate).values()) == {"ok"}


# ---- correct but different: full marks -----------------------------------------------------------------


def tlu_loops(X, w, b):
    out = np.zeros(len(X), dtype=np.int64)
    for n in range(len(X)):
        total = b
        for d in range(len(w)):
            total += X[n, d] * w[d]
        out[n] = 1 if total >= 0 else 0
    return out


def tlu_einsum(X, w, b):
    return np.where(np.einsum("nd,d->n", X, w) + b >= 0, 1, 0)


XOR_FIVE_TLUS = notebook('''
def tlu(X, w, b):
    return np.array([int(x @ w + b >= 0) for x in X])

def xor_gate(a, b):
    X = np.stack([a, b], axis=1)
    h1 = tlu(X, np.array([1.0, -1.0]), -0.5)     # a AND NOT b
    h2 = tlu(X, np.array([-1.0, 1.0]), -0.5)     # NOT a AND b
    return tlu(np.stack([h1, h2], axis=1), np.array([1.0, 1.0]), -0.5)

def and_gate(a, b):
    return tlu(np.column_stack((a, b)), [2, 2], -3)
''')


def perceptron_augmented(X, y, lr=1.0, epochs=10):
    Xa = np.hstack([X, np.ones((len(X), 1))])
    theta = np.zeros(Xa.shape[1])
    for _ in range(epochs):
        for i in range(len(Xa)):
            prediction = 1 if Xa[i] @ theta >= 0 else 0
            theta += lr * (y[i] - prediction) * Xa[i]
    return [theta[:-1], theta[-1]]


def sigmoid_logaddexp(z):
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=float)))


def sigmoid_masks(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1 / (1 + np.exp(-z[positive]))
    ez = np.exp(z[~positive])
    out[~positive] = ez / (1 + ez)
    return out


def sigmoid_scalar_loop(z):
    import math

    z = np.asarray(z, dtype=float)
    flat = [1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v)) for v in z.ravel()]
    return np.array(flat).reshape(z.shape)


def bce_where(a, y):
    a = np.clip(np.asarray(a, dtype=float), 1e-12, 1 - 1e-12)
    return np.mean(np.where(y == 1, -np.log(a), -np.log1p(-a)))


def gradients_einsum(X, y, w, b):
    a = 1 / (1 + np.exp(-(X @ w + b)))
    dz = a - y
    return [np.einsum("nd,n->d", X, dz) / X.shape[0], dz.sum() / X.shape[0]]


FIT_LISTS = notebook('''
def fit_logistic(X, y, lr=0.1, epochs=100, batch_size=None, rng=None):
    n, d = X.shape
    w, b, losses = np.zeros(d), 0.0, []
    step = n if batch_size is None else batch_size
    for epoch in range(epochs):
        index = np.arange(n)
        if batch_size is not None:
            rng.shuffle(index)
        for batch in np.array_split(index, range(step, n, step)):
            a = 1 / (1 + np.exp(-(X[batch] @ w + b)))
            w = w - lr * X[batch].T @ (a - y[batch]) / len(batch)
            b = b - lr * np.mean(a - y[batch])
        a = np.clip(1 / (1 + np.exp(-(X @ w + b))), 1e-15, 1 - 1e-15)
        losses.append(-np.mean(y * np.log(a) + (1 - y) * np.log(1 - a)))
    return [w, b, np.array(losses)]
''')


def lda_np_cov_inverse(X, y):
    X0, X1 = X[y == 0], X[y == 1]
    n0, n1 = len(X0), len(X1)
    pooled = ((n0 - 1) * np.cov(X0.T) + (n1 - 1) * np.cov(X1.T)) / (n0 + n1 - 2)
    w = np.linalg.inv(pooled) @ (X1.mean(0) - X0.mean(0))
    b = -0.5 * X1.mean(0) @ np.linalg.inv(pooled) @ X1.mean(0) + 0.5 * X0.mean(0) @ np.linalg.inv(pooled) @ \
        X0.mean(0) + np.log(n1 / n0)
    return w, b


def lda_divisor_n(X, y):  # the maximum-likelihood pooled covariance, divisor N: accepted
    X0, X1 = X[y == 0], X[y == 1]
    centred = np.vstack([X0 - X0.mean(0), X1 - X1.mean(0)])
    w = np.linalg.solve(centred.T @ centred / len(X), X1.mean(0) - X0.mean(0))
    return w, float(-0.5 * (X1.mean(0) + X0.mean(0)) @ w + np.log(np.mean(y) / (1 - np.mean(y))))


@pytest.mark.parametrize(("target", "candidate"), [
    ("tlu", tlu_loops),
    ("tlu", tlu_einsum),
    ("tlu", XOR_FIVE_TLUS["tlu"]),
    ("xor_gate", XOR_FIVE_TLUS["xor_gate"]),
    ("and_gate", XOR_FIVE_TLUS["and_gate"]),
    ("perceptron_train", perceptron_augmented),
    ("sigmoid", sigmoid_logaddexp),
    ("sigmoid", sigmoid_masks),
    ("sigmoid", sigmoid_scalar_loop),
    ("binary_cross_entropy", bce_where),
    ("logistic_gradients", gradients_einsum),
    ("fit_logistic", FIT_LISTS["fit_logistic"]),
    ("lda_fit", lda_np_cov_inverse),
    ("lda_fit", lda_divisor_n),
])
def test_correct_but_different_solutions_get_full_marks(target, candidate):
    for hidden in (False, True):
        assert set(codes(target, candidate, hidden).values()) == {"ok"}, verdicts(target, candidate, hidden)


# ---- the bug catalogue --------------------------------------------------------------------------------


def tlu_strict(X, w, b):
    return (X @ w + b > 0).astype(int)


def tlu_bool(X, w, b):
    return X @ w + b >= 0


def tlu_minus_b(X, w, b):
    return (X @ w - b >= 0).astype(int)


def tlu_column(X, w, b):
    return (X @ w.reshape(-1, 1) + b >= 0).astype(int)


def tlu_in_place(X, w, b):
    X *= 1.0
    return (X @ w + b >= 0).astype(int)


BUGGY_PS1 = notebook('''
def tlu(X, w, b):                      # the unit at exactly 0 does not fire
    return (X @ w + b > 0).astype(int)

def and_gate(a, b):                    # right gate, but w·x + b hits 0 at (1, 1)
    return tlu(np.stack([a, b], axis=1), np.array([1.0, 1.0]), -2.0)

def and_gate_is_or(a, b):
    return tlu(np.stack([a, b], axis=1), np.array([1.0, 1.0]), -0.5)

def and_gate_numpy(a, b):
    return np.logical_and(a, b).astype(int)

def not_gate_identity(a):
    return tlu(np.asarray(a).reshape(-1, 1), np.array([1.0]), -0.5)

def xor_gate_operator(a, b):
    return (np.asarray(a) != np.asarray(b)).astype(int)

''')


XNOR = '''
def xor_gate(a, b):
    return or_gate(and_gate(a, b), and_gate(not_gate(a), not_gate(b)))
'''


def rosenblatt(sign=1.0, bias=True, strict=False, always=False, lr_used=None, shuffle=False):
    def perceptron_train(X, y, lr=1.0, epochs=10):
        step = lr if lr_used is None else lr_used
        w, b = np.zeros(X.shape[1]), 0.0
        for _ in range(epochs):
            order = np.random.default_rng(0).permutation(len(X)) if shuffle else range(len(X))
            for i in order:
                s = X[i] @ w + b
                error = y[i] if always else y[i] - int(s > 0 if strict else s >= 0)
                w = w + sign * step * error * X[i]
                if bias:
                    b = b + sign * step * error
        return w, b
    return perceptron_train


def perceptron_plus_minus_in_place(X, y, lr=1.0, epochs=10):
    y[y == 0] = -1  # writes into the caller's labels
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for x_i, t_i in zip(X, y):
            if t_i * (x_i @ w + b) <= 0:
                w, b = w + lr * t_i * x_i, b + lr * t_i
    return w, b


def sigmoid_naive(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_where_both_branches(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


def sigmoid_cancels(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), 1 - 1 / (1 + e))


def sigmoid_clipped(z):
    return 1 / (1 + np.exp(-np.clip(z, -30, 30)))


def sigmoid_tanh(z):  # exact algebra, but cancels for very negative z
    return 0.5 * (1 + np.tanh(np.asarray(z) / 2))


def sigmoid_wrong_sign(z):
    return 1 / (1 + np.exp(np.clip(z, -500, 500)))


def bce_sum(a, y):
    return -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a))


def bce_no_clip(a, y):
    return -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))


def bce_clip_in_place(a, y):
    np.clip(a, 1e-15, 1 - 1e-15, out=a)
    return -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))


def bce_no_minus(a, y):
    a = np.clip(a, 1e-15, 1 - 1e-15)
    return np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))


def bce_per_sample(a, y):
    a = np.clip(a, 1e-15, 1 - 1e-15)
    return -(y * np.log(a) + (1 - y) * np.log(1 - a))


def _a(X, w, b):
    return 1 / (1 + np.exp(-(X @ w + b)))


def grad_sum(X, y, w, b):
    dz = _a(X, w, b) - y
    return X.T @ dz, dz.sum()


def grad_sign(X, y, w, b):
    dz = y - _a(X, w, b)
    return X.T @ dz / len(y), dz.mean()


def grad_uses_z(X, y, w, b):
    dz = X @ w + b - y
    return X.T @ dz / len(y), dz.mean()


def grad_x_not_xt(X, y, w, b):
    dz = _a(X, w, b) - y
    return X @ dz / len(y), dz.mean()


def grad_db_vector(X, y, w, b):
    dz = _a(X, w, b) - y
    return X.T @ dz / len(y), dz


def grad_mse(X, y, w, b):
    a = _a(X, w, b)
    dz = (a - y) * a * (1 - a)
    return X.T @ dz / len(y), dz.mean()


def fitter(sign=1.0, loss_before=False, ignore_batch=False, shuffle="rng"):
    def fit_logistic(X, y, lr=0.1, epochs=100, batch_size=None, rng=None):
        n = len(y)
        w, b, losses = np.zeros(X.shape[1]), 0.0, []

        def loss():
            a = np.clip(_a(X, w, b), 1e-15, 1 - 1e-15)
            return -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))

        for _ in range(epochs):
            if loss_before:
                losses.append(loss())
            if batch_size is None or ignore_batch:
                batches = [np.arange(n)]
            else:
                order = {"rng": rng.permutation, "global": np.random.permutation, "none": np.arange}[shuffle](n)
                batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
            for idx in batches:
                dz = _a(X[idx], w, b) - y[idx]
                w = w - sign * lr * X[idx].T @ dz / len(idx)
                b = b - sign * lr * dz.mean()
            if not loss_before:
                losses.append(loss())
        return w, b, losses
    return fit_logistic


FIT_WITH_BUGGY_GRADIENTS = notebook('''
def logistic_gradients(X, y, w, b):     # forgets the 1/N
    dz = 1 / (1 + np.exp(-(X @ w + b))) - y
    return X.T @ dz, dz.sum()

def fit_logistic(X, y, lr=0.1, epochs=100, batch_size=None, rng=None):
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        order = np.arange(len(y)) if batch_size is None else rng.permutation(len(y))
        step = len(y) if batch_size is None else batch_size
        for i in range(0, len(y), step):
            idx = order[i:i + step]
            dw, db = logistic_gradients(X[idx], y[idx], w, b)
            w, b = w - lr * dw, b - lr * db
        a = np.clip(1 / (1 + np.exp(-(X @ w + b))), 1e-15, 1 - 1e-15)
        losses.append(-np.mean(y * np.log(a) + (1 - y) * np.log(1 - a)))
    return w, b, losses
''')


def lda_no_prior(X, y):
    w, b = PS2["lda_fit"](X, y)
    return w, b - np.log(np.sum(y == 1) / np.sum(y == 0))


def lda_unweighted_covariance(X, y):
    X0, X1 = X[y == 0], X[y == 1]
    w = np.linalg.solve((np.cov(X0.T) + np.cov(X1.T)) / 2, X1.mean(0) - X0.mean(0))
    return w, -0.5 * (X1.mean(0) + X0.mean(0)) @ w + np.log(len(X1) / len(X0))


def lda_total_covariance(X, y):
    X0, X1 = X[y == 0], X[y == 1]
    w = np.linalg.solve(np.cov(X.T), X1.mean(0) - X0.mean(0))
    return w, -0.5 * (X1.mean(0) + X0.mean(0)) @ w + np.log(len(X1) / len(X0))


BUGS = [
    # (target, candidate, {part: code} — every other part must be ok)
    ("tlu", tlu_strict, {"threshold": "mismatch"}),
    ("tlu", tlu_bool, {"output": "mismatch"}),
    ("tlu", tlu_minus_b, {"value": "sign"}),
    ("tlu", tlu_column, {"output": "shape"}),
    ("tlu", tlu_in_place, {"mutation": "mutation"}),
    ("and_gate", BUGGY_PS1["and_gate"], {}),  # wrong only through its tlu: charged to tlu alone
    ("and_gate", BUGGY_PS1["and_gate_is_or"], {"truth_table": "mismatch"}),
    ("and_gate", BUGGY_PS1["and_gate_numpy"], {"from_tlu": "mismatch"}),
    ("not_gate", BUGGY_PS1["not_gate_identity"], {"truth_table": "sign"}),
    ("xor_gate", BUGGY_PS1["xor_gate_operator"], {"composition": "mismatch"}),
    ("xor_gate", notebook(PS1_SOURCE + XNOR)["xor_gate"], {"truth_table": "sign"}),
    ("perceptron_train", rosenblatt(sign=-1.0), {"update": "sign"}),
    ("perceptron_train", rosenblatt(bias=False), {"update": "mismatch"}),
    ("perceptron_train", rosenblatt(strict=True), {"update": "mismatch"}),
    ("perceptron_train", rosenblatt(always=True), {"update": "mismatch"}),
    ("perceptron_train", rosenblatt(shuffle=True), {"update": "mismatch"}),
    ("perceptron_train", rosenblatt(lr_used=1.0), {"schedule": "scale"}),
    ("perceptron_train", perceptron_plus_minus_in_place, {"update": "mismatch", "mutation": "mutation"}),
    ("sigmoid", sigmoid_naive, {"stability": "unstable"}),
    ("sigmoid", sigmoid_where_both_branches, {"stability": "unstable"}),
    ("sigmoid", sigmoid_cancels, {"tails": "unstable"}),
    ("sigmoid", sigmoid_tanh, {"tails": "unstable"}),
    ("sigmoid", sigmoid_clipped, {"stability": "mismatch"}),
    ("sigmoid", sigmoid_wrong_sign, {"value": "sign"}),
    ("binary_cross_entropy", bce_sum, {"value": "scale-batch"}),
    ("binary_cross_entropy", bce_no_clip, {"saturated": "unstable"}),
    ("binary_cross_entropy", bce_clip_in_place, {"value": "mutation"}),
    ("binary_cross_entropy", bce_no_minus, {"value": "sign"}),
    ("binary_cross_entropy", bce_per_sample, {"value": "shape"}),
    ("logistic_gradients", grad_sum, {"dw": "scale-batch", "db": "scale-batch"}),
    ("logistic_gradients", grad_sign, {"dw": "sign"}),
    ("logistic_gradients", grad_uses_z, {"dw": "activation-derivative"}),
    ("logistic_gradients", grad_mse, {"dw": "activation-derivative"}),
    ("logistic_gradients", grad_x_not_xt, {"dw": "transpose"}),
    ("logistic_gradients", grad_db_vector, {"db": "axis"}),
    ("fit_logistic", fitter(sign=-1.0), {"weights": "sign"}),
    ("fit_logistic", fitter(loss_before=True), {"losses": "mismatch"}),
    ("fit_logistic", fitter(ignore_batch=True), {"minibatch": "mismatch"}),
    ("fit_logistic", fitter(shuffle="global"), {"rng": "state"}),
    ("fit_logistic", fitter(shuffle="none"), {"rng": "mismatch"}),
    ("fit_logistic", FIT_WITH_BUGGY_GRADIENTS["fit_logistic"], {}),  # the bug is logistic_gradients'
    ("lda_fit", lda_no_prior, {"b": "mismatch"}),
    ("lda_fit", lda_unweighted_covariance, {"w": "mismatch"}),
    ("lda_fit", lda_total_covariance, {"w": "mismatch"}),
]


@pytest.mark.parametrize(("target", "candidate", "expected"), BUGS,
                         ids=[f"{t}-{getattr(c, '__name__', '')}-{'-'.join(e.values()) or 'ok'}" for t, c, e in BUGS])
def test_bug_is_named_on_its_part_and_costs_once(target, candidate, expected):
    for hidden in (False, True):
        found = verdicts(target, candidate, hidden)
        assert {part: v.diagnosis for part, v in found.items()} == {
            part: expected.get(part, "ok") for part in suite_for(target).parts}, found
        for part in expected:
            message = found[part].message
            assert message.startswith(f"[{part}] ") and target in message and "Likely cause:" in message


def test_messages_show_a_tiny_input_and_name_the_cause():
    message = verdicts("and_gate", BUGGY_PS1["and_gate_is_or"])["truth_table"].message
    assert "a = [0, 0, 1, 1], b = [0, 1, 0, 1] → got [0., 1., 1., 1.], expected [0., 0., 0., 1.]" in message
    assert "OR" in message
    message = verdicts("lda_fit", lda_no_prior)["b"].message
    assert "log prior ratio" in message and "π₁/π₀ = 8/5" in message
    message = verdicts("sigmoid", sigmoid_cancels)["tails"].message
    assert "σ(-700)" in message and "expected 9.86e-305" in message
    message = verdicts("perceptron_train", rosenblatt(bias=False))["update"].message
    assert "X = [[2, 1], [1, -1], [-1, 2], [1, 1]]" in message and "b is never updated" in message
    message = verdicts("logistic_gradients", grad_sum)["dw"].message
    assert "Tiny example" in message and "divide by N" in message


def test_visible_and_hidden_probes_differ():
    for target in TARGETS:
        suite = suite_for(target)
        visible, hidden = suite.probe(right(target), False), suite.probe(right(target), True)
        assert visible.keys() == hidden.keys()
        assert repr(engine.plain(visible)) != repr(engine.plain(hidden)), target


# ---- the grade-cell functions ----------------------------------------------------------------------------


def test_check_tlu_prints_a_pass_line(capsys):
    checks.check_tlu(PS1["tlu"])
    checks.check_tlu(PS1["tlu"], hidden=True)
    out = capsys.readouterr().out
    assert "tlu: value, output, threshold, mutation passed" in out and "(hidden tests)" in out


def test_check_tlu_raises_check_failure_with_the_code_first():
    with pytest.raises(CheckFailure) as failure:
        checks.check_tlu(tlu_strict)
    assert isinstance(failure.value, AssertionError)
    assert str(failure.value).startswith("[mismatch] [threshold] tlu")
    with pytest.raises(CheckFailure, match=r"^\[not-implemented\]"):
        checks.check_sigmoid(lambda z: (_ for _ in ()).throw(NotImplementedError()), part="tails")
    checks.check_tlu(tlu_strict, part="value")  # one part at a time: the others don't interfere
