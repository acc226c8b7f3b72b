"""The nbgrader route, in copies of the course (the repository is never written):

- the README's walk-through, through nbgrader's exchange as its docs describe it: generate_assignment,
  release_assignment, fetch_assignment, submit, collect, autograde, generate_feedback, export,
  release_feedback, fetch_feedback — with no checksum or SQLAlchemy warning on the way;
- ``python -m autograder release`` records every assignment in the course gradebook;
- a kernel that cannot import nbbackprop stops autograde with the reason, before grading anyone;
- every assignment through our ``autograde`` wrapper: model answer full marks, untouched zero.
"""

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys

import nbformat
import numpy as np
import pytest

from autograder import points
from autograder.cells import grade_id
from autograder.course import ASSIGNMENTS, EXERCISES, ROOT, SOLUTIONS, model_answer, untouched
from autograder.nbgrader_route import autograde, release
from nbbackprop.checks import engine, suite_for

pytestmark = pytest.mark.slow

# what nbgrader printed for every student before nbgrader_config.py silenced the false alarms
NOISE = re.compile(r"checksum|SAWarning|not in session")


def fresh_clone(directory):
    """What a fresh clone holds for nbgrader: the configuration, the sources and the committed release."""
    directory.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", directory / "nbgrader_config.py")
    shutil.copytree(SOLUTIONS, directory / "solutions")
    shutil.copytree(EXERCISES, directory / "exercises")
    return directory


def hermetic_env(tmp_path, **extra):
    """The environment of every nbgrader command here: no user-level Jupyter configuration."""
    (tmp_path / "jupyter-config").mkdir(exist_ok=True)
    return {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"), **extra}


def nbgrader(*args, cwd, env, check=True):
    """``nbgrader ARGS`` in ``cwd``; its stdout and stderr together, one string."""
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    if check:
        assert result.returncode == 0, f"nbgrader {' '.join(args)} exited {result.returncode} in {cwd}:\n{output}"
    return result.returncode, output


def test_exchange_round_trip_as_the_nbgrader_docs_describe_it(tmp_path):
    assignment = "ps4_flow_graph"
    course = fresh_clone(tmp_path / "course")
    env = hermetic_env(tmp_path)
    exchange = [f"--Exchange.root={tmp_path / 'exchange'}"]

    # instructor: a plain generate_assignment on a fresh clone records the assignment in gradebook.db
    # (exercises/ is committed: nbgrader would skip it and leave the gradebook empty without
    # GenerateAssignment.force in nbgrader_config.py), then releases it to the exchange
    nbgrader("generate_assignment", assignment, cwd=course, env=env)
    nbgrader("release_assignment", assignment, *exchange, cwd=course, env=env)

    # students: fetch, work (ada solves everything, ben hands in the release untouched), submit
    homes = {}
    for student, work in (("ada", model_answer(assignment)), ("ben", None), ("cleo", with_bug(assignment))):
        homes[student] = home = tmp_path / "students" / student
        home.mkdir(parents=True)
        student_side = ["--course", "nbbackprop", *exchange, f"--Exchange.cache={home / 'nbgrader_cache'}"]
        nbgrader("fetch_assignment", assignment, *student_side, cwd=home, env=env)
        fetched = home / assignment / f"{assignment}.ipynb"
        assert fetched.exists(), f"fetch_assignment left no {fetched}: {sorted(home.rglob('*'))}"
        if work is not None:
            nbformat.write(work, fetched)
        nbgrader("submit", assignment, *student_side, "--student", student, cwd=home, env=env)

    # instructor: collect (one OS user plays both students here, so the owner check would cry "cheating")
    nbgrader("collect", assignment, *exchange, "--CollectApp.check_owner=False", cwd=course, env=env)
    for student in homes:
        assert (course / "submitted" / student / assignment / f"{assignment}.ipynb").exists()
        assert (course / "submitted" / student / assignment / "timestamp.txt").exists()
    _, log = nbgrader("autograde", assignment, cwd=course, env=env)
    assert [line for line in log.splitlines() if NOISE.search(line)] == [], (
        "autograde of a class that changed nothing it should not must print no checksum or SQLAlchemy warning")
    assert "Creating/updating student with ID 'ben'" in log  # the log is the autograde's, not an empty one
    nbgrader("generate_feedback", assignment, cwd=course, env=env)
    nbgrader("export", "--to", "grades.csv", cwd=course, env=env)

    with open(course / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle) if row["assignment"] == assignment}
    full = points.max_score(assignment)
    assert sorted(rows) == ["ada", "ben", "cleo"]
    assert (float(rows["ada"]["score"]), float(rows["ada"]["max_score"])) == (full, full)
    assert (float(rows["ben"]["score"]), float(rows["ben"]["max_score"])) == (0.0, full)
    submitted_at = (course / "submitted" / "ada" / assignment / "timestamp.txt").read_text().strip()
    assert rows["ada"]["timestamp"][:19] == submitted_at[:19], (rows["ada"]["timestamp"], submitted_at)

    feedback = {student: (course / "feedback" / student / assignment / f"{assignment}.html").read_text()
                for student in homes}
    assert f"Score: {full:.1f} / {full:.1f}" in feedback["ada"] and "NotImplementedError" not in feedback["ada"]
    assert f"Score: 0.0 / {full:.1f}" in feedback["ben"] and "NotImplementedError" in feedback["ben"]
    # cleo's grad_W is off by N: her feedback names the diagnosis, but nothing of the hidden test's inputs
    shown = " ".join(html.unescape(feedback["cleo"]).split())  # the failure is wrapped to 80 columns
    visible, hidden = (bug_verdicts(hidden) for hidden in (False, True))
    assert visible and hidden
    assert all(" ".join(v.summary.split()) in shown for v in visible)
    for verdict in hidden:  # (the visible test fails first in the same cell: the hidden one may not even run)
        assert " ".join(verdict.summary.split()) not in shown
        assert not verdict.evidence or " ".join(verdict.evidence.split()) not in shown

    # and back to the student
    nbgrader("release_feedback", assignment, *exchange, cwd=course, env=env)
    for student in homes:
        nbgrader("fetch_feedback", assignment, "--course", "nbbackprop", *exchange,
                 f"--Exchange.cache={homes[student] / 'nbgrader_cache'}", cwd=homes[student], env=env)
    for student, marks in (("ada", full), ("ben", 0.0), ("cleo", float(rows["cleo"]["score"]))):
        returned = sorted((homes[student] / assignment / "feedback").glob(f"*/{assignment}.html"))
        assert len(returned) == 1, f"{student} fetched {returned}, expected their one feedback page"
        assert f"Score: {marks:.1f} / {full:.1f}" in returned[0].read_text()


