"""The Gradescope autograder bundle: the zip's layout, its setup.sh (simulated: no network), and its
own run_autograder grading uploads in Gradescope's /autograder layout (in a temporary folder),
with results.json checked field by field against Gradescope's specification."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from autograder.course import ASSIGNMENTS, ROOT, model_answer, untouched
from autograder.gradescope import VISIBILITIES, build_bundle, bundle_files, results_json
from autograder.points import max_score
from autograder.points import tests_of as parts_of  # not named test_*: pytest would collect it
from autograder.samples import buggy

ASSIGNMENT = "ps4_flow_graph"
OTHERS = [a for a in ASSIGNMENTS if a != ASSIGNMENT]
FULL = max_score(ASSIGNMENT)
TEST_KEYS = {"name", "score", "max_score", "status", "output", "output_format", "tags", "visibility"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build_bundle(ASSIGNMENT, tmp_path_factory.mktemp("bundle") / "ps4_gradescope.zip")


def mode_of(info):
    return (info.external_attr >> 16) & 0o7777


def extract(bundle, dest):
    """Unpack as Gradescope's unzip does: the Unix permission bits of each entry restored."""
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            os.chmod(archive.extract(info, dest), mode_of(info))


def autograder_root(tmp_path, bundle, files):
    """``tmp_path/autograder`` as Gradescope lays it out: source/ unpacked from the bundle,
    run_autograder copied to the root, submission/ holding ``files`` ({name: bytes})."""
    root = tmp_path / "autograder"
    extract(bundle, root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    for name, data in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_bytes(data)
    return root


def run_autograder(root, python=sys.executable):
    """Run the bundle's own script, from /autograder as Gradescope does; returns (results, stdout)."""
    # decoys: this checkout on the path and named as the course; the bundle's own course must win
    env = {**os.environ, "NBBACKPROP_GRADESCOPE_ROOT": str(root), "NBBACKPROP_PYTHON": python,
           "PYTHONPATH": str(ROOT), "NBBACKPROP_COURSE": str(ROOT)}
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    results_file = root / "results" / "results.json"
    assert results_file.is_file(), f"no results.json; stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return json.loads(results_file.read_text(encoding="utf-8")), done


def notebook_bytes(notebook):
    return nbformat.writes(notebook).encode()


def unescape(markdown):
    """The text a Markdown renderer shows for backslash-escaped characters."""
    out, chars = [], iter(markdown)
    for char in chars:
        out.append(next(chars, "") if char == "\\" else char)
    return "".join(out).replace("  \n", "\n")


def check_schema(results):
    """Gradescope's results.json, as the spec lists it, for every result we write."""
    assert set(results) >= {"score", "output", "output_format", "stdout_visibility", "tests"}
    assert isinstance(results["score"], float)
    assert results["output_format"] == "md" and isinstance(results["output"], str) and results["output"]
    assert results["stdout_visibility"] in VISIBILITIES
    for test in results["tests"]:
        assert set(test) == TEST_KEYS, test
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0.0 <= test["score"] <= test["max_score"]
        assert test["output_format"] == "md" and test["visibility"] in VISIBILITIES
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
        assert isinstance(test["tags"], list) and all(isinstance(tag, str) for tag in test["tags"])
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(results["score"])
    assert json.loads(json.dumps(results, allow_nan=False)) == results


# ---- the zip ---------------------------------------------------------------------------------


def test_bundle_layout(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        names = set(infos)
        # the two scripts Gradescope looks for, at the root of the archive, executable
        assert {"setup.sh", "run_autograder"} <= names
        for script in ("setup.sh", "run_autograder"):
            assert infos[script].create_system == 3 and mode_of(infos[script]) == 0o755
            assert archive.read(script).startswith(b"#!/usr/bin/env bash\n")
            (tmp_path / script).write_bytes(archive.read(script))
            check = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
            assert check.returncode == 0, check.stderr
        assert f"run {ASSIGNMENT} --root".encode() in archive.read("run_autograder")
        assert b'-m pip install -r "$SOURCE/requirements.txt"' in archive.read("setup.sh")
        # what the grader reads, byte for byte as in the course
        for rel in ("nbbackprop/__init__.py", "nbbackprop/checks/ps4.py", "autograder/grader.py",
                    "autograder/gradescope.py", "autograder/course.py", "autograder/points.py",
                    f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb", f"exercises/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
                    "nbgrader_config.py", "pyproject.toml", "requirements.txt", "README.md"):
            assert rel in names, rel
            assert archive.read(rel) == (ROOT / rel).read_bytes(), rel
            assert mode_of(infos[rel]) == 0o644
        assert any(n.startswith("nbbackprop/data/") and n.endswith(".npz") for n in names)
    # nothing else: no other assignment, no tests, caches, git or sample submissions; no unsafe name
    for name in names:
        parts = name.split("/")
        assert not any(other in name for other in OTHERS), name
        assert parts[0] in {"setup.sh", "run_autograder", "nbbackprop", "autograder", "solutions", "exercises",
                            "nbgrader_config.py", "pyproject.toml", "requirements.txt", "README.md"}, name
        assert not {"__pycache__", ".git", ".ipynb_checkpoints", "tests", "lectures"} & set(parts), name
        assert not name.startswith(("autograder/samples/", "/")) and ".." not in parts, name
        assert not name.endswith((".pyc", ".zip")), name
    assert set(bundle_files(ASSIGNMENT)) == names - {"setup.sh", "run_autograder"}


def test_bundle_leaves_out_caches_git_and_other_assignments(tmp_path):
    course = tmp_path / "course"
    for tree in ("nbbackprop", "autograder", "solutions", "exercises"):
        shutil.copytree(ROOT / tree, course / tree)
    for name in ("README.md", "pyproject.toml", "requirements.txt", "nbgrader_config.py"):
        shutil.copy2(ROOT / name, course / name)
    junk = ["nbbackprop/__pycache__/modules.cpython-311.pyc", "autograder/stale.pyc", ".git/HEAD",
            "autograder/.git/config", f"solutions/{ASSIGNMENT}/.ipynb_checkpoints/{ASSIGNMENT}-checkpoint.ipynb",
            f"exercises/{ASSIGNMENT}/old_bundle.zip", "autograder/samples/submitted/ada/x/x.ipynb",
            "tests/test_secret.py", "nbbackprop/.DS_Store"]
    for rel in junk:
        (course / rel).parent.mkdir(parents=True, exist_ok=True)
        (course / rel).write_text("junk")
    (course / f"solutions/{ASSIGNMENT}/extra_data.csv").write_text("a,b\n1,2\n")  # a support file: kept
    with zipfile.ZipFile(build_bundle(ASSIGNMENT, tmp_path / "b.zip", course=course)) as archive:
        names = set(archive.namelist())
    assert not set(junk) & names
    assert not any(other in name for name in names for other in OTHERS)
    assert f"solutions/{ASSIGNMENT}/extra_data.csv" in names
    assert f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb" in names


def test_bundle_is_deterministic(bundle, tmp_path):
    again = build_bundle(ASSIGNMENT, tmp_path / "again.zip", course=ROOT)
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(bundle.read_bytes()).digest()
    assert not list(tmp_path.glob("*.partial"))


def test_build_bundle_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"unknown assignment 'ps9'; expected one of \['ps1_neurons'.*"
                                         r"'ps5_gradient_check'\]"):
        build_bundle("ps9", tmp_path / "b.zip")
    with pytest.raises(ValueError, match=r"ending in \.zip, got '.*bundle\.tar'"):
        build_bundle(ASSIGNMENT, tmp_path / "bundle.tar")
    (tmp_path / "folder.zip").mkdir()
    with pytest.raises(ValueError, match="expected an output file, got the folder"):
        build_bundle(ASSIGNMENT, tmp_path / "folder.zip")
    with pytest.raises(ValueError, match="does not exist; expected the course root"):
        build_bundle(ASSIGNMENT, tmp_path / "b.zip", course=tmp_path / "nowhere")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "pyproject.toml").write_text("")
    with pytest.raises(ValueError, match=r"not a complete nbbackprop course: .*missing \['requirements.txt', "
                                         r"'nbbackprop/__init__.py', 'autograder/grader.py', "
                                         rf"'solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb'\]"):
        build_bundle(ASSIGNMENT, tmp_path / "b.zip", course=tmp_path / "half")
    with pytest.raises(ValueError, match=r"hidden_visibility in \['hidden', .*got 'later'"):
        build_bundle(ASSIGNMENT, tmp_path / "b.zip", hidden_visibility="later")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.zip", "half"]  # nothing written


