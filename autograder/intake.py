"""Intake: from the paths an instructor names to one notebook per student, every file accounted for.

:func:`collect` walks folders and zip archives (read in place, never
extracted), recognises the layout each file comes in, reads every notebook
once (:mod:`autograder.notebook`), and decides:

* **submissions** — one notebook per student, the latest by the layout's own
  order (a Canvas resubmission), else the one named ``<assignment>.ipynb``;
* **skipped** — every other file, once, with a reason (superseded, not a
  notebook, empty, too large, checkpoint copy, another assignment's folder,
  a folder of the course itself);
* **missing** — rostered students (and students a layout names) left without
  a notebook to grade.

Layouts (``--layout`` overrides the guess, file by file):

==========  ==========================================================================
nbgrader    ``submitted/<student>/<assignment>/<assignment>.ipynb``
canvas      ``<lastfirst>[_LATE]_<user id>_<attachment id>_<file name>[-<n>].ipynb``
moodle      ``<Full Name>_<participant id>_assignsubmission_file_/<file name>`` (or the same
            as one flat file name)
plain       anything else: a student's folder of notebooks is that student; a notebook
            directly in the folder given is named after its file
==========  ==========================================================================
"""

import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .course import ASSIGNMENTS
from .notebook import MAX_FILE_BYTES, Unreadable, read_notebook

LAYOUTS = ("nbgrader", "canvas", "moodle", "plain")
CANVAS = re.compile(r"^(?P<name>[^_]+?)(?P<late>_late)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$", re.I)
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$", re.I)
RESUBMITTED = re.compile(r"^(?P<stem>.+?)-(?P<n>\d+)$")
COPY = re.compile(r"(?i)(?:[-_ ]+copy\d*|\s*\(\d+\)|-checkpoint)$")
COURSE_FOLDERS = {
    "exercises": "the student release", "solutions": "the source notebooks", "autograded": "nbgrader's output",
    "feedback": "nbgrader's feedback", "release": "nbgrader's release", "source": "nbgrader's sources",
    "graded": "this grader's output", "autograder": "the grader", "nbbackprop": "the library",
    "lectures": "the lectures", "tests": "the course's tests", "benchmarks": "the benchmarks",
    "_build": "built pages", "docs": "documentation",
}
# skipped kinds that are a student's work left ungraded (the exit status says so)
UNGRADED = {"not-a-notebook", "empty", "too-large", "unreadable", "no-such-path", "not-a-zip", "not-in-layout"}


@dataclass(frozen=True)
class Source:
    """Where a file's bytes are: a file on disk, or a member of a zip archive read in place."""

    file: str
    member: str | None = None

    @property
    def display(self):
        return f"{self.file}/{self.member}" if self.member else self.file

    def size(self):
        if self.member is None:
            return os.path.getsize(self.file)
        with zipfile.ZipFile(self.file) as archive:
            return archive.getinfo(self.member).file_size

    def read(self):
        if self.member is None:
            with open(self.file, "rb") as handle:
                return handle.read()
        with zipfile.ZipFile(self.file) as archive:
            return archive.read(self.member)


@dataclass
class Candidate:
    """A file that may be a student's submission, with what its layout says of the student."""

    source: Source
    layout: str
    key: tuple  # files with the same key belong to the same student
    name: str  # the student as the layout names them
    stem: str = ""  # the file's own name, without extension and resubmission number
    order: tuple = ()  # later is larger (Canvas: attachment id, resubmission number)
    lms: dict = field(default_factory=dict)
    notebook: object = None
    problem: tuple = None  # (kind, reason) when it cannot be graded

    @property
    def file_name(self):
        return Path(self.source.member or self.source.file).name


@dataclass
class Submission:
    """The notebook graded for one student."""

    student: str
    source: Source
    layout: str
    notebook: object
    lms: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    wrong_assignment: str | None = None


@dataclass
class Intake:
    submissions: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # {"path", "reason", "kind"}
    missing: list = field(default_factory=list)  # {"student", "reason"}
    warnings: list = field(default_factory=list)

    def skip(self, path, kind, reason):
        self.skipped.append({"path": str(path), "reason": reason, "kind": kind})


# ---- walking: every file below the paths given, zips read in place ------------------------------------


