"""Stochastic gradient descent and a training loop for modules (lectures L03, L05).

``SGD.step`` applies ``p ← p − lr (∂L/∂p + λ p)`` to every parameter, the weight
decay ``λ p`` on weights only (a module's ``decay_names``), in place. ``fit``
runs per-example (``batch_size=1``), minibatch or full-batch (``None``) SGD
and records a history of the loss and accuracy per epoch. Outside the
training loop ``grad_W`` always means ``∂L/∂W`` (after ``fit``: of its last batch).
"""

import numpy as np

from ._validation import as_labels, as_matrix, check_same_length
from .datasets import minibatches

__all__ = ["SGD", "evaluate", "fit", "l2_penalty"]


class SGD:
    """Plain SGD with L2 weight decay on weights only.

    Parameters
    ----------
    model : Module
        Anything with ``named_parameters()``; gradients are read from ``grad_<name>``.
    lr : float
        Step size.
    weight_decay : float
        ``λ`` of the penalty ``(λ/2) Σ‖W‖²``, whose gradient ``λ W`` is added here.
    """

    def __init__(self, model, lr, weight_decay=0.0):
        if lr <= 0 or weight_decay < 0:
            raise ValueError(f"SGD expected lr > 0 and weight_decay >= 0, got lr={lr}, weight_decay={weight_decay}")
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.slots = [(owner, attr, attr in owner.decay_names) for _, owner, attr in model.named_parameters()]
        # per parameter: owner, attribute, its gradient's attribute, decays?, the buffer that receives lr · ∂L/∂p
        self._steps = [[owner, attr, "grad_" + attr, decays, None] for owner, attr, decays in self.slots]

    def step(self, prescaled=False):
        """Update every parameter in place: ``p ← p − lr (∂L/∂p + λ p)``.

        Reads ``grad_<name>`` (``∂L/∂p``, as ``bprop`` set it) and leaves it as it
        was; ``lr · ∂L/∂p`` is written into a buffer kept per parameter, so a step
        allocates no array.

        ``prescaled=True`` is for a training loop that fed ``lr · ∂L/∂z`` down
        the graph instead (a ``bprop`` is a vector–Jacobian product, linear in
        ``grad_y``, so every box then sets ``lr · ∂L/∂p``): the step is one
        subtraction, and the loop must call :meth:`unscale_gradients` before
        anyone else reads the gradients, as :func:`fit` does.
        """
        lr, decay = self.lr, self.weight_decay
        for slot in self._steps:
            owner, attr, grad_attr, decays, scaled = slot
            param, grad = getattr(owner, attr), getattr(owner, grad_attr)
            if grad is None:
                raise RuntimeError(f"SGD.step: {type(owner).__name__}.{grad_attr} is not set; call bprop first")
            if decays and decay:
                param *= 1.0 - lr * decay  # p − lr λ p, the decay term, then the gradient step
            if prescaled:
                param -= grad
                continue
            if scaled is None or scaled.shape != grad.shape or scaled.dtype is not grad.dtype:
                scaled = slot[4] = np.empty(np.shape(grad), dtype=np.result_type(grad, lr))
            param -= np.multiply(grad, lr, scaled)  # scaled = lr · grad, in the kept buffer

    def unscale_gradients(self):
        """Divide every ``grad_<name>`` by ``lr`` (a new array): after prescaled steps they mean ``∂L/∂p`` again."""
        for owner, _, grad_attr, _, _ in self._steps:
            grad = getattr(owner, grad_attr)
            if grad is not None:
                setattr(owner, grad_attr, grad / self.lr)


def l2_penalty(model, lam):
    """``(λ/2) Σ ‖W‖²`` over the weights that decay (biases excluded)."""
    if not lam:
        return 0.0
    total = sum(
        float(np.sum(getattr(owner, attr) ** 2))
        for _, owner, attr in model.named_parameters()
        if attr in owner.decay_names
    )
    return 0.5 * lam * total


def evaluate(model, loss, X, y, batch_size=1024):
    """Mean loss and accuracy of ``model`` on ``(X, y)``, in batches (no gradients kept)."""
    total, correct = 0.0, 0
    for start in range(0, len(X), batch_size):
        outputs = model.fprop(X[start : start + batch_size])
        targets = y[start : start + batch_size]
        total += float(loss.per_sample(outputs, targets).sum())
        if outputs.ndim == 2 and outputs.shape[1] > 1:  # class scores: count the right argmaxes
            correct += int(np.count_nonzero(outputs.argmax(axis=1) == targets))
    return total / len(X), correct / len(X)


