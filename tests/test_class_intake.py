"""A real class, end to end: the downloads an instructor really gets, graded in one run.

The class below mixes nbgrader's layout, a Canvas download (a folder and a zip), a Moodle
download and a plain folder, with resubmissions, copies, a roster with an absentee, colliding
names and every kind of bad file. Every file must be accounted for exactly once, every rostered
student must appear exactly once with the right score, and the batch must never stop.
"""

import copy
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.course import ROOT, model_answer
from autograder.intake import collect
from autograder.roster import read_roster
from autograder.samples import buggy

pytestmark = pytest.mark.slow

PS4 = "ps4_flow_graph"
FULL, BUGGY = 36.0, 32.0  # the model answer; ben's typical bugs (grad_W transposed, sigmoid' at x)


def text(notebook):
    return nbformat.writes(notebook)


def bloated(notebook, megabytes=60):
    """The notebook with ``megabytes`` of outputs in one cell: what a student's plots and prints do."""
    notebook = copy.deepcopy(notebook)
    cell = next(c for c in notebook.cells if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 2**20) for _ in range(megabytes)]
    return notebook


def version3(notebook):
    return nbformat.writes(nbformat.convert(copy.deepcopy(notebook), 3), version=nbformat.NO_CONVERT)


def without_cells(notebook):
    notebook = copy.deepcopy(notebook)
    notebook.cells = []
    return notebook


ROSTER = """id,name,email,canvas_id,moodle_id,section
alice,Alice Ash,alice@uni.edu,,,A
bob,Bob Birch,bob@uni.edu,,,A
carol,"Cedar, Carol",carol@uni.edu,,,B
jane,Jane Doe,jane@uni.edu,12345,,B
john,John Smith,john@uni.edu,12346,,B
ann,Ann Lee,ann@uni.edu,12347,,A
kim,Kim Moss,kim@uni.edu,12348,,A
ana,Ana Lima,ana@uni.edu,,501,A
bo,Bo Chen,bo@uni.edu,,502,B
zoe,"Zoe ""Z"" Quinn",zoe@uni.edu,12349,,A
dave,Dave Absent,dave@uni.edu,,,B
"""


def write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


@pytest.fixture(scope="module")
def messy_class(tmp_path_factory):
    """The class on disk; returns ``(root, paths given, every input file, roster file)``."""
    root = tmp_path_factory.mktemp("downloads")
    model, bugs = model_answer(PS4), buggy(PS4)
    ps3 = model_answer("ps3_backprop")
    files = {
        # nbgrader: submitted/<student>/<assignment>/
        "submitted/alice/ps4_flow_graph/ps4_flow_graph.ipynb": text(model),
        "submitted/bob/ps4_flow_graph/ps4_flow_graph.ipynb": text(bugs),
        "submitted/bob/ps4_flow_graph/ps4_flow_graph-Copy1.ipynb": text(model),  # a copy: not graded
        "submitted/carol/ps4_flow_graph/ps4_flow_graph.ipynb": version3(model),  # nbformat v3
        "submitted/carol/ps4_flow_graph/.ipynb_checkpoints/ps4_flow_graph-checkpoint.ipynb": text(bugs),
        "submitted/carol/ps3_backprop/ps3_backprop.ipynb": text(ps3),  # another assignment's folder
        # Canvas, downloaded and unzipped: a resubmission, a late one, a .py, the wrong problem set
        "canvas/doejane_12345_900001_ps4_flow_graph.ipynb": text(bugs),
        "canvas/doejane_12345_900007_ps4_flow_graph-1.ipynb": text(model),  # the resubmission wins
        "canvas/smithjohn_LATE_12346_900003_ps4_flow_graph.ipynb": text(bugs),
        "canvas/leeann_12347_900004_ps4_flow_graph.py": "print('I exported my notebook as a script')\n",
        "canvas/mosskim_12348_900005_ps3_backprop.ipynb": text(ps3),
        # Moodle, downloaded in folders
        "moodle/Ana Lima_501_assignsubmission_file_/ps4_flow_graph.ipynb": text(bloated(model)),
        "moodle/Bo Chen_502_assignsubmission_onlinetext_/onlinetext.html": "<p>see attached</p>",
        # a plain folder, as a browser leaves downloads: names collide, files are broken
        "flat/ps4_flow_graph.ipynb": text(model),
        "flat/ps4_flow_graph (1).ipynb": text(bugs),
        "flat/empty.ipynb": "",
        "flat/truncated.ipynb": text(model)[:5000],
        "flat/allgone.ipynb": text(without_cells(model)),
        "flat/notes.txt": "remember to submit",
        "flat/broken.zip": b"PK\x03\x04 this is not really a zip",
        # a second folder naming a student who is also in nbgrader's layout: never merged
        "extra/alice/ps4_flow_graph.ipynb": text(bugs),
    }
    for name, content in files.items():
        write(root / name, content)
    # the Canvas zip, read in place
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("quinnzoe_12349_900006_ps4_flow_graph.ipynb", text(model))
        zipped.writestr("__MACOSX/._quinnzoe_12349_900006_ps4_flow_graph.ipynb", b"\x00\x05")
    write(root / "canvas.zip", archive.getvalue())
    write(root / "roster.csv", ROSTER)
    inputs = {str(root / name) for name in files} | {f"{root}/canvas.zip/quinnzoe_12349_900006_ps4_flow_graph.ipynb",
                                                     f"{root}/canvas.zip/__MACOSX/._quinnzoe_12349_900006_ps4_flow_graph.ipynb"}
    given = [root / "submitted", root / "canvas", root / "canvas.zip", root / "moodle", root / "flat",
             root / "extra", root / "no-such-folder"]
    return root, given, inputs, root / "roster.csv"


