"""Run a submission's code in a process of its own and bring back plain results.

The student's process is forked from a warm worker (numpy, matplotlib and the
library already loaded), walls itself in, runs every code cell, resets the
interpreter, probes each graded name and sends the results back; the grader's
side watches the clock, kills what overruns and runs the submission again
without it. One module per job:

* :mod:`.confine` — the wall (session, namespaces, read-only mounts, rlimits,
  no privileges) and the clean-up (subreaper, killing every descendant);
* :mod:`.reset` — the interpreter put back and the checks imported fresh from disk;
* :mod:`.child` — the student's process: cells, reset, probes under the one
  delegation watch, results sent;
* :mod:`.frames` — length-prefixed messages on the pipe, payloads by :mod:`autograder.wire`;
* :mod:`.parent` — fork, deadlines, re-runs without a fatal cell, retries, the results assembled.
"""

from .confine import Limits, become_subreaper, kill_descendants
from .parent import run_submission

__all__ = ["Limits", "become_subreaper", "kill_descendants", "run_submission"]
