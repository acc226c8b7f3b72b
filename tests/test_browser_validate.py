"""nbgrader's Validate button, pressed in a real JupyterLab in headless Chromium.

Problem set 4 is copied into a temporary directory twice: as released (every solution a
``raise NotImplementedError`` stub) and finished (each solution cell's source taken from the cell
with the same ``grade_id`` in ``solutions/``, without the ``### BEGIN/END SOLUTION`` markers).
A JupyterLab serving that directory opens each copy; the test clicks the toolbar's Validate
button (nbgrader's labextension, which saves the notebook and posts it to nbgrader's
``validate_assignment`` server extension) and reads the "Validation Results" dialog:
the finished notebook passes, the untouched one fails with the checks' ``not-implemented`` message.

Needs Chromium (``/usr/bin/chromium``, or ``$NBBACKPROP_CHROMIUM``) and the ``playwright`` Python
package (its own browser download is not used). Without them the test is skipped locally, and
fails under CI (``$CI`` set), where they are installed on purpose.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from autograder.course import model_answer
from tests._jupyter_server import REPO_ROOT, jupyterlab_server

pytestmark = pytest.mark.slow

ASSIGNMENT = "ps4_flow_graph"
RELEASED = REPO_ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
# what nbgrader 0.9's labextension shows (see its validate-assignment code)
VALIDATE_BUTTON = ".jp-NotebookPanel-toolbar .validate-button"
RESULTS_DIALOG = ".jp-Dialog:has(#validation-message)"  # the dialog titled "Validation Results"
SUCCESS_TEXT = "Success! Your notebook passes all the tests."
FAILED_CELL_TEXT = "The following cell failed:"

PAGE_TIMEOUT_MS = 60_000  # JupyterLab loading in a cold browser
VALIDATE_TIMEOUT_MS = 90_000  # save + run the whole notebook in a fresh kernel (5-10 s here)


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory) -> Path:
    """A scratch directory with both notebooks: the committed ones are never touched."""
    root = tmp_path_factory.mktemp("validate")
    shutil.copyfile(RELEASED, root / "untouched.ipynb")
    nbformat.write(model_answer(ASSIGNMENT), root / "finished.ipynb")
    # nbgrader's Validate handler reads nbgrader_config.py from the server's working directory:
    # validate with the course's own settings (cell timeout, ...)
    shutil.copyfile(REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


@pytest.fixture(scope="module")
def lab(chromium_path, course_copy):
    # validation runs in kernels of its own: the notebook page needs none
    with jupyterlab_server(course_copy, extra_args=("--LabApp.notebook_starts_kernel=False",)) as server:
        yield server


def validate_in_browser(browser, lab, notebook: str) -> tuple[str, str, float]:
    """Open ``notebook`` in JupyterLab, press Validate, and return the results dialog's
    (class list of its message, text of its message, seconds from click to dialog)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(lab.url_for(notebook, workspace=f"test-{uuid.uuid4().hex[:8]}"), timeout=PAGE_TIMEOUT_MS)
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        button = page.locator(VALIDATE_BUTTON)
        button.wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
        assert button.count() == 1, f"expected one Validate button, found {button.count()}"
        started = time.monotonic()
        button.click()
        dialog = page.locator(RESULTS_DIALOG)
        dialog.wait_for(state="visible", timeout=VALIDATE_TIMEOUT_MS)
        elapsed = time.monotonic() - started
        message = dialog.locator("#validation-message")
        return message.get_attribute("class") or "", message.inner_text(), elapsed
    except Exception:
        shot = lab.root_dir / f"failure-{Path(notebook).stem}.png"
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}\n--- jupyter server log ---\n{lab.log()[-6000:]}")
        raise
    finally:
        context.close()


def test_validate_passes_the_finished_notebook(browser, lab):
    classes, text, elapsed = validate_in_browser(browser, lab, "finished.ipynb")
    assert "validation-success" in classes.split(), f"Validate did not pass the finished notebook:\n{text}"
    assert SUCCESS_TEXT in text
    assert FAILED_CELL_TEXT not in text
    print(f"finished notebook validated in {elapsed:.1f} s")


def test_validate_fails_the_untouched_notebook(browser, lab):
    classes, text, elapsed = validate_in_browser(browser, lab, "untouched.ipynb")
    assert "validation-failed" in classes.split(), f"Validate did not fail the untouched notebook:\n{text}"
    assert SUCCESS_TEXT not in text
    failed = text.count(FAILED_CELL_TEXT)
    assert failed >= 1, text
    # the failures are the checks' own diagnosis of the stubs, not some unrelated crash
    assert "not-implemented" in text and "is not implemented yet" in text, text
    assert 'check_linear(Linear, "init")' in text, text
    print(f"untouched notebook: {failed} failed cell(s), validated in {elapsed:.1f} s")
