"""The out-of-process grader: a hostile class graded in one batch, the bug catalogues through this
route, and the reports. Nothing a submission does may stop the batch, fool the judge, touch a file
outside its scratch space, reach the network or outlive its grading."""

import copy
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading

import nbformat
import pytest

from autograder.course import model_answer, untouched
from autograder.grader import grade_batch, grade_class, grade_namespace, student_name
from autograder.sandbox import Limits

ASSIGNMENT = "ps4_flow_graph"
FULL = 36.0
LIMITS = Limits(target_seconds=6, cell_seconds=6)


def code_cell(source):
    return nbformat.v4.new_code_cell(source)


def with_cell(notebook, source, at=3):
    """The notebook with one more code cell (after the setup cell, before the solutions)."""
    notebook = copy.deepcopy(notebook)
    notebook.cells.insert(at, code_cell(source))
    return notebook


def solution_cell(notebook, name):
    return next(c for c in notebook.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == name)


def edited(notebook, name, old, new):
    notebook = copy.deepcopy(notebook)
    cell = solution_cell(notebook, name)
    assert old in cell.source
    cell.source = cell.source.replace(old, new)
    return notebook


TRANSPOSED = ("self.grad_W = self.x.T @ grad_y", "self.grad_W = grad_y.T @ self.x")


@pytest.fixture(scope="module")
def listener():
    """A TCP server on loopback that counts the connections it gets (it must get none)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
                accepted.append(connection)
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory, listener):
    """One batch: the model answer and a catalogue of hostile submissions, graded together."""
    port, _ = listener
    root = tmp_path_factory.mktemp("class") / "submitted"
    model = model_answer(ASSIGNMENT)

    def put(student, notebook):
        path = root / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(notebook, str):
            path.write_text(notebook)
        else:
            nbformat.write(notebook, path)
        return path

    victim = put("victim", model)  # another student's file, which hostile code tries to overwrite
    buggy = edited(model, "Linear", *TRANSPOSED)
    submissions = {
        "model": model,
        "untouched": untouched(ASSIGNMENT),
        "patched_asserts": with_cell(buggy, "import numpy, numpy.testing\n"
                                            "numpy.testing.assert_allclose = lambda *a, **k: None\n"
                                            "numpy.allclose = lambda *a, **k: True\n"
                                            "assert_ = AssertionError"),
        "patched_numpy": with_cell(buggy, "import numpy as np\nnp.array_equal = lambda *a, **k: True\n"
                                          "np.isclose = lambda a, b, **k: np.ones(np.shape(a), bool)"),
        "patched_checks": with_cell(buggy, """
