"""Our grader's grades in nbgrader's gradebook, so a course run with nbgrader's formgrader sees them.

Why the gradebook and not an nbgrader ``ExportPlugin``: an export plugin only changes what
``nbgrader export`` prints, and the formgrader would still show nothing. nbgrader keeps every score
in its gradebook (one ``Grade`` per test cell per submission, ``auto_score`` for the autograder's
part, ``manual_score`` for a grader's override), and everything reads it from there: the formgrader's
pages, ``nbgrader export`` with any plugin, ``nbgrader generate_feedback``. Writing our scores as the
``auto_score`` of the same test cells that ``nbgrader autograde`` would fill puts them everywhere at
once, and leaves a grader's manual overrides untouched.

Each report test ``Target.part`` is one test cell of ``solutions/<id>/<id>.ipynb``
(:func:`autograder.points.tests_of` knows its ``grade_id``); each failure message goes into the
comment of the solution cell of its target (whose ``grade_id`` is the target's name), where the
formgrader shows it next to the student's code.
"""

import json
import warnings
from pathlib import Path

from .course import ROOT
from .points import tests_of

COURSE_ID = "nbbackprop"


def course_gradebook(root=ROOT):
    """The URL of the course's own gradebook, the one ``nbgrader_config.py`` names."""
    return f"sqlite:///{Path(root) / 'gradebook.db'}"


def write_grades(assignment, entries, db_url=None, missing=(), course_id=COURSE_ID, course=None):
    """Write report entries (the report's ``submissions``) into an nbgrader gradebook.

    ``entries`` are dicts ``{"student", "score", "max_score", "error", "tests": [{"id", "points",
    "max_points", "diagnosis", "message", ...}]}``; ``missing`` are the report's ``{"student", ...}``
    of rostered students without a submission, added as students so that nbgrader exports them with 0.
    The assignment must be in the gradebook already (``python -m autograder release`` or
    ``nbgrader generate_assignment <id>`` put it there). A student's earlier automatic scores are
    replaced; manual scores are kept, and flag the cell for review as nbgrader does.

    The formgrader lists a submission's scores only once ``<course>/autograded/<student>/<id>/``
    exists (and carries the timestamp of ``submitted/<student>/<id>/``, if any): with ``course``
    (an nbgrader course directory) each graded notebook is also copied there, as
    ``nbgrader autograde`` would leave it, and the submission gets that timestamp.
    Returns ``{student: score written}``.
    """
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    db_url = db_url or course_gradebook()
    tests = {test.id: test for test in tests_of(assignment)}
    written = {}
    with Gradebook(db_url, course_id) as gradebook, warnings.catch_warnings():
        # nbgrader's add_submission trips SQLAlchemy >= 2.0.19's "not in session" warning; harmless (see
        # nbgrader_config.py)
        warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session", category=SAWarning)
        try:
            notebook = gradebook.find_notebook(assignment, assignment)
        except MissingEntry:
            raise ValueError(f"write_grades expected assignment {assignment} with notebook {assignment}.ipynb in "
                             f"the gradebook {db_url}, found none: run `python -m autograder release {assignment}` "
                             f"(or `nbgrader generate_assignment {assignment}`) first") from None
        cells = {cell.name: cell.max_score for cell in notebook.grade_cells}
        expected = {test.grade_id: test.points for test in tests.values()}
        if cells != expected:
            raise ValueError(f"write_grades: the gradebook's test cells of {assignment} are {sorted(cells.items())}, "
                             f"solutions/ has {sorted(expected.items())}; run `python -m autograder release "
                             f"{assignment}` to bring the gradebook up to date")
        solution_cells = {cell.name for cell in notebook.solution_cells}
        for entry in entries:
            timestamp = _submitted_timestamp(course, assignment, entry["student"]) if course else None
            written[entry["student"]] = _write_entry(gradebook, assignment, entry, tests, solution_cells, timestamp)
            if course:
                folder = Path(course) / "autograded" / entry["student"] / assignment
                _copy_notebook(entry, folder / f"{assignment}.ipynb")
        for absent in missing:
            gradebook.update_or_create_student(absent["student"])
    return written


def _submitted_timestamp(course, assignment, student):
    stamp = Path(course) / "submitted" / student / assignment / "timestamp.txt"
    return stamp.read_text().strip() if stamp.is_file() else None


def _copy_notebook(entry, destination):
    """The student's notebook, as nbformat 4, where the formgrader looks for it (when it is a readable file)."""
    import nbformat

    try:
        notebook = nbformat.read(entry["path"], as_version=4)
    except Exception:  # a zip member, an unreadable upload: the scores are in the gradebook all the same
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, destination)


def _write_entry(gradebook, assignment, entry, tests, solution_cells, timestamp=None):
    student = entry["student"]
    lines = {}
    for line in entry.get("tests", []):
        if line["id"] not in tests:
            raise ValueError(f"write_grades: {student}'s report has test {line['id']!r}, which is not a test of "
                             f"{assignment} (its tests: {', '.join(tests)})")
        if float(line["max_points"]) != tests[line["id"]].points:
            raise ValueError(f"write_grades: {student}'s {line['id']} is out of {line['max_points']} points in the "
                             f"report, {tests[line['id']].points} in solutions/: regrade with this course")
        lines[line["id"]] = line
    gradebook.update_or_create_student(student)
    gradebook.update_or_create_submission(assignment, student, **({"timestamp": timestamp} if timestamp else {}))
    for test_id, test in tests.items():
        grade = gradebook.find_grade(test.grade_id, assignment, assignment, student)
        grade.auto_score = float(lines[test_id]["points"]) if test_id in lines else 0.0
        grade.needs_manual_grade = grade.manual_score is not None
    for target in solution_cells:
        comment = gradebook.find_comment(target, assignment, assignment, student)
        comment.auto_comment = _comment(entry, target, lines.values())
    gradebook.db.commit()
    return sum(float(line["points"]) for line in lines.values())


def _comment(entry, target, lines):
    """What the autograder says about ``target``: why the submission was not graded, or its failures."""
    if entry.get("error"):
        notes = "; ".join(entry.get("notes", []))
        return f"Not graded by the autograder ({entry['error']})" + (f": {notes}" if notes else ".")
    failures = [line["message"] for line in lines if line.get("target", line["id"].split(".")[0]) == target
                and line.get("diagnosis") != "ok" and line.get("message")]
    return "\n\n".join(failures) or None


def write_report(report, db_url=None, course_id=COURSE_ID, course=None):
    """:func:`write_grades` for a whole JSON report (a dict, or the path of ``report.json``)."""
    if not isinstance(report, dict):
        report = json.loads(Path(report).read_text())
    return write_grades(report["assignment"], report["submissions"], db_url, report.get("missing", ()), course_id,
                        course)
