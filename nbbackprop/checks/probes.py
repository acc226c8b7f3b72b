"""Probe inputs that make bugs loud: every dimension different, none equal to 1, a prime
batch, mixed signs, away from ReLU's kink, float64 — generated from fixed seeds so the
probing process and the judging process build exactly the same arrays.

The out-of-process grader may key the hidden probes (:func:`use_hidden_keys`): a target with a
key draws its hidden inputs from that key instead of from a seed anyone can compute from this
file. The keys come from the course secret (``autograder/secret.py``); this library never reads
it, so a student's own kernel, and nbgrader's, draw the seeds as before."""

import hashlib
import zlib

import numpy as np

VISIBLE_DIMS = (7, 5, 3)  # batch N (prime), features in, features out
HIDDEN_DIMS = (11, 6, 4)

_hidden_keys = {}  # target → key (bytes) its hidden inputs are drawn from; none: the fixed seeds


def use_hidden_keys(keys):
    """Draw the hidden inputs of each target of ``keys`` (``{target: bytes}``) from its key, and
    every other target's from the fixed seeds; ``None`` or ``{}``: all from the fixed seeds."""
    _hidden_keys.clear()
    _hidden_keys.update(keys or {})


def hidden_key(target):
    """The key ``target``'s hidden inputs are drawn from, or None (the fixed seeds)."""
    return _hidden_keys.get(target)


def rng_for(target, hidden, salt=""):
    """A Generator seeded from the target's name, so every target gets its own inputs; a keyed
    target's hidden ones are seeded by a keyed hash of ``salt`` instead. Visible inputs never change."""
    key = _hidden_keys.get(target) if hidden else None
    if key is None:
        return np.random.default_rng(zlib.crc32(f"{target}/{'hidden' if hidden else 'visible'}/{salt}".encode()))
    seed = hashlib.blake2b(salt.encode(), key=key, digest_size=16).digest()
    return np.random.default_rng(int.from_bytes(seed, "big"))


def dims(hidden):
    return HIDDEN_DIMS if hidden else VISIBLE_DIMS


def mixed(rng, shape, low=0.2, high=2.0):
    """Entries with |v| in [low, high] and random signs: never near 0, so never near ReLU's kink."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def labels(rng, n, k):
    """Labels with every class present when n >= k (a class missing can hide a bug)."""
    y = np.arange(n) % k
    rng.shuffle(y)
    return y
