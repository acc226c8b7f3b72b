"""The machinery of the checks: run student code safely, compare, and name the bug.

A check is split in two halves so that a grader can run them in different
processes:

* ``probe`` runs the student's code on inputs generated from fixed seeds and
  returns plain results — arrays, numbers, or a :class:`Raised` record;
* ``judge`` regenerates the same inputs, computes the reference answers and
  the answers of typical bugs, and turns each result into a :class:`Verdict`
  with one diagnosis code and a message a teaching assistant would write.

Nothing the student's code returns is trusted beyond its numbers: the
comparison, the tolerances and the reference all live on the judge's side.
"""

import contextlib
import signal
import sys
import threading
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "CODES",
    "CheckFailure",
    "Part",
    "Raised",
    "Suite",
    "Verdict",
    "WatchedSuite",
    "call",
    "close",
    "diagnose",
    "fmt",
    "frozen",
    "unless_stub",
    "with_collaborators",
]

CODES = {
    "ok": "passed",
    "not-implemented": "still raises NotImplementedError",
    "exception": "raised another exception",
    "timeout": "ran past its time limit",
    "shape": "wrong shape (not a transpose)",
    "transpose": "the transpose of the right answer, or W where Wᵀ belongs",
    "sign": "the right answer with the opposite sign",
    "scale-batch": "off by exactly the batch size (sum vs mean, averaged twice)",
    "scale": "off by another constant factor",
    "axis": "reduced or normalised over the wrong axis",
    "activation-derivative": "derivative missing, taken at the wrong value, or mask applied to the wrong tensor",
    "chain-rule": "the upstream gradient is ignored",
    "regularization": "L2 term missing, doubled, or applied to biases",
    "mutation": "an input array (or a cache another call needs) was changed in place",
    "state": "the result depends on earlier calls",
    "unstable": "overflow warning, NaN or inf on large inputs",
    "delegation": "the graded code calls the reference implementation",
    "mismatch": "wrong, no known cause",
}

RTOL = 1e-7  # tight enough to fail a one-sided difference (~1e-5), loose enough for loops and einsum (~1e-15)


@dataclass(frozen=True)
class Raised:
    """What came back instead of a value: the code (``not-implemented``, ``exception``,
    ``timeout``, ``unstable``, ``mutation``) and a one-line description."""

    code: str
    message: str


@dataclass
class Verdict:
    """The judgement of one graded part: ``id`` is ``"<target>.<part>"``."""

    id: str
    target: str
    diagnosis: str
    message: str = ""
    hidden: bool = False
    points: float = 0.0
    max_points: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def passed(self):
        return self.diagnosis == "ok"

    def as_dict(self):
        return {
            "id": self.id,
            "target": self.target,
            "points": self.points,
            "max_points": self.max_points,
            "diagnosis": self.diagnosis,
            "message": self.message,
        }


class CheckFailure(AssertionError):
    """Raised by a visible or hidden test: the verdict's code and its message."""

    def __init__(self, verdict):
        super().__init__(f"[{verdict.diagnosis}] {verdict.message}")
        self.verdict = verdict


# ---- running student code ---------------------------------------------------------------------


class _Timeout(BaseException):
    """Raised inside student code when its time is up (a BaseException so `except Exception` can't eat it)."""


@contextlib.contextmanager
def _time_limit(seconds):
    if seconds is None or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _first_line(error):
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".strip().rstrip(":")


def call(function, *args, time_limit=10.0, **kwargs):
    """Call student code; return its value, or a :class:`Raised` describing what went wrong.

    Overflow and invalid-value warnings inside the call count as ``unstable``;
    writing to a read-only input counts as ``mutation``.
    """
    try:
        with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"), \
                _time_limit(time_limit):
            warnings.simplefilter("error", RuntimeWarning)
            return function(*args, **kwargs)
    except NotImplementedError as error:
        return Raised("not-implemented", _first_line(error))
    except _Timeout:
        return Raised("timeout", f"did not finish within {time_limit:g} s")
    except (FloatingPointError, RuntimeWarning) as error:
        return Raised("unstable", _first_line(error))
    except ValueError as error:
        if "read-only" in str(error):
            return Raised("mutation", _first_line(error))
        return Raised("exception", _first_line(error))
    except RecursionError as error:
        return Raised("exception", _first_line(error))
    except Exception as error:  # the student's bug, whatever it is
        return Raised("exception", _first_line(error))


def frozen(array):
    """A read-only copy: student code that writes into its input fails loudly (``mutation``)."""
    array = np.array(array, copy=True)
    array.flags.writeable = False
    return array


