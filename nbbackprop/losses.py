"""Loss functions and their gradients, as plain functions of arrays.

Each loss is a mean over the batch. ``*_per_sample`` gives the ``(N,)`` vector
whose mean is the loss; the modules in :mod:`nbbackprop.modules` wrap these
as boxes with ``fprop``/``bprop``.
"""

import numpy as np

from .logistic import log_sigmoid, sigmoid

__all__ = [
    "log_softmax",
    "sigmoid_cross_entropy_grad",
    "sigmoid_cross_entropy_per_sample",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
    "softmax_cross_entropy_per_sample",
    "squared_error_grad",
    "squared_error_per_sample",
]


def softmax(logits, axis=-1):
    """softmax(z)_k = e^{z_k − max z} / Σ_j e^{z_j − max z}: shifting by the max avoids overflow."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(shifted, out=shifted)  # in place: shifted is a fresh array, needed no more
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(logits, axis=-1):
    """log softmax(z) = z − max z − log Σ_j e^{z_j − max z}, finite for any finite ``z``."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_cross_entropy_per_sample(logits, y):
    """``−log softmax(z_n)[y_n]`` for each row ``n``; logits ``(N, K)``, ``y`` ``(N,)`` → ``(N,)``."""
    return -log_softmax(logits)[np.arange(len(y)), y]


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of ``softmax(logits)`` against integer labels ``y``."""
    return float(softmax_cross_entropy_per_sample(logits, y).mean())


def softmax_cross_entropy_grad(logits, y, probs=None):
    """∂L/∂z = (softmax(z) − onehot(y)) / N, shape ``(N, K)``."""
    grad = softmax(logits) if probs is None else probs.copy()
    grad[np.arange(len(y)), y] -= 1.0
    grad /= len(y)
    return grad


def sigmoid_cross_entropy_per_sample(z, y):
    """Binary cross-entropy of ``σ(z)`` from the logit ``z``: ``−y log σ(z) − (1−y) log σ(−z)``."""
    return -(y * log_sigmoid(z) + (1.0 - y) * log_sigmoid(-z))


def sigmoid_cross_entropy_grad(z, y):
    """∂L/∂z = (σ(z) − y) / N for the mean binary cross-entropy from logits."""
    return (sigmoid(z) - y) / z.shape[0]


def squared_error_per_sample(predictions, targets):
    """½ ‖ŷ_n − t_n‖² for each row: the loss of a linear output for regression."""
    diff = predictions - targets
    return 0.5 * (diff * diff).reshape(len(diff), -1).sum(axis=1)


def squared_error_grad(predictions, targets):
    """∂L/∂ŷ = (ŷ − t) / N for the mean of ½ ‖ŷ_n − t_n‖²."""
    return (predictions - targets) / len(predictions)