def fit(model, loss, X, y, lr, epochs, batch_size=None, lam=0.0, rng=None,
        X_val=None, y_val=None, progress=False, record_grad_norms=False):
    """Train ``model`` on ``loss`` by SGD.

    Parameters
    ----------
    model : Module
        E.g. ``Sequential([Linear(64, 128, rng), ReLU(), Linear(128, 10, rng)])``.
    loss : loss module
        E.g. ``SoftmaxCrossEntropy()``.
    X : array (N, D)
    y : array (N,) of labels (or targets for a regression loss)
    lr : float
    epochs : int
    batch_size : int or None
        1 for per-example SGD, ``None`` for full-batch gradient descent.
    lam : float
        L2 weight decay on weights only.
    rng : numpy.random.Generator
        Shuffles the samples each epoch; ``None`` visits them in order.
    X_val, y_val : arrays, optional
        Held-out data, evaluated after every epoch.
    progress : bool
        Show a tqdm progress bar over the epochs.
    record_grad_norms : bool
        Record ``‖∂L/∂W‖`` of every weight after the last step of each epoch.

    After ``fit`` (also when it is interrupted) every ``grad_<name>`` of the model
    holds ``∂L/∂p`` of the last batch, taken before the last step — what
    ``bprop`` says it sets. Inside the loop the loss hands ``lr · ∂L/∂z`` down
    (``loss.bprop(lr)``) so that each step is one subtraction; the gradients
    are divided by ``lr`` once, on the way out.

    Returns
    -------
    dict
        ``"loss"`` (mean training loss over the epoch's batches, plus the L2 penalty),
        ``"accuracy"`` (training accuracy over the epoch's batches), and
        ``"val_loss"``/``"val_accuracy"``, ``"grad_norms"`` when asked for.
    """
    X = as_matrix(X, "fit")
    y = np.asarray(y)
    check_same_length("fit", X, y)
    classify = y.ndim == 1 and y.dtype.kind in "iu"
    if classify:
        y = as_labels(y, "fit", n_samples=len(X))
    n = len(X)
    batch_size = n if batch_size is None else int(batch_size)
    if batch_size < 1:
        raise ValueError(f"fit expected batch_size >= 1 or None, got {batch_size}")
    optimizer = SGD(model, lr, weight_decay=lam)
    history = {"loss": [], "accuracy": []}
    if X_val is not None:
        history |= {"val_loss": [], "val_accuracy": []}
    if record_grad_norms:
        history["grad_norms"] = {
            name: [] for name, owner, attr in model.named_parameters() if attr in owner.decay_names
        }
    epochs_iter = range(int(epochs))
    if progress:
        from tqdm.auto import tqdm

        epochs_iter = tqdm(epochs_iter, desc="epochs", leave=False)
    prescaled = False
    try:
        for _ in epochs_iter:
            total, correct = 0.0, 0
            for idx in minibatches(n, batch_size, rng):
                targets = y[idx]
                outputs = model.fprop(X[idx])
                total += loss.fprop(outputs, targets) * len(idx)
                if classify:
                    correct += np.count_nonzero(outputs.argmax(axis=1) == targets)
                prescaled = True
                model.bprop(loss.bprop(lr), need_grad_x=False)  # every grad_* is now lr · ∂L/∂p of this batch
                optimizer.step(prescaled=True)
            history["loss"].append(total / n + l2_penalty(model, lam))
            history["accuracy"].append(int(correct) / n)
            if X_val is not None:
                val_loss, val_accuracy = evaluate(model, loss, X_val, y_val)
                history["val_loss"].append(val_loss)
                history["val_accuracy"].append(val_accuracy)
            if record_grad_norms:
                for name, _, grad in model.parameters():
                    if name in history["grad_norms"]:
                        history["grad_norms"][name].append(float(np.linalg.norm(grad)) / lr)  # of ∂L/∂p
            if progress:
                epochs_iter.set_postfix(loss=f"{history['loss'][-1]:.4f}")
    finally:
        if prescaled:  # what the loop left in grad_* is lr · ∂L/∂p: give it back its meaning
            optimizer.unscale_gradients()
    return history
