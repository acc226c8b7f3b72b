"""The class list: who is in the course, under which ids each LMS knows them.

A roster is a CSV file with a header. Our own columns are ``id`` (required),
``name``, ``email``, ``section``, ``canvas_id``, ``sis_id``, ``login_id``,
``moodle_id`` and ``idnumber``; a gradebook export from Canvas (``Student, ID,
SIS User ID, SIS Login ID, Section``) is read as a roster as it is.
"""

import csv
import re
import unicodedata
from dataclasses import dataclass, field

# header as written (case and spaces ignored) → our field
_COLUMNS = {
    "id": "id", "student_id": "id", "student": "name", "name": "name", "full_name": "name",
    "email": "email", "email_address": "email", "section": "section",
    "canvas_id": "canvas_id", "sis_user_id": "sis_id", "sis_id": "sis_id",
    "sis_login_id": "login_id", "login_id": "login_id", "username": "login_id",
    "moodle_id": "moodle_id", "participant_id": "moodle_id", "idnumber": "idnumber", "id_number": "idnumber",
}
FIELDS = ("id", "name", "email", "section", "canvas_id", "sis_id", "login_id", "moodle_id", "idnumber")


def squash(text):
    """``"Smith, Jöhn"`` → ``"smithjohn"``: how an LMS folds a name into a file name, to compare names."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Student:
    """One row of the roster; ``id`` is the name the reports use."""

    id: str
    name: str = ""
    email: str = ""
    section: str = ""
    canvas_id: str = ""
    sis_id: str = ""
    login_id: str = ""
    moodle_id: str = ""
    idnumber: str = ""

    def keys(self):
        """Every string a file name or folder may identify this student by."""
        found = {self.id, self.login_id, self.sis_id, self.email, self.email.split("@")[0]}
        if self.name:
            words = re.split(r"[\s,]+", self.name.strip())
            found |= {self.name, squash(self.name), squash("".join(words[1:] + words[:1]))}
        return {k for k in found if k}


@dataclass
class Roster:
    students: list = field(default_factory=list)

    def find(self, layout, key, name=""):
        """The student an LMS identity belongs to, or None: by LMS id first, then by name or login."""
        lms_field = {"canvas": "canvas_id", "moodle": "moodle_id"}.get(layout)
        if lms_field and key:
            for student in self.students:
                if getattr(student, lms_field) == key:
                    return student
        wanted = {str(key), squash(key)} | ({name, squash(name)} if name else set())
        for student in self.students:
            if student.keys() & wanted:
                return student
        return None


def _column(header):
    return _COLUMNS.get(re.sub(r"[\s\-]+", "_", header.strip().lower()))


def read_roster(path):
    """The :class:`Roster` in the CSV file ``path``; raises ``ValueError`` naming what is wrong."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise ValueError(f"roster {path}: expected a CSV file with a header row, got an empty file")
    fields = [_column(h) for h in rows[0]]
    if {"sis_id", "login_id"} & set(fields):  # a Canvas gradebook export: its "ID" is Canvas's user id
        fields = ["canvas_id" if f == "id" else f for f in fields]
    if "id" not in fields and not {"login_id", "sis_id", "canvas_id", "email"} & set(fields):
        raise ValueError(f"roster {path}: expected an 'id' column (or a Canvas export's 'SIS Login ID'), "
                         f"got columns {rows[0]}")
    students, seen = [], set()
    for number, row in enumerate(rows[1:], start=2):
        values = {f: v.strip() for f, v in zip(fields, row) if f and v.strip()}
        if not values or values.get("name", "").strip().lower() == "points possible":
            continue  # blank line, or the points row of a Canvas export
        values.setdefault("id", values.get("login_id") or values.get("sis_id") or values.get("email", "")
                          .split("@")[0] or values.get("canvas_id", ""))
        if not values["id"]:
            raise ValueError(f"roster {path}, line {number}: expected an id, got {row}")
        if values["id"] in seen:
            raise ValueError(f"roster {path}, line {number}: the id {values['id']!r} appears twice")
        seen.add(values["id"])
        students.append(Student(**values))
    return Roster(students)
