"""The decision-boundary picture of ps1/ps2 feedback (issue 12): a wrong linear classifier on a visible 2-D probe
carries the probe's points, their labels, the student's (w, b) and the reference's as data on its verdict and
report line, and the feedback page draws them as one small inline SVG; hidden tests and right answers carry none.

The last test opens such a page in headless Chromium with the network off (skipped without Chromium and
playwright) and saves ``boundary_picture.png`` to ``$NBBACKPROP_SCREENSHOTS`` when set::

    NBBACKPROP_SCREENSHOTS=docs/screenshots python -m pytest tests/test_boundary_picture.py -p no:cacheprovider
"""

import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.cells import grade_id
from autograder.course import model_answer
from autograder.grader import grade_submission
from autograder.report import _clipped, boundary_picture, feedback_html
from nbbackprop import logistic
from nbbackprop.checks import engine, suite_for
from nbbackprop.checks.parts import with_boundary
from nbbackprop.checks.verdict import OK, failed
from tests.test_checks_ps1_ps2 import right

PS1, PS2 = "ps1_neurons", "ps2_logistic"
# planted bugs, as a student would write them into the model answer
PERCEPTRON_RIGHT, PERCEPTRON_WRONG = "w = w + lr * error * x_i", "w = w - lr * error * x_i"  # w steps backwards
FIT_RIGHT, FIT_WRONG = "w, b = w - lr * dw, b - lr * db", "w, b = w - lr * dw, b"  # b never updated


def verdicts(target, candidate, hidden=False):
    suite = suite_for(target)
    return {v.part: v for v in suite.verdicts(engine.plain(suite.probe(candidate, hidden)), hidden)}


def perceptron_backwards(X, y, lr=1.0, epochs=10):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            error = y_i - float(x_i @ w + b >= 0)
            w, b = w - lr * error * x_i, b + lr * error
    return w, b


def fit_without_bias(X, y, lr=0.1, epochs=100, batch_size=None, rng=None):
    n, w, losses = len(y), np.zeros(X.shape[1]), []
    for _ in range(epochs):
        order = np.arange(n) if batch_size is None else rng.permutation(n)
        for start in range(0, n, batch_size or n):
            rows = order[start:start + (batch_size or n)]
            dz = logistic.sigmoid(X[rows] @ w) - y[rows]
            w = w - lr * X[rows].T @ dz / len(rows)
        losses.append(logistic.binary_cross_entropy(logistic.sigmoid(X @ w), y))
    return w, 0.0, losses


def perceptron_lr_only_on_long_runs(X, y, lr=1.0, epochs=10):  # right on the visible probes, wrong on hidden ones
    return right("perceptron_train")(X, y, lr=lr if epochs < 7 else 1.0, epochs=epochs)


def test_the_perceptron_update_carries_the_hand_made_set_and_both_lines():
    found = verdicts("perceptron_train", perceptron_backwards)
    assert found["update"].diagnosis != "ok"
    boundary = found["update"].boundary
    # the hand-made set of PerceptronTrainSuite.hand; one epoch from zeros, lr = 1, ends at w = (1, 0), b = −1
    assert boundary.points == ((2.0, 1.0), (1.0, -1.0), (-1.0, 2.0), (1.0, 1.0)) and boundary.labels == (1, 0, 0, 1)
    assert boundary.expected == ((1.0, 0.0), -1.0)
    # backwards in w only: sample 1 (s = 0, ŷ = 1) is right; sample 2 (s = 0, ŷ = 1, y = 0) w = (1, −1), b = −1;
    # sample 3 (s = −4, ŷ = 0) is right; sample 4 (s = −1, ŷ = 0, y = 1) w = (0, −2), b = 0
    assert boundary.got == ((0.0, -2.0), 0.0)
    line = found["update"].report_line(1.0)
    assert line["boundary"] == {"points": [[2.0, 1.0], [1.0, -1.0], [-1.0, 2.0], [1.0, 1.0]], "labels": [1, 0, 0, 1],
                                "got": {"w": [0.0, -2.0], "b": 0.0}, "expected": {"w": [1.0, 0.0], "b": -1.0},
                                "settings": {"lr": 1.0, "epochs": 1.0}}
    assert all(verdict.boundary is None for part, verdict in found.items() if part != "update")


