"""Boxes with ``fprop`` and ``bprop``: the modules of a network and the nodes of a flow graph (lecture L06).

One contract for every box, the base class :class:`Module`:

* ``fprop(*inputs)`` computes the output ``y`` and keeps on the instance what
  ``bprop`` will need;
* ``bprop(grad_y)`` takes ``∂L/∂y`` and returns the gradient of the input:
  ``grad_x`` itself for a box of one input (every module here), a tuple with
  one gradient per input for a box of several (the gates of
  :mod:`nbbackprop.graph`); it *sets* (never accumulates) ``grad_<name>`` for
  each parameter named in ``param_names``;
* ``fmode(*tangents)`` pushes a direction forward, ``ẏ = Σ_i ∂y/∂x_i · ẋ_i``
  (the flow graph's forward mode; elementwise boxes and the gates have one).

Arrays are batch-first: ``x`` has shape ``(N, n_in)``. Losses are boxes too,
whose targets are data, not variables: ``fprop(logits, y)`` returns the mean
loss, ``bprop()`` its gradient with respect to the logits only
(``bprop(grad_loss)`` scales it); :mod:`nbbackprop.graph` wraps them as boxes
of two inputs.
"""

import numpy as np

from . import losses
from ._validation import as_labels, as_matrix
from .logistic import sigmoid

_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}  # the unsigned view of an integer label array

__all__ = [
    "Exp",
    "Linear",
    "Log",
    "MeanSquaredError",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SigmoidCrossEntropy",
    "SoftmaxCrossEntropy",
    "Square",
    "Tanh",
]


class Module:
    """Base class of every box: ``fprop``/``bprop`` (and ``fmode``), named parameters.

    Attributes
    ----------
    n_inputs : int
        Arrays ``fprop`` takes; ``bprop`` returns one gradient per input
        (the bare array when there is one), except a loss: its targets get none.
    param_names : tuple of str
        Attributes holding parameters; the gradient of ``p`` is ``grad_p``.
    decay_names : tuple of str
        The parameters L2 weight decay applies to (weights, never biases).
    """

    n_inputs = 1
    param_names = ()
    decay_names = ()

    def fprop(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__}.fprop is not written yet")

    def bprop(self, grad_y, need_grad_x=True):
        raise NotImplementedError(f"{type(self).__name__}.bprop is not written yet")

    def fmode(self, *tangents):
        raise NotImplementedError(f"{type(self).__name__}.fmode is not written yet")

    def named_parameters(self):
        """Yield ``(name, owner, attribute)`` for every parameter, e.g. ``("W", self, "W")``."""
        for attr in self.param_names:
            yield attr, self, attr

    def parameters(self):
        """List of ``(name, value, grad)``; ``grad`` is ``None`` before the first ``bprop``."""
        return [
            (name, getattr(owner, attr), getattr(owner, "grad_" + attr, None))
            for name, owner, attr in self.named_parameters()
        ]

    def _check_grad_y(self, grad_y, shape):
        if type(grad_y) is np.ndarray and grad_y.shape == shape:  # the common case, checked in full
            return grad_y
        if shape is None:
            raise RuntimeError(f"{type(self).__name__}.bprop called before fprop")
        if np.shape(grad_y) != shape:
            raise ValueError(
                f"{type(self).__name__}.bprop expected grad_y of shape {shape} "
                f"(the shape of the last fprop output), got shape {np.shape(grad_y)}"
            )
        return np.asarray(grad_y)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Linear(Module):
    """Affine box ``y = x W + b`` — the ``Wᵀx + b`` of the lectures, for row batches.

    Parameters
    ----------
    n_in, n_out : int
        Input and output features.
    rng : numpy.random.Generator
        Draws ``W ~ N(0, scale²)``; ``b`` starts at zero.
    scale : float, optional
        Standard deviation of the initial weights; default ``1 / sqrt(n_in)``.
    dtype : numpy dtype, optional
        float64 unless asked otherwise.

    Attributes
    ----------
    W : array (n_in, n_out)
    b : array (n_out,)
    grad_W, grad_b : arrays like ``W`` and ``b``, set by ``bprop``.
    """

    param_names = ("W", "b")
    decay_names = ("W",)

    def __init__(self, n_in, n_out, rng, scale=None, dtype=np.float64):
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"Linear expected rng as a numpy.random.Generator, got {type(rng).__name__}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        scale = 1.0 / np.sqrt(self.n_in) if scale is None else scale
        self.W = (scale * rng.standard_normal((self.n_in, self.n_out))).astype(dtype)
        self.b = np.zeros(self.n_out, dtype=dtype)
        self.grad_W = self.grad_b = None
        self.x = None

    def fprop(self, x):
        """``y = x W + b``: ``(N, n_in) → (N, n_out)``."""
        if not (isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[1] == self.n_in):
            x = as_matrix(x, "Linear.fprop", "x", self.n_in)
        self.x = x
        y = x @ self.W
        y += self.b  # in place on the fresh product: one pass less than x @ W + b
        return y

    def bprop(self, grad_y, need_grad_x=True):
        """``grad_W = xᵀ · grad_y`` (n_in, n_out); ``grad_b = Σ_n grad_y`` (n_out,);
        ``grad_x = grad_y · Wᵀ`` (N, n_in), skipped when ``need_grad_x`` is false."""
        x = self.x
        grad_y = self._check_grad_y(grad_y, None if x is None else (x.shape[0], self.n_out))
        self.grad_W = x.T @ grad_y
        self.grad_b = grad_y.sum(axis=0)
        return grad_y @ self.W.T if need_grad_x else None

    def __repr__(self):
        return f"Linear({self.n_in}, {self.n_out})"


