"""The course gradebook: every student × every problem set, from the assignments' reports, and exports an LMS takes.

:func:`course_grades` reads ``<out>/<assignment>/report.json`` for each
assignment graded so far. A student graded in a report has their score; a
student the report lists as missing has 0; a student a report does not know
at all (the assignment was graded before they joined the roster, say) has
an empty cell, which every LMS import leaves alone.

Formats (:data:`FORMATS`):

* ``csv`` — ``student, name, email, <assignment>…, total``, then a
  ``Points Possible`` row;
* ``canvas`` — Canvas's gradebook import: ``Student, ID, SIS User ID, SIS Login
  ID, Section``, one ``<assignment> (<Canvas id>)`` column per assignment (the
  bare name makes Canvas create the assignment), and the ``Points Possible``
  row as the second line;
* ``moodle`` — Moodle's grade import (CSV): ``ID number``, ``Email address``,
  ``Full name`` and one column per assignment; map ``Email address`` (or
  ``ID number``) to the user field of the same name when importing.
"""

import csv
from dataclasses import dataclass, field

from .course import ASSIGNMENTS
from .points import max_score
from .report import read_report
from .roster import Student

FORMATS = ("csv", "canvas", "moodle")


@dataclass
class Gradebook:
    assignments: list  # the assignments graded so far, in course order
    possible: dict  # assignment → points possible
    students: list  # Student records, roster order first
    scores: dict = field(default_factory=dict)  # (student id, assignment) → points; absent: unknown

    def total(self, student):
        return sum(self.scores.get((student.id, a), 0.0) for a in self.assignments)


def course_grades(out, roster=None):
    """The :class:`Gradebook` of every report under ``out``."""
    reports = {a: r for a in ASSIGNMENTS if (r := read_report(f"{out}/{a}")) is not None}
    if not reports:
        raise ValueError(f"found no report under {out}/: expected {out}/<assignment>/report.json from "
                         "'autograder grade'")
    students = {s.id: s for s in (roster.students if roster else [])}
    book = Gradebook(list(reports), {}, [])
    for assignment, report in reports.items():
        book.possible[assignment] = max_score(assignment)
        for entry in report["submissions"]:
            lms = entry.get("lms", {})
            students.setdefault(entry["student"], Student(entry["student"], canvas_id=lms.get("canvas_id", ""),
                                                          moodle_id=lms.get("moodle_id", "")))
            book.scores[(entry["student"], assignment)] = float(entry["score"])
        for missing in report.get("missing", []):
            students.setdefault(missing["student"], Student(missing["student"]))
            book.scores.setdefault((missing["student"], assignment), 0.0)
    rostered = list(roster.students) if roster else []
    book.students = rostered + sorted((s for s in students.values() if s not in rostered), key=lambda s: s.id)
    return book


def _score(book, student, assignment):
    value = book.scores.get((student.id, assignment))
    return "" if value is None else f"{value:g}"


def rows(book, fmt, canvas_ids=None):
    """The rows (lists of strings, header first) of ``book`` in format ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"gradebook format expected one of {FORMATS}, got {fmt!r}")
    names = book.assignments
    if fmt == "csv":
        table = [["student", "name", "email", *names, "total"],
                 ["Points Possible", "", "", *(f"{book.possible[a]:g}" for a in names),
                  f"{sum(book.possible.values()):g}"]]
        table += [[s.id, s.name, s.email, *(_score(book, s, a) for a in names), f"{book.total(s):g}"]
                  for s in book.students]
        return table
    if fmt == "canvas":
        ids = canvas_ids or {}
        titles = [f"{a} ({ids[a]})" if a in ids else a for a in names]
        table = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *titles],
                 ["Points Possible", "", "", "", "", *(f"{book.possible[a]:g}" for a in names)]]
        table += [[s.name or s.id, s.canvas_id, s.sis_id, s.login_id, s.section,
                   *(_score(book, s, a) for a in names)] for s in book.students]
        return table
    table = [["ID number", "Email address", "Full name", *names]]
    table += [[s.idnumber, s.email, s.name or s.id, *(_score(book, s, a) for a in names)] for s in book.students]
    return table


def unidentified(book, fmt):
    """Students the LMS could not match in this export (no id of the kind it keys on)."""
    if fmt == "canvas":
        return [s.id for s in book.students if not (s.canvas_id or s.sis_id or s.login_id)]
    if fmt == "moodle":
        return [s.id for s in book.students if not (s.email or s.idnumber)]
    return []


def write(path, book, fmt, canvas_ids=None):
    """Write the export; every field quoted where CSV needs it (names with commas, quotes, newlines)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_MINIMAL).writerows(rows(book, fmt, canvas_ids))
