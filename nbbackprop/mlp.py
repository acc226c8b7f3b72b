"""The multilayer perceptron in matrix form (lectures L04–L05).

Sigmoid hidden layers, a softmax output, mean cross-entropy, L2 on the weights.
With ``a⁰ = X`` and layers ``l = 1..L``::

    zˡ = aˡ⁻¹ Wˡ + bˡ,    aˡ = σ(zˡ) for l < L,    a^L = softmax(z^L)

The backward pass is the δ recursion, written for a batch of ``N`` rows::

    δ^L = (a^L − onehot(y)) / N
    ∂J/∂Wˡ = (aˡ⁻¹)ᵀ δˡ + λ Wˡ,    ∂J/∂bˡ = Σ_n δˡ_n
    δˡ⁻¹ = (δˡ Wˡᵀ) ⊙ aˡ⁻¹ ⊙ (1 − aˡ⁻¹)

for the cost ``J = mean cross-entropy + (λ/2) Σ_l ‖Wˡ‖²``.
"""

from itertools import pairwise

import numpy as np

from ._validation import as_labels, as_matrix, check_same_length
from .datasets import minibatches
from .logistic import sigmoid
from .losses import softmax

__all__ = ["accuracy", "backward", "cross_entropy", "forward", "init_params", "predict", "sgd_step", "train"]


def init_params(layer_sizes, rng, scale=None):
    """Small random weights and zero biases for the layers ``layer_sizes = [D, h₁, …, K]``.

    ``Wˡ ~ N(0, scale²)`` of shape ``(n_{l−1}, n_l)``, with ``scale = 1/√n_{l−1}`` by
    default so that each unit's input has unit variance; ``bˡ = 0``. Not all zeros:
    units that start equal get equal gradients and stay equal forever.

    Returns
    -------
    list of (W, b)
    """
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(
            f"init_params expected layer_sizes like [D, hidden..., K] with at least 2 positive sizes, got {layer_sizes}"
        )
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"init_params expected rng as a numpy.random.Generator, got {type(rng).__name__}")
    return [
        ((1.0 / np.sqrt(n_in) if scale is None else scale) * rng.standard_normal((n_in, n_out)), np.zeros(n_out))
        for n_in, n_out in pairwise(sizes)
    ]


def _check_params(where, params, n_features=None):
    previous = n_features
    for index, layer in enumerate(params):
        if len(layer) != 2:
            raise ValueError(
                f"{where} expected params as a list of (W, b) pairs, got {len(layer)} items at layer {index}"
            )
        W, b = (np.asarray(p) for p in layer)
        if W.ndim != 2 or b.shape != (W.shape[1],) or (previous is not None and W.shape[0] != previous):
            wanted = f"({'n_in' if previous is None else previous}, n_out) and b of shape (n_out,)"
            raise ValueError(f"{where} expected W of layer {index} of shape {wanted}, got W {W.shape} and b {b.shape}")
        previous = W.shape[1]


def forward(params, X):
    """Forward pass: class probabilities ``(N, K)`` and the cache the backward pass needs.

    The cache is the list of activations ``[a⁰ = X, a¹, …, a^{L−1}]`` — the inputs of each layer.
    """
    X = as_matrix(X, "forward")
    _check_params("forward", params, X.shape[1])
    activations = [X]
    for W, b in params[:-1]:
        activations.append(sigmoid(activations[-1] @ W + b))
    W, b = params[-1]
    probs = softmax(activations[-1] @ W + b)
    return probs, {"activations": activations, "probs": probs}


def cross_entropy(probs, y):
    """Mean cross-entropy ``−(1/N) Σ_n log p_{n, y_n}`` (probabilities clipped at 1e-300)."""
    probs = as_matrix(probs, "cross_entropy", "probs")
    y = as_labels(y, "cross_entropy", probs.shape[0], probs.shape[1])
    return float(-np.mean(np.log(np.maximum(probs[np.arange(len(y)), y], 1e-300))))


def backward(params, cache, y, lam=0.0):
    """Gradients of ``J = cross_entropy + (λ/2) Σ‖W‖²`` by the δ recursion.

    Returns
    -------
    list of (dW, db)
        Shapes of the matching ``(W, b)``; biases are not regularized.
    """
    activations, probs = cache["activations"], cache["probs"]
    y = as_labels(y, "backward", probs.shape[0], probs.shape[1])
    delta = probs.copy()
    delta[np.arange(len(y)), y] -= 1.0
    delta /= len(y)
    grads = []
    for layer in range(len(params) - 1, -1, -1):
        W = params[layer][0]
        a_prev = activations[layer]
        grads.append((a_prev.T @ delta + lam * W, delta.sum(axis=0)))
        if layer > 0:
            delta = (delta @ W.T) * a_prev * (1.0 - a_prev)
    return grads[::-1]


def sgd_step(params, grads, lr):
    """One gradient-descent step ``W ← W − lr ∂J/∂W`` (new arrays; the inputs stay untouched)."""
    if len(params) != len(grads):
        raise ValueError(f"sgd_step expected one (dW, db) per layer ({len(params)}), got {len(grads)}")
    return [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads)]


def predict(params, X):
    """Most probable class of each row of ``X``: int array ``(N,)``."""
    return forward(params, X)[0].argmax(axis=1)


def accuracy(params, X, y):
    """Fraction of rows of ``X`` whose predicted class is ``y``."""
    return float(np.mean(predict(params, X) == y))


def train(X, y, layer_sizes, lr, epochs, batch_size, lam, rng, X_val=None, y_val=None):
    """Minibatch SGD on ``J = cross_entropy + (λ/2) Σ‖W‖²``.

    Each epoch visits the samples in a fresh order drawn from ``rng``, in
    batches of ``batch_size`` (``None`` for the whole set at once).

    Returns
    -------
    (params, history)
        ``history["loss"][k]`` is ``J`` on the training set after epoch ``k``;
        ``history["accuracy"]`` (and ``"val_accuracy"`` when ``X_val`` is given) likewise.
    """
    X = as_matrix(X, "train")
    y = as_labels(y, "train", n_samples=X.shape[0])
    check_same_length("train", X, y)
    if layer_sizes[0] != X.shape[1]:
        raise ValueError(f"train expected layer_sizes[0] == {X.shape[1]} (the features of X), got {layer_sizes[0]}")
    if y.max() >= layer_sizes[-1]:
        raise ValueError(f"train expected labels below layer_sizes[-1] = {layer_sizes[-1]}, got {y.max()}")
    params = init_params(layer_sizes, rng)
    n = X.shape[0]
    batch_size = n if batch_size is None else int(batch_size)
    history = {"loss": [], "accuracy": []} | ({"val_accuracy": []} if X_val is not None else {})
    for _ in range(int(epochs)):
        for idx in minibatches(n, batch_size, rng):
            probs, cache = forward(params, X[idx])
            params = sgd_step(params, backward(params, cache, y[idx], lam), lr)
        probs = forward(params, X)[0]
        penalty = 0.5 * lam * sum(float(np.sum(W * W)) for W, _ in params)
        history["loss"].append(cross_entropy(probs, y) + penalty)
        history["accuracy"].append(float(np.mean(probs.argmax(axis=1) == y)))
        if X_val is not None:
            history["val_accuracy"].append(accuracy(params, X_val, y_val))
    return params, history