class _Elementwise(Module):
    """``y = f(x)`` entry by entry: ``grad_x = grad_y ⊙ f'(x)``; forward mode ``ẏ = f'(x) ⊙ ẋ``.

    A subclass writes ``_forward(x)`` (keeping what ``_derivative()`` needs) and ``_derivative()``.
    """

    def __init__(self):
        self.shape = None

    def fprop(self, x):
        if type(x) is not np.ndarray or x.dtype.kind != "f":
            x = np.asarray(x)
            if x.dtype.kind != "f":
                x = x.astype(np.float64)
        self.shape = x.shape
        return self._forward(x)

    def bprop(self, grad_y, need_grad_x=True):
        return self._check_grad_y(grad_y, self.shape) * self._derivative()

    def fmode(self, dx):
        return self._derivative() * dx


class Sigmoid(_Elementwise):
    """``y = σ(x)``; ``σ'(x) = y (1 − y)``, computed from the kept output."""

    def _forward(self, x):
        self.y = sigmoid(x)
        return self.y

    def _derivative(self):
        return self.y * (1.0 - self.y)


class Tanh(_Elementwise):
    """``y = tanh(x)``; ``tanh'(x) = 1 − y²``."""

    def _forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def _derivative(self):
        return 1.0 - self.y * self.y


class ReLU(_Elementwise):
    """``y = max(x, 0)``; the derivative is the mask ``x > 0`` (0 at the kink)."""

    kink = 0.0  # where the derivative jumps: gradient checks stay away from it

    def _forward(self, x):
        self.mask = x > 0
        self.x = x
        return x * self.mask

    def _derivative(self):
        return self.mask


class Exp(_Elementwise):
    """``y = eˣ``; ``(eˣ)' = y``."""

    def _forward(self, x):
        self.y = np.exp(x)
        return self.y

    def _derivative(self):
        return self.y


class Log(_Elementwise):
    """``y = log x`` for ``x > 0``; ``(log x)' = 1 / x``."""

    def _forward(self, x):
        self.x = x
        return np.log(x)

    def _derivative(self):
        return 1.0 / self.x


class Square(_Elementwise):
    """``y = x²``; ``(x²)' = 2x``."""

    def _forward(self, x):
        self.x = x
        return x * x

    def _derivative(self):
        return 2.0 * self.x


class Sequential(Module):
    """A chain of modules: ``fprop`` runs them in order, ``bprop`` in reverse.

    Parameters are named ``"<index>.<name>"``, e.g. ``"0.W"``, ``"2.b"``.
    """

    def __init__(self, modules):
        self.modules = list(modules)
        for i, module in enumerate(self.modules):
            if not (hasattr(module, "fprop") and hasattr(module, "bprop")):
                raise TypeError(
                    f"Sequential expected modules with fprop and bprop, got {type(module).__name__} at index {i}"
                )

    def fprop(self, x):
        for module in self.modules:
            x = module.fprop(x)
        return x

    def bprop(self, grad_y, need_grad_x=True):
        """Back through the modules in reverse; the first one skips ``grad_x`` unless asked."""
        for module in reversed(self.modules[1:]):
            grad_y = module.bprop(grad_y)
        return self.modules[0].bprop(grad_y, need_grad_x=need_grad_x)

    def named_parameters(self):
        for i, module in enumerate(self.modules):
            for name, owner, attr in module.named_parameters():
                yield f"{i}.{name}", owner, attr

    def __getitem__(self, index):
        return self.modules[index]

    def __len__(self):
        return len(self.modules)

    def __iter__(self):
        return iter(self.modules)

    def __repr__(self):
        inner = ", ".join(repr(m) for m in self.modules)
        return f"Sequential([{inner}])"


