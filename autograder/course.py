"""The course on disk: where things are, and how a model answer is made from the source."""

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
SAMPLES = Path(__file__).resolve().parent / "samples"
ASSIGNMENTS = ("ps1_neurons", "ps2_logistic", "ps3_backprop", "ps4_flow_graph", "ps5_gradient_check")

_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def notebook_path(folder, assignment):
    """``<folder>/<assignment>/<assignment>.ipynb`` — one notebook per assignment."""
    return Path(folder) / assignment / f"{assignment}.ipynb"


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solution_sources(assignment):
    """grade_id → the source of each solution cell of the source notebook, without the markers."""
    source = nbformat.read(notebook_path(SOLUTIONS, assignment), as_version=4)
    return {
        grade_id(cell): _MARKER.sub("", cell.source)
        for cell in source.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
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