def _walk(paths, course_root, intake):
    """Yield ``(source, parts, flat)`` for every file; folders not walked are skipped once each."""
    course_root = Path(course_root).resolve() if course_root else None
    for given in map(Path, paths):
        if not given.exists():
            intake.skip(given, "no-such-path", "no such file or folder")
        elif given.is_dir():
            if course_root and given.resolve() == course_root and (given / "submitted").is_dir():
                intake.skip(given, "course-folder", "the course folder: only its submitted/ folder was read")
                given = given / "submitted"
            yield from _walk_folder(given, course_root, intake)
        elif given.suffix.lower() == ".zip":
            yield from _walk_zip(given, intake)
        else:
            yield Source(str(given)), given.resolve().parts, True


def _walk_folder(top, course_root, intake):
    for folder, subfolders, files in os.walk(top):
        here = Path(folder)
        for sub in sorted(subfolders):
            path = here / sub
            if sub == ".ipynb_checkpoints":
                continue  # walked: each checkpoint file is reported as one
            role = COURSE_FOLDERS.get(sub) if course_root and here.resolve() == course_root else None
            if role:
                intake.skip(path, "course-folder", f"a folder of the course ({role}), not a submission")
            elif sub.startswith(".") or sub in ("__pycache__", "__MACOSX", "node_modules"):
                intake.skip(path, "hidden", "a hidden or system folder")
        subfolders[:] = sorted(s for s in subfolders if s == ".ipynb_checkpoints" or not (
            s.startswith(".") or s in ("__pycache__", "__MACOSX", "node_modules")
            or (course_root and here.resolve() == course_root and s in COURSE_FOLDERS)))
        for name in sorted(files):
            path = here / name
            if name.lower().endswith(".zip"):
                yield from _walk_zip(path, intake)
            else:
                yield Source(str(path)), path.resolve().parts, here == Path(top)


def _walk_zip(path, intake):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        intake.skip(path, "not-a-zip", f"not a zip archive ({error})")
        return
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
    tops = {m.filename.split("/", 1)[0] for m in members}
    for info in sorted(members, key=lambda m: m.filename):
        parts = tuple(p for p in info.filename.split("/") if p)
        if parts[0] == "__MACOSX" or any(p.startswith(".") and p != ".ipynb_checkpoints" for p in parts):
            intake.skip(f"{path}/{info.filename}", "hidden", "a hidden or system file")
            continue
        flat = len(parts) == 1 or (len(tops) == 1 and len(parts) == 2)  # the zip of one folder is that folder
        yield Source(str(path), info.filename), parts, flat


# ---- what each file is ---------------------------------------------------------------------------------


def _nbgrader_place(parts):
    """``(student, assignment folder)`` when ``parts`` run through ``submitted/<student>/<assignment>/``."""
    for index in range(len(parts) - 3, -1, -1):
        if parts[index] == "submitted" and index + 3 < len(parts):
            return parts[index + 1], parts[index + 2]
    return None


def _candidate(source, parts, flat, assignment, layout):
    """The :class:`Candidate` a file makes, or ``(kind, reason)`` when it is nobody's submission."""
    name = parts[-1]
    place = _nbgrader_place(parts) if layout in (None, "nbgrader") else None
    if place:
        student, folder = place
        if folder != assignment:
            if folder in ASSIGNMENTS:
                return "other-assignment", f"in the folder of another assignment ({folder})"
        return Candidate(source, "nbgrader", ("nbgrader", student), student, Path(name).stem)
    canvas = CANVAS.match(name) if layout in (None, "canvas") else None
    if canvas:
        stem = os.path.splitext(canvas["file"])[0]
        again = RESUBMITTED.match(stem)
        order = (int(canvas["sid"]), int(again["n"]) if again else 0)
        lms = {"canvas_id": canvas["uid"], "late": bool(canvas["late"])}
        return Candidate(source, "canvas", ("canvas", canvas["uid"]), canvas["name"],
                         again["stem"] if again else stem, order, lms)
    for part in reversed(parts) if layout in (None, "moodle") else ():
        moodle = MOODLE.match(part)
        if moodle:
            return Candidate(source, "moodle", ("moodle", moodle["uid"]), moodle["name"], Path(name).stem,
                             lms={"moodle_id": moodle["uid"]})
    if layout not in (None, "plain"):
        return "not-in-layout", f"not named the way the {layout} layout names files"
    if flat or len(parts) < 2:
        return Candidate(source, "plain", ("plain", source.display), Path(name).stem, Path(name).stem)
    return Candidate(source, "plain", ("plain", str(Path(source.display).parent)), parts[-2], Path(name).stem)


