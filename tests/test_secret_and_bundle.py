"""Issue 13: hidden inputs drawn from a course secret the student does not have, and the student bundle.

With a secret the out-of-process grader draws the hidden probes from it — the student's process and
the judge draw the same ones, so a right notebook keeps full marks and a bug keeps its diagnosis —
and without one the fixed seeds, exactly as before. The student's code never sees the secret. The
one archive students receive holds the exercises, lectures and the library, and none of
``solutions/``, hidden tests, the grader's model answers or the secret.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
import zlib

import nbformat
import numpy as np
import pytest

from autograder import bundle, sandbox, secret
from autograder.__main__ import main
from autograder.course import ASSIGNMENTS, ROOT, SOLUTIONS, model_answer
from autograder.grader import grade_notebook, grade_submission
from autograder.notebook import read_notebook
from nbbackprop.checks import TARGETS, probes, suite_for

SECRET_1 = "4f1c0e9a7b2d-course-secret-one-6a5e83d1c2b7f90e"
SECRET_2 = "b83a61fd02c4-course-secret-two-d97e1a0c55f3b268"


SECRET_FILE = secret.FILE_NAME  # the real name: an instructor's own secret file must not key these tests


@pytest.fixture(autouse=True)
def no_secret(monkeypatch):
    """Every test starts without a secret (the course's own file, if any, ignored), and leaves the checks
    of this process unkeyed."""
    monkeypatch.delenv(secret.VARIABLE, raising=False)
    monkeypatch.setattr(secret, "FILE_NAME", ".nbbackprop_secret_of_the_tests")
    probes.use_hidden_keys(None)
    yield
    probes.use_hidden_keys(None)


def echo(z):
    """A 'sigmoid' that returns its input: its probe results are the probe inputs themselves."""
    return z


def inputs_in_child(monkeypatch, key):
    """The visible and hidden inputs the student's process drew for sigmoid, under secret ``key``."""
    if key is not None:
        monkeypatch.setenv(secret.VARIABLE, key)
    else:
        monkeypatch.delenv(secret.VARIABLE, raising=False)
    results, _, _ = sandbox.run_submission([], ["sigmoid"], sandbox.Limits(), {"sigmoid": echo})
    return results["sigmoid"]["visible"]["value"], results["sigmoid"]["hidden"]["value"]


def test_the_hidden_probes_change_with_the_secret_and_the_visible_ones_never(monkeypatch):
    visible_0, hidden_0 = inputs_in_child(monkeypatch, None)
    visible_1, hidden_1 = inputs_in_child(monkeypatch, SECRET_1)
    visible_2, hidden_2 = inputs_in_child(monkeypatch, SECRET_2)
    np.testing.assert_array_equal(visible_1, visible_0)
    np.testing.assert_array_equal(visible_2, visible_0)
    assert hidden_1.shape == hidden_2.shape == hidden_0.shape  # same kind of input, other numbers
    assert not np.any(hidden_1 == hidden_0) and not np.any(hidden_2 == hidden_1)
    # the judge, in this process, regenerates what the student's process drew
    suite = suite_for("sigmoid")
    probes.use_hidden_keys(secret.hidden_keys(["sigmoid"]))  # SECRET_2 is still set
    np.testing.assert_array_equal(suite.probe(echo, True)["value"], hidden_2)
    probes.use_hidden_keys(None)
    np.testing.assert_array_equal(suite.probe(echo, True)["value"], hidden_0)
    np.testing.assert_array_equal(suite.probe(echo, False)["value"], visible_0)


def test_without_a_secret_the_draws_are_todays_seeds_exactly(monkeypatch, tmp_path):
    assert secret.course_secret(tmp_path) is None and secret.hidden_keys(["Linear"], tmp_path) == {}
    for target, hidden, salt in [("Linear", True, ""), ("Linear", False, "pair"), ("backward", True, "grads"),
                                 ("numerical_gradient", True, "central"), ("train", True, "7")]:
        seed = zlib.crc32(f"{target}/{'hidden' if hidden else 'visible'}/{salt}".encode())
        np.testing.assert_array_equal(probes.rng_for(target, hidden, salt).standard_normal(20),
                                      np.random.default_rng(seed).standard_normal(20))
    # keyed: only the hidden draws of the keyed names move
    probes.use_hidden_keys(secret.hidden_keys(["Linear"], tmp_path) or {"Linear": b"k" * 32})
    np.testing.assert_array_equal(probes.rng_for("Linear", False).random(5),
                                  np.random.default_rng(zlib.crc32(b"Linear/visible/")).random(5))
    np.testing.assert_array_equal(probes.rng_for("Tanh", True).random(5),
                                  np.random.default_rng(zlib.crc32(b"Tanh/hidden/")).random(5))
    assert not np.array_equal(probes.rng_for("Linear", True).random(5),
                              np.random.default_rng(zlib.crc32(b"Linear/hidden/")).random(5))


def test_where_the_secret_comes_from(monkeypatch, tmp_path):
    (tmp_path / secret.FILE_NAME).write_text(f"  {SECRET_1}\n", encoding="utf-8")
    assert secret.course_secret(tmp_path) == SECRET_1.encode()  # the file at the course root, stripped
    monkeypatch.setenv(secret.VARIABLE, SECRET_2)
    assert secret.course_secret(tmp_path) == SECRET_2.encode()  # the environment wins
    monkeypatch.setenv(secret.VARIABLE, "  ")
    assert secret.course_secret(tmp_path) is None  # set but empty: no secret
    monkeypatch.setenv(secret.VARIABLE, SECRET_1)
    keys = secret.hidden_keys(["Linear", "Tanh"], tmp_path)
    assert sorted(keys) == ["Linear", "Tanh"] and keys["Linear"] != keys["Tanh"]
    assert all(len(key) == 32 and SECRET_1.encode() not in key for key in keys.values())
    monkeypatch.setenv(secret.VARIABLE, SECRET_2)
    assert secret.hidden_keys(["Linear"], tmp_path)["Linear"] != keys["Linear"]


def _notebook(assignment):
    return read_notebook(nbformat.writes(model_answer(assignment)).encode())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_right_notebook_keeps_full_marks_under_a_secret(monkeypatch, assignment):
    monkeypatch.setenv(secret.VARIABLE, SECRET_1)
    entry = grade_notebook(assignment, "ada", "ada.ipynb", _notebook(assignment))
    assert entry["notes"] == [] and [line["id"] for line in entry["tests"] if line["diagnosis"] != "ok"] == []
    assert entry["score"] == entry["max_score"]


def test_a_second_secret_keeps_full_marks_and_a_bug_keeps_its_diagnoses(monkeypatch):
    monkeypatch.setenv(secret.VARIABLE, SECRET_2)
    entry = grade_notebook("ps4_flow_graph", "ada", "ada.ipynb", _notebook("ps4_flow_graph"))
    assert entry["score"] == entry["max_score"]
    ben = ROOT / "autograder/samples/submitted/ben/ps4_flow_graph/ps4_flow_graph.ipynb"
    graded = {}
    for key in (None, SECRET_1, SECRET_2):
        if key is None:
            monkeypatch.delenv(secret.VARIABLE)
        else:
            monkeypatch.setenv(secret.VARIABLE, key)
        entry = grade_submission("ps4_flow_graph", str(ben))
        graded[key] = (entry["score"], [(line["id"], line["diagnosis"]) for line in entry["tests"]])
    assert graded[SECRET_1] == graded[SECRET_2] == graded[None]
    assert graded[None][0] < entry["max_score"]  # ben's bugs are caught, whichever secret


# the student's code, in a cell: every place a secret could be found, counted
_SNOOP = """
import os, sys
from pathlib import Path
found = [os.environ.get("NBBACKPROP_SECRET"), bool(sys.modules["nbbackprop.checks.probes"]._hidden_keys)]
for environ in Path("/proc").glob("[0-9]*/environ"):
    try:
        found.append(SECRET.encode() in environ.read_bytes())
    except OSError:
        pass
frame = sys._getframe().f_back  # the frames the student's process was forked from, and runs cells in
while frame is not None:
    found += [isinstance(v, (bytes, str)) and (v == SECRET or SECRET in repr(v)) for v in frame.f_locals.values()]
    found += [isinstance(v, dict) and any(isinstance(k, bytes) for k in v.values()) for v in frame.f_locals.values()]
    frame = frame.f_back
leaks = sum(map(bool, found))

def sigmoid(z):
    return z * 0.0 + leaks
"""

_RUN = """
import json, os, sys
from autograder import sandbox, secret
secret.hide_from_proc()  # what the autograder command does first
results, failures, notes = sandbox.run_submission([(0, sys.argv[1])], ["sigmoid"], sandbox.Limits())
out = results["sigmoid"]
print(json.dumps({"failures": failures, "notes": notes, "visible": float(out["visible"]["value"].max()),
                  "hidden": float(out["hidden"]["value"].max()), "kept": os.environ.get(secret.VARIABLE)}))
"""


def test_the_students_code_finds_no_secret_while_its_cells_run(monkeypatch):
    """A grader started with the secret in its environment: the cells find it neither in os.environ, nor in
    any /proc/<pid>/environ, nor in the checks' keys, nor in the frames the process was forked from."""
    monkeypatch.setenv(secret.VARIABLE, SECRET_1)
    cell = f"SECRET = bytes.fromhex({SECRET_1.encode().hex()!r}).decode()\n{_SNOOP}"  # not the secret's text
    run = subprocess.run([sys.executable, "-c", _RUN, cell], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.splitlines()[-1])
    assert seen["failures"] == {} and seen["notes"] == []
    assert seen["visible"] == 0.0 and seen["hidden"] == 0.0, "the cell found the secret somewhere"
    assert seen["kept"] == SECRET_1  # the grader itself still has it
    # the same cell, in a grader that forgets to scrub, finds it: the search above is not blind
    careless = _RUN.replace("secret.hide_from_proc()", "secret.scrub = lambda: None")
    run = subprocess.run([sys.executable, "-c", careless, cell], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1])["visible"] >= 3  # os.environ, /proc, the inherited keys


