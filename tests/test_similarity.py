"""Similarity screening (autograder/similarity.py), calibrated on hand-written cases.

INDEPENDENT holds correct solutions of the same targets written independently, in different styles
(each as a student would: some terse, some with checks, loops or einsum): none may be flagged against
another or against the reference. COPIES holds copies of one of them, or of the reference, disguised
as copies are (names renamed, methods reordered, comments and blank lines added, the reference's
source pasted in): every one must be flagged against its original. The false-positive rate on
INDEPENDENT and the threshold are reported in autograder/README.md ("Integrity").
"""

import inspect
import itertools
import json

import pytest

from autograder import similarity
from autograder.notebook import read_notebook
from nbbackprop import logistic, mlp, modules

LINEAR_A = '''
class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        self.b = np.zeros(n_out)

    def fprop(self, x):
        self.x = x
        return x @ self.W + self.b

    def bprop(self, grad_y):
        self.grad_W = self.x.T @ grad_y
        self.grad_b = grad_y.sum(axis=0)
        return grad_y @ self.W.T
'''

LINEAR_B = '''
class Linear:
    """My affine layer."""

    def __init__(self, n_in, n_out, rng):
        scale = 0.1
        self.W = scale * rng.normal(size=(n_in, n_out))
        self.b = np.zeros((n_out,), dtype=float)
        self.inputs = None

    def fprop(self, x):
        x = np.asarray(x, dtype=float)
        if x.ndim != 2:
            raise ValueError(f"expected a matrix, got shape {x.shape}")
        self.inputs = x.copy()
        out = np.dot(x, self.W)
        out = out + self.b[None, :]
        return out

    def bprop(self, grad_y):
        n, m = grad_y.shape
        self.grad_b = np.sum(grad_y, axis=0)
        self.grad_W = np.dot(self.inputs.T, grad_y)
        grad_x = np.dot(grad_y, self.W.T)
        return grad_x
'''

LINEAR_C = '''
class Linear:
    def __init__(self, n_in, n_out, rng):
        limit = np.sqrt(6 / (n_in + n_out))
        self.W = rng.uniform(-limit, limit, size=(n_in, n_out))
        self.b = np.zeros(n_out)
        self.cache = {}

    def fprop(self, x):
        self.cache["x"] = x
        return np.einsum("ni,io->no", x, self.W) + self.b

    def bprop(self, grad_y):
        x = self.cache["x"]
        self.grad_W = np.einsum("ni,no->io", x, grad_y)
        self.grad_b = np.einsum("no->o", grad_y)
        return np.einsum("no,io->ni", grad_y, self.W)
'''

SIGMOID_MODULE_A = '''
class Sigmoid:
    def fprop(self, x):
        self.y = np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))
        return self.y

    def bprop(self, grad_y):
        return grad_y * self.y * (1 - self.y)
'''

SIGMOID_MODULE_B = '''
class Sigmoid:
    def fprop(self, x):
        out = np.empty_like(x, dtype=float)
        pos = x >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
        ex = np.exp(x[~pos])
        out[~pos] = ex / (1.0 + ex)
        self.out = out
        return out

    def bprop(self, grad_y):
        s = self.out
        local = s - s ** 2
        return local * grad_y
'''

SIGMOID_MODULE_C = '''
class Sigmoid:
    def fprop(self, x):
        self.s = 0.5 * (1.0 + np.tanh(0.5 * x))
        return self.s

    def bprop(self, grad_y):
        derivative = self.s * (1.0 - self.s)
        grad_x = grad_y * derivative
        return grad_x
'''

SIGMOID_A = '''
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
'''

SIGMOID_B = '''
def sigmoid(z):
    z = np.array(z, dtype=np.float64)
    result = np.zeros_like(z)
    positive = z >= 0
    negative = ~positive
    result[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    exp_z = np.exp(z[negative])
    result[negative] = exp_z / (exp_z + 1.0)
    return result
'''

SIGMOID_C = '''
def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=float)))
'''

SIGMOID_D = '''
def sigmoid(z):
    return 0.5 * (np.tanh(np.asarray(z) / 2.0) + 1.0)
'''

BACKWARD_A = '''
def backward(params, cache, y, lam=0.0):
    activations, probs = cache
    n = probs.shape[0]
    delta = probs.copy()
    delta[np.arange(n), y] -= 1
    delta /= n
    grads = [None] * len(params)
    for l in reversed(range(len(params))):
        W, b = params[l]
        a_prev = activations[l]
        grads[l] = (a_prev.T @ delta + lam * W, delta.sum(axis=0))
        if l > 0:
            delta = (delta @ W.T) * a_prev * (1 - a_prev)
    return grads
'''

