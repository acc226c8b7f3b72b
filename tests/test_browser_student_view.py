"""What a student sees of a failed check, in a real JupyterLab and a real browser (headless Chromium).

Problem set 4 is copied into a temporary directory with every solution filled in from ``solutions/``
and one bug planted:

- ``transpose.ipynb``: ``Linear.bprop`` computes ``grad_W = grad_y.T @ x`` (a wrong answer, nothing raises);
- ``raising.ipynb``: ``Sigmoid.fprop`` calls a helper of the same cell that applies ``math.exp`` to an
  array (a ``TypeError`` in the student's own code).

JupyterLab runs each notebook (Run All Cells, which stops at the first failed check) and the tests read
the check cell's error output as the page shows it: the diagnosis first, the student's own frames
when their code raised, and none of the checks' frames (``CheckFailure._render_traceback_``). nbgrader's
Validate button is pressed on the first notebook, and the grader's feedback page of the second is
opened from a file with every other request aborted.

Each test saves a screenshot of what it checked, cropped to the output, dialog or table. They go to a
temporary directory, or to ``$NBBACKPROP_SCREENSHOTS`` when set; the committed ones in
``docs/screenshots/`` are refreshed with::

    NBBACKPROP_SCREENSHOTS=docs/screenshots python -m pytest tests/test_browser_student_view.py -p no:cacheprovider

Needs Chromium and playwright, like ``tests/test_browser_validate.py`` (skipped without them, failed
under CI).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from autograder.cells import grade_id
from autograder.course import model_answer
from autograder.report import feedback_html
from tests._jupyter_server import REPO_ROOT, jupyterlab_server
from tests.test_browser_lecture import run_all, wait_for_kernel
from tests.test_browser_validate import (
    ASSIGNMENT,
    FAILED_CELL_TEXT,
    PAGE_TIMEOUT_MS,
    RESULTS_DIALOG,
    VALIDATE_BUTTON,
    VALIDATE_TIMEOUT_MS,
)

pytestmark = pytest.mark.slow

RIGHT_GRAD_W, WRONG_GRAD_W = "self.grad_W = self.x.T @ grad_y", "self.grad_W = grad_y.T @ self.x"
RAISING_SIGMOID = '''import math


def squash(value):
    return 1.0 / (1.0 + math.exp(-value))


class Sigmoid:
    """y = σ(x) entry by entry; bprop: grad_x = grad_y ⊙ y (1 − y). Shapes: (N, D) -> (N, D)."""

    def fprop(self, x):
        self.y = squash(x)
        return self.y

    def bprop(self, grad_y):
        return grad_y * self.y * (1.0 - self.y)
'''
GRAD_W_CHECK = 'check_linear(Linear, "grad_W")'
SIGMOID_CHECK = 'check_sigmoid_module(Sigmoid, "fprop")'
TRACE_HEADING = "Your code, where it failed:"
HIDDEN_FRAMES_NOTE = "The checker's own frames are hidden"
# what a traceback through the checks would show: their files, Python's frame lines
CHECKER_FRAMES = ("nbbackprop/checks", "engine.py", "verdict.py", "suite.py", 'File "',
                  "Traceback (most recent call last)", "site-packages")
ERROR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
RUN_TIMEOUT_S = 90  # import numpy and matplotlib, run the cells up to the failed check
GRADE = ("import json, sys; from autograder.grader import grade_submission; "
         "print(json.dumps(grade_submission(*sys.argv[1:])))")
SCREENSHOT_MAX_BYTES = 150_000  # the committed screenshots stay small


def line_of(source: str, text: str) -> int:
    """The 1-based number of the line of ``source`` that holds ``text``."""
    return next(number for number, line in enumerate(source.splitlines(), 1) if text in line)


def assert_no_checker_frames(text: str) -> None:
    shown = [marker for marker in CHECKER_FRAMES if marker in text]
    assert not shown, f"the checks' own frames show ({shown}):\n{text}"


def with_cell(notebook, cell_id: str, source: str):
    for cell in notebook.cells:
        if grade_id(cell) == cell_id:
            cell.source = source
            return notebook
    raise AssertionError(f"no cell {cell_id} in {ASSIGNMENT}")


def transpose_bug():
    notebook = model_answer(ASSIGNMENT)
    linear = next(cell.source for cell in notebook.cells if grade_id(cell) == "Linear")
    assert RIGHT_GRAD_W in linear, "the model answer's Linear changed: plant the bug anew"
    return with_cell(notebook, "Linear", linear.replace(RIGHT_GRAD_W, WRONG_GRAD_W))


def raising_bug():
    return with_cell(model_answer(ASSIGNMENT), "Sigmoid", RAISING_SIGMOID)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    named = os.environ.get("NBBACKPROP_SCREENSHOTS")
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def saved(shot: Path) -> None:
    """Check a screenshot just written is small enough to commit."""
    assert shot.stat().st_size < SCREENSHOT_MAX_BYTES, f"{shot} is {shot.stat().st_size} bytes: crop it"
    print(f"screenshot: {shot}")


def shoot(element, shot: Path) -> None:
    """A screenshot of ``element`` alone."""
    element.screenshot(path=str(shot))
    saved(shot)


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("student-view")
    nbformat.write(transpose_bug(), root / "transpose.ipynb")
    nbformat.write(raising_bug(), root / "raising.ipynb")
    shutil.copyfile(REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")  # Validate reads it
    # every cell in the page, so a cell below the fold can be read and cropped like any other
    settings = root / ".jupyter-state" / "settings"  # where tests/_jupyter_server.py points JupyterLab
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    return root


@pytest.fixture(scope="module")
def lab(chromium_path, course_copy):
    with jupyterlab_server(course_copy) as server:
        yield server


def code_cell(page, text: str):
    """The code cell whose source holds ``text``."""
    return page.locator(".jp-CodeCell", has_text=text).first


def failed_check(browser, lab, notebook: str, check: str):
    """Open ``notebook``, Run All Cells, and return (context, page) once ``check``'s cell shows its error."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    try:
        page.goto(lab.url_for(notebook, workspace=f"student-{uuid.uuid4().hex[:8]}"), timeout=PAGE_TIMEOUT_MS)
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_for_kernel(lab, notebook)
        error = code_cell(page, check).locator(ERROR_OUTPUT)
        started, retried = time.monotonic(), False
        run_all(page)
        while not error.count():
            if time.monotonic() > started + RUN_TIMEOUT_S:
                raise AssertionError(f"{check} showed no error within {RUN_TIMEOUT_S} s")
            first_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").first.inner_text()
            if not retried and not re.search(r"\d", first_prompt) and time.monotonic() > started + 30:
                run_all(page)  # the first click can land while the kernel is still connecting
                retried = True
            page.wait_for_timeout(500)
        return context, page
    except Exception:
        page.screenshot(path=str(lab.root_dir / f"failure-{Path(notebook).stem}.png"))
        print(f"--- jupyter server log ---\n{lab.log()[-4000:]}")
        context.close()
        raise


