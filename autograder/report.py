"""The grader's outputs: the JSON report of the contract, a CSV of scores, HTML feedback, the terminal's table.

Everything is written from the report (a dict, :func:`autograder.grader.grade_class`'s
result), never from text: an assignment's folder ``<out>/<assignment>/`` holds

* ``report.json`` — every submission, skipped file and missing student;
* ``grades.csv`` — one row per student, the points of each graded name;
* ``feedback/<student>.html`` — one page per student, a single offline file.

Regrading some students merges into what is there (:func:`merge`): their
entries are replaced, everyone else's kept, each entry carrying when and with
which commit of the course it was graded.
"""

import csv
import json
import os
import re
from functools import cache
from pathlib import Path

import numpy as np

from nbbackprop.checks import TARGETS

from .intake import UNGRADED

SUBMISSION_FIELDS = ("student", "path", "score", "max_score", "error", "graded_at", "course_commit", "layout",
                     "lms", "feedback", "tests", "notes", "similarity")


def relative(path):
    """``path`` relative to the working directory when it lies below it (as the report shows it)."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:
        return str(path)


def feedback_name(student):
    """The file name of a student's feedback page: the name, made safe for any file system."""
    safe = re.sub(r"[^\w.@+-]+", "_", student).strip("._") or "student"
    return f"{safe}.html" if safe == student else f"{safe}-{sum(map(ord, student)) % 10000:04d}.html"


def merge(old, new):
    """The report after regrading: ``new``'s entries replace ``old``'s of the same student or file."""
    if old is None or old.get("assignment") != new["assignment"]:
        return new
    students = {e["student"] for e in new["submissions"]}
    paths = {e["path"] for e in new["submissions"]} | {s["path"] for s in new["skipped"]}
    submissions = [e for e in old["submissions"] if e["student"] not in students and e["path"] not in paths]
    submissions += new["submissions"]
    skipped = [s for s in old.get("skipped", []) if s["path"] not in paths] + new["skipped"]
    graded = {e["student"] for e in submissions}
    missing = {m["student"]: m for m in old.get("missing", []) + new["missing"] if m["student"] not in graded}
    return dict(new, submissions=sorted(submissions, key=lambda e: e["student"]),
                skipped=sorted(skipped, key=lambda s: s["path"]), missing=sorted(missing.values(),
                                                                                key=lambda m: m["student"]))


def as_json(report):
    """The report as written: paths relative where they can be, fields in the contract's order."""
    submissions = [{k: entry[k] if k != "path" else relative(entry[k]) for k in SUBMISSION_FIELDS if k in entry}
                   for entry in report["submissions"]]
    return dict(report, submissions=submissions)


def read_report(folder):
    """The report in ``folder/report.json``, or None when there is none yet."""
    path = Path(folder) / "report.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not a report this grader wrote ({error}); move it away to start afresh") \
            from None


def write_json(path, report):
    Path(path).write_text(json.dumps(as_json(report), indent=1, ensure_ascii=False) + "\n")


def target_scores(entry, assignment):
    return {t: sum(line["points"] for line in entry["tests"] if line["target"] == t) for t in TARGETS[assignment]}


def write_csv(path, report):
    """One row per student (missing ones too): the points of each graded name, total, maximum, status."""
    assignment, targets = report["assignment"], list(TARGETS[report["assignment"]])
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *targets, "total", "max_score", "error"])
        for entry in report["submissions"]:
            scores = target_scores(entry, assignment)
            writer.writerow([entry["student"], *(f"{scores[t]:g}" for t in targets), f"{entry['score']:g}",
                             f"{entry['max_score']:g}", entry["error"] or ""])
        maximum = _max_score(report)
        for missing in report.get("missing", []):
            writer.writerow([missing["student"], *("0" for _ in targets), "0", f"{maximum:g}", "missing"])


def _max_score(report):
    if report["submissions"]:
        return report["submissions"][0]["max_score"]
    from .points import max_score

    return max_score(report["assignment"])