BACKWARD_B = '''
def backward(params, cache, y, lam=0.0):
    acts = cache["acts"]
    N, K = acts[-1].shape
    onehot = np.zeros((N, K))
    onehot[np.arange(N), y] = 1.0
    d = (acts[-1] - onehot) / N
    result = []
    layer = len(params) - 1
    while layer >= 0:
        W = params[layer][0]
        inp = acts[layer]
        dW = np.dot(inp.T, d)
        dW += lam * W
        db = np.sum(d, axis=0)
        result.insert(0, (dW, db))
        if layer:
            d = np.dot(d, W.T)
            d *= inp * (1.0 - inp)
        layer -= 1
    return result
'''

BACKWARD_C = '''
def backward(params, cache, y, lam=0.0):
    *hidden, probs = cache
    labels = np.eye(probs.shape[1])[y]
    error = (probs - labels) / len(y)

    def step(index, error):
        weights, _ = params[index]
        below = hidden[index]
        here = (np.einsum("ni,nj->ij", below, error) + lam * weights, error.sum(0))
        if index == 0:
            return [here]
        error_below = np.einsum("nj,ij->ni", error, weights) * below * (1 - below)
        return step(index - 1, error_below) + [here]

    return step(len(params) - 1, error)
'''

# the textbook four-line box, written alike by two students: the same tokens once names are gone, so
# only its length tells it from a copy (too short to judge: MIN_GRAMS)
TANH_A = '''
class Tanh:
    def fprop(self, x):
        self.y = np.tanh(x)
        return self.y

    def bprop(self, grad_y):
        return grad_y * (1 - self.y ** 2)
'''

TANH_B = '''
class Tanh:
    def fprop(self, inputs):
        self.out = np.tanh(inputs)
        return self.out

    def bprop(self, g):
        return g * (1 - self.out ** 2)
'''

# copies: (target, name, source, what it copies: an INDEPENDENT key or "reference")
LINEAR_RENAMED = '''
class Linear:
    def __init__(self, fan_in, fan_out, generator):
        self.W = generator.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)
        self.b = np.zeros(fan_out)

    def fprop(self, inp):
        self.saved = inp
        return inp @ self.W + self.b

    def bprop(self, upstream):
        self.grad_W = self.saved.T @ upstream
        self.grad_b = upstream.sum(axis=0)
        return upstream @ self.W.T
'''

LINEAR_REORDERED = '''
class Linear:
    def bprop(self, grad_y):
        self.grad_W = self.x.T @ grad_y
        self.grad_b = grad_y.sum(axis=0)
        return grad_y @ self.W.T

    def fprop(self, x):
        self.x = x
        return x @ self.W + self.b

    def __init__(self, n_in, n_out, rng):
        self.W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        self.b = np.zeros(n_out)
'''

LINEAR_COMMENTED = '''
class Linear:
    """A fully connected layer, written by me."""

    def __init__(self, n_in, n_out, rng):
        # weights scaled by 1/sqrt(n_in) so the activations keep their size

        self.W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)

        # biases start at zero
        self.b = np.zeros(n_out)

    def fprop(self, x):
        """Forward pass."""
        self.x = x  # keep the input for bprop

        return x @ self.W + self.b  # the affine map

    def bprop(self, grad_y):
        # gradient of the weights: x transposed times the upstream gradient
        self.grad_W = self.x.T @ grad_y

        self.grad_b = grad_y.sum(axis=0)  # sum over the batch
        # gradient of the input
        return grad_y @ self.W.T
'''

LINEAR_ALL = '''
class Linear:
    # backward first, I like it that way
    def bprop(self, g):
        self.grad_W = self.inp.T @ g   # dL/dW

        self.grad_b = g.sum(axis=0)
        return g @ self.W.T

    def __init__(self, a, c, r):
        self.W = r.standard_normal((a, c)) / np.sqrt(a)
        self.b = np.zeros(c)

    def fprop(self, data):
        self.inp = data
        return data @ self.W + self.b
'''

