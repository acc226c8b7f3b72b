"""The bundled sample submissions: for each assignment a complete one, a typical buggy one, an untouched one.

They live in ``autograder/samples/submitted/<student>/<assignment>/<assignment>.ipynb``
and are *made* from ``solutions/`` and ``exercises/`` by :func:`write_samples`
(``python -m autograder samples``); a test fails when they drift apart.

* ``ada`` hands in the model answer;
* ``ben`` makes the typical mistakes listed in :data:`BUGS`;
* ``cleo`` hands in the release untouched.
"""

from pathlib import Path

import nbformat

from .course import ASSIGNMENTS, SAMPLES, grade_id, model_answer, untouched

# assignment → list of (grade_id, text in the model answer, what ben wrote instead)
BUGS = {
    "ps1_neurons": [
        ("tlu", "return (X @ w + b >= 0).astype(int)", "return (X @ w + b > 0).astype(int)"),
    ],
    "ps2_logistic": [
        ("sigmoid", """    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))""", "    return 1.0 / (1.0 + np.exp(-z))"),
        ("logistic_gradients", "return X.T @ dz / len(y), float(np.mean(dz))", "return X.T @ dz, float(np.sum(dz))"),
    ],
    "ps3_backprop": [
        ("backward", "grads.append((a_prev.T @ delta + lam * W,", "grads.append((a_prev.T @ delta,"),
        ("backward", "            delta = (delta @ W.T) * a_prev * (1.0 - a_prev)", "            delta = delta @ W.T"),
    ],
    "ps5_gradient_check": [
        ("numerical_gradient", """        x[index] = saved - h
        f_minus = f()
        x[index] = saved
        grad[index] = (f_plus - f_minus) / (2 * h)""", """        x[index] = saved
        grad[index] = (f_plus - f()) / h"""),
        ("buggy_modules", 'buggy_modules = ["BoxB", "BoxE", "BoxF", "BoxG"]', 'buggy_modules = ["BoxB", "BoxF"]'),
    ],
    "ps4_flow_graph": [
        ("Linear", "self.grad_W = self.x.T @ grad_y", "self.grad_W = grad_y.T @ self.x"),
        ("Sigmoid", "return grad_y * self.y * (1.0 - self.y)", "return grad_y * self.x * (1.0 - self.x)"),
        ("Sigmoid", "        e = np.exp(-np.abs(x))", "        self.x = x\n        e = np.exp(-np.abs(x))"),
    ],
}
STUDENTS = ("ada", "ben", "cleo")


def buggy(assignment):
    """The model answer with ben's mistakes patched in; raises if a patch no longer applies."""
    notebook = model_answer(assignment)
    for target, old, new in BUGS.get(assignment, []):
        cell = next((c for c in notebook.cells if grade_id(c) == target), None)
        if cell is None or old not in cell.source:
            raise ValueError(f"samples: the {assignment} solution of {target} no longer contains {old!r}; "
                             "update BUGS in autograder/samples.py")
        cell.source = cell.source.replace(old, new, 1)
    return notebook


def sample_notebooks(assignment):
    """``{student: notebook}`` for one assignment."""
    notebooks = {"ada": model_answer(assignment), "cleo": untouched(assignment)}
    if assignment in BUGS:
        notebooks["ben"] = buggy(assignment)
    return notebooks


def sample_path(student, assignment, root=SAMPLES):
    return Path(root) / "submitted" / student / assignment / f"{assignment}.ipynb"


def write_samples(root=SAMPLES, assignments=ASSIGNMENTS):
    """(Re)write every sample notebook under ``root``; returns the paths written."""
    written = []
    for assignment in assignments:
        for student, notebook in sample_notebooks(assignment).items():
            path = sample_path(student, assignment, root)
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, path)
            written.append(path)
    return written


def sample_submissions(root=SAMPLES):
    """Every sample on disk, as ``{assignment: {student: path}}``."""
    found = {}
    for path in sorted(Path(root).glob("submitted/*/*/*.ipynb")):
        found.setdefault(path.parent.name, {})[path.parent.parent.name] = path
    return found