def test_the_release_never_sees_the_secret(monkeypatch, tmp_path):
    """nbgrader's release, run with a secret in the environment and in the course's file, writes it nowhere
    in exercises/; the library never reads it; git ignores the file."""
    from autograder.nbgrader_route import nbgrader, scratch_course

    monkeypatch.setenv(secret.VARIABLE, SECRET_1)
    course = scratch_course(tmp_path / "course")
    (course / SECRET_FILE).write_text(SECRET_2, encoding="utf-8")
    nbgrader(["generate_assignment", "ps1_neurons", "--force"], cwd=course)
    released = [path for path in (course / "exercises").rglob("*") if path.is_file()]
    assert [path.name for path in released] == ["ps1_neurons.ipynb"]
    for path in [*released, *(ROOT / "exercises").rglob("*.ipynb")]:
        text = path.read_bytes()
        assert SECRET_1.encode() not in text and SECRET_2.encode() not in text
    for path in (ROOT / "nbbackprop").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert secret.VARIABLE not in source and secret.FILE_NAME not in source, path
    ignored = subprocess.run(["git", "check-ignore", "-q", SECRET_FILE], cwd=ROOT)
    assert ignored.returncode == 0, f"{SECRET_FILE} must be listed in .gitignore"


# ---- the student bundle -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def student_zip(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(secret.VARIABLE, SECRET_1)
        path = tmp_path_factory.mktemp("bundle") / "STUDENT.zip"
        assert main(["bundle", "-o", str(path)]) == 0
    return path


