"""Benchmark: training an MLP with nbbackprop against PyTorch, scikit-learn and a bare numpy loop.

Usage::

    python benchmarks/train_mlp.py            # the full run (a few minutes)
    python benchmarks/train_mlp.py --quick    # a smoke test (< 30 s): timings indicative only
    python benchmarks/train_mlp.py --parts ac # only some parts

Parts, each peer with the same architecture, initial weights, batch size,
epochs and learning rate, float64 unless stated:

(a) digits 64-128-10 (ReLU), batch 32, 50 epochs, the median of 7 interleaved runs; also the
    same modules in the loop a reader writes (``model.bprop(loss.bprop())``, ``layer.W -= lr *
    layer.grad_W``), that loop with ``need_grad_x=False`` (for comparison only: not the call the
    contract gives a reader), and the bare loop plus the first layer's input gradient that
    ``model.bprop(grad)`` returns to that reader. The reader's-loop target (≤ 1.15×) is judged
    against the bare loop of the same arithmetic, the one plus that input gradient (COURSE.md's
    ``bprop(grad_y) → grad_x`` asks for the product; a bare loop that skips it does less work);
    the ratio to the bare loop without it is printed beside it;
(b) synthetic 20,000 × 784, 784-512-512-10, batch 128, 3 epochs, float64 and float32,
    with the share of the library's time spent in matrix products;
(c) the finite-difference gradient check of the digits net, full and directional.

Peers: ``nbbackprop`` (``Sequential`` of ``Linear``/``ReLU`` trained by
``optim.fit``), a bare numpy loop doing the same arithmetic, PyTorch CPU
(a plain ``nn.Sequential``, ``F.cross_entropy`` and ``torch.optim.SGD`` loop
with manual index batching: no ``DataLoader``, the fastest fair torch loop) and
scikit-learn's ``MLPClassifier(solver="sgd", momentum=0, alpha=0)``. PyTorch and
scikit-learn are bench-only dependencies: a missing one is reported as "peer
unavailable". See benchmarks/README.md for the fairness rules and the figures.
"""

import argparse
import platform
import time
import warnings
from dataclasses import dataclass, replace

import numpy as np
from _common import OtherLoad, Row, best_of, load_line, print_table, target_line, timed

from nbbackprop.modules import Linear, ReLU, Sequential, SoftmaxCrossEntropy
from nbbackprop.optim import evaluate, fit

try:
    import torch
    import torch.nn.functional as F

    TORCH_ERROR = None
except ImportError as error:  # bench-only dependency
    torch = F = None
    TORCH_ERROR = f"peer unavailable ({error})"

try:
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    SKLEARN_ERROR = None
except ImportError as error:  # bench-only dependency
    sklearn = MLPClassifier = ConvergenceWarning = None
    SKLEARN_ERROR = f"peer unavailable ({error})"

TORCH_THREADS = 2
LIBRARY, BARE, TORCH, SKLEARN = "nbbackprop (fit)", "bare numpy loop", "PyTorch", "scikit-learn"
READER, BARE_INPUT_GRAD = "nbbackprop (reader's loop)", "bare loop + input grad"  # part (a) only
READER_NO_GRAD_X = "reader's loop, need_grad_x=False"  # part (a) only: what skipping grad_x would save
ACCURACY_POINTS = 0.01  # "equal test accuracy" means within ±1 percentage point


@dataclass
class Problem:
    """One training run, the same for every peer."""

    title: str
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    sizes: tuple  # layer widths, input first: (64, 128, 10)
    lr: float
    epochs: int
    batch_size: int
    dtype: type = np.float64
    seed: int = 0  # initial weights come from default_rng(seed), shuffling from default_rng(seed + 1)

    def cast(self, dtype):
        return replace(self, X=self.X.astype(dtype), X_test=self.X_test.astype(dtype), dtype=dtype)


def initial_parameters(problem):
    """``[(W, b), ...]`` for every layer: ``W ~ N(0, 1/n_in)`` from one Generator, ``b = 0``."""
    rng = np.random.default_rng(problem.seed)
    params = []
    for n_in, n_out in zip(problem.sizes[:-1], problem.sizes[1:]):
        W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        params.append((W.astype(problem.dtype), np.zeros(n_out, dtype=problem.dtype)))
    return params


def shuffle_rng(problem):
    return np.random.default_rng(problem.seed + 1)