def _read(candidate):
    """Read the candidate's notebook, or set its problem."""
    suffix = Path(candidate.file_name).suffix.lower()
    if "-checkpoint" in candidate.file_name or ".ipynb_checkpoints" in candidate.source.display:
        candidate.problem = ("checkpoint", "a checkpoint copy Jupyter keeps, not the notebook")
        return
    if suffix != ".ipynb":
        what = f"a {suffix} file" if suffix else "a file without an extension"
        candidate.problem = ("not-a-notebook", f"not a notebook: {what}; a notebook is handed in as .ipynb")
        return
    try:
        size = candidate.source.size()
        if size > MAX_FILE_BYTES:
            raise Unreadable("too-large", f"too large: {size / 2**20:.0f} MB "
                                          f"(the limit is {MAX_FILE_BYTES // 2**20} MB)")
        candidate.notebook = read_notebook(candidate.source.read())
    except Unreadable as error:
        candidate.problem = (error.kind, error.reason)
    except (OSError, zipfile.BadZipFile, KeyError) as error:
        candidate.problem = ("unreadable", f"could not be read ({type(error).__name__}: {error})")


def _rank(candidate, assignment):
    """Larger is the one to grade: the right assignment, then the layout's latest, then the plain name."""
    right = candidate.notebook.looks_like(assignment) is None
    stem = candidate.stem
    return right, candidate.order, stem == assignment, not COPY.search(stem), candidate.source.display


# ---- the whole intake -----------------------------------------------------------------------------------


def collect(paths, assignment, roster=None, layout=None, course_root=None):
    """The :class:`Intake` of ``paths`` for ``assignment``."""
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"collect expected a layout in {LAYOUTS}, got {layout!r}")
    intake, groups = Intake(), {}
    for source, parts, flat in _walk(paths, course_root, intake):
        found = _candidate(source, parts, flat, assignment, layout)
        if isinstance(found, tuple):
            intake.skip(source.display, *found)
            continue
        _read(found)
        if found.layout == "plain" and found.key[1] == source.display and found.problem \
                and found.problem[0] == "not-a-notebook" and not found.file_name.lower().endswith(".ipynb"):
            intake.skip(source.display, *found.problem)  # a stray file names no student
            continue
        groups.setdefault(found.key, []).append(found)
    named = {}
    for key in sorted(groups, key=lambda k: (groups[k][0].name, k)):
        _choose(intake, groups[key], assignment, roster, named)
    _missing_from_roster(intake, roster, named)
    intake.submissions.sort(key=lambda s: s.student)
    intake.skipped.sort(key=lambda s: s["path"])
    intake.missing.sort(key=lambda m: m["student"])
    return intake


def _choose(intake, group, assignment, roster, named):
    """Grade one notebook of this student's files; account for the others."""
    readable = [c for c in group if c.problem is None]
    for candidate in group:
        if candidate.problem:
            intake.skip(candidate.source.display, *candidate.problem)
    first = group[0]
    student = roster.find(first.layout, first.key[1], first.name) if roster else None
    name = student.id if student else first.name
    if roster and not student:
        intake.warnings.append(f"{first.source.display}: {name} is not on the roster; graded under that name")
    if not readable:
        unusable = "; ".join(f"{Path(c.source.display).name} ({c.problem[1]})" for c in group)
        if first.layout != "plain" or student or any(c.problem[0] != "checkpoint" for c in group):
            _add_missing(intake, name, f"no notebook that can be graded: {unusable}", named)
        return
    chosen = max(readable, key=lambda c: _rank(c, assignment))
    for other in readable:
        if other is not chosen:
            intake.skip(other.source.display, "superseded", f"superseded by {chosen.source.display}")
    unique = name
    for number in range(2, len(named) + 3):
        if unique not in named:
            break
        unique = f"{name} ({number})"
    if unique != name:
        intake.warnings.append(f"two submissions would both be named {name} ({named[name]}, "
                               f"{chosen.source.display}): graded as {name} and {unique}")
    named[unique] = chosen.source.display
    notes = list(chosen.notebook.notes)
    later = [c for c in group if c.problem and c.order > chosen.order]
    if later:
        notes.append(f"a later file could not be graded ({later[-1].problem[1]}); the latest readable one was")
    if chosen.lms.get("late"):
        notes.append("submitted late (the LMS marked the file LATE)")
    intake.submissions.append(Submission(unique, chosen.source, chosen.layout, chosen.notebook,
                                         {k: v for k, v in chosen.lms.items() if k != "late"}, notes,
                                         chosen.notebook.looks_like(assignment)))


def _add_missing(intake, name, reason, named):
    if name not in named and all(m["student"] != name for m in intake.missing):
        intake.missing.append({"student": name, "reason": reason})


def _missing_from_roster(intake, roster, named):
    if not roster:
        return
    for student in roster.students:
        _add_missing(intake, student.id, "no submission", named)