def test_the_bundle_holds_what_a_student_needs(student_zip):
    files = bundle.read_bundle(student_zip)
    for assignment in ASSIGNMENTS:
        assert f"exercises/{assignment}/{assignment}.ipynb" in files
        assert files[f"exercises/{assignment}/{assignment}.ipynb"] == (
            ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_bytes()
    assert {path.name for path in (ROOT / "lectures").glob("*.ipynb")} == {
        name.split("/")[1] for name in files if name.startswith("lectures/")}
    for needed in ("nbbackprop/__init__.py", "nbbackprop/checks/probes.py", "nbbackprop/data/digits.npz",
                   "nbbackprop/mystery.py", "requirements.txt", "pyproject.toml"):
        assert needed in files
    assert files["README.md"] == (ROOT / "README_STUDENTS.md").read_bytes()
    assert not any(name.endswith((".pyc", ".html")) or "__pycache__" in name for name in files)
    with zipfile.ZipFile(student_zip) as archive:
        assert archive.testzip() is None


def test_the_bundle_holds_no_solution_no_hidden_test_no_secret(student_zip):
    files = bundle.read_bundle(student_zip)
    assert not [name for name in files if name.split("/")[0] in ("solutions", "tests", "tools")
                or name.startswith(bundle._INSTRUCTORS_ONLY)]
    assert not {SECRET_FILE, secret.FILE_NAME} & {name.split("/")[-1] for name in files}
    for name, data in files.items():
        text = data.decode("utf-8", errors="replace")
        assert "### BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, name
        assert SECRET_1 not in text and SECRET_2 not in text, name
        if name.endswith(".ipynb"):
            assert "hidden=True" not in text, name
    # no sample submission of the grader travels, under any name (but cleo's, the release untouched)
    released = {path.read_bytes() for path in (ROOT / "exercises").rglob("*.ipynb")}
    samples = {path.read_bytes() for path in (ROOT / "autograder/samples").rglob("*.ipynb")} - released
    assert len(samples) >= 10 and not samples & set(files.values())
    # no line of any solution body in the notebooks or the README (the library, the reference, ships on purpose)
    handed_out = "\n".join(data.decode("utf-8", errors="replace") for name, data in files.items()
                           if not name.startswith("nbbackprop/"))
    for path in SOLUTIONS.glob("*/*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.metadata.get("nbgrader", {}).get("solution") and "### BEGIN SOLUTION" in cell.source:
                body = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
                for line in (line.strip() for line in body.splitlines()):
                    if len(line) > 25 and not line.startswith("#"):
                        assert line not in handed_out and json.dumps(line)[1:-1] not in handed_out, (path.name, line)


def test_the_bundle_check_names_what_would_give_anything_away(monkeypatch, tmp_path):
    monkeypatch.setenv(secret.VARIABLE, SECRET_1)
    planted = {"solutions/ps1_neurons/ps1_neurons.ipynb": b"{}",
               "exercises/ps1_neurons/ps1_neurons.ipynb": b'"check_tlu(tlu, \\"value\\", hidden=True)"',
               "lectures/L01_neurons.ipynb": b"### BEGIN SOLUTION\nx = 1\n### END SOLUTION",
               "nbbackprop/notes.py": f"KEY = {SECRET_1!r}".encode(),
               secret.FILE_NAME: b"...", "exercises/ok.ipynb": b"{}"}
    found = bundle.problems(planted)
    for name in planted:
        if name != "exercises/ok.ipynb":
            assert any(problem.startswith(name + ":") for problem in found), (name, found)
    assert not any(problem.startswith("exercises/ok.ipynb") for problem in found)
    # and the command refuses to write such an archive
    course = tmp_path / "course"
    for rel in ("pyproject.toml", "requirements.txt", "README_STUDENTS.md", "nbbackprop/__init__.py"):
        (course / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, course / rel)
    (course / "exercises/ps1_neurons").mkdir(parents=True)
    (course / "exercises/ps1_neurons/ps1_neurons.ipynb").write_text(f"# {SECRET_1}", encoding="utf-8")
    with pytest.raises(ValueError, match="holds the course secret"):
        bundle.build_bundle(tmp_path / "STUDENT.zip", course)
    assert not (tmp_path / "STUDENT.zip").exists()


def test_the_bundle_installs_the_library_and_the_check_command(student_zip, tmp_path):
    pytest.importorskip("setuptools")
    with zipfile.ZipFile(student_zip) as archive:
        archive.extractall(tmp_path / "student")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            str(tmp_path / "student"), "-w", str(tmp_path / "wheel")],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheel").glob("nbbackprop-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "nbbackprop/data/digits.npz" in names and "nbbackprop/checks/ps4.py" in names
    assert "autograder/cli_check.py" in names and "autograder/templates/feedback.html.j2" in names
    assert not [name for name in names if name.startswith(("autograder/samples", "autograder/bundle"))], names


def test_the_gradescope_zip_carries_the_secret_to_gradescopes_grader(monkeypatch, tmp_path):
    """It runs on Gradescope's servers, not the student's: with a secret it holds it, without none."""
    from autograder.gradescope import build_bundle as gradescope_zip

    with zipfile.ZipFile(gradescope_zip("ps4_flow_graph", tmp_path / "plain.zip")) as archive:
        assert secret.FILE_NAME not in archive.namelist()
    monkeypatch.setenv(secret.VARIABLE, SECRET_1)
    with zipfile.ZipFile(gradescope_zip("ps4_flow_graph", tmp_path / "keyed.zip")) as archive:
        assert archive.read(secret.FILE_NAME).strip() == SECRET_1.encode()
        assert (archive.getinfo(secret.FILE_NAME).external_attr >> 16) & 0o777 == 0o600
    monkeypatch.delenv(secret.VARIABLE)
    with zipfile.ZipFile(tmp_path / "keyed.zip") as archive:
        archive.extractall(tmp_path / "source")
    assert secret.course_secret(tmp_path / "source") == SECRET_1.encode()  # where run_autograder's grader looks


def test_every_graded_name_is_keyed():
    """Each suite draws its hidden inputs under its own target's name, so one key per graded name covers it."""
    for assignment, targets in TARGETS.items():
        for target in targets:
            assert suite_for(target).target == target, (assignment, target)



def test_a_student_runs_autograder_check_inside_the_bundle(student_zip, tmp_path):
    """Unpacked, with no solutions/ and no nbgrader_config.py, the bundle grades a notebook: the points
    come from the released notebook's test cells, and a finished notebook gets full marks."""
    home = tmp_path / "student"
    with zipfile.ZipFile(student_zip) as archive:
        archive.extractall(home)
    assert not (home / "solutions").exists() and not (home / "nbgrader_config.py").exists()
    mine = home / "exercises/ps2_logistic/ps2_logistic.ipynb"
    nbformat.write(model_answer("ps2_logistic"), mine)
    env = {**os.environ, "PYTHONPATH": str(home), secret.VARIABLE: ""}
    env.pop("NBBACKPROP_COURSE", None)
    out = subprocess.run([sys.executable, "-m", "autograder", "check", str(mine)], capture_output=True, text=True,
                         cwd=home, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    from autograder import points

    full = points.max_score("ps2_logistic")
    assert out.stdout.splitlines()[0] == f"ps2_logistic: {full:g} / {full:g}", out.stdout
    probe = subprocess.run([sys.executable, "-c", "import autograder; print(autograder.__file__)"],
                           capture_output=True, text=True, cwd=home, env=env, timeout=60)
    assert probe.stdout.startswith(str(home)), probe.stdout  # the bundle's grader, not the course's