def test_every_file_is_classified_once_without_grading(messy_class):
    _, given, inputs, roster = messy_class
    intake = collect(given, PS4, read_roster(roster), course_root=ROOT)
    graded = {s.source.display for s in intake.submissions}
    skipped = [s["path"] for s in intake.skipped if s["kind"] != "no-such-path"]
    assert sorted(graded | set(skipped)) == sorted(inputs)
    assert len(skipped) == len(set(skipped)) and not graded & set(skipped)
    kinds = {Path(s["path"]).name: s["kind"] for s in intake.skipped}
    assert kinds == {
        "ps4_flow_graph-Copy1.ipynb": "superseded", "ps4_flow_graph-checkpoint.ipynb": "checkpoint",
        "ps3_backprop.ipynb": "other-assignment", "doejane_12345_900001_ps4_flow_graph.ipynb": "superseded",
        "leeann_12347_900004_ps4_flow_graph.py": "not-a-notebook", "onlinetext.html": "not-a-notebook",
        "empty.ipynb": "empty", "truncated.ipynb": "not-a-notebook", "notes.txt": "not-a-notebook",
        "broken.zip": "not-a-zip", "._quinnzoe_12349_900006_ps4_flow_graph.ipynb": "hidden",
        "no-such-folder": "no-such-path"}
    superseded = next(s for s in intake.skipped if s["path"].endswith("900001_ps4_flow_graph.ipynb"))
    assert superseded["reason"].startswith("superseded by ") and superseded["reason"].endswith("-1.ipynb")
    students = {s.student: s for s in intake.submissions}
    assert sorted(students) == sorted(["alice", "alice (2)", "allgone", "ana", "bob", "carol", "jane", "john",
                                       "kim", "ps4_flow_graph", "ps4_flow_graph (1)", "zoe"])
    assert students["kim"].wrong_assignment == "ps3_backprop"
    assert students["john"].notes == ["submitted late (the LMS marked the file LATE)"]
    assert "upgraded to v4" in students["carol"].notebook.notes[0]
    assert any("alice and alice (2)" in w for w in intake.warnings)
    assert any("ps4_flow_graph (1)" in w or "not on the roster" in w for w in intake.warnings)
    missing = {m["student"]: m["reason"] for m in intake.missing}
    assert missing["dave"] == "no submission"
    assert "ps4_flow_graph.py" in missing["ann"] and "not a notebook" in missing["ann"]
    assert "onlinetext.html" in missing["bo"]
    # a broken notebook in a plain folder names its student after the file: listed, so nobody is lost
    assert "an empty file" in missing["empty"] and "truncated" in missing["truncated"]
    assert set(missing) == {"dave", "ann", "bo", "empty", "truncated"}


