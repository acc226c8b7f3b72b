"""A batch's graded entries, streamed to ``<out>/<assignment>/results.jsonl`` as each is judged.

One JSON line per graded submission, appended and flushed the moment its entry comes back::

    {"student": "alice", "sha256": "<hash of the notebook's bytes>", "entry": {...the report entry...}}

so a batch that stops (a crash, a lost machine, Ctrl-C) has lost only what was being graded, and
``grade --resume`` grades only the submissions with no line yet: a line is reused when the same
student hands in the same bytes; a changed notebook has another hash and is graded again. The
reused entry keeps the ``course_commit`` and ``graded_at`` it was graded with, as the report's
merge keeps earlier entries. The report, CSV and feedback are then written from those entries.
A line cut off mid-write is ignored; when a key appears twice the last line counts.
"""

import hashlib
import json
from pathlib import Path

FILE = "results.jsonl"


def content_hash(source):
    """The SHA-256 of a submission's bytes (an :class:`~autograder.intake.Source`), or None if unreadable."""
    try:
        return hashlib.sha256(source.read()).hexdigest()
    except (OSError, KeyError, ValueError):
        return None


class Results:
    """The results file of one assignment's folder; ``resume`` reuses what it holds."""

    def __init__(self, path, resume=False, course_commit=None, fresh=False):
        self.path, self.resume, self.course_commit = Path(path), resume, course_commit
        self.reused = 0
        self._keys = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            self.path.write_text("")

    def lines(self):
        """``{(student, sha256): entry}`` of the file as it stands (the last line of a key wins)."""
        found = {}
        if not self.path.is_file():
            return found
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                    found[record["student"], record["sha256"]] = record["entry"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # a line cut off when the batch stopped
        return found

    def reuse(self, submissions):
        """``{index: entry}`` for the submissions already graded (with ``resume``), hashing every one on the way."""
        self._keys = {i: (s.student, content_hash(s.source)) for i, s in enumerate(submissions)}
        if not self.resume:
            return {}
        done = self.lines()
        reused = {i: done[key] for i, key in self._keys.items() if key[1] is not None and key in done}
        self.reused = len(reused)
        return reused

    def add(self, index, entry):
        """Append the entry of submission ``index`` (of those given to :meth:`reuse`) as one flushed line."""
        student, sha256 = self._keys[index]
        record = {"student": student, "sha256": sha256,
                  "entry": dict(entry, course_commit=entry.get("course_commit", self.course_commit))}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
