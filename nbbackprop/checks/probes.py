"""Probe inputs that make bugs loud: every dimension different, none equal to 1, a prime
batch, mixed signs, away from ReLU's kink, float64 — generated from fixed seeds so the
probing process and the judging process build exactly the same arrays."""

import zlib

import numpy as np

VISIBLE_DIMS = (7, 5, 3)  # batch N (prime), features in, features out
HIDDEN_DIMS = (11, 6, 4)


def rng_for(target, hidden, salt=""):
    """A Generator seeded from the target's name, so every target gets its own inputs."""
    return np.random.default_rng(zlib.crc32(f"{target}/{'hidden' if hidden else 'visible'}/{salt}".encode()))


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