@pytest.fixture(scope="module")
def graded_class(messy_class, tmp_path_factory):
    root, given, inputs, roster = messy_class
    before = {path: Path(path).read_bytes() for path in inputs if ".zip/" not in path}
    out = tmp_path_factory.mktemp("out")
    run = subprocess.run(["autograder", "grade", PS4, *map(str, given), "--roster", str(roster), "--out", str(out),
                          "--jobs", "2", "--timeout", "10"], capture_output=True, text=True, timeout=600, cwd=root)
    after = {path: Path(path).read_bytes() for path in before}
    report = json.loads((out / PS4 / "report.json").read_text())
    return run, report, out, before == after


def test_the_class_is_graded_in_one_run_with_the_right_scores(graded_class):
    run, report, _, untouched = graded_class
    assert run.returncode == 1, run.stderr  # some work could not be graded: it is in the report
    assert untouched  # no submission file was modified
    scores = {e["student"]: (e["score"], e["error"]) for e in report["submissions"]}
    assert scores == {
        "alice": (FULL, None), "alice (2)": (BUGGY, None), "bob": (BUGGY, None), "carol": (FULL, None),
        "jane": (FULL, None), "john": (BUGGY, None), "kim": (0.0, "wrong-assignment"), "ana": (FULL, None),
        "zoe": (FULL, None), "ps4_flow_graph": (FULL, None), "ps4_flow_graph (1)": (BUGGY, None),
        "allgone": (0.0, None)}
    kim = next(e for e in report["submissions"] if e["student"] == "kim")
    assert "looks like ps3_backprop" in kim["notes"][-1] and kim["tests"] == []
    rostered = [row["id"] for row in csv.DictReader(io.StringIO(ROSTER))]
    present = [e["student"] for e in report["submissions"]] + [m["student"] for m in report["missing"]]
    assert sorted(s for s in present if s in rostered) == sorted(rostered)  # each exactly once
    assert "12 graded · 2 superseded · 10 skipped · 5 missing" in run.stdout
    assert "looks like ps3_backprop" in run.stdout and "missing dave: no submission" in run.stdout
    assert "warning: two submissions would both be named alice" in run.stderr


def test_the_outputs_do_not_collide_and_every_student_has_a_page(graded_class):
    _, report, out, _ = graded_class
    pages = sorted(p.name for p in (out / PS4 / "feedback").iterdir())
    assert len(pages) == len(report["submissions"]) == len({e["feedback"] for e in report["submissions"]})
    rows = list(csv.reader((out / PS4 / "grades.csv").open()))
    missing = ["ann", "bo", "dave", "empty", "truncated"]
    assert [r[0] for r in rows[1:]] == [e["student"] for e in report["submissions"]] + missing
    assert rows[-1][-3:] == ["0", "36", "missing"]
    kim = (out / PS4 / "feedback" / "kim.html").read_text()
    assert kim.count("looks like ps3_backprop") == 1 and "could not be graded (wrong-assignment)" in kim


def test_a_regrade_of_one_student_keeps_everyone_else(graded_class, messy_class, tmp_path):
    _, report, out, _ = graded_class
    root = messy_class[0]
    regraded = tmp_path / "submitted" / "bob" / PS4 / f"{PS4}.ipynb"
    regraded.parent.mkdir(parents=True)
    nbformat.write(model_answer(PS4), regraded)  # bob's fixed notebook, graded again
    run = subprocess.run(["autograder", "grade", PS4, str(tmp_path / "submitted"), "--out", str(out)],
                         capture_output=True, text=True, timeout=300, cwd=root)
    assert run.returncode == 0, run.stderr
    again = json.loads((out / PS4 / "report.json").read_text())
    before = {e["student"]: e for e in report["submissions"]}
    after = {e["student"]: e for e in again["submissions"]}
    assert sorted(after) == sorted(before)
    assert after["bob"]["score"] == FULL and after["bob"]["path"] == str(regraded)
    assert all(after[s] == before[s] for s in before if s != "bob")
    assert again["missing"] == report["missing"] and again["skipped"] == report["skipped"]
    rows = list(csv.reader((out / PS4 / "grades.csv").open()))
    assert len(rows) == 1 + len(after) + len(again["missing"])