def plain(value):
    """Student output as plain data (numpy arrays, floats, lists) — nothing that runs code when read."""
    if isinstance(value, Raised) or value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype == object:
            return Raised("exception", f"returned an object array, expected numbers (dtype {value.dtype})")
        return np.array(value)
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value) if isinstance(value, list) else tuple(plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    try:
        return np.array(value, dtype=float)
    except (TypeError, ValueError):
        return Raised("exception", f"returned a {type(value).__name__}, expected numbers")


# ---- comparing -----------------------------------------------------------------------------------


def as_numbers(value):
    """``value`` as a float array, or None when it is not numbers."""
    if isinstance(value, Raised) or value is None:
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return array


def close(got, expected, rtol=RTOL):
    """Same shape and every entry within ``rtol`` of the expected scale."""
    got, expected = as_numbers(got), np.asarray(expected, dtype=float)
    if got is None or got.shape != expected.shape:
        return False
    if not np.all(np.isfinite(got)):
        return False
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return bool(np.all(np.abs(got - expected) <= rtol * np.abs(expected) + 1e-9 * rtol * scale + 1e-300))


def fmt(value, digits=3):
    """Numbers with few digits, for messages."""
    if isinstance(value, Raised):
        return value.message
    array = as_numbers(value)
    if array is None:
        return repr(value)[:80]
    with np.printoptions(precision=digits, suppress=True, threshold=12, edgeitems=2, linewidth=100):
        text = np.array2string(array, separator=", ") if array.ndim else f"{float(array):.{digits + 1}g}"
    return " ".join(text.split())


def diagnose(got, expected, alternatives=(), batch=None):
    """The diagnosis code of ``got`` against ``expected``.

    ``alternatives`` are ``(code, value)`` pairs: the answers typical bugs give
    on the same input (computed by the judge), tried before the generic causes.
    Then: transpose, shape, unstable, sign, ``scale-batch`` (off by ``batch``),
    ``scale`` (another constant factor), else ``mismatch``.
    """
    if isinstance(got, Raised):
        return got.code
    expected = np.asarray(expected, dtype=float)
    array = as_numbers(got)
    if array is None:
        return "shape"
    if close(array, expected):
        return "ok"
    for code, value, *_ in alternatives:
        if value is not None and close(array, value):
            return code
    if array.shape != expected.shape:
        if array.ndim == 2 and array.shape == expected.T.shape and close(array, expected.T):
            return "transpose"
        if array.size == expected.size and close(array.reshape(expected.shape), expected):
            return "shape"
        return "shape"
    if not np.all(np.isfinite(array)):
        return "unstable"
    if close(-array, expected):
        return "sign"
    if batch and (close(array * batch, expected) or close(array / batch, expected)):
        return "scale-batch"
    denominator = float(np.sum(expected * expected))
    if denominator > 0:
        factor = float(np.sum(array * expected)) / denominator
        if abs(factor - 1.0) > 1e-6 and abs(factor) > 1e-12 and close(array, factor * expected):
            return "scale"
    return "mismatch"


# ---- suites: parts, points, probe and judge ---------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A graded part of a target: ``name`` (``"grad_W"``) and a short description."""

    name: str
    about: str


class Suite:
    """The checks of one graded target.

    Subclasses set ``target`` (the contract name), ``parts`` and ``signature``,
    and write ``probe(candidate, hidden)`` → dict of plain results and
    ``judge(results, hidden)`` → dict part name → (diagnosis, message).
    """

    target = ""
    signature = ""
    parts = ()

    def probe(self, candidate, hidden=False):
        raise NotImplementedError

    def judge(self, results, hidden=False):
        raise NotImplementedError

    def verdicts(self, results, hidden=False):
        """The judge's findings as :class:`Verdict` objects, one per part, in order."""
        found = self.judge(results, hidden)
        out = []
        for part in self.parts:
            code, message = found.get(part.name, ("mismatch", f"{self.target}: {part.name} was not checked"))
            out.append(Verdict(f"{self.target}.{part.name}", self.target, code, message if code != "ok" else "",
                               hidden=hidden))
        return out

    def run(self, candidate, part=None, hidden=False):
        """Probe and judge in this process (the nbgrader route); raise :class:`CheckFailure` on a failed part."""
        names = [p.name for p in self.parts]
        if part is not None and part not in names:
            raise ValueError(f"check for {self.target} expected part in {names}, got {part!r}")
        results = plain(self.probe(candidate, hidden))
        verdicts = [v for v in self.verdicts(results, hidden) if part is None or v.id.endswith("." + part)]
        for verdict in verdicts:
            if not verdict.passed:
                raise CheckFailure(verdict)
        print(f"{self.target}: {', '.join(v.id.split('.', 1)[1] for v in verdicts)} passed"
              f"{' (hidden tests)' if hidden else ''}")


def describe(code):
    """One sentence for a code when the suite has nothing more specific."""
    return CODES.get(code, "wrong")


def ensure_module_loaded(name):
    """Import a reference module lazily (keeps ``import nbbackprop.checks`` light)."""
    __import__(name)
    return sys.modules[name]


GENERIC_CAUSES = {
    "not-implemented": "replace the `raise NotImplementedError` line with your code.",
    "exception": "read the error above: it points at the line that failed.",
    "timeout": "look for a loop that never ends, or one that runs far more often than needed.",
    "shape": "check the shape of every array against the docstring: batch first, (N, features).",
    "transpose": "a matrix product in the wrong order, or W where Wᵀ belongs.",
    "sign": "a minus sign too many or too few — gradient descent steps against the gradient, not the gradient itself.",
    "scale-batch": "a sum where a mean belongs (or the mean taken twice): divide by N exactly once, in the loss.",
    "scale": "a stray constant factor (2, ½, …) — compare your formula with the one in the docstring.",
    "axis": "a sum, max or normalisation over the wrong axis: axis 0 runs over the batch, axis 1 over features.",
    "activation-derivative": "the derivative of the activation is missing or taken at the wrong value.",
    "chain-rule": "the upstream gradient (grad_y) must multiply the local derivative.",
    "regularization": "the L2 term adds λ·W to weight gradients only — not to biases, and exactly once.",
    "mutation": "your code writes into an array it was given; make a copy (or use out-of-place operations).",
    "state": "the result depends on earlier calls — set gradients with `=`, don't accumulate with `+=`.",
    "unstable": "large inputs overflow: use the stable formula (shift logits by their max; split sigmoid by sign).",
    "delegation": "the graded code must be your own, not a call to the nbbackprop reference.",
    "mismatch": "compare your formula, line by line, with the one in the docstring.",
}


def finding(where, part, got, expected, *, alternatives=(), batch=None, causes=None, tiny=None, probe_text=""):
    """``(code, message)`` for one part.

    Parameters
    ----------
    where : str
        The function or method, e.g. ``"Linear.bprop"``.
    part : str
        What was compared, e.g. ``"grad_W"``.
    got, expected :
        The student's result on the probe input and the reference's.
    alternatives, batch :
        Passed to :func:`diagnose`. An alternative may carry its own cause as a
        third item, ``(code, value, cause)``: shown when that very bug matched.
    causes : dict, optional
        Code → a sentence naming the likely cause for this very part.
    tiny : tuple, optional
        ``(input text, got, expected)`` on a tiny input, shown in the message.
    probe_text : str
        Describes the probe input (shapes), e.g. ``"x of shape (7, 5)"``.
    """
    code = diagnose(got, expected, alternatives, batch)
    if code == "ok":
        return "ok", ""
    for alt_code, value, *rest in alternatives:  # the first bug that matches is the one diagnose named
        if value is not None and not isinstance(got, Raised) and close(got, value):
            if rest and alt_code == code:
                causes = {**(causes or {}), code: rest[0]}
            break
    return code, explain(code, where, part, got, expected, causes=causes, tiny=tiny, probe_text=probe_text)


def explain(code, where, part, got, expected, *, causes=None, tiny=None, probe_text=""):
    """The message a TA would write for ``code``."""
    cause = (causes or {}).get(code) or GENERIC_CAUSES.get(code, "")
    on = f" on {probe_text}" if probe_text else ""
    if isinstance(got, Raised):
        head = f"{where} {'raised ' + got.message if got.code != 'timeout' else got.message}{on}."
        if got.code == "not-implemented":
            head = f"{where} is not implemented yet ({got.message})."
        return f"[{part}] {head} Likely cause: {cause}"
    array, expected = as_numbers(got), np.asarray(expected, dtype=float)
    if array is None:
        what = f"returned {type(got).__name__ if got is not None else 'None'} instead of numbers" + (
            " — did you forget `return`?" if got is None else "")
    elif array.shape != expected.shape:
        what = f"returned shape {array.shape}, expected {expected.shape}"
    else:
        label = CODES.get(code, "wrong")
        what = "is wrong" if code == "mismatch" else f"is wrong — {label}"  # the cause says the rest
    text = f"[{part}] {where}: {part} {what}{on}."
    if tiny is not None:
        tiny_input, tiny_got, tiny_expected = tiny
        text += f" Tiny example: {tiny_input} → got {fmt(tiny_got)}, expected {fmt(tiny_expected)}."
    elif array is not None and array.shape == expected.shape and array.size <= 12:
        text += f" Got {fmt(array)}, expected {fmt(expected)}."
    elif array is not None and array.shape == expected.shape:
        wrong = np.argwhere(~np.isclose(array, expected, rtol=RTOL, atol=0))
        if len(wrong):
            index = tuple(int(i) for i in wrong[0])
            text += (f" {len(wrong)} of {array.size} entries differ; the first at index {index}: "
                     f"got {fmt(array[index])}, expected {fmt(expected[index])}.")
    return f"{text} Likely cause: {cause}"


def reference_code(*objects):
    """The code objects of reference functions and of every method of reference classes."""
    codes = set()
    for obj in objects:
        if isinstance(obj, type):
            # the class and its private helpers (_Elementwise, _Loss) — not the shared Module base,
            # whose methods the reference collaborators of a probe call legitimately
            for klass in obj.__mro__:
                if klass.__module__.startswith("nbbackprop.") and (klass is obj or klass.__name__.startswith("_")):
                    for member in vars(klass).values():
                        member = getattr(member, "__func__", member)
                        if hasattr(member, "__code__"):
                            codes.add(member.__code__)
        elif hasattr(obj, "__code__"):
            codes.add(obj.__code__)
    return codes


@contextlib.contextmanager
def on_calls(callback):
    """Call ``callback(code)`` for every Python function call inside the block, with the code object
    called; chains to a profiler already installed, so watches nest."""
    previous = sys.getprofile()

    def profiler(frame, event, arg):
        if event == "call":
            callback(frame.f_code)
        if previous is not None:
            previous(frame, event, arg)

    sys.setprofile(profiler)
    try:
        yield
    finally:
        sys.setprofile(previous)


@contextlib.contextmanager
def watch_calls(codes, seen):
    """Record in ``seen`` the names of any of ``codes`` called inside the block (delegation)."""
    with on_calls(lambda code: code in codes and seen.add(code.co_qualname)):
        yield seen


# ---- suites that watch for delegation -----------------------------------------------------------

DELEGATION = "__delegation__"


class WatchedSuite(Suite):
    """A suite whose probe runs under a delegation watch: if the candidate calls the
    reference of the same target, every part fails with ``delegation``.

    Subclasses set ``reference`` (a function or class of ``nbbackprop``) and write
    ``run_probe(candidate, hidden)`` and ``run_judge(results, hidden)``.
    """

    reference = None

    def probe(self, candidate, hidden=False):
        seen = set()
        reference = getattr(self.reference, "__func__", self.reference)  # a function set on the class
        with watch_calls(reference_code(reference), seen):
            results = self.run_probe(candidate, hidden)
        results[DELEGATION] = sorted(seen)
        return results

    def judge(self, results, hidden=False):
        if results.get(DELEGATION):
            message = (f"{self.target} calls the reference implementation ({', '.join(results[DELEGATION])}). "
                       "Write it yourself: the point is to derive it.")
            return {part.name: ("delegation", message) for part in self.parts}
        return self.run_judge(results, hidden)

    def run_probe(self, candidate, hidden):
        raise NotImplementedError

    def run_judge(self, results, hidden):
        raise NotImplementedError


def unless_stub(where, part, *results):
    """The verdict of a part that only means something once another part passes: it fails
    (``not-implemented``) while the code is a stub, and otherwise passes — the other part
    already charges the bug, so it costs once."""
    for result in results:
        if (isinstance(result, Raised) and result.code == "not-implemented") or result is None:
            return "not-implemented", f"[{part}] {where} is not implemented yet."
    return "ok", ""


def with_collaborators(function, **collaborators):
    """``function`` rebuilt so that the global names in ``collaborators`` (``tlu``, ``sigmoid``, …)
    mean the given objects — the reference ones — while its own code stays the student's.

    Lets a target be judged in isolation: a bug in the student's ``tlu`` is not charged again
    to the ``and_gate`` built on it. Returns None when ``function`` is not a plain function.
    """
    code, namespace = getattr(function, "__code__", None), getattr(function, "__globals__", None)
    if code is None or namespace is None:
        return None
    rebuilt = type(function)(code, {**namespace, **collaborators}, function.__name__,
                             function.__defaults__, function.__closure__)
    rebuilt.__kwdefaults__ = function.__kwdefaults__
    return rebuilt
