"""What the student sees of a failed check (issue 12): the diagnosis first, none of the checks' frames,
and — when their code raised — their own traceback, named by the cell they can find."""

import linecache

import nbformat
import numpy as np
import pytest

from autograder.cells import grade_id
from autograder.course import model_answer
from autograder.grader import grade_submission
from autograder.report import feedback_html
from nbbackprop.checks import CheckFailure, engine, suite_for

PS2 = "ps2_logistic"
RAISING = '''
import math

def _one(z):
    return 1 / (1 + math.exp(-z))

def sigmoid(z):
    return _one(z)
'''


def student(source, filename):
    """Run ``source`` as a cell would: registered with linecache (as IPython and the grader do) so
    a traceback can quote it."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    names = {}
    exec(compile(source, filename, "exec"), names)
    return names


def test_a_failed_check_renders_its_diagnosis_first_and_no_library_frame():
    names = student("import numpy as np\ndef sigmoid(z):\n    return 1 / (1 + np.exp(z))\n", "<code cell 3>")
    with pytest.raises(CheckFailure) as failure:
        suite_for("sigmoid").run(names["sigmoid"])
    shown = failure.value._render_traceback_()  # what IPython prints instead of a traceback
    assert shown[0].startswith("[sign] [value] sigmoid: value is wrong")
    assert not any("nbbackprop" in line and "import last_traceback" not in line for line in shown)
    assert not any("File " in line or "Traceback" in line for line in shown)


def test_when_the_students_code_raises_their_own_frames_are_shown_innermost_last():
    with pytest.raises(CheckFailure) as failure:
        suite_for("sigmoid").run(student(RAISING, "<code cell 4>")["sigmoid"])
    shown = failure.value._render_traceback_()
    assert shown[0].startswith("[exception] [value] sigmoid raised TypeError")
    trace = shown[shown.index("Your code, where it failed:") + 1:]
    assert trace[:4] == ["  code cell 4, line 8, in sigmoid", "    return _one(z)",
                         "  code cell 4, line 5, in _one", "    return 1 / (1 + math.exp(-z))"]
    assert not any("engine.py" in line or "ps2.py" in line for line in shown)


def test_a_hidden_test_shows_neither_its_inputs_nor_a_trace():
    suite = suite_for("sigmoid")
    found = suite.verdicts(engine.plain(suite.probe(student(RAISING, "<code cell 4>")["sigmoid"], True)), True)
    value = next(v for v in found if v.part == "value")
    assert value.trace and value.hidden  # the record keeps it; nothing renders it
    with pytest.raises(CheckFailure) as failure:
        suite.run(student(RAISING, "<code cell 4>")["sigmoid"], hidden=True)
    rendered = failure.value._render_traceback_()
    assert all(len(line) <= 80 for line in rendered)  # Validate shows each line unwrapped
    text = " ".join(rendered)
    assert "fails a hidden one" in text and "shape" not in text and "Your code" not in text
    assert "trace" not in value.report_line(1.0, value.hidden_message())


def test_the_graders_report_and_feedback_carry_the_students_traceback(tmp_path):
    notebook = model_answer(PS2)
    cell = next(c for c in notebook.cells if grade_id(c) == "sigmoid")
    cell.source = RAISING
    position = [c for c in notebook.cells if c.cell_type == "code"].index(cell) + 1
    path = tmp_path / f"{PS2}.ipynb"
    nbformat.write(notebook, path)
    before = path.read_bytes()
    entry = grade_submission(PS2, path)
    line = next(line for line in entry["tests"] if line["id"] == "sigmoid.value")
    assert line["diagnosis"] == "exception" and not line["hidden"]
    cell = f"code cell {position} (_one, sigmoid)"  # by its position and by what it defines
    assert line["trace"][-1] == [cell, 5, "_one", "return 1 / (1 + math.exp(-z))"]
    page = feedback_html(PS2, entry)
    assert f"{cell}, line 5, in _one" in page and "Your code, where it failed" in page
    assert path.read_bytes() == before


def test_a_renamed_definition_is_said_of_its_own_cell_not_of_the_demo_that_uses_it(tmp_path):
    notebook = model_answer(PS2)
    cell = next(c for c in notebook.cells if grade_id(c) == "sigmoid")
    cell.source = cell.source.replace("def sigmoid(", "def sigmoid_function(")
    assert "sigmoid_function" in cell.source
    position = [c for c in notebook.cells if c.cell_type == "code"].index(cell) + 1
    path = tmp_path / f"{PS2}.ipynb"
    nbformat.write(notebook, path)
    entry = grade_submission(PS2, path)
    line = next(line for line in entry["tests"] if line["id"] == "sigmoid.value")
    assert line["diagnosis"] == "exception"
    assert line["message"].startswith(f"[value] sigmoid is not defined: code cell {position} (grade_id sigmoid), "
                                      "where it belongs, defines sigmoid_function instead.")
    assert "rename it to sigmoid" in line["message"]


def test_a_notebook_that_cannot_be_read_gets_one_explanation(tmp_path):
    path = tmp_path / f"{PS2}.ipynb"
    path.write_text('{"cells": [{"cell_type": "code", "source": "x = 1"')  # truncated mid-download
    entry = grade_submission(PS2, path)
    assert entry["error"] == "exception" and entry["tests"] == [] and len(entry["notes"]) == 1
    page = feedback_html(PS2, entry)
    assert page.count("truncated") == 1


def test_autograder_check_gives_the_student_the_instructors_result_without_hidden_inputs(tmp_path):
    import subprocess

    notebook = model_answer(PS2)
    cell = next(c for c in notebook.cells if grade_id(c) == "sigmoid")
    cell.source = RAISING
    path = tmp_path / "my_homework.ipynb"  # a name that says nothing: the graded names tell
    nbformat.write(notebook, path)
    before = path.read_bytes()
    out = subprocess.run(["autograder", "check", str(path), "--html", str(tmp_path / "me.html")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    instructor = grade_submission(PS2, path)
    assert out.stdout.splitlines()[0] == f"{PS2}: {instructor['score']:g} / {instructor['max_score']:g}"
    assert "✗ sigmoid.value" in out.stdout and "in _one:  return 1 / (1 + math.exp(-z))" in out.stdout
    parts = [row.split() for row in out.stdout.splitlines() if row[:1] in "✓✗" and row]
    assert [(p[1], p[-1]) for p in parts] == [(line["id"], line["diagnosis"]) for line in instructor["tests"]]
    assert (tmp_path / "me.html").read_text().count("Your code, where it failed") == 1
    assert path.read_bytes() == before


def test_autograder_check_names_what_it_expected(tmp_path):
    import subprocess

    missing = subprocess.run(["autograder", "check", str(tmp_path / "nope.ipynb")], capture_output=True, text=True,
                             cwd=tmp_path, timeout=120)
    assert missing.returncode == 2 and "expected a notebook file" in missing.stderr
    broken = tmp_path / "ps1_neurons.ipynb"
    broken.write_text("{")
    out = subprocess.run(["autograder", "check", str(broken)], capture_output=True, text=True, cwd=tmp_path,
                         timeout=120)
    assert out.returncode == 1 and "cannot be graded: not a notebook" in out.stdout


def test_a_wrong_array_is_drawn_beside_the_expected_one_and_hidden_ones_are_not():
    from autograder.report import pictures

    names = student("import numpy as np\nclass Linear:\n"
                    "    def __init__(self, n_in, n_out, rng):\n"
                    "        self.W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)\n"
                    "        self.b = np.zeros(n_out)\n"
                    "    def fprop(self, x):\n        self.x = x\n        return x @ self.W + self.b\n"
                    "    def bprop(self, grad_y):\n        self.grad_W = self.x.T @ grad_y / len(self.x)\n"
                    "        self.grad_b = grad_y.sum(axis=0)\n        return grad_y @ self.W.T\n", "<code cell 6>")
    suite = suite_for("Linear")
    line = None
    for hidden in (False, True):
        verdict = next(v for v in suite.verdicts(engine.plain(suite.probe(names["Linear"], hidden)), hidden)
                       if v.part == "grad_W")
        assert verdict.diagnosis == "scale-batch" and verdict.arrays
        line = verdict.report_line(2.0, verdict.shown())
        if not hidden:
            panels = pictures(line)
            assert [p["title"].split(" ")[0] for p in panels] == ["yours", "expected", "yours"]
            got, expected = (np.array(line[k]) for k in ("got", "expected"))
            assert got.shape == expected.shape and len(panels[2]["cells"]) == got.size
            ratio = expected / got  # the drawn numbers are the probe's: off by the batch size, entry by entry
            assert np.allclose(ratio, round(float(ratio.flat[0]))) and round(float(ratio.flat[0])) > 1
    assert "got" not in line and "expected" not in line  # the hidden twin: inputs and answers stay hidden


def test_our_feedback_never_shows_a_hidden_tests_inputs_or_answers(tmp_path):
    # a bug only the hidden inputs reach (batches over 8): the student learns which part, the diagnosis and
    # the likely cause — not the hidden probe, what came or what was expected
    import html

    notebook = model_answer("ps4_flow_graph")
    cell = next(c for c in notebook.cells if grade_id(c) == "Linear")
    right = "self.grad_W = self.x.T @ grad_y"
    assert right in cell.source
    cell.source = cell.source.replace(right, right + " * (1 + (len(self.x) > 8))")
    path = tmp_path / "ps4_flow_graph.ipynb"
    nbformat.write(notebook, path)
    entry = grade_submission("ps4_flow_graph", path)
    line = next(line for line in entry["tests"] if line["id"] == "Linear.grad_W")
    assert line["hidden"] and line["diagnosis"] == "scale" and "got" not in line and "trace" not in line

    names = {"np": np}
    exec(cell.source, names)
    suite = suite_for("Linear")
    hidden = next(v for v in suite.verdicts(engine.plain(suite.probe(names["Linear"], True)), True)
                  if v.part == "grad_W")
    assert hidden.diagnosis == "scale" and "(11, 6)" in hidden.summary  # what must stay out of sight
    page = html.unescape(feedback_html("ps4_flow_graph", entry))
    assert line["message"] == hidden.hidden_message() and hidden.hidden_message() in page
    for secret in (hidden.summary, hidden.evidence, "(11, 6)", "(11, 4)"):
        assert secret and secret not in page and secret not in line["message"]
