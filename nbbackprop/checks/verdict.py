"""What a check finds, as data: the diagnosis codes, :class:`Raised`, and the :class:`Verdict` record.

A verdict stays a record until something renders it: the notebook's message
(:attr:`Verdict.message`), the line a student sees when only a hidden test
failed (:meth:`Verdict.hidden_message`), the report's JSON
(:meth:`Verdict.report_line`). Nothing is ever parsed back out of a message.
"""

import sys
import textwrap
import traceback
from dataclasses import dataclass, replace

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

GENERIC_CAUSES = {
    "not-implemented": "replace the `raise NotImplementedError` line with your code.",
    "exception": "your code raised: look at the line of yours it names (its traceback, where shown, is below).",
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


@dataclass(frozen=True)
class Raised:
    """What came back instead of a value: the code (``not-implemented``, ``exception``,
    ``timeout``, ``unstable``, ``mutation``), a one-line description, and ``trace``: the student's
    own frames where it was raised, innermost last, each ``(cell, line, function, text)`` — e.g.
    ``("In [7]", 4, "sigmoid", "return 1 / (1 + math.exp(-z))")`` — with the checks' frames left out."""

    code: str
    message: str
    trace: tuple = ()


@dataclass(frozen=True)
class Boundary:
    """A linear classifier's decision boundary on a visible 2-D probe, to draw: the probe's ``points``
    (``((x₁, x₂), …)``) and their 0/1 ``labels``, the student's ``got`` and the reference's ``expected``,
    each ``((w₁, w₂), b)`` (the line w·x + b = 0), and ``settings``: the probe's arguments as
    ``((name, value), …)``, e.g. ``(("lr", 1.0), ("epochs", 1))``."""

    points: tuple
    labels: tuple
    got: tuple
    expected: tuple
    settings: tuple = ()

    def as_json(self):
        return {"points": [list(p) for p in self.points], "labels": list(self.labels),
                "got": {"w": list(self.got[0]), "b": self.got[1]},
                "expected": {"w": list(self.expected[0]), "b": self.expected[1]}, "settings": dict(self.settings)}


@dataclass(frozen=True)
class Verdict:
    """The judgement of one graded part.

    ``summary`` says what was seen, on which probe input (one or two sentences);
    ``evidence`` the numbers that show it (a tiny example, got and expected);
    ``cause`` the likely cause in one sentence. A suite's judge fills
    ``diagnosis`` and those; :meth:`Suite.verdicts` adds ``target``, ``part``
    and ``hidden``.
    """

    diagnosis: str
    summary: str = ""
    evidence: str = ""
    cause: str = ""
    target: str = ""
    part: str = ""
    hidden: bool = False
    trace: tuple = ()  # the student's frames when their code raised (see Raised.trace)
    arrays: tuple = ()  # (got, expected) as nested lists, on a probe small enough to draw
    boundary: Boundary | None = None  # a linear classifier's line and the reference's, on a visible 2-D probe

    @property
    def id(self):
        return f"{self.target}.{self.part}"

    @property
    def passed(self):
        return self.diagnosis == "ok"

    def of(self, target, part, hidden):
        return replace(self, target=target, part=part, hidden=hidden)

    @property
    def message(self):
        """The notebook's text: ``[part] summary evidence Likely cause: cause`` (empty when passed)."""
        if self.passed:
            return ""
        text = " ".join(piece for piece in (f"[{self.part}] {self.summary}".rstrip(), self.evidence) if piece)
        return f"{text} Likely cause: {self.cause}" if self.cause else text

    def hidden_message(self):
        """What a student may read of a hidden test that failed: the part, the code, the cause — no inputs."""
        text = (f"[{self.part}] {self.target} passes the visible test of {self.part} but fails a hidden one "
                f"({CODES.get(self.diagnosis, self.diagnosis)}).")
        return f"{text} Likely cause: {self.cause}" if self.cause else text

    def shown(self):
        """The text a student may read: the whole message, or only :meth:`hidden_message` for a hidden test."""
        return self.hidden_message() if self.hidden else self.message

    def trace_lines(self):
        """The student's own traceback as text lines (none for a hidden test: its inputs stay hidden)."""
        if self.hidden or not self.trace:
            return []
        lines = ["Your code, where it failed:"]
        for cell, line, function, text in self.trace:
            lines.append(f"  {cell}, line {line}, in {function}")
            if text:
                lines.append(f"    {text}")
        return lines

    def report_line(self, points, shown=None):
        """The report's line for this part (the contract's JSON); ``shown`` is the message to show. A part
        whose code raised also carries ``trace``: the student's frames, as lists ``[cell, line, function, text]``;
        a wrong array small enough to draw, ``got`` and ``expected`` (nested lists); a wrong linear classifier,
        ``boundary`` (:meth:`Boundary.as_json`). Hidden tests carry none of them."""
        line = {"id": self.id, "target": self.target, "points": points if self.passed else 0.0,
                "max_points": points, "diagnosis": self.diagnosis, "hidden": self.hidden and not self.passed,
                "message": "" if self.passed else (self.message if shown is None else shown)}
        if self.trace and not self.hidden and not self.passed:
            line["trace"] = [list(frame) for frame in self.trace]
        if self.arrays and not self.hidden and not self.passed:
            line["got"], line["expected"] = self.arrays
        if self.boundary is not None and not self.hidden and not self.passed:
            line["boundary"] = self.boundary.as_json()
        return line


OK = Verdict("ok")


def failed(code, summary, cause=None, evidence=""):
    """A failed verdict; ``cause`` defaults to the generic sentence of ``code``."""
    return Verdict(code, summary, evidence, GENERIC_CAUSES.get(code, "") if cause is None else cause)


class CheckFailure(AssertionError):
    """Raised by a visible or hidden test: the verdict's code and its message (for a hidden test only
    the part, the code and the likely cause — never its inputs).

    In a notebook, IPython shows it through :meth:`_render_traceback_`: the diagnosis on the first
    line, then the student's own traceback if their code raised, and none of the checks' frames
    (:func:`last_traceback` prints those for whoever wants them).
    """

    def __init__(self, verdict):
        super().__init__(f"[{verdict.diagnosis}] {verdict.shown()}")
        self.verdict = verdict

    WIDTH = 80  # nbgrader's Validate dialog and the notebook's output show each line unwrapped

    def _render_traceback_(self):
        lines = textwrap.wrap(str(self), self.WIDTH, break_long_words=False, break_on_hyphens=False)
        lines += self.verdict.trace_lines()
        return [*lines, "", "(The checker's own frames are hidden: to see them, run",
                "from nbbackprop.checks import last_traceback; last_traceback())"]


def last_traceback():
    """Print the full traceback of the last failed check in this session, the checks' frames included."""
    error = getattr(sys, "last_value", None)
    if error is None:
        print("No check has failed in this session yet.")
        return
    print("".join(traceback.format_exception(type(error), error, error.__traceback__)), end="")
