"""Intake in small: file names of each layout, the roster, notebooks read with nbformat, the course found."""

import copy
import json
import zipfile

import nbformat
import pytest

from autograder.course import ROOT, locate_course, model_answer
from autograder.intake import collect
from autograder.notebook import Unreadable, read_notebook
from autograder.roster import read_roster, squash
from nbbackprop.checks import TARGETS

PS4 = "ps4_flow_graph"


@pytest.fixture(scope="module")
def model_text():
    return nbformat.writes(model_answer(PS4))


def put(folder, files):
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return folder


def test_canvas_names_late_files_and_resubmissions(tmp_path, model_text):
    put(tmp_path, {"leeann_late_77_5_ps4_flow_graph-2.ipynb": model_text,  # lower-case late, 2nd resubmission
                   "leeann_late_77_4_ps4_flow_graph-1.ipynb": model_text,
                   "leeann_77_3_ps4_flow_graph.ipynb": model_text,
                   "dumont_78_9_my work.ipynb": model_text})
    intake = collect([tmp_path], PS4)
    assert [(s.student, s.layout, s.lms) for s in intake.submissions] == [
        ("dumont", "canvas", {"canvas_id": "78"}), ("leeann", "canvas", {"canvas_id": "77"})]
    assert intake.submissions[1].source.display.endswith("_5_ps4_flow_graph-2.ipynb")
    assert sorted(s["kind"] for s in intake.skipped) == ["superseded", "superseded"]


def test_the_layout_can_be_forced(tmp_path, model_text):
    put(tmp_path, {"leeann_77_3_ps4_flow_graph.ipynb": model_text, "alice.ipynb": model_text})
    plain = collect([tmp_path], PS4, layout="plain")
    assert sorted(s.student for s in plain.submissions) == ["alice", "leeann_77_3_ps4_flow_graph"]
    canvas = collect([tmp_path], PS4, layout="canvas")
    assert [s.student for s in canvas.submissions] == ["leeann"]
    assert [(s["path"].rsplit("/", 1)[1], s["kind"]) for s in canvas.skipped] == [("alice.ipynb", "not-in-layout")]
    with pytest.raises(ValueError, match="expected a layout in"):
        collect([tmp_path], PS4, layout="blackboard")


def test_moodle_flat_names_and_a_zip_of_one_folder(tmp_path, model_text):
    archive = tmp_path / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("Assignment 4/Ana Lima_501_assignsubmission_file_ps4_flow_graph.ipynb", model_text)
        zipped.writestr("Assignment 4/Bo Chen_502_assignsubmission_file_/sub/ps4_flow_graph.ipynb", model_text)
    intake = collect([archive], PS4)
    assert [(s.student, s.lms) for s in intake.submissions] == [("Ana Lima", {"moodle_id": "501"}),
                                                                ("Bo Chen", {"moodle_id": "502"})]
    assert intake.submissions[0].source.display == f"{archive}/Assignment 4/Ana Lima_501_assignsubmission_file_" \
                                                   "ps4_flow_graph.ipynb"


def test_a_course_folder_given_is_read_through_its_submitted_folder(tmp_path, model_text):
    course = tmp_path / "course"
    put(course, {"nbgrader_config.py": "", "solutions/x.txt": "", "exercises/ps4_flow_graph/ps4_flow_graph.ipynb":
                 model_text, "submitted/alice/ps4_flow_graph/ps4_flow_graph.ipynb": model_text})
    intake = collect([course], PS4, course_root=course)
    assert [s.student for s in intake.submissions] == ["alice"]
    assert [s["kind"] for s in intake.skipped] == ["course-folder"]
    # walked from above, the course's own folders are skipped, once each
    intake = collect([tmp_path], PS4, course_root=course)
    assert [s.student for s in intake.submissions] == ["alice"]


def test_notebooks_are_read_with_nbformat(model_text):
    model = model_answer(PS4)
    old = nbformat.writes(nbformat.convert(copy.deepcopy(model), 3), version=nbformat.NO_CONVERT)
    upgraded = read_notebook(old.encode())
    assert upgraded.notes == ["an nbformat v3 notebook, upgraded to v4 to be graded"]
    assert upgraded.cells == read_notebook(model_text.encode()).cells
    twice = copy.deepcopy(model)
    cell = next(c for c in twice.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "Linear")
    twice.cells.insert(twice.cells.index(cell), copy.deepcopy(cell))  # the same cell id twice, too
    notes = read_notebook(json.dumps(twice).encode()).notes  # (nbformat.writes would mend the ids first)
    assert notes[0].startswith("1 cell id(s) appear twice") and "more than one cell has the grade_id Linear" in notes[1]
    bare = copy.deepcopy(model)
    for cell in bare.cells:
        cell.metadata.pop("nbgrader", None)
        cell.pop("id", None)
    notes = read_notebook(json.dumps(bare).encode()).notes_for(PS4)
    assert len(notes) == len(TARGETS[PS4]) and notes[0].startswith("Linear is defined in code cell ")
    for data, reason in ((b"", "an empty file"), (b"\xff\xfe\x00", "not text"), (model_text[:900].encode(),
                         "truncated"), (b'{"cells": 3}', "without a list of cells")):
        with pytest.raises(Unreadable, match=reason):
            read_notebook(data)


def test_a_notebook_of_another_assignment_says_which():
    ps3 = read_notebook(nbformat.writes(model_answer("ps3_backprop")).encode())
    assert ps3.looks_like(PS4) == "ps3_backprop" and ps3.looks_like("ps3_backprop") is None
    empty = read_notebook(nbformat.writes(nbformat.v4.new_notebook()).encode())
    assert empty.looks_like(PS4) is None and empty.notes == ["the notebook has no code cells"]


def test_rosters_ours_and_a_canvas_export(tmp_path):
    ours = tmp_path / "ours.csv"
    ours.write_text("ID,Name,Email,Canvas ID\nalice,\"Ash, Alice\",a@u.edu,11\n")
    roster = read_roster(ours)
    assert roster.find("canvas", "11").id == "alice" and roster.find("canvas", "99", "ashalice").id == "alice"
    assert roster.find("nbgrader", "a").id == "alice"  # the email's local part
    canvas = tmp_path / "canvas.csv"
    canvas.write_text("Student,ID,SIS User ID,SIS Login ID,Section,ps4 (123)\n"
                      "    Points Possible,,,,,36\n\"Doe, Jane\",12345,S-1,jdoe,Sec 1,\n")
    jane = read_roster(canvas).students
    assert [(s.id, s.name, s.canvas_id, s.sis_id, s.section) for s in jane] == [
        ("jdoe", "Doe, Jane", "12345", "S-1", "Sec 1")]
    (tmp_path / "bad.csv").write_text("who,what\nx,y\n")
    with pytest.raises(ValueError, match=r"expected an 'id' column .* got columns \['who', 'what'\]"):
        read_roster(tmp_path / "bad.csv")
    (tmp_path / "twice.csv").write_text("id\nx\nx\n")
    with pytest.raises(ValueError, match="line 3: the id 'x' appears twice"):
        read_roster(tmp_path / "twice.csv")
    assert squash("Lée, Ann-Marie") == "leeannmarie"


def test_the_course_is_found_from_any_folder_inside_it(tmp_path, monkeypatch):
    monkeypatch.delenv("NBBACKPROP_COURSE", raising=False)
    assert locate_course(ROOT / "solutions" / PS4) == ROOT
    monkeypatch.setenv("NBBACKPROP_COURSE", str(tmp_path))
    with pytest.raises(ValueError, match=r"not a course directory: expected a folder with nbgrader_config\.py"):
        locate_course()