BACKWARD_RENAMED = '''
def backward(params, cache, y, lam=0.0):
    outs, p = cache
    count = p.shape[0]
    err = p.copy()
    err[np.arange(count), y] -= 1
    err /= count

    gradients = [None] * len(params)
    for i in reversed(range(len(params))):
        # layer i
        Wi, bi = params[i]
        below = outs[i]
        gradients[i] = (below.T @ err + lam * Wi, err.sum(axis=0))
        if i > 0:
            err = (err @ Wi.T) * below * (1 - below)  # chain rule through the sigmoid
    return gradients
'''

SIGMOID_RENAMED = '''
def sigmoid(x):
    # stable version
    x = np.asarray(x, dtype=float)
    t = np.exp(-np.abs(x))

    return np.where(x >= 0, 1 / (1 + t), t / (1 + t))
'''

SIGMOID_MODULE_RENAMED = '''
class Sigmoid:
    def bprop(self, upstream):
        return upstream * self.out * (1 - self.out)

    def fprop(self, inputs):
        # stable both ways
        self.out = np.where(inputs >= 0, 1 / (1 + np.exp(-np.abs(inputs))),
                            np.exp(-np.abs(inputs)) / (1 + np.exp(-np.abs(inputs))))
        return self.out
'''


def _pasted(reference):
    """The reference's source pasted into the cell with its library base classes (short of which it would
    not run without importing them, the checks' ``delegation``)."""
    bases = [c for c in reference.__mro__[-2::-1] if c.__module__ == "nbbackprop.modules"]
    return "from nbbackprop._validation import as_matrix\n\n" + "\n\n".join(map(inspect.getsource, bases))


INDEPENDENT = {
    "Linear": {"A": LINEAR_A, "B": LINEAR_B, "C": LINEAR_C},
    "Sigmoid": {"A": SIGMOID_MODULE_A, "B": SIGMOID_MODULE_B, "C": SIGMOID_MODULE_C},
    "sigmoid": {"A": SIGMOID_A, "B": SIGMOID_B, "C": SIGMOID_C, "D": SIGMOID_D},
    "backward": {"A": BACKWARD_A, "B": BACKWARD_B, "C": BACKWARD_C},
    "Tanh": {"A": TANH_A, "B": TANH_B},
}
ASSIGNMENT = {"Linear": "ps4_flow_graph", "Sigmoid": "ps4_flow_graph", "Tanh": "ps4_flow_graph",
              "sigmoid": "ps2_logistic", "backward": "ps3_backprop"}
COPIES = [
    ("Linear", "renamed", LINEAR_RENAMED, "A"),
    ("Linear", "reordered", LINEAR_REORDERED, "A"),
    ("Linear", "commented", LINEAR_COMMENTED, "A"),
    ("Linear", "renamed, reordered, commented", LINEAR_ALL, "A"),
    ("Linear", "reference pasted", _pasted(modules.Linear), "reference"),
    ("Sigmoid", "renamed, reordered", SIGMOID_MODULE_RENAMED, "A"),
    ("Sigmoid", "reference pasted", _pasted(modules.Sigmoid), "reference"),
    ("sigmoid", "renamed, commented", SIGMOID_RENAMED, "A"),
    ("sigmoid", "reference pasted", inspect.getsource(logistic.sigmoid), "reference"),
    ("backward", "renamed, commented", BACKWARD_RENAMED, "A"),
    ("backward", "reference pasted", inspect.getsource(mlp.backward), "reference"),
]


def _code(target, source):
    return similarity.Code(source, similarity.starter(ASSIGNMENT[target]).get(target))


def pair_score(target, source, other):
    """(score, flagged) of a cell against another cell, or against the reference (``other`` None)."""
    mine = _code(target, source)
    if other is None:
        reference = similarity.reference_code(target)
        value = similarity.contained(mine, reference)
        return value, value >= similarity.THRESHOLD and similarity.judged(mine, reference)
    theirs = _code(target, other)
    value = similarity.score(mine, theirs)
    return value, value >= similarity.THRESHOLD and similarity.judged(mine, theirs)


def independent_pairs():
    """Every pair that must not be flagged: (target, names, source, other source or None for the reference)."""
    pairs = []
    for target, versions in INDEPENDENT.items():
        pairs += [(target, f"{a}~{b}", versions[a], versions[b]) for a, b in itertools.combinations(versions, 2)]
        pairs += [(target, f"{a}~reference", source, None) for a, source in versions.items()]
    return pairs


def copy_pairs():
    return [(target, name, source, None if of == "reference" else INDEPENDENT[target][of])
            for target, name, source, of in COPIES]


