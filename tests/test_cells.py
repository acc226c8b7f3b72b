"""autograder.cells answers as nbgrader.utils does on every cell of the course, and survives broken metadata."""

import nbformat
import pytest
from nbgrader import utils

from autograder import cells
from autograder.course import ASSIGNMENTS, EXERCISES, SOLUTIONS, notebook_path


@pytest.mark.parametrize("folder", [SOLUTIONS, EXERCISES], ids=["solutions", "exercises"])
def test_agrees_with_nbgrader_on_every_course_cell(folder):
    seen = 0
    for assignment in ASSIGNMENTS:
        for cell in nbformat.read(notebook_path(folder, assignment), as_version=4).cells:
            assert cells.is_solution(cell) == bool(utils.is_solution(cell))
            assert cells.is_test(cell) == (bool(utils.is_grade(cell)) and not utils.is_solution(cell))
            seen += cells.is_test(cell)
    assert seen >= 50  # every problem set has its test cells


@pytest.mark.parametrize("metadata", [None, [], "x", {"nbgrader": "broken"}, {"nbgrader": None}, {}])
def test_tampered_metadata_reads_as_none(metadata):
    cell = {"cell_type": "code", "source": "", "metadata": metadata}
    assert (cells.is_test(cell), cells.is_solution(cell), cells.grade_id(cell)) == (False, False, None)