import sys
import nbbackprop.checks as checks, nbbackprop.modules as reference
import nbbackprop.checks.compare as compare, nbbackprop.checks.engine as engine
compare.diagnose = engine.diagnose = lambda *a, **k: "ok"
compare.close = engine.close = lambda *a, **k: True
engine.Suite.verdicts = lambda self, results, hidden=False: []
original = engine.Suite.probe
engine.Suite.probe = lambda self, c, hidden=False: original(self, getattr(reference, self.target, c), hidden)
sys.setprofile = lambda *a: None
"""),
        "delegation": edited(model, "Linear", solution_cell(model, "Linear").source,
                             "from nbbackprop.modules import Linear"),
        "python_loop": edited(model, "Tanh", "        self.y = np.tanh(x)\n        return self.y",
                              "        while True:\n            pass"),
        "c_level_loop": with_cell(model, "import ctypes, signal\n"  # no signal reaches it: only a kill ends it
                                         "signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM, signal.SIGINT])\n"
                                         "ctypes.CDLL(None).sleep(3600)"),
        "regex_backtracking": with_cell(model, 'import re\nre.match(r"(a+)+$", "a" * 40 + "b")'),
        "memory_hog": with_cell(model, "hog = bytearray(64 * 2**30)"),
        "os_exit": with_cell(model, "import os\nos._exit(3)"),
        "system_exit": with_cell(model, "raise SystemExit(1)"),
        "output_flood": with_cell(model, "import sys\nfor _ in range(20000):\n    print('spam ' * 200)\n"
                                         "sys.stderr.write('x' * 10**7)"),
        "orphans": with_cell(model, "import subprocess, os\n"
                                    "subprocess.Popen(['sleep', '737'], start_new_session=True)\n"
                                    "if os.fork() == 0:\n    os.setsid()\n    os.execvp('sleep', ['sleep', '738'])"),
        "network": with_cell(model, f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"),
        "kills_grader": with_cell(model, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
                                         "os.kill(-1, signal.SIGKILL)"),
        "overwrites_files": with_cell(model, f"open({str(victim)!r}, 'w').write('overwritten')\n"),
        "not_json": "this is not a notebook {",
        "deleted_cell": _without(model, "Sequential"),
        "duplicated_cell": _duplicated(model, "Linear"),
        "inflated_points": _inflated(model),
    }
    paths = {student: put(student, notebook) for student, notebook in submissions.items()}
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in [*paths.values(), victim]}
    report = grade_class(ASSIGNMENT, [root], jobs=2, limits=LIMITS)
    after = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in before}
    return {e["student"]: e for e in report["submissions"]}, before, after, root, report


def _without(notebook, name):
    notebook = copy.deepcopy(notebook)
    notebook.cells.remove(solution_cell(notebook, name))
    return notebook


def _duplicated(notebook, name):
    notebook = copy.deepcopy(notebook)
    cell = solution_cell(notebook, name)
    twin = copy.deepcopy(cell)
    twin.id = "duplicated"
    notebook.cells.insert(notebook.cells.index(cell), twin)
    return notebook


def _inflated(notebook):
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            meta["points"] = 1000
    fake = code_cell("pass")
    fake.metadata["nbgrader"] = {"grade": True, "solution": False, "points": 10**6, "grade_id": "bonus",
                                 "locked": True, "schema_version": 3, "task": False}
    notebook.cells.append(fake)
    return notebook


def scores(hostile_class):
    entries = hostile_class[0]
    return {student: entry["score"] for student, entry in entries.items()}


def failing(entry):
    return {line["id"]: line["diagnosis"] for line in entry["tests"] if line["diagnosis"] != "ok"}


def test_every_submission_is_in_the_report_and_the_model_keeps_full_marks(hostile_class):
    entries, report = hostile_class[0], hostile_class[4]
    assert len(entries) == 21  # 20 notebooks and the victim; the file that is not a notebook is accounted for:
    assert [(s["path"].split("/")[-3], s["kind"]) for s in report["skipped"]] == [("not_json", "not-a-notebook")]
    assert [m["student"] for m in report["missing"]] == ["not_json"]
    assert entries["model"]["score"] == FULL and entries["model"]["error"] is None
    assert all(e["max_score"] == FULL for e in entries.values())
    assert entries["untouched"]["score"] == 0.0


@pytest.mark.parametrize("student", ["patched_asserts", "patched_numpy", "patched_checks"])
def test_patching_asserts_numpy_or_the_checks_does_not_grade_itself(hostile_class, student):
    entry = hostile_class[0][student]
    assert failing(entry) == {"Linear.grad_W": "transpose"}
    assert entry["score"] == FULL - 2


def test_delegation_scores_nothing_for_that_target(hostile_class):
    entry = hostile_class[0]["delegation"]
    assert {k: v for k, v in failing(entry).items()} == {f"Linear.{p}": "delegation" for p in
                                                          ("init", "fprop", "grad_x", "grad_W", "grad_b", "state")}


def test_an_endless_python_loop_costs_only_its_target(hostile_class):
    entry = hostile_class[0]["python_loop"]
    codes = failing(entry)
    assert {k.split(".")[0] for k in codes} == {"Tanh"} and set(codes.values()) <= {"timeout", "exception"}
    assert "timeout" in codes.values()


@pytest.mark.parametrize("student", ["c_level_loop", "regex_backtracking", "memory_hog", "os_exit", "system_exit",
                                     "output_flood", "orphans", "network", "kills_grader", "overwrites_files",
                                     "duplicated_cell", "inflated_points"])
def test_contained_submissions_keep_full_marks(hostile_class, student):
    entry = hostile_class[0][student]
    assert entry["score"] == FULL, failing(entry)
    assert entry["max_score"] == FULL


def test_the_fatal_cells_are_named_in_the_notes(hostile_class):
    entries = hostile_class[0]
    assert any("the notebook was run again without it" in note for note in entries["c_level_loop"]["notes"])
    assert any("the notebook was run again without it" in note for note in entries["os_exit"]["notes"])
    assert any("MemoryError" in note for note in entries["memory_hog"]["notes"])


def test_not_json_and_deleted_cells_are_reported_not_fatal(hostile_class):
    entries, report = hostile_class[0], hostile_class[4]
    assert "not_json" not in entries
    assert "not a notebook: the JSON is broken at line 1" in report["skipped"][0]["reason"]
    assert "not a notebook" in report["missing"][0]["reason"]
    deleted = entries["deleted_cell"]
    assert {k.split(".")[0] for k in failing(deleted)} == {"Sequential"}
    assert "not defined" in next(line["message"] for line in deleted["tests"] if line["target"] == "Sequential")


def test_no_file_was_modified_and_nothing_outlives_the_batch(hostile_class, listener):
    _, before, after, _, _ = hostile_class
    assert before == after
    _, accepted = listener
    assert accepted == []
    leftovers = subprocess.run(["pgrep", "-f", "sleep 73[78]"], capture_output=True, text=True).stdout.split()
    assert leftovers == []


def test_grading_again_gives_the_same_report(hostile_class):
    entries, _, _, root, _ = hostile_class
    subset = [root / s for s in ("model", "patched_checks", "deleted_cell", "not_json")]
    again = {e["student"]: e for e in grade_batch(ASSIGNMENT, subset, jobs=2, limits=LIMITS)}
    assert sorted(again) == ["deleted_cell", "model", "patched_checks"]
    for student, entry in again.items():  # similarity to other students depends on who else is in the run;
        # similarity to the reference does not
        assert {**entry, "graded_at": None, "similarity": None} == {**entries[student], "graded_at": None,
                                                                     "similarity": None}
        assert [r for r in entry["similarity"] if r["with"] == "reference"] == [
            r for r in entries[student]["similarity"] if r["with"] == "reference"]


# ---- the bug catalogues of the checks, through this route -----------------------------------------


def _catalogue():
    sys.path.insert(0, os.path.dirname(__file__))
    import test_checks_ps1_ps2 as early
    import test_checks_ps3_ps4 as late

    cases = []
    for target, candidate, expected in early.BUGS:
        assignment = "ps1_neurons" if target in early.checks.TARGETS["ps1_neurons"] else "ps2_logistic"
        cases.append((assignment, target, {target: candidate}, expected))
    for target, _what, edits, expected in late.BUGS:
        assignment = "ps4_flow_graph" if target in early.checks.TARGETS["ps4_flow_graph"] else "ps3_backprop"
        cases.append((assignment, target, late.student(late.MODEL, *edits), expected))
    return cases


def test_the_bug_catalogues_get_the_same_verdicts_out_of_process():
    cases = _catalogue()
    assert len(cases) >= 40
    for assignment, target, namespace, expected in cases:
        lines = grade_namespace(assignment, namespace, [target], limits=Limits(target_seconds=30))
        got = {line["id"].split(".", 1)[1]: line["diagnosis"] for line in lines if line["diagnosis"] != "ok"}
        assert got == expected, (target, got, expected)


# ---- reports --------------------------------------------------------------------------------------


def test_student_names_come_from_the_submitted_folder_or_the_file():
    assert student_name("course/submitted/alice/ps4/ps4.ipynb") == "alice"
    assert student_name("/tmp/bob_ps4.ipynb") == "bob_ps4"


def test_the_command_writes_json_csv_and_feedback(tmp_path):
    from autograder.samples import SAMPLES

    out = subprocess.run(["autograder", "grade", ASSIGNMENT, str(SAMPLES / "submitted"), "--out", str(tmp_path / "g"),
                          "--json", str(tmp_path / "r.json"), "--csv", str(tmp_path / "r.csv"),
                          "--feedback", str(tmp_path / "fb"), "--jobs", "2"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "ben" in out.stdout and "Linear.grad_W: transpose" in out.stdout
    assert "3 graded · 0 superseded · 12 skipped · 0 missing" in out.stdout  # the other four assignments' folders
    report = json.loads((tmp_path / "r.json").read_text())
    assert report == json.loads((tmp_path / "g" / ASSIGNMENT / "report.json").read_text())
    assert report["assignment"] == ASSIGNMENT and len(report["course_commit"]) >= 40
    first = report["submissions"][0]
    assert set(first) >= {"student", "path", "score", "max_score", "error", "tests", "graded_at", "course_commit"}
    assert set(first["tests"][0]) == {"id", "target", "points", "max_points", "diagnosis", "hidden", "message"}
    assert [s["student"] for s in report["submissions"]] == ["ada", "ben", "cleo"]
    rows = (tmp_path / "r.csv").read_text().splitlines()
    assert rows[0].startswith("student,Linear,Sigmoid") and rows[2].startswith("ben,6,3,")
    assert rows == (tmp_path / "g" / ASSIGNMENT / "grades.csv").read_text().splitlines()
    page = (tmp_path / "fb" / "ben.html").read_text()
    assert "transpose" in page and "32 / 36" in page
    assert page == (tmp_path / "g" / ASSIGNMENT / "feedback" / "ben.html").read_text()
    # a path that does not exist is a line of the report, not an aborted batch: exit 1, the rest graded
    bad = subprocess.run(["autograder", "grade", ASSIGNMENT, str(tmp_path / "nothing"),
                          str(SAMPLES / "submitted" / "ada"), "--out", str(tmp_path / "g2")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 1 and "no such file or folder" in bad.stdout
    again = json.loads((tmp_path / "g2" / ASSIGNMENT / "report.json").read_text())
    assert [s["student"] for s in again["submissions"]] == ["ada"]
    assert {"path": str(tmp_path / "nothing"), "reason": "no such file or folder",
            "kind": "no-such-path"} in again["skipped"]
    usage = subprocess.run(["autograder", "grade", "ps9", "x"], capture_output=True, text=True)
    assert usage.returncode == 2 and "invalid choice: 'ps9'" in usage.stderr


def test_the_wire_carries_numbers_and_refuses_anything_else():
    import numpy as np

    from autograder.wire import decode, encode
    from nbbackprop.checks.verdict import Raised

    value = {"a": np.arange(6.0).reshape(2, 3).T, "b": (np.float64(3.5), [np.int64(2)], None, "x"),
             "c": Raised("timeout", "slow"), "d": np.array([True, False])}
    back = decode(encode(value))
    assert back["a"].shape == (3, 2) and np.array_equal(back["a"], value["a"])
    assert back["b"][0].shape == () and back["b"][0] == 3.5 and back["c"] == value["c"]
    assert isinstance(decode(encode(object())), Raised)
    with pytest.raises(ValueError, match="refused an array of dtype object"):
        decode(b'{"__array__": ["|O", [1], "AA=="]}')
    with pytest.raises(ValueError, match="unknown tag"):
        decode(b'{"__reduce__": ["os.system", "rm -rf /"]}')


def test_a_part_failing_only_its_hidden_test_keeps_the_hidden_inputs_secret():
    # right on the visible sizes, wrong once the batch is 11 (the hidden batch): a bug only hidden tests see
    sys.path.insert(0, os.path.dirname(__file__))
    import test_checks_ps3_ps4 as late

    namespace = late.student(late.MODEL, ("self.grad_b = grad_y.sum(axis=0)",
                                          "self.grad_b = grad_y.sum(axis=0) * (1 if len(grad_y) == 7 else 2)"))
    lines = {line["id"]: line for line in grade_namespace(ASSIGNMENT, namespace, ["Linear"])}
    line = lines["Linear.grad_b"]
    assert line["diagnosis"] == "scale" and line["points"] == 0
    assert "fails a hidden one" in line["message"] and "(11," not in line["message"]
    assert "Likely cause" in line["message"]