BUG = ("self.grad_W = self.x.T @ grad_y", "self.grad_W = self.x.T @ grad_y / len(self.x)")


def with_bug(assignment):
    """The model answer with Linear's grad_W divided by N: fails grad_W visibly and hidden, on messages that
    quote each probe's inputs."""
    notebook = model_answer(assignment)
    cell = next(c for c in notebook.cells if grade_id(c) == "Linear")
    assert BUG[0] in cell.source
    cell.source = cell.source.replace(*BUG)
    return notebook


def bug_verdicts(hidden):
    """The failing verdicts of that Linear, judged here, on the visible or the hidden inputs."""
    names = {"np": np}
    exec(next(c.source for c in with_bug("ps4_flow_graph").cells if grade_id(c) == "Linear"), names)
    suite = suite_for("Linear")
    return [v for v in suite.verdicts(engine.plain(suite.probe(names["Linear"], hidden)), hidden) if not v.passed]


def test_release_records_every_assignment_in_the_course_gradebook(tmp_path):
    from nbgrader.api import Gradebook

    course = fresh_clone(tmp_path / "course")
    release(root=course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nbbackprop") as gradebook:
        assert sorted(a.name for a in gradebook.assignments) == sorted(ASSIGNMENTS)
        for assignment in ASSIGNMENTS:
            cells = {cell.name: cell.max_score for cell in gradebook.find_notebook(assignment, assignment).grade_cells}
            assert cells == {test.grade_id: test.points for test in points.tests_of(assignment)}, assignment


def test_a_kernel_that_cannot_import_nbbackprop_stops_autograde_with_the_reason(tmp_path, monkeypatch):
    from autograder.nbgrader_route import nbgrader as course_nbgrader

    assignment = "ps1_neurons"
    course = fresh_clone(tmp_path / "course")
    # a python3 kernel that starts (ipykernel is there) but cannot import nbbackprop, whichever way the
    # course is installed: it blocks the import the way a missing package fails it
    kernels = tmp_path / "jupyter-data" / "kernels" / "python3"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", "import sys; sys.modules['nbbackprop'] = None; "
                 "from ipykernel.kernelapp import launch_new_instance; launch_new_instance()",
                 "-f", "{connection_file}"],
        "display_name": "Python 3 without nbbackprop", "language": "python"}))
    for name, value in hermetic_env(tmp_path, JUPYTER_PATH=str(tmp_path / "jupyter-data")).items():
        monkeypatch.setenv(name, value)
    course_nbgrader(["generate_assignment", assignment], cwd=course)
    target = course / "submitted" / "ada" / assignment
    target.mkdir(parents=True)
    nbformat.write(model_answer(assignment), target / f"{assignment}.ipynb")

    # plain `nbgrader autograde`, through our wrapper: it fails, and the error is the preflight's one line
    with pytest.raises(RuntimeError) as failure:
        course_nbgrader(["autograde", assignment], cwd=course)
    assert str(failure.value) == (
        f"nbgrader autograde {assignment} stopped before grading anyone: the kernel python3 ({sys.executable}) "
        f"cannot import nbbackprop (ModuleNotFoundError: import of nbbackprop halted; None in sys.modules), "
        f"so every test cell would score 0. Install the course in that kernel's environment "
        f"(`{sys.executable} -m pip install -e {course}`), or point the python3 kernel at an environment that has "
        f"it (`jupyter kernelspec list` shows where it is)")
    assert not (course / "autograded" / "ada" / assignment / f"{assignment}.ipynb").exists()