@pytest.fixture(scope="module")
def transpose_page(browser, lab):
    context, page = failed_check(browser, lab, "transpose.ipynb", GRAD_W_CHECK)
    yield page
    context.close()


@pytest.fixture(scope="module")
def raising_page(browser, lab):
    context, page = failed_check(browser, lab, "raising.ipynb", SIGMOID_CHECK)
    yield page
    context.close()


def test_a_wrong_gradient_shows_its_diagnosis_first_and_no_checker_frames(transpose_page, screenshots):
    cell = code_cell(transpose_page, GRAD_W_CHECK)
    output = cell.locator(ERROR_OUTPUT)
    text = output.inner_text()
    first = text.splitlines()[0]
    assert first.startswith("[transpose] [grad_W] Linear.bprop: grad_W returned shape (3, 5), expected (5, 3)"), text
    diagnosis = " ".join(text.split("\n\n")[0].split())  # wrapped to 80 columns: the lines before the blank one
    assert "Likely cause:" in diagnosis and "you have grad_y.T @ x" in diagnosis, text
    assert TRACE_HEADING not in text, text  # nothing raised: there is no code of theirs to point at
    assert HIDDEN_FRAMES_NOTE in text
    assert_no_checker_frames(text)
    # the long first line wraps in the output: nothing of it is hidden behind a horizontal scroll
    assert output.evaluate("e => e.scrollWidth <= e.clientWidth"), "the diagnosis runs off the output's right edge"
    shoot(cell, screenshots / "notebook_check_failure.png")


@pytest.fixture(scope="module")
def validation(transpose_page, lab):
    """nbgrader's "Validation Results" dialog for the transposed gradient, open until the module ends."""
    transpose_page.locator(VALIDATE_BUTTON).click()
    dialog = transpose_page.locator(RESULTS_DIALOG)
    try:
        dialog.wait_for(state="visible", timeout=VALIDATE_TIMEOUT_MS)
    except Exception:
        print(f"--- jupyter server log ---\n{lab.log()[-4000:]}")
        raise
    yield dialog
    dialog.locator(".jp-Dialog-button").last.click()  # OK: the page is the student's again
    dialog.wait_for(state="hidden")


def cut_boxes(element) -> list[str]:
    """The boxes in ``element`` whose text is wider than the box (hidden, or reached only by scrolling)."""
    return element.evaluate("""root => [root, ...root.querySelectorAll('*')]
        .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
        .map(e => `${e.tagName.toLowerCase()}.${e.className}: ${e.scrollWidth} px of text in ${e.clientWidth} px`)""")


