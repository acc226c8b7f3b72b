"""The machinery of the checks: run student code safely, judge it part by part, in one or two processes.

A check is split in two halves so that a grader can run them in different
processes:

* ``probe`` runs the student's code on inputs generated from fixed seeds and
  returns plain results — arrays, numbers, or a :class:`Raised` record;
* ``judge`` regenerates the same inputs, computes the reference answers and
  the answers of typical bugs, and returns one :class:`Verdict` per part.

Nothing the student's code returns is trusted beyond its numbers: the
comparison, the tolerances and the reference all live on the judge's side.
"""

import contextlib
import linecache
import os
import signal
import sys
import threading
import traceback
import warnings

import numpy as np

from .compare import RTOL, as_numbers, close, diagnose, fmt
from .verdict import CODES, GENERIC_CAUSES, OK, CheckFailure, Raised, Verdict, failed

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


_LIBRARY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # nbbackprop/
_INSTALLED = tuple({os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


def _cell_name(filename):
    """How the student finds the cell a frame ran in: "In [7]" in a live kernel; in the grader, which
    compiles each cell under its label, "code cell 5 (sigmoid)"; else the file's name."""
    if filename.startswith("<code cell ") and filename.endswith(">"):
        return filename[1:-1]
    shell = sys.modules.get("IPython") and getattr(sys.modules["IPython"], "get_ipython", lambda: None)()
    count = getattr(getattr(shell, "compile", None), "_filename_map", {}).get(filename)
    return f"In [{count}]" if count is not None else os.path.basename(filename)


def student_trace(tb, limit=6):
    """The frames of a traceback that ran the student's code, innermost last, as
    ``(cell, line, function, text)``: the checks', the library's and installed packages' frames left out."""
    frames = []
    for summary in traceback.extract_tb(tb):
        path = os.path.abspath(summary.filename) if not summary.filename.startswith("<") else summary.filename
        if path.startswith(_LIBRARY + os.sep) or path.startswith(_INSTALLED):
            continue
        text = summary.line or linecache.getline(summary.filename, summary.lineno).strip()
        frames.append((_cell_name(summary.filename), summary.lineno, summary.name, text))
    return tuple(frames[-limit:])


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
        return Raised("mutation" if "read-only" in str(error) else "exception", _first_line(error),
                      student_trace(error.__traceback__))
    except Exception as error:  # the student's bug, whatever it is
        return Raised("exception", _first_line(error), student_trace(error.__traceback__))


def frozen(array):
    """A read-only copy: student code that writes into its input fails loudly (``mutation``)."""
    array = np.array(array, copy=True)
    array.flags.writeable = False
    return array


def copied(value):
    """An array result copied (the student's code may change it later); anything else as it is."""
    return value.copy() if isinstance(value, np.ndarray) else value


def plain(value):
    """Student output as plain data (numpy arrays, floats, lists) — nothing that runs code when read."""
    if isinstance(value, Raised) or value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype == object:
            return Raised("exception", f"returned an object array, expected numbers (dtype {value.dtype})")
        return np.array(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    try:
        return np.array(value, dtype=float)
    except (TypeError, ValueError):
        return Raised("exception", f"returned a {type(value).__name__}, expected numbers")


def is_stub(*results):
    """Did any of these results come from code that is still a stub (or from no code at all)?"""
    return any(result is None or (isinstance(result, Raised) and result.code == "not-implemented")
               for result in results)


def unless_stub(where, *results):
    """The verdict of a part that only means something once another part passes: it fails
    (``not-implemented``) while the code is a stub, and otherwise passes — the other part
    already charges the bug, so it costs once."""
    return Verdict("not-implemented", f"{where} is not implemented yet.") if is_stub(*results) else OK


# ---- naming what went wrong -----------------------------------------------------------------------


def finding(where, part, got, expected, *, alternatives=(), batch=None, causes=None, tiny=None, probe_text=""):
    """The :class:`Verdict` of one part.

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
        return low_precision(where, part, got)
    for alt_code, value, *rest in alternatives:  # the first bug that matches is the one diagnose named
        if value is not None and not isinstance(got, Raised) and close(got, value):
            if rest and alt_code == code:
                causes = {**(causes or {}), code: rest[0]}
            break
    return explain(code, where, part, got, expected, causes=causes, tiny=tiny, probe_text=probe_text)


def low_precision(where, part, got):
    """OK, unless ``got`` holds floats of less than double precision: the course computes in float64."""
    dtype = getattr(got, "dtype", None)
    if dtype is None or dtype.kind != "f" or dtype.itemsize >= 8:
        return OK
    return failed("mismatch", f"{where}: {part} came back as {dtype} (right to its {dtype} digits), expected float64.",
                  f"something makes {dtype}, e.g. dtype=np.{dtype} or .astype(np.{dtype}); keep float64 everywhere, "
                  "as the contract says — gradient checks need its 16 digits.")


def explain(code, where, part, got, expected, *, causes=None, tiny=None, probe_text=""):
    """The :class:`Verdict` a TA would write for ``code``: what was seen, the numbers, the likely cause."""
    cause = (causes or {}).get(code) or GENERIC_CAUSES.get(code, "")
    on = f" on {probe_text}" if probe_text else ""
    if isinstance(got, Raised):
        if got.code == "not-implemented":
            return Verdict(code, f"{where} is not implemented yet ({got.message}).", cause=cause)
        return Verdict(code, f"{where} {'raised ' + got.message if got.code != 'timeout' else got.message}{on}.",
                       cause=cause, trace=got.trace)
    array, expected = as_numbers(got), np.asarray(expected, dtype=float)
    if array is None:
        what = f"returned {type(got).__name__ if got is not None else 'None'} instead of numbers" + (
            " — did you forget `return`?" if got is None else "")
    elif array.shape != expected.shape:
        what = f"returned shape {array.shape}, expected {expected.shape}"
    else:
        what = "is wrong" if code == "mismatch" else f"is wrong — {CODES.get(code, 'wrong')}"  # the cause says more
    evidence = ""
    if tiny is not None:
        tiny_input, tiny_got, tiny_expected = tiny
        evidence = f"Tiny example: {tiny_input} → got {fmt(tiny_got)}, expected {fmt(tiny_expected)}."
    elif array is not None and array.shape == expected.shape and array.size <= 12:
        evidence = f"Got {fmt(array)}, expected {fmt(expected)}."
    elif array is not None and array.shape == expected.shape:
        wrong = np.argwhere(~np.isclose(array, expected, rtol=RTOL, atol=0))
        if len(wrong):
            index = tuple(int(i) for i in wrong[0])
            evidence = (f"{len(wrong)} of {array.size} entries differ; the first at index {index}: "
                        f"got {fmt(array[index])}, expected {fmt(expected[index])}.")
    return Verdict(code, f"{where}: {part} {what}{on}.", evidence, cause,
                   arrays=_pictured(tiny[1:] if tiny is not None else (), (array, expected)))


def _pictured(*pairs, most=120):
    """The first (got, expected) pair worth a picture — numeric matrices or vectors of 2 to ``most`` entries
    each — as nested lists of floats; () when there is none."""
    for pair in pairs:
        if len(pair) != 2 or any(a is None or isinstance(a, Raised) for a in pair):
            continue
        got, expected = (as_numbers(a) for a in pair)
        drawable = got is not None and expected is not None and all(
            1 <= a.ndim <= 2 and 2 <= a.size <= most and np.all(np.isfinite(a)) for a in (got, expected))
        if drawable:
            return got.tolist(), expected.tolist()
    return ()


def raised(where, result, expected=0.0, probe_text="", causes=None):
    """The verdict of a part whose probe raised (or was still a stub)."""
    return explain(result.code, where, "", result, expected, probe_text=probe_text, causes=causes)


# ---- watching what student code calls ----------------------------------------------------------------


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


def _unreadable(results):
    """What in ``results`` is not real numbers, for a message: strings or complex numbers where found, else (the
    usual case) a container whose entries do not make one array."""
    stack = list(results.values()) if isinstance(results, dict) else [results]
    while stack:
        value = stack.pop(0)
        if isinstance(value, (str, bytes)) or getattr(value, "dtype", np.dtype(float)).kind in "cUSO":
            return f"a {type(value).__name__}" + (f" of dtype {value.dtype}" if hasattr(value, "dtype") else "")
        if isinstance(value, (dict, list, tuple)):
            stack += list(value.values()) if isinstance(value, dict) else list(value)
    return "something other than an array (a dict, or a list or tuple mixing arrays of different shapes)"


# ---- suites ---------------------------------------------------------------------------------------

DELEGATION = "__delegation__"
UNREADABLE = (TypeError, ValueError, IndexError, KeyError, AttributeError)  # results a judge cannot read


class Suite:
    """The checks of one graded target.

    Subclasses set ``target`` (the contract name), ``signature``, ``parts``
    (``{name: what it checks}``, in order) and ``reference`` (the library's
    function or class, watched for delegation; ``references`` lists more), and
    write ``run_probe(candidate, hidden)`` → dict of plain results and
    ``run_judge(results, hidden)`` → dict part name → :class:`Verdict`.
    """

    target = ""
    signature = ""
    parts: dict = {}  # noqa: RUF012 - every suite sets its own
    reference = None
    references = ()

    def watched(self):
        """The code objects whose call from the candidate is delegation."""
        objects = [getattr(obj, "__func__", obj) for obj in (self.reference, *self.references) if obj is not None]
        return reference_code(*objects)

    def probe(self, candidate, hidden=False):
        seen = set()
        with watch_calls(self.watched(), seen):
            results = self.run_probe(candidate, hidden)
        results[DELEGATION] = sorted(seen)
        return results

    def judge(self, results, hidden=False):
        if results.get(DELEGATION):
            verdict = failed("delegation", f"{self.target} calls the reference implementation "
                                           f"({', '.join(results[DELEGATION])}).",
                             "write it yourself: the point is to derive it.")
            return dict.fromkeys(self.parts, verdict)
        return self.run_judge(results, hidden)

    def run_probe(self, candidate, hidden):
        raise NotImplementedError

    def run_judge(self, results, hidden):
        raise NotImplementedError

    def verdicts(self, results, hidden=False):
        """The judge's findings, one :class:`Verdict` per part, in order. Results the judge cannot read as numbers
        (strings, dicts, lists of different lengths where arrays belong) fail every part with one clear message."""
        try:
            found = self.judge(results, hidden)
        except UNREADABLE:
            found = dict.fromkeys(self.parts, failed(
                "shape", f"{self.target} returned {_unreadable(results)} where the check expected numbers.",
                "return what the docstring names: numpy arrays of floats (or a tuple of them) — not strings, dicts, "
                "complex numbers, or lists and tuples mixing arrays of different shapes."))
        missing = failed("mismatch", f"{self.target}: this part was not checked.", "")
        return [found.get(part, missing).of(self.target, part, hidden) for part in self.parts]

    def run(self, candidate, part=None, hidden=False):
        """Probe and judge in this process (the nbgrader route); raise :class:`CheckFailure` on a failed part."""
        if part is not None and part not in self.parts:
            raise ValueError(f"check for {self.target} expected part in {list(self.parts)}, got {part!r}")
        results = plain(self.probe(candidate, hidden))
        verdicts = [v for v in self.verdicts(results, hidden) if part is None or v.part == part]
        for verdict in verdicts:
            if not verdict.passed:
                raise CheckFailure(verdict)
        what = f": {self.parts[part]}" if part is not None else ""
        print(f"{self.target}: {', '.join(v.part for v in verdicts)} passed{' (hidden tests)' if hidden else ''}"
              f"{what}")


__all__ = ["CODES", "DELEGATION", "OK", "CheckFailure", "Raised", "Suite", "Verdict", "call", "close", "copied",
           "diagnose", "explain", "failed", "finding", "fmt", "frozen", "is_stub", "low_precision", "on_calls", "plain",
           "raised", "reference_code", "unless_stub", "watch_calls", "with_collaborators"]