class _Loss(Module):
    """A loss box: ``fprop(outputs, targets)`` → mean loss; ``bprop(grad_loss=1.0)`` → ``∂L/∂outputs``."""

    n_inputs = 2  # the targets are data: bprop returns the gradient of the outputs alone

    def fprop(self, outputs, targets):
        outputs, targets = self._check(outputs, targets)
        self.outputs, self.targets = outputs, targets
        return float(self._per_sample(outputs, targets).mean())

    def per_sample(self, outputs, targets):
        """The ``(N,)`` vector of per-sample losses whose mean ``fprop`` returns (keeps nothing)."""
        return self._per_sample(*self._check(outputs, targets))

    def bprop(self, grad_loss=1.0, need_grad_x=True):
        if getattr(self, "outputs", None) is None:
            raise RuntimeError(f"{type(self).__name__}.bprop called before fprop")
        grad = self._grad(self.outputs, self.targets)
        if type(grad_loss) is float and grad_loss == 1.0:  # 1.0 · g is g bit for bit: skip the pass
            return grad
        return grad_loss * grad


class SoftmaxCrossEntropy(_Loss):
    """Mean cross-entropy of ``softmax(z)`` against integer labels.

    ``fprop(logits (N, K), y (N,))`` → float; ``bprop()`` → ``(softmax(z) − onehot(y)) / N``.
    """

    _rows = np.arange(0)  # np.arange(N) of the last fprop, kept while the batch size stays

    def _check(self, logits, y):
        if not (isinstance(logits, np.ndarray) and logits.ndim == 2 and logits.dtype.kind == "f"):
            logits = as_matrix(logits, "SoftmaxCrossEntropy.fprop", "logits")
        # one reduction checks 0 <= y < K: a negative int64 viewed as uint64 is huge
        if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "iu" and len(y) == len(logits)
                and len(y) and y.view(_UNSIGNED[y.itemsize]).max() < logits.shape[1]):
            y = as_labels(y, "SoftmaxCrossEntropy.fprop", len(logits), logits.shape[1])
        return logits, y

    def fprop(self, logits, y):
        logits, y = self._check(logits, y)
        self.outputs, self.targets = logits, y
        self.probs = losses.softmax(logits)
        if len(self._rows) != len(y):  # 0..N-1, made once per batch size
            self._rows = np.arange(len(y))
        picked = self.probs[self._rows, y]
        if picked.min() > 1e-300:  # fast path; log-softmax when a probability underflows
            return float(-np.log(picked).sum() / len(y))
        return losses.softmax_cross_entropy(logits, y)

    def _per_sample(self, logits, y):
        return losses.softmax_cross_entropy_per_sample(logits, y)

    def _grad(self, logits, y):
        if len(self._rows) != len(y):
            return losses.softmax_cross_entropy_grad(logits, y, self.probs)
        grad = self.probs.copy()  # losses.softmax_cross_entropy_grad, with the rows kept from fprop
        grad[self._rows, y] -= 1.0
        grad /= len(y)
        return grad


class SigmoidCrossEntropy(_Loss):
    """Mean binary cross-entropy of ``σ(z)`` from logits ``z`` of shape ``(N,)`` or ``(N, 1)``, ``y ∈ {0, 1}``."""

    def _check(self, z, y):
        z = np.asarray(z, dtype=np.float64)
        if z.ndim not in (1, 2) or (z.ndim == 2 and z.shape[1] != 1):
            raise ValueError(f"SigmoidCrossEntropy.fprop expected logits of shape (N,) or (N, 1), got shape {z.shape}")
        y = as_labels(y, "SigmoidCrossEntropy.fprop", len(z), 2).astype(z.dtype).reshape(z.shape)
        return z, y

    _per_sample = staticmethod(lambda z, y: losses.sigmoid_cross_entropy_per_sample(z, y).reshape(len(z)))
    _grad = staticmethod(losses.sigmoid_cross_entropy_grad)


class MeanSquaredError(_Loss):
    """Mean over samples of ``½ ‖ŷ_n − t_n‖²``: the loss of a linear output for regression."""

    def _check(self, predictions, targets):
        predictions = np.asarray(predictions, dtype=np.float64)
        targets = np.asarray(targets, dtype=np.float64)
        if predictions.ndim == 0 or targets.size != predictions.size or len(targets) != len(predictions):
            raise ValueError(
                f"MeanSquaredError.fprop expected targets with the shape of the predictions "
                f"{predictions.shape}, got shape {targets.shape}"
            )
        return predictions, targets.reshape(predictions.shape)

    _per_sample = staticmethod(losses.squared_error_per_sample)
    _grad = staticmethod(losses.squared_error_grad)
