"""The sandbox's own pieces: the one delegation watch (its code objects taken from the fresh suites,
``references`` included, in the student's process), the equality of code objects it relies on, and
the framing of messages."""

import importlib
import os
import sys
import time

import nbformat
import pytest

from autograder.course import model_answer
from autograder.grader import grade_namespace, grade_submission
from autograder.sandbox import frames

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


SCALED = '''
import numpy as np
from nbbackprop.gradcheck import scaled_error


def relative_error(a, b):
    return scaled_error(np.atleast_1d(a), np.atleast_1d(b))
'''


def test_a_call_into_a_helper_listed_only_in_references_is_delegation_on_the_namespace_route():
    from nbbackprop.checks import suite_for

    suite = suite_for("relative_error")
    assert suite.reference.__name__ == "relative_error" and [r.__name__ for r in suite.references] == ["scaled_error"]
    namespace = {}
    exec(compile(SCALED, "<cell>", "exec"), namespace)  # captured here, before the student's process resets
    lines = grade_namespace(PS5, {"relative_error": namespace["relative_error"]}, ["relative_error"])
    assert {line["id"]: line["diagnosis"] for line in lines} == {
        f"relative_error.{part}": "delegation" for part in ("value", "max", "zeros")}
    assert all("(scaled_error)" in line["message"] for line in lines)


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


def test_reaping_a_submission_spares_the_callers_own_children(tmp_path):
    # a caller with processes of its own (a kernel, a browser driver, a Dask nanny) keeps them; what the
    # submission started — here a process it leaves behind — is reaped
    import subprocess

    mine = subprocess.Popen(["sleep", "300"])
    try:
        notebook = model_answer(PS5)
        notebook.cells.append(nbformat.v4.new_code_cell("import subprocess\nsubprocess.Popen(['sleep', '741'])"))
        path = tmp_path / f"{PS5}.ipynb"
        nbformat.write(notebook, path)
        entry = grade_submission(PS5, path)
        assert entry["score"] == entry["max_score"]
        assert mine.poll() is None, "the caller's own child was killed"
        left = [line for line in os.popen("ps -eo args").read().splitlines() if line.strip() == "sleep 741"]
        assert left == [], left
    finally:
        mine.kill()
        mine.wait()


SNOOP = '''
import os, pathlib
ROOT = pathlib.Path({root!r})
SEEN = []
for name in ("solutions", "autograder/samples", ".nbbackprop_secret"):
    path = ROOT / name
    try:
        SEEN += [str(p) for p in path.rglob("*.ipynb")] if path.is_dir() else [path.read_text()] * path.exists()
        SEEN = [seen for seen in SEEN if seen]  # /dev/null reads as nothing
    except OSError:
        pass
'''


@pytest.mark.skipif(os.geteuid() != 0, reason="the mount namespace that hides the answers needs root")
def test_the_students_process_cannot_read_the_solutions_samples_or_secret(tmp_path):
    from autograder.course import ROOT

    secret = ROOT / ".nbbackprop_secret"
    made = not secret.exists()
    if made:
        secret.write_text("a course secret\n")
    try:
        notebook = model_answer(PS5)
        notebook.cells.append(nbformat.v4.new_code_cell(SNOOP.format(root=str(ROOT))))
        notebook.cells.append(nbformat.v4.new_code_cell(
            "_right = relative_error\n"
            "def relative_error(a, b):\n    assert not SEEN, SEEN\n    return _right(a, b)"))
        path = tmp_path / f"{PS5}.ipynb"
        nbformat.write(notebook, path)
        entry = grade_submission(PS5, path)
        failing = [line["message"] for line in entry["tests"] if line["diagnosis"] != "ok"]
        assert failing == [], failing  # nothing seen: relative_error is the model answer's
        assert (ROOT / "solutions").is_dir() and list((ROOT / "solutions").rglob("*.ipynb"))  # there, for us
    finally:
        if made:
            secret.unlink()
