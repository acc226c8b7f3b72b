"""The grader's side of one submission: fork, watch the clock, retry, assemble the results.

:func:`run_submission` forks the student's process (:mod:`.child`) and reads its
frames, each under a deadline: a cell or a probe that runs past its limit — a
C-level loop no signal can stop — or kills the process has it killed, and the
submission runs again without the offending cell, or without probing that name
again, so one hostile line costs only what it touches.

With a course secret (:mod:`autograder.secret`) the hidden inputs are keyed: the keys are set in
this process's checks, which judge the results, and each one is written to the student's process
on a pipe of its own when that process announces the name it probes — after the cells have run.
"""

import contextlib
import os
import shutil
import tempfile
import time

from nbbackprop.checks import probes
from nbbackprop.checks.verdict import Raised

from .. import secret
from . import frames
from .child import student_main
from .confine import children, kill, kill_descendants


def run_submission(cells, targets, limits, namespace=None):
    """Run a submission until every target has results; returns ``(results, cell_failures, notes)``.

    ``cells`` is a list of ``(index, source)``; ``namespace`` (objects the student's process
    inherits through the fork, for tests) is where the cells start. ``results[target]`` is the decoded
    ``{"visible": ..., "hidden": ...}`` or a :class:`Raised` when probing it killed
    or hung the process.
    """
    probes.use_hidden_keys(secret.hidden_keys(targets))  # no local copy: the fork inherits this frame
    results, failures, notes, skip = {}, {}, [], set()
    remaining = list(targets)
    for _attempt in range(len(targets) + len(cells) + 2):
        if not remaining:
            break
        outcome = _one_run(cells, remaining, skip, limits, namespace)
        failures.update(outcome["failures"])
        results.update(outcome["results"])
        notes.extend(f"the checks failed inside the notebook's process: {text.strip().splitlines()[-1]}"
                     for text in outcome.get("crashes", []))
        remaining = [t for t in remaining if t not in results]
        if outcome["stopped_in_cell"] is not None:
            index, why = outcome["stopped_in_cell"]
            skip.add(index)
            failures[index] = why
            notes.append(f"{why[1]}; the notebook was run again without it")
        elif outcome["stopped_in_target"] is not None:
            target, why = outcome["stopped_in_target"]
            results[target] = why
            remaining = [t for t in remaining if t != target]
        elif remaining and not outcome["results"]:
            break
    for target in remaining:
        results[target] = Raised("exception", "the notebook's process ended before this name could be checked")
    return results, failures, notes


def _one_run(cells, targets, skip, limits, namespace):
    """One student's process, from the fork to its reaping: what it sent, and where it stopped."""
    scratch = tempfile.mkdtemp(prefix="nbbackprop-run-")
    os.chmod(scratch, 0o777)
    read_fd, write_fd = os.pipe()
    keys_read, keys_write = os.pipe() if any(probes.hidden_key(t) for t in targets) else (None, None)
    before = children()  # the caller's own children are not the submission's to reap
    pid = os.fork()
    if pid == 0:  # the student's process
        os.close(read_fd)
        _close(keys_write)
        student_main(write_fd, cells, targets, skip, scratch, limits, namespace, keys_read)
    os.close(write_fd)
    _close(keys_read)
    outcome = {"results": {}, "failures": {}, "stopped_in_cell": None, "stopped_in_target": None}
    try:
        _follow(frames.Reader(read_fd), limits, outcome, keys_write)
    finally:
        os.close(read_fd)
        _close(keys_write)
        kill(pid)
        with contextlib.suppress(ChildProcessError, OSError):
            outcome["status"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        kill_descendants(keep=before)
        shutil.rmtree(scratch, ignore_errors=True)
    return outcome


def _close(fd):
    if fd is not None:
        os.close(fd)


def _follow(reader, limits, outcome, keys_fd=None):
    """Read the student's frames into ``outcome`` until it is done, dies, or misses a deadline; on
    ``keys_fd``, answer each name it probes with that name's key."""
    stage, current = "start", None
    deadline = time.monotonic() + limits.cell_seconds
    while True:
        try:
            body = reader.read(deadline)
        except (TimeoutError, EOFError, ValueError) as error:
            why = ("timeout", "ran past its time limit") if isinstance(error, TimeoutError) else \
                ("exception", "the process died" if isinstance(error, EOFError) else str(error))
            code, text = why
            if stage == "cell":
                outcome["stopped_in_cell"] = (current, [code, f"code cell {current} {text}"])
            elif stage == "probe":
                outcome["stopped_in_target"] = (current, Raised(code, f"checking {current} {text}"))
            elif stage == "start":
                outcome["stopped_in_cell"] = (-1, [code, f"the notebook's process {text} before any cell"])
            return
        message, payload = frames.parse(body)
        kind = message[0]
        if kind == "cell":
            stage, current = "cell", int(message[1])
            deadline = time.monotonic() + limits.cell_seconds + 1.0
        elif kind == "cells":
            outcome["failures"] = {int(k): v for k, v in message[1].items()}
        elif kind == "probe":
            stage, current = "probe", str(message[1])
            deadline = time.monotonic() + limits.target_seconds
            if keys_fd is not None:
                key = probes.hidden_key(current)
                with contextlib.suppress(OSError):  # a process that died already: its read end is gone
                    frames.send(keys_fd, "key", current, None if key is None else key.hex())
        elif kind == "result":
            target = str(message[1])
            try:
                outcome["results"][target] = frames.results(payload)
            except ValueError as error:
                outcome["results"][target] = Raised("exception", f"unreadable results: {error}")
            stage = "between"
        elif kind == "crash":
            outcome.setdefault("crashes", []).append(str(message[1]))
        elif kind == "done":
            return