@pytest.mark.parametrize(("target", "names", "source", "other"), independent_pairs(),
                         ids=[f"{p[0]}:{p[1]}" for p in independent_pairs()])
def test_independent_solutions_are_not_flagged(target, names, source, other):
    value, flagged = pair_score(target, source, other)
    assert not flagged, f"{target} {names}: {value:.2f}"
    assert value < similarity.THRESHOLD - 0.1 or not similarity.judged(_code(target, source)), \
        f"{target} {names}: {value:.2f} is within 0.1 of the threshold"


@pytest.mark.parametrize(("target", "name", "source", "other"), copy_pairs(), ids=[f"{p[0]}:{p[1]}" for p in COPIES])
def test_disguised_copies_are_flagged(target, name, source, other):
    value, flagged = pair_score(target, source, other)
    assert flagged, f"{target} {name}: {value:.2f}"


def test_false_positive_rate_on_the_calibration_set_is_zero():
    flagged = [names for target, names, source, other in independent_pairs()
               if pair_score(target, source, other)[1]]
    assert len(independent_pairs()) == 31 and flagged == []


def test_renaming_reordering_and_comments_leave_the_stream_unchanged():
    assert similarity.units_of(LINEAR_A) == similarity.units_of(LINEAR_REORDERED) \
        == similarity.units_of(LINEAR_COMMENTED) == similarity.units_of(LINEAR_RENAMED)


def test_the_released_starter_code_is_boilerplate():
    """Sequential's given __init__ is the starter's: two students who wrote nothing else share nothing."""
    given = similarity.starter("ps4_flow_graph")["Sequential"]
    stub = similarity.Code(given.source, given)
    assert stub.grams == set() and similarity.score(stub, stub) == 0.0
    filled = similarity.Code(given.source.replace(
        'raise NotImplementedError("replace this line with your code: the docstring says what")',
        "return x"), given)
    assert not any(unit[:2] == ["def", "arguments"] and "list" in unit for unit in filled.units)


REBUILT = {
    "exec of getsource": "import inspect, nbbackprop.modules\nexec(inspect.getsource(nbbackprop.modules.Linear))",
    "getsource hidden behind getattr": "m = __import__('insp' + 'ect')\nsrc = getattr(m, 'getsource')(Linear)",
    "FunctionType from __code__": ("import types\nfrom nbbackprop import mlp\n"
                                   "backward = types.FunctionType(mlp.backward.__code__, globals())"),
    "the library file read": ("import nbbackprop\nsrc = open(nbbackprop.__file__.replace('__init__', 'modules'))"
                              ".read()\nexec(src)"),
    "a path named": "exec(open('/usr/lib/python3/nbbackprop/mlp.py').read())",
}


@pytest.mark.parametrize("source", REBUILT.values(), ids=REBUILT)
def test_a_reference_rebuilt_at_run_time_is_found_by_the_scan(source):
    assert similarity.rebuilt_reference(source)


@pytest.mark.parametrize("source", [LINEAR_A, LINEAR_B, LINEAR_C, BACKWARD_C, SIGMOID_B,
                                    "import numpy as np\nrng = np.random.default_rng(0)\nprint(open('notes.txt'))"])
def test_ordinary_cells_have_no_rebuilt_reference(source):
    assert similarity.rebuilt_reference(source) == []


def _notebook(cells):
    """A notebook of code cells, ``{grade_id: source}``."""
    return read_notebook(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": f"c{i}", "metadata": {"nbgrader": {"grade_id": name, "solution": True}},
         "source": source, "outputs": [], "execution_count": None}
        for i, (name, source) in enumerate(cells.items())]}).encode())


def test_screen_lists_pairs_both_ways_and_the_reference():
    notebooks = {"ann": _notebook({"Linear": LINEAR_A}), "bob": _notebook({"Linear": LINEAR_ALL}),
                 "cat": _notebook({"Linear": LINEAR_C}), "dan": _notebook({"Linear": _pasted(modules.Linear)}),
                 "eve": _notebook({"Linear": REBUILT["exec of getsource"]})}
    rows = similarity.screen("ps4_flow_graph", notebooks)
    flagged = {student: sorted((r["with"], r["target"]) for r in found if r["flagged"])
               for student, found in rows.items()}
    assert flagged == {"ann": [("bob", "Linear")], "bob": [("ann", "Linear")], "cat": [],
                       "dan": [("reference", "Linear")], "eve": [("reference", "Linear")]}
    (eve,) = rows["eve"]
    assert eve["score"] == 1.0 and "getsource" in eve["reason"] and "class Linear" in eve["other_code"]
    (bob,) = rows["bob"]
    assert bob["code"] == LINEAR_ALL and bob["other_code"] == LINEAR_A and bob["score"] >= similarity.THRESHOLD


