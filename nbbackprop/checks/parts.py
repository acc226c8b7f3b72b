"""Parts that several targets share: unpacking what came back, integer output, read-only inputs,
large-input stability, state across calls, agreement with the student's own forward pass, and the
decision boundary a failed linear classifier's verdict carries."""

from dataclasses import replace

import numpy as np

from .compare import as_numbers
from .engine import (
    OK,
    Raised,
    call,
    close,
    copied,
    explain,
    failed,
    finding,
    frozen,
    is_stub,
    unless_stub,
    with_collaborators,
)
from .verdict import Boundary

FD_STEP = 1e-6  # the step of the central differences taken of a student's own forward pass


def unpack(result, shapes, names, *, by_size=False):
    """A returned tuple or list as float arrays of the given ``shapes``, or a :class:`Raised` saying what
    is wrong with it (code ``shape``). A shape of ``()`` takes any one number, ``None`` any array,
    ``...`` keeps the entry as it came (a cache); ``by_size`` compares sizes instead of shapes."""
    if isinstance(result, Raised):
        return result
    if result is None:
        return Raised("exception", "returned None — did you forget `return`?")
    if not isinstance(result, (tuple, list)) or len(result) != len(shapes):
        return Raised("shape", f"returned {type(result).__name__}, expected {names}")
    out = []
    for value, shape in zip(result, shapes):
        if isinstance(value, Raised):
            return value
        if shape is ...:
            out.append(value)
            continue
        array = np.asarray(value) if not isinstance(value, Raised) else None
        if array is None or array.dtype.kind not in "biuf":
            return Raised("shape", f"returned {type(value).__name__} inside {names}, expected numbers")
        if array.dtype.kind != "f":
            array = array.astype(float)  # (a float dtype is kept: its precision is judged)
        if shape == () and array.size == 1:
            array = array.reshape(())
        elif shape is not None and (array.size != int(np.prod(shape)) if by_size else array.shape != shape):
            return Raised("shape", f"returned an entry of shape {array.shape} in {names}, expected {shape}")
        out.append(array.reshape(shape) if by_size and shape is not None else array)
    return out


def int_vector(where, candidates, n, cause):
    """An ``output`` part: an integer numpy array of shape (n,). Passes if any candidate does; a call that
    raised is charged in the value part, so here it only fails while the code is a stub."""
    first = None
    for got in candidates:
        if isinstance(got, Raised) or got is None:
            continue
        array = np.asarray(got)
        if not isinstance(got, np.ndarray):
            problem = failed("mismatch", f"{where} returned a {type(got).__name__}, expected a numpy array of 0/1.",
                             "return the comparison as an array: (X @ w + b >= 0).astype(int), not a list.")
            first = first or problem
            continue
        if array.shape == (n,) and array.dtype.kind in "iu":
            return OK
        if array.shape != (n,):
            problem = failed("shape", f"{where} returned shape {array.shape}, expected ({n},) — one 0/1 per sample.",
                             cause)
        else:
            problem = failed("mismatch", f"{where} returned dtype {array.dtype}, expected an integer array of 0/1.",
                             "comparisons give booleans; convert with .astype(int).")
        first = first or problem
    return first or unless_stub(where, *candidates)


def read_only(where, frozen_result, ran, probe_text, causes=None):
    """A ``mutation`` part: the call on read-only inputs must not raise a write error; judged only once
    the code runs at all (``ran``: its ordinary results)."""
    if isinstance(frozen_result, Raised) and frozen_result.code in ("mutation", "not-implemented"):
        return explain(frozen_result.code, where, "mutation", frozen_result, 0.0, probe_text=probe_text,
                       causes=causes)
    return unless_stub(where, *ran)


GENERIC_UNSTABLE = "large inputs overflow: use a formula that never exponentiates a large positive number."


def stability(checks, probe_text, cause=None):
    """Large inputs: no overflow, NaN or inf; the values themselves are compared only where the
    part that judges them on ordinary inputs passed (so a wrong formula is charged once).

    ``checks`` lists ``(where, got, expected, compare_values)``.
    """
    causes = {"unstable": cause or GENERIC_UNSTABLE, "mismatch": cause or GENERIC_UNSTABLE}
    for where, got, expected, compare_values in checks:
        if got is None:
            continue
        if isinstance(got, Raised):
            if got.code == "exception" and not compare_values:
                continue  # the same exception already cost points where it first appeared
            return explain(got.code, where, "stability", got, expected, probe_text=probe_text, causes=causes)
        array = as_numbers(got)
        if array is not None and not np.all(np.isfinite(array)):
            return explain("unstable", where, "stability", got, expected, probe_text=probe_text, causes=causes)
        if compare_values:
            verdict = finding(where, "stability", got, expected, probe_text=probe_text, causes=causes)
            if not verdict.passed:
                return verdict
    return OK