# ---- setup.sh, simulated: stubs stand for apt-get and Python; nothing is downloaded -------------

STUB = """#!/bin/bash
echo "$0 $*" >> "$LOG"
if [ "$1" = "-c" ] && [[ "$2" == *version_info* ]]; then exit {status}; fi
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then /bin/mkdir -p "$3/bin"; /bin/cp "$0" "$3/bin/python"; fi
exit 0
"""
APT = """#!/bin/bash
echo "$0 $*" >> "$LOG"
if [[ "$*" == *"install -y python3.11"* ]]; then /bin/cp "$STUBS/good" "$STUBS/python3.11"; fi
exit 0
"""


@pytest.mark.parametrize("image_python", ["3.12", "3.10"])
def test_setup_sh_installs_the_course_into_a_venv(bundle, tmp_path, image_python):
    """On an image whose python3 is new enough, setup.sh uses it; on Ubuntu 22.04's 3.10 it gets
    python3.11 from apt first. Either way: a venv, requirements.txt, then the course itself."""
    root = tmp_path / "autograder"
    extract(bundle, root / "source")
    stubs, log, venv = tmp_path / "bin", tmp_path / "log", tmp_path / "venv"
    stubs.mkdir()
    for name, text in {"good": STUB.format(status=0), "apt-get": APT,
                       "python3": STUB.format(status=0 if image_python == "3.12" else 1)}.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    env = {"PATH": str(stubs), "LOG": str(log), "STUBS": str(stubs), "NBBACKPROP_VENV": str(venv),
           "NBBACKPROP_GRADESCOPE_ROOT": str(root)}
    done = subprocess.run(["/bin/bash", str(root / "source" / "setup.sh")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    calls = log.read_text().splitlines()
    source = root / "source"
    python = "python3" if image_python == "3.12" else "python3.11"
    apt = [c for c in calls if c.startswith(f"{stubs}/apt-get")]
    if image_python == "3.12":
        assert apt == []
    else:
        assert apt == [f"{stubs}/apt-get update", f"{stubs}/apt-get install -y python3.11 python3.11-venv"]
    installs = [c for c in calls if not c.startswith(f"{stubs}/apt-get") and "-c" not in c.split()]
    assert installs == [f"{stubs}/{python} -m venv {venv}",
                        f"{venv}/bin/python -m pip install --upgrade pip",
                        f"{venv}/bin/python -m pip install -r {source}/requirements.txt",
                        f"{venv}/bin/python -m pip install --no-deps {source}"]
    assert calls[-1].startswith(f"{venv}/bin/python -c import nbbackprop, autograder.grader")


# ---- run_autograder, in Gradescope's layout -------------------------------------------------


def test_run_autograder_full_marks(bundle, tmp_path):
    upload = notebook_bytes(model_answer(ASSIGNMENT))
    root = autograder_root(tmp_path, bundle, {f"{ASSIGNMENT}.ipynb": upload})
    results, done = run_autograder(root)
    assert done.returncode == 0, done.stdout + done.stderr
    check_schema(results)
    assert results["score"] == FULL == 36.0
    assert results["tests"] and [t["name"] for t in results["tests"]] == [t.id for t in parts_of(ASSIGNMENT)]
    for test, part in zip(results["tests"], parts_of(ASSIGNMENT)):
        assert test == {"name": part.id, "score": part.points, "max_score": part.points, "status": "passed",
                        "output": "Passed.", "output_format": "md", "tags": ["ok"], "visibility": "visible"}
    assert results["output"].startswith(f"**ps4\\_flow\\_graph**: 36 / 36 points. All {len(parts_of(ASSIGNMENT))} "
                                        "graded parts pass.")
    assert f"Graded `{ASSIGNMENT}.ipynb`" in unescape(results["output"])
    assert results["stdout_visibility"] == "hidden"
    # the grader and the course it read are the bundle's own, not this checkout's
    source = (root / "source").resolve()
    assert results["extra_data"]["course_root"] == str(source)
    assert f"course root: {source}\n" in done.stdout and f"nbbackprop from: {source / 'nbbackprop'}\n" in done.stdout
    assert results["extra_data"]["notebook"] == f"{ASSIGNMENT}.ipynb"
    assert (root / "submission" / f"{ASSIGNMENT}.ipynb").read_bytes() == upload  # never modified


def test_run_autograder_buggy_notebook(bundle, tmp_path):
    root = autograder_root(tmp_path, bundle, {f"{ASSIGNMENT}.ipynb": notebook_bytes(buggy(ASSIGNMENT))})
    results, _ = run_autograder(root)
    check_schema(results)
    tests = {t["name"]: t for t in results["tests"]}
    failed = {name: t["tags"] for name, t in tests.items() if t["status"] == "failed"}
    assert failed == {"Linear.grad_W": ["transpose"], "Sigmoid.bprop": ["activation-derivative"]}
    lost = sum(p.points for p in parts_of(ASSIGNMENT) if p.id in failed)
    assert lost == 4.0 and results["score"] == FULL - lost == 32.0
    grad_w = tests["Linear.grad_W"]
    assert grad_w["score"] == 0.0 and grad_w["max_score"] == 2.0 and grad_w["visibility"] == "visible"
    text = unescape(grad_w["output"])
    assert text.startswith("**Linear.grad_W** failed (`transpose`): [grad_W] Linear.bprop: grad_W returned shape "
                           "(3, 5), expected (5, 3)")
    assert "Likely cause" in text
    summary = unescape(results["output"])
    assert summary.startswith("**ps4_flow_graph**: 32 / 36 points. 25 of 27 graded parts pass; to fix: "
                              "Linear.grad_W (`transpose`), Sigmoid.bprop (`activation-derivative`).")
    assert "Notes:" in summary and "raised ValueError" in summary  # the notebook's own cell that failed


def test_run_autograder_prefers_the_assignment_notebook(bundle, tmp_path):
    root = autograder_root(tmp_path, bundle, {"scratch.ipynb": notebook_bytes(untouched(ASSIGNMENT)),
                                              f"work/{ASSIGNMENT}.ipynb": notebook_bytes(model_answer(ASSIGNMENT)),
                                              "work/.ipynb_checkpoints/x-checkpoint.ipynb": b"{}"})
    results, _ = run_autograder(root)
    check_schema(results)
    assert results["score"] == FULL
    assert results["extra_data"]["notebook"] == f"work/{ASSIGNMENT}.ipynb"
    assert "Also uploaded, not graded: `scratch.ipynb`." in unescape(results["output"])


@pytest.mark.parametrize("files, came", [
    ({}, "no file at all"),
    ({f"{ASSIGNMENT}.py": b"def tlu(): pass\n", "report.pdf": b"%PDF-1.4"}, f"`{ASSIGNMENT}.py`, `report.pdf`"),
])
def test_run_autograder_without_a_notebook(bundle, tmp_path, files, came):
    root = autograder_root(tmp_path, bundle, files)
    results, done = run_autograder(root)
    assert done.returncode == 0
    check_schema(results)
    assert results["score"] == 0.0
    assert unescape(results["output"]) == (f"**{ASSIGNMENT}**: score 0 / 36. Expected a Jupyter notebook, "
                                           f"`{ASSIGNMENT}.ipynb`; the upload holds {came}. Upload the notebook "
                                           "itself, not a PDF, HTML or .py export.")
    assert [t["name"] for t in results["tests"]] == [t.id for t in parts_of(ASSIGNMENT)]
    assert all(t["score"] == 0.0 and t["output"].startswith("Not graded") for t in results["tests"])
    assert results["extra_data"]["error"] == "no-notebook"
    for name, data in files.items():
        assert (root / "submission" / name).read_bytes() == data


def test_run_autograder_on_a_file_that_is_not_a_notebook(bundle, tmp_path):
    root = autograder_root(tmp_path, bundle, {f"{ASSIGNMENT}.ipynb": b"\x89PNG not json"})
    results, _ = run_autograder(root)
    check_schema(results)
    assert results["score"] == 0.0 and results["extra_data"]["error"] == "exception"
    summary = unescape(results["output"])
    assert summary.startswith(f"**{ASSIGNMENT}**: this submission could not be graded (error `exception`); "
                              "score 0 / 36.")
    assert "not a notebook" in summary  # the grader's own reason, in its words
    assert all(t["tags"] == ["exception"] and t["status"] == "failed" for t in results["tests"])


def test_run_autograder_writes_results_when_python_cannot_start(bundle, tmp_path):
    root = autograder_root(tmp_path, bundle, {f"{ASSIGNMENT}.ipynb": b"{}"})
    results, done = run_autograder(root, python="/bin/false")
    assert done.returncode != 0
    check_schema(results)
    assert results["score"] == 0.0 and results["tests"] == []
    assert "could not start" in results["output"] and results["extra_data"]["error"] == "grader-failure"


# ---- results_json on report entries -------------------------------------------------------------


def entry(*tests, error=None, notes=()):
    return {"student": "alice", "path": "x.ipynb", "score": sum(t["points"] for t in tests),
            "max_score": sum(t["max_points"] for t in tests), "error": error, "notes": list(notes),
            "tests": list(tests)}


def line(part, points, max_points, diagnosis="ok", message="", **extra):
    return {"id": f"Linear.{part}", "target": "Linear", "points": points, "max_points": max_points,
            "diagnosis": diagnosis, "message": message, **extra}


def test_results_json_holds_back_parts_that_fail_only_hidden_tests():
    report = entry(line("fprop", 1.0, 1.0, hidden=False),
                   line("grad_W", 0.0, 2.0, "transpose", "[grad_W] passes the visible test but fails a hidden one",
                        hidden=True),
                   line("grad_b", 0.0, 1.0, "axis", "[grad_b] summed over the wrong axis"),  # no key: visible
                   line("grad_x", 2.0, 2.0, hidden=True))  # passed: nothing to hold back
    results = results_json(report, assignment=ASSIGNMENT)
    check_schema(results)
    assert [(t["name"], t["visibility"], t["tags"]) for t in results["tests"]] == [
        ("Linear.fprop", "visible", ["ok"]), ("Linear.grad_W", "after_published", ["transpose"]),
        ("Linear.grad_b", "visible", ["axis"]), ("Linear.grad_x", "visible", ["ok"])]
    assert results["score"] == 3.0
    assert unescape(results["output"]) == ("**ps4_flow_graph**: 3 / 6 points. 2 of 4 graded parts pass; to fix: "
                                           "Linear.grad_b (`axis`); 1 more fail hidden tests (shown when grades are "
                                           "published).")
    shown = results_json(report, hidden_visibility="visible")
    assert [t["visibility"] for t in shown["tests"]] == ["visible"] * 4
    with pytest.raises(ValueError, match=r"hidden_visibility in \['hidden', 'after_due_date', 'after_published', "
                                         r"'visible'\], got 'soon'"):
        results_json(report, hidden_visibility="soon")


def test_results_json_says_when_a_submission_could_not_be_graded():
    report = entry(line("fprop", 0.0, 1.0, "timeout", "[fprop] ran past 20 s"), error="timeout",
                   notes=[f"note {i} with *stars* and <b>tags</b>" for i in range(12)])
    results = results_json(report)
    check_schema(results)
    text = unescape(results["output"])
    assert text.startswith("this submission could not be graded (error `timeout`); score 0 / 1.")
    assert "- note 0 with *stars* and <b>tags</b>" in text and "- note 9 " in text and "note 10" not in text
    assert "… and 2 more" in text
    assert "\\*stars\\*" in results["output"] and "\\<b\\>" in results["output"]  # shown literally, not rendered
    assert results["extra_data"]["error"] == "timeout"
    assert results["tests"][0]["output"] == "**Linear.fprop** failed (`timeout`): \\[fprop\\] ran past 20 s"


def test_results_json_rejects_what_is_not_a_report_entry():
    with pytest.raises(ValueError, match=r"expected a report entry: .* got dict with keys \['score'\]"):
        results_json({"score": 1.0})
    with pytest.raises(ValueError, match=r"expected a report entry: .* got list"):
        results_json([])
