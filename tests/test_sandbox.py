"""The sandbox's own pieces: the one delegation watch (its code objects taken from the fresh suites,
``references`` included), the equality of code objects it relies on, and the framing of messages."""

import importlib
import os
import sys
import time

import nbformat
import pytest

from autograder.course import model_answer
from autograder.grader import grade_submission
from autograder.sandbox import child, frames

PS5 = "ps5_gradient_check"


def test_a_code_object_captured_before_a_fresh_import_equals_its_fresh_twin():
    import nbbackprop.gradcheck as before

    captured = before._central_difference.__code__
    saved = {name: module for name, module in sys.modules.items() if name.split(".")[0] == "nbbackprop"}
    try:
        for name in saved:
            del sys.modules[name]
        fresh = importlib.import_module("nbbackprop.gradcheck")
        assert fresh is not before and fresh._central_difference is not before._central_difference
        twin = fresh._central_difference.__code__
        assert twin is not captured
        assert twin == captured and hash(twin) == hash(captured) and captured in {twin}
        assert fresh.numerical_gradient.__code__ != captured  # equal by value, not equal to everything
    finally:
        for name in [name for name in sys.modules if name.split(".")[0] == "nbbackprop"]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.mark.parametrize("target", ["numerical_gradient", "relative_error", "check_module"])
def test_the_watch_covers_every_reference_a_ps5_suite_lists(target):
    from nbbackprop.checks import core, suite_for

    suite = suite_for(target)
    listed = {obj.__code__ for obj in suite.references}
    assert getattr(suite.reference, "__func__", suite.reference).__code__ in listed and len(listed) > 1
    assert child.watched_codes(suite, core) == listed


def test_the_watch_of_a_class_reference_covers_its_methods():
    from nbbackprop.checks import core, suite_for

    codes = child.watched_codes(suite_for("Linear"), core)
    assert suite_for("Linear").reference.bprop.__code__ in codes


DELEGATING = '''
import numpy as np
from nbbackprop.gradcheck import _central_difference


def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        grad[index] = _central_difference(f, x, index, h)
    return grad
'''


def test_delegating_to_a_ps5_helper_listed_only_in_references_is_caught(tmp_path):
    # _central_difference is in NumericalGradientSuite.references, not its reference; imported in a cell,
    # before the reset, it is the pre-reset function the watch must still recognise
    notebook = model_answer(PS5)
    cell = next(c for c in notebook.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                == "numerical_gradient")
    cell.source = DELEGATING
    path = tmp_path / f"{PS5}.ipynb"
    nbformat.write(notebook, path)
    entry = grade_submission(PS5, path)
    failing = {line["id"]: line["diagnosis"] for line in entry["tests"] if line["diagnosis"] != "ok"}
    assert failing == {f"numerical_gradient.{part}": "delegation" for part in ("value", "restored", "central")}
    message = next(line["message"] for line in entry["tests"] if line["id"] == "numerical_gradient.value")
    assert "calls the reference implementation (_central_difference)" in message


def test_frames_carry_headers_and_wire_payloads_and_refuse_late_or_closed_pipes():
    import numpy as np

    read_fd, write_fd = os.pipe()
    reader = frames.Reader(read_fd)
    try:
        frames.send(write_fd, "cell", 3)
        frames.send(write_fd, "result", "Linear", payload={"visible": {"y": np.arange(3.0)}})
        assert frames.parse(reader.read(time.monotonic() + 5)) == (["cell", 3], b"")
        header, payload = frames.parse(reader.read(time.monotonic() + 5))
        assert header == ["result", "Linear"]
        assert np.array_equal(frames.results(payload)["visible"]["y"], np.arange(3.0))
        with pytest.raises(TimeoutError):
            reader.read(time.monotonic() + 0.05)
        os.close(write_fd)
        write_fd = None
        with pytest.raises(EOFError):
            reader.read(time.monotonic() + 5)
    finally:
        os.close(read_fd)
        if write_fd is not None:
            os.close(write_fd)