def test_hidden_tests_and_right_answers_carry_no_boundary():
    for target, candidate in (("perceptron_train", perceptron_backwards), ("fit_logistic", fit_without_bias)):
        hidden = verdicts(target, candidate, hidden=True)
        assert any(not v.passed for v in hidden.values())
        assert all(v.boundary is None and "boundary" not in v.report_line(1.0, v.hidden_message())
                   for v in hidden.values())
    for target in ("perceptron_train", "fit_logistic", "lda_fit"):  # the tests' own right answers
        found = verdicts(target, right(target))
        assert all(v.passed and v.boundary is None and "boundary" not in v.report_line(1.0) for v in found.values())


def test_a_bug_only_the_hidden_inputs_reach_shows_no_boundary():
    visible, hidden = (verdicts("perceptron_train", perceptron_lr_only_on_long_runs, h) for h in (False, True))
    assert all(v.passed for v in visible.values()) and hidden["schedule"].diagnosis == "scale"
    assert hidden["schedule"].boundary is None
    assert "boundary" not in hidden["schedule"].report_line(1.0, hidden["schedule"].hidden_message())


def test_with_boundary_leaves_a_passed_a_3d_or_a_non_finite_verdict_alone():
    X, y, wrong = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 1]), failed("mismatch", "x")
    assert with_boundary(OK, X, y, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]) is OK
    assert with_boundary(wrong, np.ones((2, 3)), y, [1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]) is wrong
    assert with_boundary(wrong, X, y, [np.nan, 0.0, 0.0], [0.0, 1.0, 0.0]) is wrong
    assert with_boundary(wrong, X, y, engine.Raised("exception", "boom"), [0.0, 1.0, 0.0]) is wrong
    assert with_boundary(wrong, X, y, [1.0, 2.0, 3.0], [0.0, 1.0, 0.0]).boundary.got == ((1.0, 2.0), 3.0)


def test_the_line_is_clipped_to_the_box_vertical_horizontal_missing_or_absent():
    box = (0.0, 0.0, 4.0, 4.0)
    assert _clipped((1.0, 0.0), -1.0, box) == ((1.0, 0.0), (1.0, 4.0))  # x = 1, vertical
    assert _clipped((0.0, 2.0), -6.0, box) == ((0.0, 3.0), (4.0, 3.0))  # y = 3, horizontal
    assert _clipped((1.0, 1.0), -4.0, box) in (((0.0, 4.0), (4.0, 0.0)), ((4.0, 0.0), (0.0, 4.0)))  # the diagonal
    assert _clipped((1.0, 1.0), 10.0, box) is None  # x + y = −10 misses the box
    assert _clipped((0.0, 0.0), 1.0, box) is None  # w = 0: no line at all
    assert _clipped((1.0, -1.0), 4.0, box) is None  # y = x + 4 only touches the corner (0, 4)


def picture_of(w_got, b_got):
    line = {"boundary": {"points": [[0.0, 0.0], [2.0, 2.0], [0.0, 2.0]], "labels": [0, 1, 1],
                         "got": {"w": w_got, "b": b_got}, "expected": {"w": [1.0, 1.0], "b": -2.0}, "settings": {}}}
    return boundary_picture(line)


def test_a_line_outside_the_plot_or_w_zero_is_named_in_the_legend_not_drawn():
    assert [item["name"] for item in picture_of([0.0, 0.0], 1.0)["legend"]] == ["yours (w = 0: no line)", "expected"]
    outside = picture_of([1.0, 0.0], 50.0)
    assert [item["name"] for item in outside["legend"]] == ["yours (outside the plot)", "expected"]
    assert [segment["name"] for segment in outside["lines"]] == ["expected"]
    inside = picture_of([1.0, 0.0], -1.0)  # x = 1: vertical, through the middle of the plot
    yours = next(segment for segment in inside["lines"] if segment["name"] == "yours")
    assert yours["x1"] == yours["x2"] == inside["size"] / 2 and {yours["y1"], yours["y2"]} == {0.0, inside["size"]}


def graded_page(tmp_path, assignment, target, right, wrong):
    notebook = model_answer(assignment)
    cell = next(c for c in notebook.cells if grade_id(c) == target)
    assert right in cell.source, f"the model answer's {target} changed: plant the bug anew"
    cell.source = cell.source.replace(right, wrong)
    path = tmp_path / f"{assignment}.ipynb"
    nbformat.write(notebook, path)
    entry = grade_submission(assignment, path)
    return entry, feedback_html(assignment, entry)


