"""The course secret: what makes the hidden probe inputs something a student cannot compute.

The checks draw the hidden inputs from fixed seeds (``nbbackprop/checks/probes.py``), which ship
with the library. When the instructor sets a secret, the out-of-process grader draws them
instead from keys derived from it, one per graded name (:func:`hidden_keys`):

1. the environment variable ``NBBACKPROP_SECRET``, else
2. the file ``.nbbackprop_secret`` at the course root (git-ignored, never released),

the text stripped of surrounding white space; neither set (or empty): the fixed seeds, as
before. The secret itself never enters the student's process: before any of its code runs,
that process drops every copy it inherited (:func:`scrub`), and it receives a graded name's
key over the pipe only when that name is probed (see ``autograder/sandbox/``).
"""

import contextlib
import ctypes
import hashlib
import os
from pathlib import Path

from nbbackprop.checks import probes

VARIABLE = "NBBACKPROP_SECRET"
FILE_NAME = ".nbbackprop_secret"


def course_secret(course=None):
    """The secret as bytes, or None when the instructor set none (see the module's docstring)."""
    value = os.environ.get(VARIABLE)
    if value is None:
        if course is None:
            from .course import ROOT as course
        path = Path(course) / FILE_NAME
        value = path.read_text(encoding="utf-8") if path.is_file() else ""
    value = value.strip()
    return value.encode() if value else None


def hidden_keys(targets, course=None):
    """``{target: 32-byte key}`` for each graded name, from the course secret; ``{}`` without one.

    ``key = blake2b(target, key=blake2b(secret))``: a key tells nothing about the secret, or about
    another name's key, so a process holding one learns only the inputs it is given anyway."""
    secret = course_secret(course)
    if secret is None:
        return {}
    master = hashlib.blake2b(secret, digest_size=64, person=b"nbbackprop").digest()
    return {target: hashlib.blake2b(target.encode(), key=master, digest_size=32).digest() for target in targets}


def hide_from_proc():
    """Blank the secret in this process's exec-time environment, the bytes ``/proc/<pid>/environ``
    shows, so another process of the same user cannot read it there; ``os.environ`` keeps it, and
    so do the processes started from here. Linux only; elsewhere a no-op."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/self/environ", "rb") as handle:
            block = handle.read()
        with open("/proc/self/stat", "rb") as handle:
            env_start = int(handle.read().rsplit(b")", 1)[1].split()[47])  # field 50 of proc(5)
        os.unsetenv(VARIABLE)  # the C environment's own entry: it points into the block
        entry, start = (VARIABLE + "=").encode(), 0
        while (start := block.find(entry, start)) != -1:
            if start == 0 or block[start - 1] == 0:
                end = block.find(b"\0", start)
                end = len(block) if end == -1 else end
                ctypes.memset(env_start + start, 0, end - start)
            start += len(entry)
        if VARIABLE in os.environ:
            os.putenv(VARIABLE, os.environ[VARIABLE])  # a fresh copy, outside the exec-time block


def scrub():
    """In the student's process, before any of its code runs: no secret in ``os.environ``, in the
    exec-time environment, or in the keys the checks inherited from the grader."""
    os.environ.pop(VARIABLE, None)
    hide_from_proc()
    probes.use_hidden_keys(None)