def fresh_twin(where, second, fresh):
    """A ``state`` part: a box used before must answer a new fprop/bprop exactly as a fresh box does."""
    if isinstance(fresh, Raised) or fresh is None:
        return unless_stub(where, fresh, second)  # other failures of a fresh box cost elsewhere
    if isinstance(second, Raised):
        return explain(second.code, where, "state", second, fresh, probe_text="a second fprop")
    if np.shape(second) == np.shape(fresh) and np.allclose(second, fresh, rtol=1e-12, atol=1e-300):
        return OK
    return failed("state", f"{where}: after a second fprop on new inputs, bprop gave a different answer from a "
                           "fresh box given the same inputs.",
                  "bprop must use what the latest fprop kept, and set (not accumulate) what it computes.")


def agrees_with_own_forward(plus, minus, got, upstream):
    """Does a backward result match central differences of the student's own forward pass, taken from its
    outputs at x ± FD_STEP? (A right derivative of a wrong forward costs once, in the forward part.)"""
    if is_stub(plus, minus, got) or any(isinstance(v, Raised) for v in (plus, minus, got)):
        return False
    plus, minus, got = (as_numbers(value) for value in (plus, minus, got))
    if plus is None or minus is None or got is None or not plus.shape == minus.shape == got.shape:
        return False
    return bool(np.allclose(got, upstream * (plus - minus) / (2 * FD_STEP), rtol=1e-5, atol=1e-7))


# ---- judging a part once, tiny examples, collaborators ------------------------------------------------


def gated(passed, where, results, judge):
    """A part judged (``judge()``) only once another part passed (``passed``); until then it fails only
    while the code is a stub (:func:`unless_stub` of ``results``), so one bug costs once."""
    return judge() if passed else unless_stub(where, *results)


def raised_as(result, *codes):
    """Is ``result`` a :class:`Raised` with one of ``codes`` (with any code when none is given)?"""
    return isinstance(result, Raised) and (not codes or result.code in codes)


def tiny_case(text, got, expected, *, show_none=False):
    """The ``tiny`` of :func:`finding`: ``(text, got, expected)`` when the tiny input shows the bug; None
    when ``got`` raised, is right, or (unless ``show_none``) came back None."""
    if isinstance(got, Raised) or (got is None and not show_none) or close(got, expected):
        return None
    return text, got, expected


def listed(values):
    """Numbers as the student would type them, ``[-700, 0.5, 1e+04]``, for probe inputs in messages."""
    return "[" + ", ".join(f"{v:g}" for v in np.ravel(values)) + "]"


def as_vector(entries):
    """Entries of :func:`unpack` (``w``, ``b``, …) as one flat vector ``[w…, b]``; a Raised as it is."""
    return entries if isinstance(entries, Raised) else np.concatenate([np.ravel(entry) for entry in entries])


def runs_of(function, module, names):
    """The runs of a target to probe: ``{"own": function}`` and, where it can be rebuilt, ``"isolated"``:
    ``function`` with the global ``names`` (its collaborators) meaning ``module``'s reference ones."""
    runs = {"own": function}
    isolated = with_collaborators(function, **{name: getattr(module, name) for name in names})
    if isolated is not None:
        runs["isolated"] = isolated
    return runs


def either(judge, results):
    """``judge(results["own"])``, except that a part failing there takes its verdict on ``results["isolated"]``
    (the runs of :func:`runs_of`) when that one passes: a collaborator's bug is charged to it alone."""
    found = judge(results["own"])
    if "isolated" not in results or all(verdict.passed for verdict in found.values()):
        return found
    alone = judge(results["isolated"])
    return {part: alone[part] if alone[part].passed else verdict for part, verdict in found.items()}


def flat(value, size):
    """``value`` as a flat float vector when it holds ``size`` numbers, whatever its shape (the shape is
    judged in a part of its own); anything else as it came."""
    if isinstance(value, Raised) or value is None:
        return value
    array = as_numbers(value)
    if array is not None and np.asarray(value).dtype.kind in "biuf" and array.size == size:
        return array.reshape(size).astype(float)
    return value


def first_failed(verdicts):
    """The first of ``verdicts`` that did not pass, else OK. ``verdicts`` may be a generator: it is not run
    past the first failure, so a later check that only means something once the earlier pass is never made."""
    return next((verdict for verdict in verdicts if not verdict.passed), OK)


def first_entry(entries):
    """The first of the entries that :func:`unpack` gave (``probs`` of ``(probs, cache)``), or its Raised."""
    return entries if isinstance(entries, Raised) else entries[0]


def scalars(results):
    """The results of several calls that each return one number, as one float vector; else the first
    :class:`Raised` among them, or a ``shape`` Raised when they are not one number each."""
    first = next((result for result in results if isinstance(result, Raised)), None)
    if first is not None:
        return first
    got = as_numbers(results)
    if got is None or got.ndim != 1:
        return Raised("shape", f"returned values of shapes {[np.shape(r) for r in results]}, expected one float each")
    return got


