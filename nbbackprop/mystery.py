"""Mystery boxes for ps5: seven modules to put through a gradient check.

Every box follows the flow-graph contract of :mod:`nbbackprop.modules`:
``fprop(x)`` computes ``y`` and keeps what ``bprop`` needs; ``bprop(grad_y)``
returns ``grad_x`` and sets ``grad_<p>`` for every ``p`` in ``param_names``.
Every box takes inputs of shape ``(N, N_FEATURES)``.

The docstrings say what each ``fprop`` computes. Whether each ``bprop`` agrees
with it is the question ps5 asks: answer it with a gradient check, not by eye.

``MYSTERY_MODULES`` maps each name to its class; calling it with a
``numpy.random.Generator`` builds the box (parameters drawn from that rng)::

    box = MYSTERY_MODULES["BoxA"](np.random.default_rng(0))
"""

import numpy as np

from .logistic import sigmoid
from .modules import Module

__all__ = ["MYSTERY_MODULES", "N_FEATURES", "BoxA", "BoxB", "BoxC", "BoxD", "BoxE", "BoxF", "BoxG"]

N_FEATURES = 4
"""Input features of every mystery box: ``x`` has shape ``(N, 4)``."""


def _inputs(x):
    return np.asarray(x, dtype=np.float64)


class BoxA(Module):
    """Softplus, entry by entry: ``y = log(1 + exp(x))``. ``(N, 4) → (N, 4)``."""

    def __init__(self, rng=None):
        self.x = None

    def fprop(self, x):
        self.x = _inputs(x)
        return np.logaddexp(0.0, self.x)

    def bprop(self, grad_y, need_grad_x=True):
        return grad_y * sigmoid(self.x)


class BoxB(Module):
    """Affine map onto as many features: ``y = x W + b``, ``W`` (4, 4), ``b`` (4,). ``(N, 4) → (N, 4)``."""

    param_names = ("W", "b")
    decay_names = ("W",)

    def __init__(self, rng):
        self.W = rng.standard_normal((N_FEATURES, N_FEATURES)) / np.sqrt(N_FEATURES)
        self.b = 0.1 * rng.standard_normal(N_FEATURES)
        self.grad_W = self.grad_b = self.x = None

    def fprop(self, x):
        self.x = _inputs(x)
        return self.x @ self.W + self.b

    def bprop(self, grad_y, need_grad_x=True):
        self.grad_W = grad_y.T @ self.x
        self.grad_b = grad_y.sum(axis=0)
        return grad_y @ self.W.T


class BoxC(Module):
    """LeCun's scaled tanh, entry by entry: ``y = 1.7159 tanh(2x / 3)``. ``(N, 4) → (N, 4)``."""

    amplitude, slope = 1.7159, 2.0 / 3.0

    def __init__(self, rng=None):
        self.t = None

    def fprop(self, x):
        self.t = np.tanh(self.slope * _inputs(x))
        return self.amplitude * self.t

    def bprop(self, grad_y, need_grad_x=True):
        return grad_y * self.amplitude * self.slope * (1.0 - self.t * self.t)


class BoxD(Module):
    """Per-feature gain and offset: ``y = x ⊙ w + c``, ``w`` and ``c`` of shape (4,). ``(N, 4) → (N, 4)``."""

    param_names = ("w", "c")
    decay_names = ("w",)

    def __init__(self, rng):
        self.w = rng.uniform(0.5, 1.5, N_FEATURES) * rng.choice([-1.0, 1.0], N_FEATURES)
        self.c = 0.1 * rng.standard_normal(N_FEATURES)
        self.grad_w = self.grad_c = self.x = None

    def fprop(self, x):
        self.x = _inputs(x)
        return self.x * self.w + self.c

    def bprop(self, grad_y, need_grad_x=True):
        self.grad_w = (grad_y * self.x).sum(axis=0)
        self.grad_c = grad_y.sum(axis=0)
        return grad_y * self.w


class BoxE(Module):
    """Sine, entry by entry: ``y = sin(x)``. ``(N, 4) → (N, 4)``."""

    def __init__(self, rng=None):
        self.y = None

    def fprop(self, x):
        self.y = np.sin(_inputs(x))
        return self.y

    def bprop(self, grad_y, need_grad_x=True):
        return grad_y * np.cos(self.y)


class BoxF(Module):
    """Swish (SiLU), entry by entry: ``y = x σ(x)``. ``(N, 4) → (N, 4)``."""

    def __init__(self, rng=None):
        self.s = None

    def fprop(self, x):
        x = _inputs(x)
        self.s = sigmoid(x)
        return x * self.s

    def bprop(self, grad_y, need_grad_x=True):
        return grad_y * self.s


class BoxG(Module):
    """Affine map to three features: ``y = x W + b``, ``W`` (4, 3), ``b`` (3,). ``(N, 4) → (N, 3)``."""

    param_names = ("W", "b")
    decay_names = ("W",)

    def __init__(self, rng):
        self.W = rng.standard_normal((N_FEATURES, 3)) / np.sqrt(N_FEATURES)
        self.b = 0.1 * rng.standard_normal(3)
        self.grad_W = self.grad_b = self.x = None

    def fprop(self, x):
        self.x = _inputs(x)
        return self.x @ self.W + self.b

    def bprop(self, grad_y, need_grad_x=True):
        self.grad_W = self.x.T @ grad_y
        self.grad_b = grad_y.mean(axis=0)
        return grad_y @ self.W.T


MYSTERY_MODULES = {box.__name__: box for box in (BoxA, BoxB, BoxC, BoxD, BoxE, BoxF, BoxG)}
"""Name → class; ``MYSTERY_MODULES[name](rng)`` builds the box."""
