"""The grader's outputs: the JSON report of the contract, a CSV of scores, HTML feedback, a table."""

import csv
import html
import json
import os
from pathlib import Path

from nbbackprop.checks import TARGETS


def relative(path):
    """``path`` relative to the working directory when it lies below it (as the report shows it)."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:
        return str(path)


def as_json(assignment, entries):
    """The report: ``{"assignment": …, "submissions": [...]}`` with every submission in it."""
    submissions = [dict(entry, path=relative(entry["path"])) for entry in entries]
    return {"assignment": assignment, "submissions": submissions}


def write_json(path, assignment, entries):
    Path(path).write_text(json.dumps(as_json(assignment, entries), indent=1) + "\n")


def target_scores(entry, assignment):
    return {t: sum(line["points"] for line in entry["tests"] if line["target"] == t) for t in TARGETS[assignment]}


def write_csv(path, assignment, entries):
    """One row per submission: student, the points of each graded name, total, maximum, error."""
    targets = list(TARGETS[assignment])
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *targets, "total", "max_score", "error"])
        for entry in entries:
            scores = target_scores(entry, assignment)
            writer.writerow([entry["student"], *(f"{scores[t]:g}" for t in targets), f"{entry['score']:g}",
                             f"{entry['max_score']:g}", entry["error"] or ""])


FEEDBACK_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .35rem .5rem; border-bottom: 1px solid #ddd;
vertical-align: top; text-align: left; } .ok { color: #17803d; } .bad { color: #b3261e; }
code { background: #f4f4f4; padding: 0 .2rem; }
.message { font-family: ui-monospace, monospace; white-space: pre-wrap; }
"""


def feedback_html(assignment, entry):
    """One student's page: score, each graded part with its verdict, and for each failure the message."""
    rows = []
    for line in entry["tests"]:
        ok = line["diagnosis"] == "ok"
        rows.append(
            f"<tr><td><code>{html.escape(line['id'])}</code></td>"
            f"<td>{line['points']:g} / {line['max_points']:g}</td>"
            f"<td class='{'ok' if ok else 'bad'}'>{'✓' if ok else html.escape(line['diagnosis'])}</td>"
            f"<td class='message'>{html.escape(line['message'])}</td></tr>")
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in entry.get("notes", []))
    error = f"<p class='bad'>This submission could not be graded in full: {html.escape(entry['error'])}.</p>" \
        if entry["error"] else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(assignment)} — {html.escape(entry['student'])}</title>
<style>{FEEDBACK_STYLE}</style></head><body>
<h1>{html.escape(assignment)}: feedback for {html.escape(entry['student'])}</h1>
<p><strong>Score: {entry['score']:g} / {entry['max_score']:g}</strong></p>{error}
<p>Each graded part was checked on the inputs of the visible test and on hidden ones. A failed part names the
diagnosis, a small input that shows it, what came and what was expected, and the likely cause.</p>
<table><tr><th>part</th><th>points</th><th>verdict</th><th>what the checks saw</th></tr>
{''.join(rows)}</table>
{'<h2>Notes from running the notebook</h2><ul>' + notes + '</ul>' if notes else ''}
</body></html>
"""


def write_feedback(directory, assignment, entries):
    """``<directory>/<student>/<assignment>.html`` for every submission; returns the paths."""
    written = []
    for entry in entries:
        folder = Path(directory) / entry["student"]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{assignment}.html"
        path.write_text(feedback_html(assignment, entry))
        written.append(path)
    return written


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