def test_run_time_events_give_reasons():
    reference = similarity.reference_code("Linear")
    events = [["compile", inspect.getsource(modules.Linear)], ["compile", "int | None"],
              ["open", "nbbackprop/modules.py"], ["code", "nbbackprop/mlp.py"]]
    reasons = similarity.run_time_reasons(events, reference)
    assert len(reasons) == 3 and "matches the reference" in reasons[0] and reasons[1].startswith("opened")
    assert similarity.run_time_reasons([["compile", LINEAR_C]], reference) == []


OBFUSCATED = ("read = getattr(__import__('insp' + 'ect'), 'get' + 'so' + 'urce')\n"
              "import nbbackprop.modules as library\n"
              "exec(read(library.Linear), globals())")


def test_grade_class_screens_the_class_and_zero_is_on_request(tmp_path):
    """Two students hand in the same model answer; a third rebuilds Linear from the library's source by a
    route the AST scan cannot read (names built from pieces): its process is caught compiling the reference."""
    import nbformat

    from autograder.cells import grade_id
    from autograder.course import model_answer
    from autograder.grader import grade_class

    for student, linear in (("ann", None), ("bob", None), ("eve", OBFUSCATED)):
        notebook = model_answer("ps4_flow_graph")
        for cell in notebook.cells:
            if linear and grade_id(cell) == "Linear":
                cell.source = linear
        folder = tmp_path / "submitted" / student / "ps4_flow_graph"
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / "ps4_flow_graph.ipynb")
    assert similarity.rebuilt_reference(OBFUSCATED) == []
    report = grade_class("ps4_flow_graph", [tmp_path], jobs=1)
    entries = {entry["student"]: entry for entry in report["submissions"]}
    assert not any("run_events" in entry for entry in entries.values())
    flagged = {student: {(r["with"], r["target"]) for r in entry["similarity"] if r["flagged"]}
               for student, entry in entries.items()}
    assert ("bob", "Linear") in flagged["ann"] and ("ann", "Linear") in flagged["bob"]
    assert ("reference", "Linear") in flagged["eve"] and ("ann", "Linear") not in flagged["eve"]
    (row,) = [r for r in entries["eve"]["similarity"] if r["with"] == "reference"]
    assert row["score"] == 1.0 and "compiled code at run time that matches the reference" in row["reason"]

    similarity.zero_flagged(report)
    eve = entries["eve"]
    assert all(line["points"] == 0.0 for line in eve["tests"] if line["target"] == "Linear")
    zeroed = sorted({row["target"] for row in eve["similarity"] if row["flagged"]})  # Linear, and ann's code
    assert "Linear" in zeroed and all(line["points"] == 0.0 for line in eve["tests"] if line["target"] in zeroed)
    assert eve["score"] == sum(t["points"] for t in eve["tests"]) > 0  # the boxes too short to judge keep theirs
    assert eve["notes"][-1].startswith(f"{', '.join(zeroed)} scored 0")
    assert "ann" not in eve["notes"][-1] and "bob" not in eve["notes"][-1]


def test_the_students_process_records_what_its_cells_rebuild():
    """Only while a cell runs, and not what imports, warnings or generated namedtuples do."""
    from autograder import sandbox

    cells = [(1, "import collections\nimport nbbackprop.mlp\nPoint = collections.namedtuple('Point', 'x y z')"),
             (2, "exec(open(nbbackprop.mlp.__file__).read(), {'__name__': 'copied', '__package__': 'nbbackprop'})"),
             (3, "def backward(params, cache, y, lam=0.0):\n    return [(W * 0, b * 0) for W, b in params]")]
    results, failures, _ = sandbox.run_submission(cells, ["backward"], sandbox.Limits())
    assert failures == {}
    events = results["backward"]["run_events"]
    assert [kind for kind, _, _ in events] == ["open", "compile"] and {cell for _, _, cell in events} == {2}
    assert events[0][1] == "nbbackprop/mlp.py" and "def backward(" in events[1][1]
    assert similarity.run_time_reasons(events, similarity.reference_code("backward"))
