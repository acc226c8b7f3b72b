"""Whatever a student's code returns, every check gives a verdict: a string, a dict, a ragged tuple, complex
numbers, a generator — never a crash of the judge (which the grader could only report as "could not be judged",
and a notebook as a traceback of the library's own)."""

import numpy as np
import pytest

from nbbackprop.checks import TARGETS, CheckFailure, suite_for
from nbbackprop.checks.engine import plain

ODD = {  # what came back, built afresh for each call
    "ragged tuple": lambda: (np.zeros(3), 1.0),
    "tuple of strings": lambda: ("a", "b"),
    "string": lambda: "0.5",
    "dict": lambda: {"a": 1},
    "None": lambda: None,
    "object": lambda: object(),
    "ragged list": lambda: [[1, 2], [3]],
    "generator": lambda: (i for i in range(3)),
    "complex": lambda: np.ones(7) * 1j,
    "bool": lambda: True,
    "large array": lambda: np.zeros((50, 50)),
    "empty array": lambda: np.array([]),
    "nan": lambda: float("nan"),
    "ragged pairs": lambda: [(np.zeros(2), np.zeros((2, 2)), 3)],
    "set": lambda: {1, 2},
}
GRADED = [target for targets in TARGETS.values() for target in targets]


def returning(target, odd):
    """A candidate for ``target`` whose every answer is ``odd()``: a function, a class whose methods (and
    attributes) are, or, for ``buggy_modules``, the value itself."""
    if target == "buggy_modules":
        return odd()
    if not target[0].isupper() or target == "topological_order":
        return lambda *args, **kwargs: odd()

    class Box:
        def __init__(self, *args, **kwargs):
            self.W, self.b = odd(), odd()

        def fprop(self, *args):
            return odd()

        def bprop(self, *args):
            self.grad_W, self.grad_b = odd(), odd()
            return odd()

    return Box


@pytest.mark.parametrize("target", GRADED)
def test_every_check_judges_any_return_value(target):
    suite = suite_for(target)
    for name, odd in ODD.items():
        both = []
        for hidden in (False, True):
            verdicts = suite.verdicts(plain(suite.probe(returning(target, odd), hidden)), hidden)
            assert [v.part for v in verdicts] == list(suite.parts), name
            assert all(v.passed or (v.message.startswith(f"[{v.part}]") and target in v.message) for v in verdicts)
            both += verdicts
        # (buggy_modules' visible test checks the form only: an empty list of names passes it)
        assert not all(v.passed for v in both), f"{target} passed when it returned a {name}"


def test_a_ragged_answer_is_named_in_the_notebook_not_a_library_traceback():
    def tlu(X, w, b):
        return (X @ w + b >= 0).astype(int), 0.0  # the output and the threshold, by mistake
    with pytest.raises(CheckFailure) as failure:
        suite_for("tlu").run(tlu)
    verdict = failure.value.verdict
    assert verdict.diagnosis == "shape"
    assert "tlu returned something other than an array" in verdict.summary
    assert "mixing arrays of different shapes" in verdict.summary


def test_strings_and_complex_numbers_are_not_read_as_numbers():
    for value, kind in (("0.5", "str"), (np.array([0.5 + 0j] * 7), "complex")):
        verdict = suite_for("sigmoid").verdicts(plain(suite_for("sigmoid").probe(lambda z, v=value: v)))[0]
        assert not verdict.passed, kind
