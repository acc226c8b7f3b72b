"""Lecture L05 in a real JupyterLab in headless Chromium: Run All Cells, then the saved notebook holds
no error and at least one figure."""

from __future__ import annotations

import json
import shutil
import time
import uuid

import nbformat
import pytest

from tests._jupyter_server import REPO_ROOT, jupyterlab_server

pytestmark = pytest.mark.slow
LECTURE = REPO_ROOT / "lectures" / "L05_backprop.ipynb"


@pytest.fixture(scope="module")
def lab(chromium_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("lecture")
    shutil.copyfile(LECTURE, root / LECTURE.name)
    with jupyterlab_server(root) as server:
        yield server


def wait_for_kernel(lab, name, timeout=60.0):
    """Until the server reports the notebook's kernel started and idle (the page's own indicator
    says idle before the kernel has connected)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sessions = json.loads(lab.api("api/sessions"))
        if any(s["path"].endswith(name) and s["kernel"]["execution_state"] == "idle" for s in sessions):
            return
        time.sleep(0.5)
    raise AssertionError(f"no idle kernel for {name} after {timeout:g} s")


def run_all(page):
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def test_l05_runs_all_cells_in_jupyterlab_without_error_and_with_figures(browser, lab):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    path = lab.root_dir / LECTURE.name
    try:
        page.goto(lab.url_for(LECTURE.name, workspace=f"lecture-{uuid.uuid4().hex[:8]}"), timeout=60_000)
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=60_000)
        wait_for_kernel(lab, LECTURE.name)
        run_all(page)
        # wait until every cell has run and the kernel is idle again, saving as we go
        started, retried = time.monotonic(), False
        code_cells = sum(c.cell_type == "code" for c in nbformat.read(LECTURE, as_version=4).cells)
        while time.monotonic() < started + 150:
            page.keyboard.press("Control+s")
            page.wait_for_timeout(1500)
            saved = nbformat.read(path, as_version=4)
            counts = [c.execution_count for c in saved.cells if c.cell_type == "code"]
            idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count() == 1
            if idle and len(counts) == code_cells and all(counts):
                break
            if not retried and not any(counts) and time.monotonic() > started + 30:
                run_all(page)  # the first click can land while the kernel is still connecting
                retried = True
        else:
            raise AssertionError("the lecture did not finish running within 150 s")
    except Exception:
        page.screenshot(path=str(lab.root_dir / "failure-L05.png"))
        print(f"--- jupyter server log ---\n{lab.log()[-4000:]}")
        raise
    finally:
        context.close()
    outputs = [o for c in saved.cells if c.cell_type == "code" for o in c.outputs]
    errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    assert errors == []
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 1