@cache
def _template(name):
    import jinja2

    environment = jinja2.Environment(loader=jinja2.PackageLoader("autograder", "templates"),
                                     autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.get_template(name)


CELL_PX = 16  # one matrix entry in a feedback picture


def _colour(value, scale):
    """Blue (negative) through white to red (positive), ``value / scale`` clipped to [−1, 1]."""
    t = max(-1.0, min(1.0, value / scale)) if scale else 0.0
    fade = round(255 * (1 - abs(t)))
    return f"#ff{fade:02x}{fade:02x}" if t >= 0 else f"#{fade:02x}{fade:02x}ff"


def _panel(title, values, scale):
    rows = values if isinstance(values[0], list) else [values]  # a vector is drawn as one row
    cells = [{"x": j * CELL_PX, "y": i * CELL_PX, "fill": _colour(v, scale), "value": f"{v:.4g}"}
             for i, row in enumerate(rows) for j, v in enumerate(row)]
    return {"title": f"{title} {len(rows)}×{len(rows[0])}", "width": len(rows[0]) * CELL_PX,
            "height": len(rows) * CELL_PX, "cells": cells}


def pictures(line):
    """The panels drawn beside a wrong array: the student's, the expected one, and their difference when
    the shapes agree — one colour scale for all three, so a transpose or a dropped 1/N shows at a glance."""
    if "got" not in line:
        return []
    got, expected = (np.asarray(values, dtype=float) for values in (line["got"], line["expected"]))
    scale = float(max(np.abs(got).max(), np.abs(expected).max())) or 1.0
    panels = [_panel("yours", got.tolist(), scale), _panel("expected", expected.tolist(), scale)]
    if got.shape == expected.shape:
        panels.append(_panel("yours − expected", (got - expected).tolist(), scale))
    return panels


BOX_PX, PAD = 168, 0.12  # a decision-boundary picture: the plot's side, and the margin around the points
CLASS_FILL = ("#1f6fb4", "#e8710a")  # label 0, label 1
LINES = (("yours", "got", "#b3261e", ""), ("expected", "expected", "#222", "5 3"))  # name, key, colour, dash


def _clipped(w, b, box):
    """The segment of the line ``w·x + b = 0`` inside ``box`` (x0, y0, x1, y1), as two points, or None when the
    line misses the box (or there is no line: w = 0)."""
    (w1, w2), (x0, y0, x1, y1) = w, box
    ends = []
    if w2:  # where it crosses the left and right edges
        ends += [(x, -(b + w1 * x) / w2) for x in (x0, x1)]
    if w1:  # the bottom and top edges (a vertical line meets only these)
        ends += [(-(b + w2 * y) / w1, y) for y in (y0, y1)]
    slack = 1e-9 * (x1 - x0)
    inside = [(x, y) for x, y in ends if x0 - slack <= x <= x1 + slack and y0 - slack <= y <= y1 + slack]
    if len(inside) < 2:
        return None
    first = inside[0]
    last = max(inside, key=lambda p: (p[0] - first[0]) ** 2 + (p[1] - first[1]) ** 2)
    return (first, last) if last != first else None


def boundary_picture(line):
    """The picture of a wrong linear classifier (a report line's ``boundary``): the probe's points coloured by
    label, the expected line and the student's, each clipped to the plot — one scale on both axes, so an angle
    looks like itself; a line that misses the plot is named in the legend. None when there is nothing to draw."""
    if "boundary" not in line:
        return None
    data = line["boundary"]
    points = np.asarray(data["points"], dtype=float)
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    half = max(float(np.ptp(points, axis=0).max()), 1.0) * (0.5 + PAD)
    box = (centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half)

    def px(x, y):  # data → pixels, y up
        return round((x - box[0]) / (2 * half) * BOX_PX, 1), round((box[3] - y) / (2 * half) * BOX_PX, 1)

    dots = [{"cx": px(x, y)[0], "cy": px(x, y)[1], "fill": CLASS_FILL[int(label) == 1],
             "title": f"({x:.3g}, {y:.3g}), y = {int(label)}"} for (x, y), label in zip(points, data["labels"])]
    lines, legend = [], []
    for name, key, colour, dash in LINES:
        w, b = data[key]["w"], data[key]["b"]
        segment = _clipped(w, b, box)
        if segment is not None:
            (ax, ay), (bx, by) = (px(*end) for end in segment)
            lines.append({"name": name, "x1": ax, "y1": ay, "x2": bx, "y2": by, "stroke": colour, "dash": dash})
        why = "" if segment is not None else " (w = 0: no line)" if not any(w) else " (outside the plot)"
        legend.append({"name": name + why, "stroke": colour, "dash": dash,
                       "title": f"w = ({', '.join(f'{v:.3g}' for v in w)}), b = {b:.3g}"})
    settings = ", ".join(f"{k.replace('_', ' ')} = {v:g}" for k, v in data.get("settings", {}).items())
    return {"size": BOX_PX, "points": dots, "lines": lines, "legend": legend, "classes": CLASS_FILL,
            "caption": f"decision boundary w·x + b = 0 on the visible 2-D probe ({len(dots)} points"
                       + (f"; {settings}" if settings else "") + ")"}


def feedback_html(assignment, entry):
    """One student's page: score, each graded part with its verdict, and for each failure the message
    (with the student's own traceback, and a picture of a wrong array or of a wrong decision boundary)."""
    return _template("feedback.html.j2").render(assignment=assignment, entry=dict(entry, notes=entry.get("notes", [])),
                                                pictures=pictures, boundary_picture=boundary_picture)


def write_feedback(directory, report):
    """``<directory>/<student>.html`` for every submission; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in report["submissions"]:
        path = directory / feedback_name(entry["student"])
        path.write_text(feedback_html(report["assignment"], entry))
        written.append(path)
    return written


def write_all(folder, report):
    """``report.json``, ``grades.csv`` and ``feedback/`` in ``folder`` (the assignment's output folder)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for entry in report["submissions"]:
        entry["feedback"] = f"feedback/{feedback_name(entry['student'])}"
    write_feedback(folder / "feedback", report)
    write_csv(folder / "grades.csv", report)
    write_json(folder / "report.json", report)
    from .class_report import write_class_report  # it reads this module: imported here, not at the top

    write_class_report(folder, report)


def summary_table(entries):
    """The terminal's table: one line per submission, its score, and its first problem."""
    width = max([len(e["student"]) for e in entries] + [7])
    lines = [f"{'student':<{width}}  {'score':>11}  first problem"]
    for entry in entries:
        failing = [line for line in entry["tests"] if line["diagnosis"] != "ok"]
        problem = (entry["error"] and f"error: {entry['error']}") or (
            f"{failing[0]['id']}: {failing[0]['diagnosis']}" + (f" (+{len(failing) - 1} more)" if len(failing) > 1
                                                                else "") if failing else "—")
        lines.append(f"{entry['student']:<{width}}  {entry['score']:>5g} / {entry['max_score']:<3g}  {problem}")
    return "\n".join(lines)


def closing_summary(report, counts, folder):
    """What the run did, in a few lines: counts, what could not be graded and why, where the files went."""
    lines = [f"{counts['graded']} graded · {counts['superseded']} superseded · {counts['skipped']} skipped · "
             f"{counts['missing']} missing — files in {relative(folder)}/"]
    for entry in report["submissions"]:
        if entry["error"]:
            why = entry["notes"][-1] if entry["notes"] else "see the report"
            lines.append(f"  could not be graded: {entry['student']} ({entry['error']}): {why}")
    quiet = {}
    for skipped in report["skipped"]:
        if skipped.get("kind") in UNGRADED:
            lines.append(f"  not graded {relative(skipped['path'])}: {skipped['reason']}")
        else:
            quiet[skipped.get("kind")] = quiet.get(skipped.get("kind"), 0) + 1
    if quiet:
        lines.append("  also skipped: " + ", ".join(f"{n} {kind.replace('-', ' ')}" for kind, n in quiet.items()))
    for missing in report["missing"]:
        lines.append(f"  missing {missing['student']}: {missing['reason']}")
    return "\n".join(lines)