def test_the_course_gradebook_and_the_lms_exports(graded_class, messy_class, tmp_path):
    out = graded_class[2]
    root, roster = messy_class[0], messy_class[3]
    from autograder.samples import SAMPLES

    ps1 = subprocess.run(["autograder", "grade", "ps1_neurons", str(SAMPLES / "submitted"), "--out", str(out)],
                         capture_output=True, text=True, timeout=300, cwd=root)
    assert ps1.returncode == 0, ps1.stderr
    scores = {e["student"]: e["score"] for e in json.loads((out / PS4 / "report.json").read_text())["submissions"]}

    def export(fmt, *extra):
        path = tmp_path / f"{fmt}.csv"
        done = subprocess.run(["autograder", "gradebook", "--out", str(out), "--roster", str(roster), "--format", fmt,
                               "-o", str(path), *extra], capture_output=True, text=True, cwd=root)
        assert done.returncode == 0, done.stderr
        return list(csv.reader(path.open(newline=""))), done

    table, _ = export("csv")
    assert table[0] == ["student", "name", "email", "ps1_neurons", PS4, "total"]
    assert table[1] == ["Points Possible", "", "", "25", "36", "61"]
    rows = {r[0]: r for r in table[2:]}
    assert rows["zoe"][1] == 'Zoe "Z" Quinn' and rows["carol"][1] == "Cedar, Carol"  # quoted, read back whole
    assert rows["jane"][3:] == ["", "36", "36"]  # not in the ps1 run: blank, which an LMS import leaves alone
    assert rows["dave"][3:] == ["", "0", "0"]  # missing from ps4: zero
    assert rows["ada"][3:] == ["25", "", "25"] and rows["cleo"][3] == "0"
    assert [r[0] for r in table[2:13]] == [row["id"] for row in csv.DictReader(io.StringIO(ROSTER))]

    canvas, done = export("canvas", "--canvas-id", f"{PS4}=4711")
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ps1_neurons", f"{PS4} (4711)"]
    assert canvas[1] == ["Points Possible", "", "", "", "", "25", "36"]
    by_id = {r[1]: r for r in canvas[2:] if r[1]}
    assert by_id["12345"][0] == "Jane Doe" and by_id["12345"][4] == "B" and by_id["12345"][6] == f"{scores['jane']:g}"
    assert by_id["12349"][6] == "36"
    assert "alice has no id canvas can match" in done.stderr

    moodle, _ = export("moodle")
    assert moodle[0] == ["ID number", "Email address", "Full name", "ps1_neurons", PS4]
    by_email = {r[1]: r for r in moodle[1:] if r[1]}
    assert by_email["ana@uni.edu"][4] == "36" and by_email["bob@uni.edu"][4] == f"{scores['bob']:g}"
    assert by_email["dave@uni.edu"][3:] == ["", "0"]
    assert all(r[0] != "Points Possible" for r in moodle)  # Moodle would take it for a student


def test_a_plain_pip_install_can_grade_from_any_folder(tmp_path):
    wheels, source = tmp_path / "wheels", tmp_path / "source"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in tracked.splitlines():  # a clean copy of the course: building leaves nothing in the repository
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            str(source), "-w", str(wheels)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    wheel = next(wheels.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for module in ("nbbackprop/checks/__init__.py", "autograder/__init__.py", "autograder/intake.py",
                   "autograder/templates/feedback.html.j2", "nbbackprop/data/digits.npz"):
        assert module in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--no-index", str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NBBACKPROP_COURSE")}
    sample = ROOT / "autograder" / "samples" / "submitted" / "ben" / PS4
    run = subprocess.run([str(venv / "bin" / "autograder"), "grade", PS4, str(sample), "--course", str(ROOT),
                          "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300,
                         cwd=elsewhere, env=env)
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "out" / PS4 / "report.json").read_text())
    assert report["submissions"][0]["score"] == BUGGY
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import autograder; print(autograder.__file__)"],
                           capture_output=True, text=True, cwd=elsewhere, env=env)
    assert str(venv) in where.stdout  # the installed copy graded, not the repository's
    lost = subprocess.run([str(venv / "bin" / "autograder"), "grade", PS4, str(sample)], capture_output=True,
                          text=True, cwd=elsewhere, env=env)
    assert lost.returncode == 2 and "found no course directory" in lost.stderr
