"""The course on disk: where things are, and how a model answer is made from the source.

The course directory is the one holding ``nbgrader_config.py`` and
``solutions/``: the folder named by ``NBBACKPROP_COURSE`` (``--course DIR``
sets it), else the nearest such folder at or above the working directory,
else the repository this package was installed from.
"""

import os
import re
from pathlib import Path

import nbformat

from .cells import grade_id, is_solution


def is_course(folder):
    """The instructor's course (nbgrader_config.py and solutions/), or a student bundle (exercises/ beside
    the nbbackprop library), where only ``autograder check`` has what it needs."""
    folder = Path(folder)
    return ((folder / "nbgrader_config.py").is_file() and (folder / "solutions").is_dir()) or (
        (folder / "exercises").is_dir() and (folder / "nbbackprop" / "__init__.py").is_file())


def locate_course(start=None):
    """The course directory (see the module's docstring); raises ``ValueError`` when there is none."""
    named = os.environ.get("NBBACKPROP_COURSE")
    if named:
        if not is_course(named):
            raise ValueError(f"NBBACKPROP_COURSE (or --course) names {named}, which is not a course directory: "
                             "expected a folder with nbgrader_config.py and solutions/")
        return Path(named).resolve()
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if is_course(folder):
            return folder
    installed = Path(__file__).resolve().parent.parent
    if is_course(installed):
        return installed
    raise ValueError(f"found no course directory at or above {here}: expected a folder with nbgrader_config.py "
                     "and solutions/ (run from inside the course, or pass --course DIR)")


def _root():
    try:
        return locate_course()
    except ValueError:
        return Path(__file__).resolve().parent.parent  # commands that need the course say so when they look


ROOT = _root()
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
SAMPLES = Path(__file__).resolve().parent / "samples"
ASSIGNMENTS = ("ps1_neurons", "ps2_logistic", "ps3_backprop", "ps4_flow_graph", "ps5_gradient_check")

_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def notebook_path(folder, assignment):
    """``<folder>/<assignment>/<assignment>.ipynb`` — one notebook per assignment."""
    return Path(folder) / assignment / f"{assignment}.ipynb"


def solution_sources(assignment):
    """grade_id → the source of each solution cell of the source notebook, without the markers."""
    source = nbformat.read(notebook_path(SOLUTIONS, assignment), as_version=4)
    return {
        grade_id(cell): _MARKER.sub("", cell.source)
        for cell in source.cells
        if is_solution(cell)
    }


def model_answer(assignment):
    """The released notebook with every solution cell filled in from ``solutions/``: full marks."""
    release = nbformat.read(notebook_path(EXERCISES, assignment), as_version=4)
    answers = solution_sources(assignment)
    for cell in release.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return release


def untouched(assignment):
    """The released notebook as a student receives it: scores zero."""
    return nbformat.read(notebook_path(EXERCISES, assignment), as_version=4)
