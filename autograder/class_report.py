"""The class report (issue 13): what the class got wrong at a glance, for one assignment and for the course.

Everything is computed from graded reports (:func:`autograder.grader.grade_class`'s result, or the
``report.json`` files on disk), never from the notebooks:

* :func:`class_figures` — one assignment: the score distribution, the median, the share at full
  marks; every graded part's pass rate and its diagnoses ranked by how many students got each, with
  one anonymised example message; the students who need help first; what could not be graded.
* :func:`course_figures` — every assignment graded so far: a students × graded-parts heat map and
  each student's score from ps1 to ps5.
* :func:`write_class_report` / :func:`write_course_report` — those figures as ``class.json`` and
  as ``class.html``, one page that works offline (plots drawn by matplotlib, inlined as SVG).
* :func:`summary_lines` — the same in a few lines for the terminal.

Shares are fractions of the submissions graded (0.25, not 25); a submission that could not be graded
at all counts in the score distribution (it scored 0) but in no part's pass rate.
"""

import io
import json
import re
import statistics
from pathlib import Path

from .report import _template, read_report

BINS = 10  # the histogram's bins: tenths of the maximum score
CRASHES = ("exception", "timeout")
NOT_IMPLEMENTED = "not-implemented"
NOT_MISCONCEPTIONS = ("ok", NOT_IMPLEMENTED, *CRASHES)  # the code never ran its idea: nothing to teach from
ANONYMOUS = "‹student›"
TOLERANCE = 1e-9


def _share(count, total):
    return count / total if total else 0.0


# ---------------------------------------------------------------- anonymising an example message


def _identifiers(entry):
    """What names a submission's author: their name and its words, the file's name, LMS ids."""
    words = {entry["student"], Path(entry.get("path") or "").stem}
    words |= set(re.split(r"[^\w]+|_", entry["student"]))
    words |= {str(value) for key, value in (entry.get("lms") or {}).items() if key.endswith("_id")}
    return {word for word in words if len(word) >= 2 and not (word.isdigit() and len(word) < 4)}


