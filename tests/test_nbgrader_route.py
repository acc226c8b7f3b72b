"""The nbgrader route end to end, in a scratch course: generate → autograde → feedback → export."""

import nbformat
import pytest

from autograder.course import ASSIGNMENTS, model_answer, untouched
from autograder.nbgrader_route import autograde

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_model_answer_full_marks_untouched_zero(assignment, tmp_path):
    submissions = {}
    for student, notebook in (("model", model_answer(assignment)), ("untouched", untouched(assignment))):
        path = tmp_path / f"{student}.ipynb"
        nbformat.write(notebook, path)
        submissions[student] = path
    scores = autograde(assignment, submissions, directory=tmp_path / "course")
    score, max_score = scores["model"]
    assert max_score > 0 and score == max_score
    assert scores["untouched"] == (0.0, max_score)
    feedback = tmp_path / "course" / "feedback" / "untouched" / assignment / f"{assignment}.html"
    assert "NotImplementedError" in feedback.read_text()