def restored(where, before, after, drift_cause, cause, name="x"):
    """A ``mutation`` part for an array the code changes in place and must put back bit for bit: OK when
    ``after`` equals ``before``, else which entries moved, with ``drift_cause`` when they moved in the last
    bits only (``x + h − h`` is not always ``x``) and ``cause`` otherwise."""
    try:
        after = np.asarray(after, dtype=float)
    except (TypeError, ValueError):
        after = None
    if after is None or after.shape != before.shape:
        return failed("mutation", f"{where}: {name} lost its shape or values.",
                      "change one entry at a time and put it back.")
    moved = np.argwhere(after != before)
    if not len(moved):
        return OK
    index = tuple(int(i) for i in moved[0])
    drifted = float(np.max(np.abs(after - before))) <= 1e-12 * max(float(np.max(np.abs(before))), 1.0)
    return failed("mutation", f"{where} changed {len(moved)} of the {before.size} entries of {name} ({name} of shape "
                              f"{before.shape}); at index {index} {name} was {float(before[index])!r}, afterwards "
                              f"{float(after[index])!r}.", drift_cause if drifted else cause)


# ---- boxes with fprop/bprop ---------------------------------------------------------------------------


def attribute(box, name):
    """``box.<name>`` copied (a gradient bprop set), or a :class:`Raised` when the box has none."""
    value = getattr(box, name, None)
    return copied(value) if value is not None else Raised("exception", f"has no attribute {name} after bprop")


def backward(box, grad):
    """``box.bprop(grad)`` on a read-only copy, ``bprop()`` when ``grad`` is None (a loss); the answer copied."""
    return copied(call(box.bprop, *(() if grad is None else (frozen(grad),))))


def in_turn(boxes, runs, attributes=()):
    """Boxes used in turn, as the layers of one network are. Each box has its run ``(attributes to set, fprop
    args, grad_y)``: the attributes are set, fprop runs on every box, then bprop on every box, on read-only
    inputs. Per box: what fprop and bprop returned, then the ``attributes`` bprop set (:func:`attribute`)."""
    for box, (state, _, _) in zip(boxes, runs):
        for name, value in state.items():
            setattr(box, name, frozen(value))
    outputs = [copied(call(box.fprop, *map(frozen, args))) for box, (_, args, _) in zip(boxes, runs)]
    answers = [backward(box, grad) for box, (_, _, grad) in zip(boxes, runs)]
    return [(y, answer, *(attribute(box, name) for name in attributes))
            for box, y, answer in zip(boxes, outputs, answers)]


# ---- a network's parameters: a list of (W, b) pairs ---------------------------------------------------


def as_pairs(value):
    """A returned list of (W, b) pairs (a network's params, or their gradients) as a list of pairs of float
    arrays, or a :class:`Raised` (code ``shape``) saying what came instead."""
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


def frozen_pairs(pairs):
    """Read-only copies of a list of (W, b) pairs (:func:`frozen`): code that writes into them fails loudly."""
    return [(frozen(W), frozen(b)) for W, b in pairs]


def same_pairs(a, b):
    """Do two lists of (W, b) pairs (:func:`as_pairs`) hold exactly the same numbers? False if either raised."""
    return not isinstance(a, Raised) and not isinstance(b, Raised) and len(a) == len(b) and all(
        np.array_equal(x, y) for pa, pb in zip(a, b) for x, y in zip(pa, pb))


def differences(loss, arrays, h=1e-5):
    """Central differences (:func:`nbbackprop.gradcheck.numerical_gradient`) of ``loss()``, a number the checks
    compute from a call of the student's code, with respect to each of ``arrays`` (changed in place and put
    back). When that call fails ``loss`` returns its :class:`Raised`: no further calls, and the Raised comes
    back in place of the differences."""
    from ..gradcheck import numerical_gradient  # the library's one finite-difference routine

    failure = []

    def value():
        result = failure[0] if failure else loss()
        if isinstance(result, Raised):
            failure[:] = [result]
            return 0.0
        return result

    grads = [numerical_gradient(value, array, h) for array in arrays]
    return failure[0] if failure else grads


def with_boundary(verdict, X, y, got, expected, **settings):
    """``verdict`` carrying the :class:`Boundary` of ``got`` and ``expected`` (each ``[w₁, w₂, b]``) on the
    probe ``X``, ``y`` — when it failed, ``X`` is 2-D and both are three finite numbers; else as it is."""
    pair = [np.asarray(v, dtype=float).ravel() if isinstance(v, (list, tuple, np.ndarray)) else None
            for v in (got, expected)]
    X = np.asarray(X, dtype=float)
    if verdict.passed or X.ndim != 2 or X.shape[1] != 2 or any(
            v is None or v.shape != (3,) or not np.all(np.isfinite(v)) for v in pair):
        return verdict
    line = [(tuple(float(c) for c in v[:2]), float(v[2])) for v in pair]
    return replace(verdict, boundary=Boundary(tuple(tuple(float(c) for c in row) for row in X),
                                              tuple(int(label) for label in y), *line,
                                              tuple((k, float(v)) for k, v in settings.items())))
