"""nbgrader configuration: this repository is the course directory.

``solutions/`` holds the source notebooks (solutions, visible and hidden tests);
``nbgrader generate_assignment <id>`` writes the student versions to ``exercises/``
and records the assignment in the course gradebook, ``gradebook.db`` (git-ignored).
Run ``python -m autograder release`` to regenerate every assignment at once.
"""

import os
import tempfile
import warnings

import nbformat
from nbgrader import utils
from nbgrader.converters import Autograde
from nbgrader.preprocessors import OverwriteCells
from sqlalchemy.exc import SAWarning

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

COURSE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = COURSE
c.CourseDirectory.course_id = "nbbackprop"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(COURSE, "gradebook.db")

# exercises/ is generated and never edited by hand, so regenerating it is always safe: a plain
# `nbgrader generate_assignment <id>` on a fresh clone (where exercises/<id> is committed) then records
# the assignment in gradebook.db instead of skipping it, and `nbgrader autograde <id>` finds it there
c.GenerateAssignment.force = True

# the stub students see in place of every solution region
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("replace this line with your code: the docstring says what")'
}

# a cell that runs longer than this is stopped and its tests score 0
c.Execute.timeout = 120
# warnings on stderr (a DeprecationWarning from a library, a RuntimeWarning) must not zero a test cell:
# nbgrader gives 0 points to any test cell with stderr output, so drop stderr that is only warnings
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\w*Warning: "
# a student who deletes a test cell gets it back, with its hidden tests, when autograding
c.OverwriteCells.add_missing_cells = True
# every released notebook opens by saying it is generated, and from what
c.IncludeHeaderFooter.header = os.path.join(COURSE, "solutions", "header.ipynb")
# feedback pages work offline and on a phone: maths as MathML, no script from a CDN (autograder/offline_html.py)
c.GenerateFeedback.exporter_class = "autograder.offline_html.OfflineHTMLExporter"


# --- quiet autograding: no false alarms, every real one kept -----------------------------------------

# nbgrader's Gradebook.add_submission builds a submission's rows before it adds them to the session, which
# SQLAlchemy >= 2.0.19 reports three times per student ("Object of type <SubmittedAssignment> not in
# session, add operation along 'Student.submissions' will not proceed", sqlalchemy#10090); the rows are
# added a line later, nothing is lost. Only that message, only from nbgrader, is ignored.
warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session, add operation along",
                        category=SAWarning, module=r"nbgrader\.")


class OverwriteCellsKeepingHiddenTests(OverwriteCells):
    """nbgrader's ``OverwriteCells``, minus the false "checksum changed" alarm of hidden tests.

    nbgrader stores each test cell's checksum *with* its hidden tests but releases the cell without them,
    so every untouched test cell of every submission "has changed" (jupyter/nbgrader#1961, ~19 warnings
    per student here) and is restored from the gradebook, hidden tests included, which is what grading
    needs. A cell whose checksum is that of the released cell is therefore no news and is logged at debug
    level; a cell that differs from the release (a student edited a test) still warns, as before.
    """

    def preprocess(self, nb, resources):
        names = resources["nbgrader"]
        release = os.path.join(COURSE, c.CourseDirectory.release_directory, names["assignment"],
                               names["notebook"] + ".ipynb")
        self.released_checksums = {}
        if os.path.exists(release):
            for cell in nbformat.read(release, as_version=4).cells:
                if utils.is_locked(cell) and "grade_id" in cell.metadata.get("nbgrader", {}):
                    self.released_checksums[cell.metadata.nbgrader["grade_id"]] = utils.compute_checksum(cell)
        return super().preprocess(nb, resources)

    def report_change(self, name, attr, old, new):
        if attr == "checksum" and self.released_checksums.get(name) == new:
            self.log.debug("Cell %s is as released; its hidden tests are restored from the gradebook", name)
            return
        super().report_change(name, attr, old, new)


c.Autograde.sanitize_preprocessors = [OverwriteCellsKeepingHiddenTests if step is OverwriteCells else step
                                      for step in Autograde.class_traits()["sanitize_preprocessors"].default()]


# --- a kernel that cannot import the course library stops autograding, with the reason -----------------

_kernels_checked = {}


def _kernel_name(assignment, notebooks):
    """The kernel nbgrader will run: ``Execute.kernel_name`` if set here, else the source notebook's."""
    if c.Execute.get("kernel_name"):
        return c.Execute.kernel_name
    for notebook in notebooks:
        source = os.path.join(COURSE, c.CourseDirectory.source_directory, assignment, os.path.basename(notebook))
        if os.path.exists(source):
            return nbformat.read(source, as_version=4).metadata.get("kernelspec", {}).get("name", "python3")
    return "python3"


def kernel_problem(kernel_name):
    """None when ``kernel_name`` starts and imports nbbackprop, else a sentence saying what is wrong and what
    to do. Runs the real kernel (its python, its environment) once, in an empty folder."""
    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_client.manager import start_new_kernel

    fix = f"pip install -e {COURSE}"
    with tempfile.TemporaryDirectory(prefix="nbbackprop-preflight-") as cwd, \
            tempfile.TemporaryFile("w+") as kernel_log:
        try:
            manager, client = start_new_kernel(kernel_name=kernel_name, cwd=cwd, stderr=kernel_log,
                                               startup_timeout=60)
        except NoSuchKernel:
            return (f"there is no kernel named {kernel_name} (see `jupyter kernelspec list`); install one with "
                    f"`python -m ipykernel install --user --name {kernel_name}` in an environment where "
                    f"`{fix}` was run")
        except Exception as error:
            kernel_log.seek(0)
            return (f"the kernel {kernel_name} does not start ({type(error).__name__}: {error}); "
                    f"its output: {kernel_log.read()[-800:].strip() or 'none'}")
        try:
            printed = []
            reply = client.execute_interactive(
                "import sys\nprint(sys.executable)\nimport nbbackprop", timeout=60, store_history=False,
                output_hook=lambda msg: printed.append(msg["content"].get("text", "")))
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    if reply["content"]["status"] == "ok":
        return None
    printed = "".join(printed).strip()
    python = printed.splitlines()[0] if printed else None
    why = f"{reply['content'].get('ename', 'error')}: {reply['content'].get('evalue', '')}"
    return (f"the kernel {kernel_name} ({python or 'python unknown'}) cannot import nbbackprop ({why}), so "
            f"every test cell would score 0. Install the course in that kernel's environment "
            f"(`{python + ' -m ' if python else ''}{fix}`), or point the {kernel_name} kernel at an environment "
            f"that has it (`jupyter kernelspec list` shows where it is)")


def preflight(assignment, student, notebooks, **_):
    """nbgrader's pre-convert hook: check once per kernel, before the first student, that the kernel the
    notebooks run in can import nbbackprop. nbgrader logs and ignores an exception from this hook, so a
    failure stops the command with :class:`SystemExit` (nbgrader's API reports that as a failed call)."""
    kernel = _kernel_name(assignment, notebooks)
    if kernel not in _kernels_checked:
        _kernels_checked[kernel] = kernel_problem(kernel)
    if _kernels_checked[kernel]:
        raise SystemExit(f"nbgrader autograde {assignment} stopped before grading anyone: "
                         f"{_kernels_checked[kernel]}")


c.Autograde.pre_convert_hook = preflight