def anonymise(text, identifiers):
    """``text`` with every identifier (letter- or digit-bounded, any case), e-mail and file path replaced."""
    text = re.sub(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", ANONYMOUS, text)
    text = re.sub(r"(?:[A-Za-z]:)?(?:[\w.~-]*[/\\])+[\w.-]+\.(?:ipynb|py|zip)\b", "‹file›", text)
    for word in sorted(identifiers, key=len, reverse=True):
        bound = r"\d" if word.isdigit() else r"[^\W\d_]"
        text = re.sub(rf"(?<!{bound}){re.escape(word)}(?!{bound})", ANONYMOUS, text, flags=re.I)
    return text


def _example(lines, identifiers):
    """One message of a diagnosis: a visible test's if there is one, of the first student by name."""
    _, line = min(lines, key=lambda found: (found[1].get("hidden", False), found[0]["student"]))
    return anonymise(line["message"], identifiers)


# ---------------------------------------------------------------- one assignment


def _graded_parts(submissions):
    """Each part's id → [(entry, line)], in the report's order."""
    parts = {}
    for entry in submissions:
        for line in entry["tests"]:
            parts.setdefault(line["id"], []).append((entry, line))
    return parts


def _part(part_id, found, identifiers):
    graded = len(found)
    by_code = {}
    for entry, line in found:
        by_code.setdefault(line["diagnosis"], []).append((entry, line))
    passed = len(by_code.pop("ok", []))
    diagnoses = [{"diagnosis": code, "count": len(lines), "share": _share(len(lines), graded),
                  "example": _example(lines, identifiers)}
                 for code, lines in sorted(by_code.items(), key=lambda item: (-len(item[1]), item[0]))]
    return {"id": part_id, "target": found[0][1]["target"], "max_points": found[0][1]["max_points"],
            "graded": graded, "passed": passed, "pass_rate": _share(passed, graded), "diagnoses": diagnoses}


def _histogram(scores, maximum):
    width = maximum / BINS if maximum else 1.0
    counts = [0] * BINS
    for score in scores:
        counts[min(BINS - 1, max(0, int((score + TOLERANCE) // width)))] += 1
    return [{"from": i * width, "to": (i + 1) * width, "count": n} for i, n in enumerate(counts)]


def _help(entry):
    """Why a student needs help (empty when they do not): could not be graded, nothing implemented,
    parts that raised or ran out of time, under half marks."""
    codes = [line["diagnosis"] for line in entry["tests"]]
    crashed = sum(code in CRASHES for code in codes)
    nothing = bool(codes) and all(code == NOT_IMPLEMENTED for code in codes)
    low = entry["score"] < entry["max_score"] / 2 and not (nothing or entry["error"])  # said already otherwise
    reasons = ([f"could not be graded ({entry['error']})"] if entry["error"] else []) + \
              (["nothing implemented"] if nothing else []) + \
              ([f"{crashed} part{'s' * (crashed != 1)} raised or timed out"] if crashed else []) + \
              (["under half marks"] if low else [])
    return {"student": entry["student"], "score": entry["score"], "max_score": entry["max_score"],
            "crashed": crashed, "nothing_implemented": nothing, "error": entry["error"], "reasons": reasons}


def class_figures(report):
    """The class report of one assignment as a plain dict (what ``class.json`` holds); see the module."""
    submissions = sorted(report["submissions"], key=lambda entry: entry["student"])
    identifiers = set().union(*(_identifiers(entry) for entry in submissions))
    scores = [entry["score"] for entry in submissions]
    maximum = max((entry["max_score"] for entry in submissions), default=0.0)
    full = sum(score >= maximum - TOLERANCE for score in scores) if maximum else 0
    parts = [_part(part_id, found, identifiers) for part_id, found in _graded_parts(submissions).items()]
    misconceptions = sorted(({"part": part["id"], **diagnosis} for part in parts for diagnosis in part["diagnoses"]
                             if diagnosis["diagnosis"] not in NOT_MISCONCEPTIONS),
                            key=lambda found: (-found["count"], found["part"], found["diagnosis"]))
    need_help = sorted((found for found in map(_help, submissions) if found["reasons"]),
                       key=lambda found: (found["score"], -found["crashed"], found["student"]))
    ungraded = [{"student": entry["student"], "error": entry["error"],
                 "why": entry["notes"][-1] if entry.get("notes") else "see the report"}
                for entry in submissions if entry["error"]]
    from .intake import UNGRADED

    ungraded += [{"student": None, "error": skipped.get("kind"), "why": skipped["reason"], "path": skipped["path"]}
                 for skipped in report.get("skipped", []) if skipped.get("kind") in UNGRADED]
    return {"assignment": report["assignment"], "graded_at": report.get("graded_at"),
            "course_commit": report.get("course_commit"),
            "submissions": len(submissions), "missing": len(report.get("missing", [])),
            "scores": {"max_score": maximum, "median": statistics.median(scores) if scores else None,
                       "mean": statistics.fmean(scores) if scores else None,
                       "full_marks": {"count": full, "share": _share(full, len(scores))},
                       "histogram": _histogram(scores, maximum)},
            "parts": parts, "misconceptions": misconceptions, "need_help": need_help, "ungraded": ungraded,
            "flagged": flagged_pairs(submissions), "figures": ["scores", "parts"]}


def flagged_pairs(submissions):
    """The similarity screening's flagged rows, each pair once (alice~bob, not also bob~alice), highest score
    first: for the instructor to judge, beside the two pieces of code."""
    pairs, seen = [], set()
    for entry in submissions:
        for row in entry.get("similarity", []):
            if not row.get("flagged"):
                continue
            key = (row["target"], *sorted((entry["student"], row["with"])))
            if key in seen:
                continue
            seen.add(key)
            pairs.append({"student": entry["student"], "with": row["with"], "target": row["target"],
                          "score": row["score"], "reason": row.get("reason", ""), "code": row.get("code", ""),
                          "other_code": row.get("other_code", "")})
    return sorted(pairs, key=lambda pair: (-pair["score"], pair["target"], pair["student"]))


def summary_lines(report, top=3, folder=None):
    """The terminal's view of the class report: the ``top`` parts with the most shared misconceptions
    (``Linear.grad_W: 33 % transpose (2), 17 % scale-batch (1)``), who needs help, what could not be graded."""
    figures = class_figures(report)
    scores = figures["scores"]
    could_not = [f"could not be graded: {found['student'] or found['path']} ({found['error']}): {found['why']}"
                 for found in figures["ungraded"]]
    if not figures["submissions"]:
        return [f"class report: no submission of {figures['assignment']} graded yet", *could_not]
    count = figures["submissions"]
    lines = [f"class report: {count} submission{'s' * (count != 1)}, median {scores['median']:g} / "
             f"{scores['max_score']:g}, {_percent(scores['full_marks']['share'])} at full marks"
             + (f" — {Path(folder) / 'class.html'}" if folder else "")]
    ranked = sorted((part for part in figures["parts"] if _taught(part)),
                    key=lambda part: (-sum(d["count"] for d in _taught(part)), part["id"]))[:top]
    lines.append("top misconceptions:" if ranked else "top misconceptions: none shared by the class")
    for part in ranked:
        lines.append(f"  {part['id']}: " + ", ".join(f"{_percent(d['share'])} {d['diagnosis']} ({d['count']})"
                                                     for d in _taught(part)))
    if figures["need_help"]:
        lines.append("need help first: " + "; ".join(f"{found['student']} ({found['score']:g} / "
                                                     f"{found['max_score']:g}: {', '.join(found['reasons'])})"
                                                     for found in figures["need_help"][:5]))
    return lines + could_not


def _taught(part):
    return [d for d in part["diagnoses"] if d["diagnosis"] not in NOT_MISCONCEPTIONS]


def _percent(share):
    return f"{round(100 * share)} %"


# ---------------------------------------------------------------- the course


def course_figures(reports):
    """The course's view of the ``reports`` given (one per assignment, in course order): each student's
    score share per assignment (None where they handed nothing in) and the heat map of every graded part."""
    reports = [report for report in reports if report["submissions"] or report.get("missing")]
    students = sorted({entry["student"] for report in reports for entry in report["submissions"]}
                      | {missing["student"] for report in reports for missing in report.get("missing", [])})
    columns, by_student = [], {}
    for index, report in enumerate(reports):
        parts = list(_graded_parts(report["submissions"]))
        columns += [{"assignment": report["assignment"], "id": part_id} for part_id in parts]
        for entry in report["submissions"]:
            points = {line["id"]: _share(line["points"], line["max_points"]) for line in entry["tests"]}
            by_student.setdefault(entry["student"], {})[index] = (
                _share(entry["score"], entry["max_score"]), [points.get(part_id, 0.0) for part_id in parts])
    summaries = [class_figures(report) for report in reports]
    heat_map, trajectories = [], []
    for student in students:
        row, scores = [], []
        for index, report in enumerate(reports):
            share, points = by_student.get(student, {}).get(index, (None, None))
            width = sum(column["assignment"] == report["assignment"] for column in columns)
            row += points if points is not None else [None] * width
            scores.append(share)
        heat_map.append(row)
        trajectories.append({"student": student, "scores": scores})
    medians = [statistics.median(shares) if shares else None for shares in
               ([t["scores"][i] for t in trajectories if t["scores"][i] is not None] for i in range(len(reports)))]
    return {"assignments": [{"assignment": s["assignment"], "submissions": s["submissions"],
                             "missing": s["missing"], "median": s["scores"]["median"],
                             "max_score": s["scores"]["max_score"], "full_marks": s["scores"]["full_marks"],
                             "top_misconception": s["misconceptions"][0] if s["misconceptions"] else None}
                            for s in summaries],
            "students": students, "columns": columns, "heat_map": heat_map,
            "trajectories": trajectories, "median_share": medians, "figures": ["heat_map", "trajectories"]}


def course_reports(out_dir):
    """The reports found in ``out_dir/<assignment>/report.json``: the course's assignments in order, then others."""
    from .course import ASSIGNMENTS

    out_dir = Path(out_dir)
    found = sorted((path.parent.name for path in out_dir.glob("*/report.json")),
                   key=lambda name: (ASSIGNMENTS.index(name) if name in ASSIGNMENTS else len(ASSIGNMENTS), name))
    reports = []
    for name in found:
        try:
            report = read_report(out_dir / name)
        except ValueError:  # not a report this grader wrote: it has no place in the course's view
            continue
        if report is not None:
            reports.append(report)
    return reports


# ---------------------------------------------------------------- pictures and pages


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "path", "svg.hashsalt": "nbbackprop", "font.size": 9})
    return plt


def _svg(figure):
    """The figure as an ``<svg>`` element to inline (no XML prologue, scaled by the page's CSS)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    _pyplot().close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


OK_COLOUR, CRASH_COLOUR, STUB_COLOUR = "#2e8b57", "#7f7f7f", "#c8c8c8"
WRONG_COLOURS = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#1f77b4")


def _diagnosis_colours(parts):
    codes = sorted({d["diagnosis"] for part in parts for d in part["diagnoses"]} - set(NOT_MISCONCEPTIONS))
    colours = {code: WRONG_COLOURS[i % len(WRONG_COLOURS)] for i, code in enumerate(codes)}
    return {"ok": OK_COLOUR, NOT_IMPLEMENTED: STUB_COLOUR, **dict.fromkeys(CRASHES, CRASH_COLOUR), **colours}


def scores_svg(figures):
    plt = _pyplot()
    bins, maximum = figures["scores"]["histogram"], figures["scores"]["max_score"]
    figure, axes = plt.subplots(figsize=(6, 2.6))
    axes.bar([b["from"] for b in bins], [b["count"] for b in bins], width=[b["to"] - b["from"] for b in bins],
             align="edge", color="#4c72b0", edgecolor="white")
    if figures["scores"]["median"] is not None:
        axes.axvline(figures["scores"]["median"], color="#222", linestyle="--", linewidth=1)
        axes.annotate(f"median {figures['scores']['median']:g}", (figures["scores"]["median"], 1), xycoords=(
            "data", "axes fraction"), xytext=(3, -12), textcoords="offset points")
    axes.set(xlim=(0, maximum or 1), xlabel=f"score (out of {maximum:g})", ylabel="students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def parts_svg(figures):
    """One bar per graded part, split by the share of students behind each diagnosis (passed in green)."""
    plt = _pyplot()
    parts, colours = figures["parts"], _diagnosis_colours(figures["parts"])
    figure, axes = plt.subplots(figsize=(6, 0.6 + 0.22 * max(1, len(parts))))
    used = {}
    for row, part in enumerate(parts):
        left = 0.0
        for code, share in [("ok", part["pass_rate"]), *((d["diagnosis"], d["share"]) for d in part["diagnoses"])]:
            if share:
                used[code] = axes.barh(row, share, left=left, color=colours[code], height=0.75)
                left += share
    axes.set_yticks(range(len(parts)), [part["id"] for part in parts], fontsize=7)
    axes.invert_yaxis()
    axes.set(xlim=(0, 1), xlabel="share of the class")
    axes.xaxis.set_major_formatter(lambda x, _: f"{100 * x:.0f} %")
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(used.values(), [code.replace("ok", "passed") for code in used], fontsize=7, ncol=4,
                loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return _svg(figure)


def heat_map_svg(course):
    plt = _pyplot()
    import numpy as np

    values = np.array([[np.nan if v is None else v for v in row] for row in course["heat_map"]], dtype=float)
    values = values.reshape(len(course["students"]), len(course["columns"]))
    if not values.size:
        figure, axes = plt.subplots(figsize=(6, 1))
        axes.text(0.5, 0.5, "no graded part yet", ha="center", va="center")
        axes.set_axis_off()
        return _svg(figure)
    colour_map = plt.get_cmap("RdYlGn").with_extremes(bad="#e6e6e6")
    figure, axes = plt.subplots(figsize=(min(12, 2 + 0.12 * len(course["columns"])),
                                         1.6 + 0.22 * len(course["students"])))
    image = axes.imshow(np.ma.masked_invalid(values), cmap=colour_map, vmin=0, vmax=1, aspect="auto",
                        interpolation="nearest")
    axes.set_yticks(range(len(course["students"])), course["students"], fontsize=7)
    ids = [column["id"] for column in course["columns"]]
    axes.set_xticks(range(len(ids)), ids if len(ids) <= 80 else [""] * len(ids), rotation=90, fontsize=5)
    start = 0
    for summary in course["assignments"]:
        width = sum(column["assignment"] == summary["assignment"] for column in course["columns"])
        if start:
            axes.axvline(start - 0.5, color="#222", linewidth=1)
        axes.text(start + width / 2 - 0.5, -0.7, summary["assignment"], ha="center", va="bottom", fontsize=7)
        start += width
    figure.colorbar(image, ax=axes, fraction=0.03, pad=0.01, label="share of the part's points")
    return _svg(figure)


def trajectories_svg(course):
    plt = _pyplot()
    names = [summary["assignment"] for summary in course["assignments"]]
    figure, axes = plt.subplots(figsize=(6, 3))
    for found in course["trajectories"]:
        points = [(i, s) for i, s in enumerate(found["scores"]) if s is not None]
        axes.plot(*zip(*points), color="#4c72b0", alpha=0.35, linewidth=1, marker="o", markersize=2.5)
    medians = [(i, m) for i, m in enumerate(course["median_share"]) if m is not None]
    if medians:
        axes.plot(*zip(*medians), color="#222", linewidth=2.5, marker="o", label="median")
        axes.legend(frameon=False, fontsize=7)
    axes.set_xticks(range(len(names)), names, fontsize=7)
    axes.set(ylim=(-0.03, 1.03), xlim=(-0.3, max(0.3, len(names) - 0.7)), ylabel="share of the points")
    axes.yaxis.set_major_formatter(lambda y, _: f"{100 * y:.0f} %")
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _write(folder, figures, svgs, kind):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "class.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n")
    colours = _diagnosis_colours(figures.get("parts", []))
    page = _template("class.html.j2").render(kind=kind, figures=figures, svgs=svgs, percent=_percent,
                                             quiet=NOT_MISCONCEPTIONS, colours=colours)
    (folder / "class.html").write_text(page)
    return folder / "class.html"


def write_class_report(folder, report):
    """``folder/class.json`` and ``folder/class.html`` for one assignment; returns the page's path."""
    figures = class_figures(report)
    return _write(folder, figures, {"scores": scores_svg(figures), "parts": parts_svg(figures)}, "assignment")


def write_course_report(out_dir):
    """``out_dir/class.json`` and ``out_dir/class.html`` over every ``out_dir/<assignment>/report.json``;
    returns the page's path, or None when no assignment has been graded there."""
    reports = course_reports(out_dir)
    if not reports:
        return None
    course = course_figures(reports)
    return _write(out_dir, course, {"heat_map": heat_map_svg(course), "trajectories": trajectories_svg(course)},
                  "course")
