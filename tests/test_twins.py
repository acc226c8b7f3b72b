"""One bug, one code: a check's visible test and its hidden twin name the same bug the same way.

Every catalogue runs its bugs on both the visible and the hidden inputs against one expected
``{part: diagnosis}`` (tests/test_checks_*.py, tests/test_catalogue_fresh.py), so the twins agree on
every part those bugs reach. This file adds a bug for each graded part no catalogue bug fails, and
checks that every part of every check is covered — so a new part cannot come without its twin test.
"""

import textwrap

import numpy as np
import pytest

from nbbackprop.checks import TARGETS, engine, suite_for
from tests import test_catalogue_fresh as fresh
from tests import test_checks_ps1_ps2 as ps12
from tests import test_checks_ps3_ps4 as ps34

# parts whose twins differ on purpose, and parts judged on the visible inputs alone, with why
BY_DESIGN = {
    ("buggy_modules", "found"): "the visible test checks the form only; the hidden one the truth (else it answers it)",
    ("buggy_modules", "clean"): "the visible test checks the form only; the hidden one the truth (else it answers it)",
}
SLOW = {("train", "accuracy"), ("train", "deterministic"), ("train", "history")}  # trains on the digits: the
# catalogues run train on the visible probe only (tests/test_catalogue_fresh.py: TRAIN_ONLY)

GATES = "import numpy as np\n" + ps12.PS1_SOURCE  # the right gates, as a student writes them

# (target, source, edits): the model with one bug planted
CASES = [
    ("and_gate", GATES, [("-1.5)\n", "-1.5).tolist()\n")]),
    ("or_gate", GATES, [("-0.5)", "-1.5)")]),
    ("or_gate", GATES, [("return tlu(np.stack([a, b], axis=1), np.array([1.0, 1.0]), -0.5)",
                         "return ((a + b) > 0).astype(int)")]),
    ("or_gate", GATES, [("-0.5)", "-0.5).astype(float)")]),
    ("not_gate", GATES, [("return tlu(np.asarray(a).reshape(-1, 1), np.array([-1.0]), 0.5)",
                          "return 1 - np.asarray(a)")]),
    ("not_gate", GATES, [("np.array([-1.0]), 0.5)", "np.array([-1.0]), 0.5)[:, None]")]),
    ("xor_gate", GATES, [("and_gate(not_gate(a), b))", "and_gate(not_gate(a), b)).astype(float)")]),
    ("perceptron_train", None, "perceptron_dict"),
    ("Sigmoid", ps34.MODEL, [("self.y = sig(x)", "self.y = sig(-x)")]),
    ("Tanh", ps34.MODEL, [("self.y = np.tanh(x)", "self.y = np.tanh(x / 2)")]),
    ("Sequential", ps34.MODEL, [("for m in self.modules:\n", "for m in self.modules[:-1]:\n")]),
    ("Sequential", ps34.MODEL, [("            grad_y = m.bprop(grad_y)",  # the first layer's grad_x by hand
                                 "            grad_y = m.bprop(grad_y) if m is not self.modules[0] else "
                                 "grad_y @ m.W.T")]),
    ("forward", ps34.MODEL, [('return probs, {"acts": acts, "probs": probs}', 'return probs')]),
]


def _plain(case):
    return tuple(case.values) if hasattr(case, "values") else case


def perceptron_dict(X, y, lr=1.0, epochs=10):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for x, t in zip(X, y):
            error = t - (x @ w + b >= 0)
            w, b = w + lr * error * x, b + lr * error
    return {"w": w, "b": b}


def candidate(target, source, edits):
    if source is None:
        return globals()[edits]
    for old, new in edits:
        assert old in source, f"edit does not apply: {old!r}"
        source = source.replace(old, new, 1)
    names = {}
    exec(compile(textwrap.dedent(source), "<student>", "exec"), names)
    return names[target]


def failing(target, function, hidden):
    suite = suite_for(target)
    return {v.part: v.diagnosis for v in suite.verdicts(engine.plain(suite.probe(function, hidden)), hidden)
            if not v.passed}


@pytest.mark.parametrize(("target", "source", "edits"), CASES,
                         ids=[f"{_plain(c)[0]}-{i}" for i, c in enumerate(CASES)])
def test_visible_and_hidden_twins_name_the_bug_alike(target, source, edits):
    function = candidate(target, source, edits)
    visible, hidden = failing(target, function, False), failing(target, function, True)
    assert visible, f"the planted bug in {target} fails no visible part"
    assert visible == hidden


def covered():
    """(target, part) pairs a catalogue bug fails on both the visible and the hidden inputs."""
    found = set()
    for case in fresh.CASES:
        if True in case.runs:
            for target, expected in [(case.target, case.expected), *case.also.items()]:
                found |= {(target, part) for part in expected}
    found |= {(target, part) for target, _, expected in ps12.BUGS for part in expected}
    found |= {(target, part) for target, _, _, expected in ps34.BUGS for part in expected}
    for target, source, edits in map(_plain, CASES):
        found |= {(target, part) for part in failing(target, candidate(target, source, edits), False)}
    return found


def test_every_part_of_every_check_has_a_twin_test():
    parts = {(target, part) for targets in TARGETS.values() for target in targets for part in suite_for(target).parts}
    ps5 = {(t, p) for t, p in parts if t in TARGETS["ps5_gradient_check"]}  # tests/test_checks_ps5.py's expect()
    missing = parts - covered() - set(BY_DESIGN) - SLOW - ps5  # runs every ps5 bug on both inputs
    assert not missing, f"no bug fails these parts on both inputs: {sorted(missing)}"