def test_validate_shows_the_diagnosis_and_no_checker_frames(validation, screenshots):
    message = validation.locator("#validation-message")
    text = message.inner_text()
    assert "validation-failed" in (message.get_attribute("class") or "").split(), text
    assert text.count(FAILED_CELL_TEXT) == 1, text  # the one planted bug, in the one check that sees it
    # the cell's source, then its error: the diagnosis first, whole (nbgrader's labextension does not cut it)
    lines = [line.strip() for line in text.splitlines()]
    assert GRAD_W_CHECK in lines, text
    after = lines[lines.index(GRAD_W_CHECK) + 1:]
    diagnosis = " ".join(after[:after.index("")])  # wrapped to 80 columns: the lines up to the blank one
    assert diagnosis.startswith("[transpose] [grad_W] Linear.bprop: grad_W returned shape (3, 5)"), text
    assert diagnosis.endswith("you have grad_y.T @ x."), text
    assert HIDDEN_FRAMES_NOTE in text
    assert_no_checker_frames(text)
    shoot(validation.locator(".jp-Dialog-content"), screenshots / "validate_dialog.png")


def test_validate_shows_the_whole_diagnosis_without_scrolling(validation):
    assert cut_boxes(validation.locator("#validation-message")) == []


def test_code_that_raises_shows_the_students_own_line_and_no_checker_frames(raising_page, screenshots):
    sigmoid = code_cell(raising_page, "def squash(value)")
    count = re.search(r"\d+", sigmoid.locator(".jp-InputPrompt").inner_text()).group()
    check = code_cell(raising_page, SIGMOID_CHECK)
    text = check.locator(ERROR_OUTPUT).inner_text()
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0].startswith("[exception] [fprop] Sigmoid.fprop raised TypeError"), text
    # their cell as its prompt shows it, the line that failed, innermost last
    trace = lines[lines.index(TRACE_HEADING):]
    assert trace[1:5] == [
        f"  In [{count}], line {line_of(RAISING_SIGMOID, 'self.y = squash(x)')}, in fprop",
        "    self.y = squash(x)",
        f"  In [{count}], line {line_of(RAISING_SIGMOID, 'math.exp(-value)')}, in squash",
        "    return 1.0 / (1.0 + math.exp(-value))",
    ], text
    assert HIDDEN_FRAMES_NOTE in text
    assert_no_checker_frames(text)
    shoot(check, screenshots / "notebook_student_traceback.png")


def graded(submission: Path) -> dict:
    """``grade_submission``'s entry for ``submission``, graded in a process of its own (the grader now
    reaps only what a submission started, but the browser's driver and JupyterLab are children here:
    a process of its own keeps them out of any reaping for good)."""
    run = subprocess.run([sys.executable, "-c", GRADE, ASSIGNMENT, str(submission)], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(run.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def feedback_page(tmp_path_factory) -> str:
    """The ``file://`` URL of the grader's feedback page for the raising Sigmoid."""
    folder = tmp_path_factory.mktemp("feedback")
    submission = folder / "ada.ipynb"
    nbformat.write(raising_bug(), submission)
    entry = graded(submission)
    assert entry["error"] is None and entry["score"] < entry["max_score"], entry
    page_file = folder / "ada.html"
    page_file.write_text(feedback_html(ASSIGNMENT, entry), encoding="utf-8")
    return page_file.as_uri()


@contextlib.contextmanager
def offline(browser, url: str, width: int):
    """A page showing ``url`` with the network off and every other request aborted; yields
    (page, every URL the page asked for)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, offline=True)
    requested = []
    context.on("request", lambda request: requested.append(request.url))
    context.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_load_state("load")
        yield page, requested
    finally:
        context.close()


def test_the_feedback_page_shows_the_trace_and_asks_nothing_of_the_network(browser, feedback_page, screenshots):
    with offline(browser, feedback_page, width=820) as (page, requested):
        assert requested == [feedback_page], f"the page asked for more than itself: {requested}"
        row = page.locator("tr", has=page.locator("code", has_text="Sigmoid.fprop")).first
        assert row.locator("td.bad").inner_text() == "exception"
        message = row.locator("td.message").inner_text()
        assert message.startswith("[fprop] Sigmoid.fprop raised TypeError"), message
        trace = row.locator(".trace").inner_text()
        assert trace.startswith(TRACE_HEADING), trace
        # the grader names their cell "code cell N": the Sigmoid cell is the notebook's 9th code cell
        assert f"code cell 9 (Sigmoid, squash), line {line_of(RAISING_SIGMOID, 'math.exp(-value)')}, in squash" \
            in trace, trace
        assert "return 1.0 / (1.0 + math.exp(-value))" in trace, trace
        assert_no_checker_frames(page.locator("body").inner_text())
        assert cut_boxes(page.locator("body")) == []
        # the score and every failed part: from the top of the page to the last failed row
        last_failed = page.locator("tr:has(td.bad)").last.bounding_box()
        shot = screenshots / "feedback_page.png"
        page.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": page.viewport_size["width"],
                                              "height": last_failed["y"] + last_failed["height"] + 8})
        saved(shot)


def test_the_feedback_page_fits_a_phone(browser, feedback_page):
    with offline(browser, feedback_page, width=390) as (page, _):
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"the page is {width[0]} px wide on a {width[1]} px screen"