def svg_of(page):
    """The boundary figure's SVG: its points and its lines (the legend's samples left out)."""
    figure = re.search(r'<figure class="boundary">(.*?)</figure>', page, re.S).group(1)
    plot = re.search(r'<svg class="plotarea".*?</svg>', figure, re.S).group(0)
    return plot.count('<circle class="point"'), re.findall(r'class="boundary-line" data-name="(\w+)"', plot), figure


def test_a_planted_perceptron_bug_gives_a_report_line_and_a_page_with_both_lines(tmp_path):
    entry, page = graded_page(tmp_path, PS1, "perceptron_train", PERCEPTRON_RIGHT, PERCEPTRON_WRONG)
    line = next(line for line in entry["tests"] if line["id"] == "perceptron_train.update")
    assert line["diagnosis"] != "ok" and not line["hidden"]
    assert line["boundary"]["got"] == {"w": [0.0, -2.0], "b": 0.0}
    assert line["boundary"]["expected"] == {"w": [1.0, 0.0], "b": -1.0} and len(line["boundary"]["points"]) == 4
    assert [other["id"] for other in entry["tests"] if "boundary" in other] == ["perceptron_train.update"]
    points, lines, figure = svg_of(page)
    assert points == 4 and sorted(lines) == ["expected", "yours"]
    assert ">yours<" in figure and ">expected<" in figure and "<script" not in page and "http" not in figure


def test_a_planted_fit_logistic_bug_gives_a_report_line_and_a_page_with_both_lines(tmp_path):
    entry, page = graded_page(tmp_path, PS2, "fit_logistic", FIT_RIGHT, FIT_WRONG)
    line = next(line for line in entry["tests"] if line["id"] == "fit_logistic.weights")
    assert line["diagnosis"] == "mismatch" and not line["hidden"]
    boundary = line["boundary"]
    # the visible separable set of FitLogisticSuite.separable: 29 points in 2-D, fit with seed 7
    assert len(boundary["points"]) == len(boundary["labels"]) == 29 and boundary["got"]["b"] == 0.0
    assert boundary["expected"]["b"] != 0.0 and boundary["settings"] == {"lr": 0.5, "epochs": 40.0,
                                                                         "batch_size": 4.0, "rng_seed": 7.0}
    points, lines, _ = svg_of(page)
    assert points == 29 and sorted(lines) == ["expected", "yours"]
    assert not any("boundary" in line for line in entry["tests"] if line["hidden"])


def test_a_correct_submission_has_no_boundary_on_its_page(tmp_path):
    entry, page = graded_page(tmp_path, PS1, "perceptron_train", PERCEPTRON_RIGHT, PERCEPTRON_RIGHT)
    assert entry["score"] == entry["max_score"] and not any("boundary" in line for line in entry["tests"])
    assert 'class="boundary"' not in page


@pytest.mark.slow
def test_the_boundary_picture_in_chromium_offline_and_on_a_phone(browser, tmp_path):
    from tests.test_browser_student_view import offline, saved

    _, page_text = graded_page(tmp_path, PS1, "perceptron_train", PERCEPTRON_RIGHT, PERCEPTRON_WRONG)
    page_file = tmp_path / "ada.html"
    page_file.write_text(page_text, encoding="utf-8")
    url = page_file.as_uri()
    with offline(browser, url, width=390) as (page, requested):
        assert requested == [url], f"the page asked for more than itself: {requested}"
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"the page is {width[0]} px wide on a {width[1]} px screen"
        figure = page.locator("figure.boundary")
        box = figure.bounding_box()
        assert 100 < box["width"] <= 260, box  # small and inline
        assert figure.locator("svg.plotarea circle.point").count() == 4
        assert figure.locator("svg.plotarea line.boundary-line").count() == 2
        folder = os.environ.get("NBBACKPROP_SCREENSHOTS")
        if folder:
            row = page.locator("tr", has=figure)
            shot = Path(folder) / "boundary_picture.png"
            row.screenshot(path=str(shot))
            saved(shot)


def test_lda_fit_draws_on_its_own_2d_probe_which_grades_nothing():
    from tests.test_checks_ps1_ps2 import lda_no_prior

    found = verdicts("lda_fit", lda_no_prior)
    assert found["w"].passed and found["b"].diagnosis == "mismatch"
    boundary = found["b"].boundary
    assert len(boundary.points) == len(boundary.labels) == 15 and np.allclose(boundary.got[0], boundary.expected[0])
    assert boundary.got[1] != boundary.expected[1]  # the prior term missing: the line shifted, not turned
    assert verdicts("lda_fit", lda_no_prior, hidden=True)["b"].boundary is None