@pytest.mark.parametrize("assignment", [a for a in ASSIGNMENTS if a != "ps4_flow_graph"])  # ps4: the round trip
def test_model_answer_full_marks_untouched_zero(assignment, tmp_path):
    submissions = {}
    for student, notebook in (("model", model_answer(assignment)), ("untouched", untouched(assignment))):
        path = tmp_path / f"{student}.ipynb"
        nbformat.write(notebook, path)
        submissions[student] = path
    scores = autograde(assignment, submissions, directory=tmp_path / "course")
    score, full = scores["model"]
    assert full == points.max_score(assignment) and score == full
    assert scores["untouched"] == (0.0, full)
    feedback = tmp_path / "course" / "feedback" / "untouched" / assignment / f"{assignment}.html"
    assert "NotImplementedError" in feedback.read_text()


def test_our_grades_written_into_the_gradebook_show_in_the_formgrader_and_nbgrader_export(tmp_path):
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.course import grade_id
    from autograder.grader import grade_submission
    from autograder.nbgrader_gradebook import write_grades

    assignment = "ps4_flow_graph"
    course = fresh_clone(tmp_path / "course")
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    with pytest.raises(ValueError, match=r"found none: run `python -m autograder release ps4_flow_graph`"):
        write_grades(assignment, [], db_url=db_url)
    release([assignment], root=course)

    # a class graded by our grader: all right, ReLU left as released (its 3 parts score 0), untouched, unreadable
    partial = model_answer(assignment)
    released = {grade_id(cell): cell.source for cell in untouched(assignment).cells}
    for cell in partial.cells:
        if grade_id(cell) == "ReLU":
            cell.source = released["ReLU"]
    entries = []
    for student, notebook in (("ada", model_answer(assignment)), ("cy", partial), ("ben", untouched(assignment))):
        path = tmp_path / "submitted" / student / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
        entries.append(grade_submission(assignment, path))
    broken = tmp_path / "submitted" / "dee" / assignment / f"{assignment}.ipynb"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"cells": [')
    entries.append(grade_submission(assignment, broken))
    full = points.max_score(assignment)
    relu = sum(t.points for t in points.tests_of(assignment) if t.target == "ReLU")
    expected = {"ada": full, "cy": full - relu, "ben": 0.0, "dee": 0.0}
    assert {e["student"]: e["score"] for e in entries} == expected and entries[-1]["error"] is not None

    assert write_grades(assignment, entries, db_url=db_url, missing=[{"student": "eve"}], course=course) == expected
    assert write_grades(assignment, entries, db_url=db_url, course=course) == expected  # a regrade: same rows

    # read back with nbgrader's own API: per test cell, per submission, and as the formgrader lists them
    with Gradebook(db_url, "nbbackprop") as gradebook:
        assert sorted(s.id for s in gradebook.students) == ["ada", "ben", "cy", "dee", "eve"]
        for entry in entries:
            submission = gradebook.find_submission(assignment, entry["student"])
            assert (submission.score, submission.max_score) == (expected[entry["student"]], full)
        lines = {line["id"]: line for line in entries[1]["tests"]}
        for test in points.tests_of(assignment):
            grade = gradebook.find_grade(test.grade_id, assignment, assignment, "cy")
            assert grade.auto_score == lines[test.id]["points"] == (0.0 if test.target == "ReLU" else test.points)
            assert not grade.needs_manual_grade
        relu_comment = gradebook.find_comment("ReLU", assignment, assignment, "cy").auto_comment
        assert "[" in relu_comment and "ReLU" in relu_comment, relu_comment
        assert gradebook.find_comment("Linear", assignment, assignment, "cy").auto_comment is None
        assert "Not graded by the autograder" in gradebook.find_comment("Linear", assignment, assignment,
                                                                         "dee").auto_comment
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    listed = {s["student"]: (s["score"], s["max_score"], s["autograded"])
              for s in NbGraderAPI(config=config).get_submissions(assignment)}
    assert listed == {student: (score, full, True) for student, score in expected.items()}

    nbgrader("export", "--to", "grades.csv", cwd=course, env=hermetic_env(tmp_path))
    with open(course / "grades.csv", newline="") as handle:
        exported = {row["student_id"]: (float(row["score"]), float(row["max_score"]))
                    for row in csv.DictReader(handle) if row["assignment"] == assignment}
    assert exported == {**{student: (score, full) for student, score in expected.items()}, "eve": (0.0, full)}