# --- the peers: each returns (training seconds, test accuracy) ----------------


def library_model(problem, params):
    layers = []
    for W, b in params:
        linear = Linear(*W.shape, np.random.default_rng(0), dtype=problem.dtype)  # W, b replaced below
        linear.W[...], linear.b[...] = W, b
        layers += [linear, ReLU()]
    return Sequential(layers[:-1])


def run_library(problem, params):
    model, loss = library_model(problem, params), SoftmaxCrossEntropy()
    seconds, _ = timed(
        lambda: fit(model, loss, problem.X, problem.y, lr=problem.lr, epochs=problem.epochs,
                    batch_size=problem.batch_size, rng=shuffle_rng(problem))
    )
    _, accuracy = evaluate(model, loss, problem.X_test, problem.y_test)
    return seconds, accuracy


def reader_loop(model, loss, X, y, lr, epochs, batch_size, rng, need_grad_x=True):
    """The training loop a student or a reader of the lectures writes around the modules, as L04 calls them.

    ``model.bprop(loss.bprop())`` (so the first layer's input gradient is
    computed and dropped, as the contract returns it) and one
    ``layer.W -= lr * layer.grad_W`` per parameter; no bookkeeping.
    ``need_grad_x=False`` drops that product (a comparison row, not the reader's call).
    """
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            loss.fprop(model.fprop(X[idx]), y[idx])
            model.bprop(loss.bprop(), need_grad_x=need_grad_x)
            for layer in model:
                if isinstance(layer, Linear):
                    layer.W -= lr * layer.grad_W
                    layer.b -= lr * layer.grad_b


def reader_run(problem, params, accuracy, need_grad_x=True):
    """A timed run of :func:`reader_loop` for :func:`race`; the test accuracy goes into ``accuracy[0]``."""

    def run():
        model, loss = library_model(problem, params), SoftmaxCrossEntropy()
        seconds, _ = timed(lambda: reader_loop(model, loss, problem.X, problem.y, problem.lr, problem.epochs,
                                               problem.batch_size, shuffle_rng(problem), need_grad_x))
        accuracy[:] = [evaluate(model, loss, problem.X_test, problem.y_test)[1]]
        return seconds, None

    return run


def train_bare(params, X, y, lr, epochs, batch_size, rng, input_grad=False):
    """Minibatch SGD on softmax cross-entropy written out by hand: what ``fit`` computes, minus the boxes.

    Same order of operations as the library: shuffle per epoch with the same
    Generator, affine + ReLU layers, softmax with the max shift, the mean loss
    per epoch, in-place parameter updates, no input gradient for the first layer
    (``input_grad=True`` computes it and drops it, as :func:`reader_loop` does).
    """
    n, last = len(X), len(params) - 1
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            a, targets = X[idx], y[idx]
            rows = np.arange(len(idx))
            acts, masks = [], []
            for i, (W, b) in enumerate(params):
                acts.append(a)
                z = a @ W + b
                if i < last:
                    mask = z > 0
                    masks.append(mask)
                    a = z * mask
            z -= z.max(axis=1, keepdims=True)
            probs = np.exp(z)
            probs /= probs.sum(axis=1, keepdims=True)
            total -= np.log(probs[rows, targets]).sum()
            grad = probs
            grad[rows, targets] -= 1.0
            grad /= len(idx)
            for i in range(last, -1, -1):
                W, b = params[i]
                grad_W, grad_b = acts[i].T @ grad, grad.sum(axis=0)
                if i:
                    grad = (grad @ W.T) * masks[i - 1]
                elif input_grad:
                    grad @ W.T
                W -= lr * grad_W
                b -= lr * grad_b
        losses.append(total / n)
    return losses


def bare_predict(params, X):
    a = X
    for W, b in params[:-1]:
        a = np.maximum(a @ W + b, 0)
    W, b = params[-1]
    return (a @ W + b).argmax(axis=1)


def run_bare(problem, params, input_grad=False):
    params = [(W.copy(), b.copy()) for W, b in params]
    seconds, _ = timed(
        lambda: train_bare(params, problem.X, problem.y, problem.lr, problem.epochs, problem.batch_size,
                           shuffle_rng(problem), input_grad)
    )
    return seconds, float(np.mean(bare_predict(params, problem.X_test) == problem.y_test))


