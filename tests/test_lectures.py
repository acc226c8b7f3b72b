"""Every lecture runs offline from a fresh kernel without an error or a warning, draws its figures,
and ends with exercises that point to the problem sets."""

import os
import re

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course import ROOT

LECTURES = ["L01_neurons", "L02_logistic_regression", "L03_gradient_descent", "L04_mlp", "L05_backprop",
            "L06_flow_graph"]
pytestmark = pytest.mark.slow


def executed(name):
    notebook = nbformat.read(ROOT / "lectures" / f"{name}.ipynb", as_version=4)
    env_before = os.environ.get("MPLBACKEND")
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    assert os.environ.get("MPLBACKEND") == env_before
    return notebook


@pytest.mark.parametrize("name", LECTURES)
def test_lecture_runs_cleanly_and_draws(name):
    notebook = executed(name)
    problems, figures = [], 0
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            text = output.get("text", "") or "\n".join(output.get("traceback", []))
            if output.output_type == "error":
                problems.append(f"cell {index}: {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and output.name == "stderr":
                problems.append(f"cell {index} wrote to stderr: {output.text[:200]}")
            elif re.search(r"\w*Warning\b", text):
                problems.append(f"cell {index} printed a warning: {text[:200]}")
            figures += "image/png" in output.get("data", {})
    assert problems == []
    assert figures >= 1


@pytest.mark.parametrize("name", LECTURES)
def test_lecture_is_committed_clean_and_ends_with_exercises(name):
    notebook = nbformat.read(ROOT / "lectures" / f"{name}.ipynb", as_version=4)
    assert all(c.outputs == [] and c.execution_count is None for c in notebook.cells if c.cell_type == "code")
    markdown = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    assert markdown[0].startswith("#")
    tail = "\n".join(markdown[-2:])
    assert re.search(r"[Ee]xercise", tail) and re.search(r"ps[1-5]_\w+", tail)
    assert any("$" in text for text in markdown), "the maths lives in Markdown"
