"""exercises/ is exactly what nbgrader generates from solutions/, and gives nothing away."""

import json
import re

import nbformat
import pytest

from autograder.course import ASSIGNMENTS, EXERCISES, SOLUTIONS, notebook_path, solution_sources
from autograder.nbgrader_route import release_differences


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercises_equal_a_fresh_nbgrader_release(assignment):
    assert release_differences(assignment) == [], "run `python -m autograder release` and commit exercises/"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_holds_no_solution_no_hidden_test_no_output(assignment):
    release = nbformat.read(notebook_path(EXERCISES, assignment), as_version=4)
    text = json.dumps([cell.source for cell in release.cells])
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert "HIDDEN TESTS" not in text and "hidden=True" not in text
    for cell in release.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    # no line of a solution body survives into the release
    release_code = "\n".join(cell.source for cell in release.cells)
    source = nbformat.read(notebook_path(SOLUTIONS, assignment), as_version=4)
    for name in solution_sources(assignment):
        cell = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == name)
        bodies = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S)
        for body in bodies:
            for line in body.strip().splitlines():
                line = line.strip()
                if len(line) > 25 and not line.startswith("#"):
                    assert line not in release_code, f"{assignment}: solution line of {name} in the release: {line}"


@pytest.mark.parametrize("folder", ["solutions", "exercises", "lectures"])
def test_committed_notebooks_carry_no_outputs(folder):
    root = SOLUTIONS.parent / folder
    for path in sorted(root.glob("**/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path} has outputs"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_name_has_its_solution_cell(assignment):
    from nbbackprop.checks import TARGETS

    source = nbformat.read(notebook_path(SOLUTIONS, assignment), as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in source.cells
           if c.metadata.get("nbgrader", {}).get("solution")]
    assert sorted(ids) == sorted(TARGETS[assignment])
    tests = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert tests and all(c.metadata["nbgrader"]["points"] > 0 for c in tests)
    assert all("BEGIN HIDDEN TESTS" in c.source for c in tests), "every graded part has hidden tests"


def test_sample_submissions_are_what_the_sources_make(tmp_path):
    from autograder.samples import SAMPLES, sample_path, write_samples

    for path in write_samples(root=tmp_path):
        relative = path.relative_to(tmp_path)
        committed = nbformat.read(SAMPLES / relative, as_version=4)
        fresh = nbformat.read(path, as_version=4)
        assert [c.source for c in committed.cells] == [c.source for c in fresh.cells], (
            f"{relative} is stale: run `python -m autograder samples`")
    assert sample_path("ben", "ps4_flow_graph").exists()