def run_torch(problem, params):
    dtype = torch.float64 if problem.dtype == np.float64 else torch.float32
    layers = []
    for W, b in params:
        linear = torch.nn.Linear(*W.shape, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))  # torch keeps W as (n_out, n_in)
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.SGD(model.parameters(), lr=problem.lr, momentum=0.0)
    X, y = torch.from_numpy(problem.X), torch.from_numpy(problem.y)
    n, batch_size = len(problem.X), problem.batch_size

    def train():
        rng = shuffle_rng(problem)
        for _ in range(problem.epochs):
            order = torch.from_numpy(rng.permutation(n))
            total = 0.0
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                loss = F.cross_entropy(model(X[idx]), y[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)

    seconds, _ = timed(train)
    with torch.no_grad():
        predicted = model(torch.from_numpy(problem.X_test)).argmax(dim=1).numpy()
    return seconds, float(np.mean(predicted == problem.y_test))


def run_sklearn(problem, params):
    clf = MLPClassifier(
        hidden_layer_sizes=problem.sizes[1:-1], activation="relu", solver="sgd", momentum=0.0,
        nesterovs_momentum=False, alpha=0.0, learning_rate="constant", learning_rate_init=problem.lr,
        batch_size=problem.batch_size, max_iter=problem.epochs, tol=0.0, n_iter_no_change=problem.epochs + 1,
        early_stopping=False, shuffle=True, random_state=problem.seed, warm_start=True,
    )
    n_classes = problem.sizes[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # one partial_fit builds the network, then our initial weights replace sklearn's
        clf.partial_fit(problem.X[: problem.batch_size], problem.y[: problem.batch_size], classes=np.arange(n_classes))
        clf.coefs_ = [W.copy() for W, _ in params]
        clf.intercepts_ = [b.copy() for _, b in params]
        seconds, _ = timed(lambda: clf.fit(problem.X, problem.y))  # warm_start: trains from coefs_
    if clf.n_iter_ != problem.epochs:
        raise RuntimeError(f"scikit-learn stopped after {clf.n_iter_} epochs instead of {problem.epochs}")
    return seconds, float(clf.score(problem.X_test, problem.y_test))


def peers():
    """``[(label, runner or None, note)]`` in table order."""
    return [
        (LIBRARY, run_library, "Sequential + optim.fit"),
        (BARE, run_bare, "same arithmetic, no boxes"),
        (TORCH, run_torch if torch else None,
         TORCH_ERROR or f"nn.Sequential + optim.SGD, {TORCH_THREADS} threads, index batching"),
        (SKLEARN, run_sklearn if sklearn else None, SKLEARN_ERROR or "MLPClassifier sgd; its own shuffling order"),
    ]


def median_of(runs, repeat):
    """Like ``best_of`` (``repeat`` interleaved rounds), keeping each run's median instead of its fastest."""
    rounds = [best_of(runs, 1) for _ in range(repeat)]
    return {name: sorted((r[name] for r in rounds), key=lambda run: run[0])[repeat // 2] for name in runs}


def race(problem, repeat, warmup_problem, extra=None, summary=best_of):
    """Warm every peer up, then ``summary`` (best, or median) of ``repeat`` interleaved runs.

    ``extra`` maps more labels to runs timed in the same rotation (the GEMM
    replay of part (b)). Returns ``({label: Row}, {extra label: seconds})``.
    """
    params = initial_parameters(problem)
    warm_params = initial_parameters(warmup_problem)
    runs = {}
    for label, runner, _ in peers():
        if runner:
            runner(warmup_problem, warm_params)
            runs[label] = lambda runner=runner: runner(problem, params)
    for label, run in (extra or {}).items():
        run()  # warm-up
        runs[label] = run
    best = summary(runs, repeat)
    rows = {}
    for label, runner, note in peers():
        if runner is None:
            rows[label] = Row(label, None, note=note)
        else:
            seconds, accuracy = best[label]
            rows[label] = Row(label, seconds, accuracy, note)
    return rows, {label: best[label][0] for label in extra or {}}


# --- the data ------------------------------------------------------------------


def load_digits_scaled():
    """Digits in [0, 1]: ``nbbackprop.datasets.load_digits`` when present, else the bundled npz / 16."""
    try:
        from nbbackprop.datasets import load_digits
    except ImportError:
        from _common import REPO_ROOT

        raw = np.load(REPO_ROOT / "nbbackprop" / "data" / "digits.npz")
        return tuple(
            raw[key] / 16.0 if key.startswith("X") else raw[key].astype(np.int64)
            for key in ("X_train", "y_train", "X_test", "y_test")
        )
    return load_digits()


def synthetic(n_train, n_test, n_features, n_classes, seed):
    """Gaussian inputs, labels from a random linear teacher: ``y = argmax(x T)``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_train + n_test, n_features))
    teacher = rng.standard_normal((n_features, n_classes))
    y = (X @ teacher).argmax(axis=1)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


# --- (a) digits ------------------------------------------------------------------


def digits_problem(epochs):
    X, y, X_test, y_test = load_digits_scaled()
    return Problem("digits", X, y, X_test, y_test, sizes=(64, 128, 10), lr=0.1, epochs=epochs, batch_size=32)


def part_a(quick):
    epochs, repeat = (5, 1) if quick else (50, 7)
    problem = digits_problem(epochs)
    print(f"(a) digits 64-128-10 ReLU, batch {problem.batch_size}, {epochs} epochs, lr {problem.lr}, float64; "
          f"median of {repeat}; {load_line()}")
    params, reader_accuracy, no_grad_x_accuracy = initial_parameters(problem), [None], [None]
    extra = {READER: reader_run(problem, params, reader_accuracy),
             BARE_INPUT_GRAD: lambda: run_bare(problem, params, input_grad=True),
             READER_NO_GRAD_X: reader_run(problem, params, no_grad_x_accuracy, need_grad_x=False)}
    with OtherLoad() as load:
        rows, extra_seconds = race(problem, repeat, replace(problem, epochs=1), extra, summary=median_of)
    lib_row = rows[LIBRARY]
    reader = Row(READER, extra_seconds[READER], reader_accuracy[0],
                 "Sequential, model.bprop(loss.bprop()), layer.W -= lr * layer.grad_W")
    bare_input_grad = Row(BARE_INPUT_GRAD, extra_seconds[BARE_INPUT_GRAD], rows[BARE].accuracy,
                          "the bare loop, plus the first layer's grad_x the reader's bprop returns")
    no_grad_x = Row(READER_NO_GRAD_X, extra_seconds[READER_NO_GRAD_X], no_grad_x_accuracy[0],
                    "for comparison only: the reader's loop without the first layer's grad_x")
    print_table("", [*rows.values(), reader, bare_input_grad, no_grad_x], lib_row.seconds)
    print(load.line())
    print("reader's loop, ratios of medians (the target is judged on the first):")
    pairs = [(reader, bare_input_grad), (reader, rows[BARE]), (no_grad_x, rows[BARE]), (rows[TORCH], reader)]
    for top, bottom in pairs:
        if top.seconds is not None:
            print(f"  {top.peer + ' / ' + bottom.peer:64s} {top.seconds / bottom.seconds:.2f}×")
    results = []
    bare = rows[BARE]
    ratio = lib_row.seconds / bare.seconds
    results.append(
        target_line(ratio <= 1.25, f"(a) abstractions cost ≤ 1.25× the bare loop: library / bare = {ratio:.2f}×")
    )
    ratio, same_ratio = reader.seconds / bare.seconds, reader.seconds / bare_input_grad.seconds
    results.append(target_line(
        same_ratio <= 1.15, f"(a) reader's loop ≤ 1.15× the bare loop of the same arithmetic: reader / (bare + "
                            f"input gradient) = {same_ratio:.2f}× (/ the bare loop without it = {ratio:.2f}×)",
    ))
    torch_row = rows[TORCH]
    if torch_row.seconds is None:
        results.append(target_line(None, f"(a) reader's loop ≥ 3× {TORCH}: {torch_row.note}"))
    else:
        speedup = torch_row.seconds / reader.seconds
        gap = 100 * abs(torch_row.accuracy - reader.accuracy)
        results.append(target_line(
            speedup >= 3.0 and gap <= 100 * ACCURACY_POINTS + 1e-9,
            f"(a) reader's loop ≥ 3× {TORCH} at equal accuracy: {speedup:.2f}× faster, accuracy gap {gap:.1f} points",
        ))
    for label, goal in ((TORCH, 3.0), (SKLEARN, 2.0)):
        row = rows[label]
        if row.seconds is None:
            results.append(target_line(None, f"(a) ≥ {goal:g}× {label}: {row.note}"))
            continue
        speedup = row.seconds / lib_row.seconds
        gap = 100 * abs(row.accuracy - lib_row.accuracy)
        same = gap <= 100 * ACCURACY_POINTS + 1e-9
        results.append(target_line(
            speedup >= goal and same,
            f"(a) ≥ {goal:g}× {label} at equal accuracy: {speedup:.2f}× faster, accuracy gap {gap:.1f} points",
        ))
    print()
    return results


# --- (b) synthetic, and the matmul share -------------------------------------------


def replay_gemms(problem):
    """Time the library's exact sequence of matrix products, alone.

    Per batch of ``B`` rows, for layers ``i = 0..L-1``: ``x_i @ W_i`` forward;
    then backward ``x_iᵀ @ g_i`` for every layer and ``g_i @ W_iᵀ`` for all but
    the first (``need_grad_x=False``), with the same shapes, dtypes and memory
    layouts (C-contiguous operands, transposed views) as ``Linear``. Operands
    are reused from batch to batch, so they are warmer in cache than in the
    real run: the replay is a lower bound on the time inside matmul, and the
    share it gives is conservative.
    """
    rng = np.random.default_rng(problem.seed + 2)
    n, batch_size = len(problem.X), problem.batch_size
    weights = [rng.standard_normal((a, b)).astype(problem.dtype) for a, b in zip(problem.sizes[:-1], problem.sizes[1:])]

    def operands(rows):
        acts = [rng.standard_normal((rows, width)).astype(problem.dtype) for width in problem.sizes[:-1]]
        grads = [rng.standard_normal((rows, width)).astype(problem.dtype) for width in problem.sizes[1:]]
        return acts, grads

    batches = [min(batch_size, n - start) for start in range(0, n, batch_size)] * problem.epochs
    by_rows = {rows: operands(rows) for rows in set(batches)}
    schedule = [by_rows[rows] for rows in batches]

    def run():
        for acts, grads in schedule:
            for x, W in zip(acts, weights):
                x @ W
            for i in range(len(weights) - 1, -1, -1):
                acts[i].T @ grads[i]
                if i:
                    grads[i] @ weights[i].T

    return timed(run)[0], None


def part_b(quick):
    n_train, epochs, repeat = (2048, 1, 1) if quick else (20_000, 3, 3)
    X, y, X_test, y_test = synthetic(n_train, 2000, 784, 10, seed=0)
    base = Problem("synthetic", X, y, X_test, y_test, sizes=(784, 512, 512, 10), lr=0.05, epochs=epochs,
                   batch_size=128)
    results = []
    for dtype in (np.float64, np.float32):
        problem = base.cast(dtype)
        name = np.dtype(dtype).name
        print(f"(b) synthetic {n_train} × 784, 784-512-512-10 ReLU, batch {problem.batch_size}, {epochs} epochs, "
              f"lr {problem.lr}, {name}; best of {repeat}; {load_line()}")
        warmup = replace(problem, X=problem.X[:1024], y=problem.y[:1024], epochs=1)
        with OtherLoad() as load:
            rows, extra = race(problem, repeat, warmup, extra={"replay": lambda problem=problem: replay_gemms(problem)})
        gemm = extra["replay"]
        lib_row, bare_row = rows[LIBRARY], rows[BARE]
        table = [*rows.values(), Row("its matmuls alone (replay)", gemm, note="the library's GEMM sequence")]
        print_table("", table, lib_row.seconds)
        share, bare_share = gemm / lib_row.seconds, gemm / bare_row.seconds
        print(f"matmul share = gemm_time / total_time: library {100 * share:.0f} %, bare loop {100 * bare_share:.0f} %")
        if share > 1:
            print("(the replay took longer than the training itself: the machine was busy, so the share means nothing)")
        print(load.line())
        text = f"(b) {name}: ≥ 80 % of the library's time in matmul: {100 * share:.0f} %"
        results.append(target_line(share >= 0.80, text))
        torch_row = rows[TORCH]
        if torch_row.seconds is None:
            results.append(target_line(None, f"(b) {name}: within 1.3× of PyTorch: {torch_row.note}"))
        else:
            ratio = lib_row.seconds / torch_row.seconds
            text = f"(b) {name}: within 1.3× of PyTorch: library / torch = {ratio:.2f}×"
            results.append(target_line(ratio <= 1.3, text))
        print()
    return results


# --- (c) gradient check ------------------------------------------------------------


def naive_numeric_gradients(model, loss, X, y, h):
    """The reference loop: move one entry, full fprop + loss, move it the other way, restore."""
    grads = {}
    for name, owner, attr in model.named_parameters():
        param = getattr(owner, attr)
        grad = np.empty(param.shape)
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + h
            plus = loss.fprop(model.fprop(X), y)
            param[index] = saved - h
            minus = loss.fprop(model.fprop(X), y)
            param[index] = saved
            grad[index] = (plus - minus) / (2 * h)
        grads[name] = grad
    return grads


def part_c(quick):
    repeat, directional_repeat = (1, 3) if quick else (3, 10)
    n_samples, h = 32, 1e-5
    problem = digits_problem(epochs=0)
    print(f"(c) gradient check of the digits net 64-128-10 (9,610 parameters), {n_samples} training samples, "
          f"h={h:g}, float64; best of {repeat}; {load_line()}")
    try:
        from nbbackprop.gradcheck import check_directional, check_model
    except Exception as error:  # missing, or half-written by someone right now: skip, do not crash
        print(f"skipped: nbbackprop.gradcheck is not available ({type(error).__name__}: {error})\n")
        return [target_line(None, f"(c) gradient checks: skipped, nbbackprop.gradcheck unavailable ({error})")]
    model, loss = library_model(problem, initial_parameters(problem)), SoftmaxCrossEntropy()
    X, y = problem.X[:n_samples], problem.y[:n_samples]
    with OtherLoad() as load:
        naive = min(timed(lambda: naive_numeric_gradients(model, loss, X, y, h))[0] for _ in range(repeat))
        check_model(model, loss, X, y, h=h)  # warm-up
        full_runs = [timed(lambda: check_model(model, loss, X, y, h=h)) for _ in range(repeat)]
        direction_runs = [
            timed(lambda: check_directional(model, loss, X, y, h=h, rng=np.random.default_rng(1)))
            for _ in range(directional_repeat)
        ]
    full, report = min(full_runs, key=lambda run: run[0])
    directional, direction = min(direction_runs, key=lambda run: run[0])
    print(f"  {'naive loop (one entry, full fprop)':40s} {naive:8.3f} s   1.00")
    print(f"  {'gradcheck.check_model (full)':40s} {full:8.3f} s   {naive / full:.2f}× faster   "
          f"worst rel. error {report.max_error:.1e} ({report.band}), {report.n_near_kink} samples near a kink dropped")
    print(f"  {'gradcheck.check_directional':40s} {1e3 * directional:8.3f} ms  {naive / directional:.0f}× faster   "
          f"rel. error {direction.error:.1e} ({direction.band})")
    print(load.line())
    print()
    return [
        # the full check is the one finite-difference routine (gradcheck.numerical_gradient, two forward passes per
        # entry), so it costs what the naive loop costs; its target is its accuracy, its time is printed
        target_line(report.max_error < 1e-7, f"(c) full finite-difference check right to 1e-7: worst "
                                             f"{report.max_error:.1e} in {full:.3f} s (naive loop {naive:.3f} s: "
                                             f"{naive / full:.2f}×)"),
        target_line(directional < 5e-3, f"(c) directional check < 5 ms: {1e3 * directional:.2f} ms"),
    ]


# --- main ------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes for a smoke test (< 30 s)")
    parser.add_argument("--parts", default="abc", help="which parts to run, e.g. 'a' or 'bc' (default abc)")
    args = parser.parse_args(argv)
    if torch:
        torch.set_num_threads(TORCH_THREADS)
    start = time.perf_counter()
    print(f"nbbackprop training benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {platform.python_implementation()} "
          f"{platform.python_version()}, numpy {np.__version__}, "
          f"torch {torch.__version__ if torch else 'unavailable'}, "
          f"scikit-learn {sklearn.__version__ if sklearn else 'unavailable'}")
    print(f"{platform.processor() or platform.machine()}; {load_line()}" + (";  QUICK RUN: timings indicative only"
                                                                             if args.quick else ""))
    print()
    results = []
    with OtherLoad() as load:
        for part, run in (("a", part_a), ("b", part_b), ("c", part_c)):
            if part in args.parts:
                results += run(args.quick)
    print(f"summary ({time.perf_counter() - start:.0f} s in all; {load.line()}):")
    for verdict, text in results:
        print(f"  {verdict}  {text}")


if __name__ == "__main__":
    main()
