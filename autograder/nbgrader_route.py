"""The nbgrader route: release the exercises, and autograde a class the way every nbgrader course does.

``release`` writes ``exercises/`` and the course gradebook (``gradebook.db``, git-ignored), as
``nbgrader generate_assignment`` does; :func:`autograde` grades in a scratch copy of the course, so
the repository never gains a ``submitted/`` folder or any other working file.
"""

import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .course import ASSIGNMENTS, EXERCISES, ROOT, SOLUTIONS


def nbgrader(args, cwd):
    """Run one nbgrader command in ``cwd`` (a course directory); raise with its output on failure."""
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        # the course's preflight (nbgrader_config.py) says in one line why nothing was graded: that line is the error
        stopped = [line for line in result.stderr.splitlines() if "stopped before grading anyone" in line]
        raise RuntimeError(stopped[0] if stopped else
                           f"nbgrader {' '.join(args)} failed in {cwd}:\n{result.stdout}\n{result.stderr}")
    return result


def release(assignments=ASSIGNMENTS, root=ROOT):
    """Regenerate ``exercises/<id>/`` from ``solutions/<id>/`` with nbgrader's ``generate_assignment``.

    Runs nbgrader in this process (one start-up for all five) with the course's own configuration, so
    each assignment is also recorded in the course gradebook (``gradebook.db``, git-ignored) and
    ``nbgrader autograde <id>`` works right after, as the README says.
    """
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    for assignment in assignments:
        if not (Path(root) / "solutions" / assignment).is_dir():
            raise ValueError(f"release expected an assignment folder solutions/{assignment}, found none")
    config = Config()
    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    config.CourseDirectory.root = str(root)
    api = NbGraderAPI(config=config)
    for assignment in assignments:
        result = api.generate_assignment(assignment, force=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{result.get('error', '')}"
                               f"\n{result.get('log', '')}")


def scratch_course(directory):
    """A copy of the course's configuration and sources in ``directory``; returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", directory / "nbgrader_config.py")
    shutil.copytree(SOLUTIONS, directory / "solutions")
    return directory


def autograde(assignment, submissions, directory=None):
    """Autograde ``{student: notebook path}`` with nbgrader; return ``{student: (score, max_score)}``.

    The full nbgrader cycle runs in a scratch course: ``generate_assignment``,
    ``autograde``, ``generate_feedback`` and ``export``. Feedback HTML is left in
    ``<directory>/feedback/<student>/<assignment>/`` when a directory is given.
    """
    owned = directory is None
    directory = Path(tempfile.mkdtemp(prefix="nbbackprop-nbgrader-")) if owned else Path(directory)
    try:
        scratch_course(directory)
        nbgrader(["generate_assignment", assignment, "--force"], cwd=directory)
        for student, path in submissions.items():
            target = directory / "submitted" / student / assignment
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / f"{assignment}.ipynb")
        nbgrader(["autograde", assignment, "--create", "--force"], cwd=directory)
        nbgrader(["generate_feedback", assignment, "--force"], cwd=directory)
        nbgrader(["export", "--to", str(directory / "grades.csv")], cwd=directory)
        with open(directory / "grades.csv", newline="") as handle:
            return {
                row["student_id"]: (float(row["score"]), float(row["max_score"]))
                for row in csv.DictReader(handle)
                if row["assignment"] == assignment
            }
    finally:
        if owned:
            shutil.rmtree(directory, ignore_errors=True)


def release_differences(assignment):
    """How ``exercises/<assignment>`` differs from what nbgrader generates now (empty when in sync)."""
    import nbformat

    with tempfile.TemporaryDirectory(prefix="nbbackprop-release-") as directory:
        scratch_course(directory)
        nbgrader(["generate_assignment", assignment, "--force"], cwd=directory)
        name = f"{assignment}/{assignment}.ipynb"
        fresh = nbformat.read(Path(directory) / "exercises" / name, as_version=4)
        committed = nbformat.read(EXERCISES / name, as_version=4)
    differences = []
    if len(fresh.cells) != len(committed.cells):
        differences.append(f"{name}: {len(committed.cells)} cells committed, {len(fresh.cells)} generated")
    for index, (a, b) in enumerate(zip(committed.cells, fresh.cells)):
        for key in ("cell_type", "source", "metadata"):
            if a.get(key) != b.get(key):
                differences.append(f"{name}: cell {index} differs in {key}")
    return differences
