"""Finite-difference gradient checks: is ``bprop`` right? (lecture L06)

A gradient is a limit of difference quotients, so a gradient can be checked by
computing a few of them. The central difference

    ∂L/∂θ_i ≈ (L(θ + h e_i) − L(θ − h e_i)) / 2h

is accurate to ``O(h²)`` (the one-sided ``(L(θ + h e_i) − L(θ)) / h`` only to
``O(h)``), and its agreement with the analytic gradient is measured by the
relative error ``|a − b| / (|a| + |b|)``, read against the lecture's bands:

==================  ==============================================
relative error      reading
==================  ==============================================
``< 1e-7``          ``"ok"``: the gradient is right
``1e-7 .. 1e-4``    ``"suspicious"``: a kink nearby, or a small bug
``> 1e-4``          ``"wrong"``: a bug
==================  ==============================================

Where the numbers come from. The CS231n notes (Karpathy, "Neural Networks
Part 3", gradient checks) divide by ``max(|a|, |b|)``, not by the sum; since
``max(|a|, |b|) ≤ |a| + |b| ≤ 2 max(|a|, |b|)`` our error is between half of
theirs and theirs, so their thresholds carry over within a factor 2. They read:
``≤ 1e-7`` "happy"; ``< 1e-4`` usually fine *for an objective with kinks*, but
too high without kinks; ``1e-4 .. 1e-2`` uncomfortable; ``> 1e-2`` probably
wrong. Our ``"ok"`` is their "happy"; our ``"suspicious"`` is the range they
accept only near kinks; our ``"wrong"`` is stricter than theirs (their
"uncomfortable" and "probably wrong"), because we check single boxes and small
networks in float64, where a correct gradient stays far below ``1e-4``
(they allow more for deep networks and single precision).

Two limits of float64 arithmetic. Rounding: ``L`` is known to about
``ε·|L|`` (``ε ≈ 2e-16``), so the difference quotient carries an error of
about ``ε·|L| / h ≈ 1e-11`` whatever the gradient; entries far smaller than
that cannot be judged relatively, which is why :func:`check_model` reports
:func:`scaled_error`, measuring every entry against the parameter's largest.
Kinks: where a derivative jumps (``ReLU`` at 0, marked by a module's ``kink``
attribute) a difference quotient that straddles the jump measures neither
one-sided derivative. :func:`check_model` drops the samples whose
pre-activations sit that close to a kink, and says how many.

Functions, from the one the exercise asks for to the ones a lecture runs:

* :func:`numerical_gradient`, :func:`relative_error`, :func:`scaled_error`, :func:`error_band`
* :func:`check_module` — one box, with a random upstream gradient;
* :func:`check_model` — every parameter of a network and its loss, entry by
  entry (two forward passes per entry);
* :func:`check_directional` — one random direction, for networks too big to
  check entry by entry.

Why this module is long (about 700 lines): it is read in L06, and a third of it
is the text above and the docstrings; the code is about 330 lines.
"""

import numbers
import time
from dataclasses import dataclass, field

import numpy as np

from ._validation import as_matrix, check_same_length
from .modules import Sequential

__all__ = [
    "REL_ERROR_OK",
    "REL_ERROR_WRONG",
    "TINY",
    "DirectionalCheck",
    "GradCheckReport",
    "ParameterCheck",
    "check_directional",
    "check_model",
    "check_module",
    "error_band",
    "model_numerical_gradients",
    "numerical_gradient",
    "relative_error",
    "scaled_error",
]

REL_ERROR_OK = 1e-7
"""Below this relative error a float64 gradient is right (CS231n's "happy" line, for their ``max(|a|, |b|)``)."""

REL_ERROR_WRONG = 1e-4
"""Above this relative error a gradient is wrong; in between it is suspicious (kinks).

CS231n accepts up to ``1e-4`` near kinks only, and calls ``1e-4 .. 1e-2``
uncomfortable rather than wrong; for float64 boxes we are stricter."""

TINY = 1e-12
"""Floor of the denominator of :func:`relative_error`, so that ``0 / 0`` reads as 0."""


# --- the building blocks of the exercise -------------------------------------


def _central_difference(f, x, index, h):
    """``(f() at x[index] + h − f() at x[index] − h) / 2h``; ``x[index]`` restored exactly."""
    saved = x[index]  # a copy of the scalar, so the restore is bit-for-bit
    try:
        x[index] = saved + h
        f_plus = f()
        x[index] = saved - h
        f_minus = f()
    finally:
        x[index] = saved
    return (_scalar(f_plus) - _scalar(f_minus)) / (2.0 * h)


def _scalar(value):
    value = np.asarray(value)
    if value.size != 1:
        raise ValueError(f"numerical_gradient expected f() to return a scalar, got shape {value.shape}")
    return float(value.reshape(()))


def _check_h(h, where):
    if not isinstance(h, numbers.Real) or not np.isfinite(h) or h <= 0:
        raise ValueError(f"{where} expected h as a finite number > 0, got {h!r}")
    return float(h)


def numerical_gradient(f, x, h=1e-5):
    """Central differences of the scalar ``f()`` with respect to every entry of ``x``.

    ``grad[i] = (f(x + h e_i) − f(x − h e_i)) / 2h``, error ``O(h²)``.

    Parameters
    ----------
    f : callable
        Takes no argument and returns a float computed from the *current*
        contents of ``x`` (typically a closure over a model holding ``x``).
    x : float ndarray, any shape
        Changed in place one entry at a time, each restored to its saved
        value (bit for bit) before the next is touched.
    h : float, optional
        Step. ``1e-5`` balances the ``O(h²)`` truncation error against the
        ``ε·|f| / h`` rounding error of float64.

    Returns
    -------
    grad : ndarray of ``x.shape``, float64
    """
    if not callable(f):
        raise TypeError(f"numerical_gradient expected f as a callable taking no argument, got {type(f).__name__}")
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        got = f"dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"numerical_gradient expected x as a float ndarray (it is perturbed in place), got {got}")
    if not x.flags.writeable:
        raise ValueError(
            "numerical_gradient expected x as a writable array (it is perturbed in place), got a read-only one"
        )
    h = _check_h(h, "numerical_gradient")
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):  # works for any shape and any strides
        grad[index] = _central_difference(f, x, index, h)
    return grad


def relative_error(a, b):
    """Largest entrywise relative error ``|a − b| / max(|a| + |b|, TINY)``.

    The floor ``TINY = 1e-12`` only guards ``0 / 0``: two zero arrays give 0.0.

    Parameters
    ----------
    a, b : arrays of the same shape (or scalars)

    Returns
    -------
    float
        In ``[0, 1]``: 0 when equal, 1/3 for ``a`` against ``2a``, 1 for ``a`` against ``−a``.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error expected a and b of the same shape, got shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), TINY)))


def scaled_error(a, b):
    """Relative error of a whole gradient: ``max_i |a_i − b_i| / max(max|a| + max|b|, TINY)``.

    What :func:`check_model` reports per parameter. Entry by entry,
    :func:`relative_error` blows up where the gradient is nearly 0: the
    finite difference cannot resolve gradients below its rounding error
    ``≈ ε·|L| / h ≈ 1e-11``, so a correct ``2e-7`` may read as a ``1e-4``
    error. Here every entry is judged against the largest one instead.

    Parameters
    ----------
    a, b : arrays of the same shape

    Returns
    -------
    error : float
    worst : int
        Flat index of the largest ``|a_i − b_i|`` (0 for empty arrays).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"scaled_error expected a and b of the same shape, got shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0, 0
    diff = np.abs(a - b).reshape(-1)
    worst = int(np.argmax(diff))
    return float(diff[worst] / max(np.abs(a).max() + np.abs(b).max(), TINY)), worst


def error_band(error):
    """The lecture's reading of a relative error: ``"ok"``, ``"suspicious"`` or ``"wrong"`` (also NaN)."""
    if error < REL_ERROR_OK:
        return "ok"
    if error <= REL_ERROR_WRONG:
        return "suspicious"
    return "wrong"


def _default_rng(rng, where):
    if rng is None:
        return np.random.default_rng(0)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{where} expected rng as a numpy.random.Generator or None, got {type(rng).__name__}")
    return rng


def check_module(module, x, h=1e-5, rng=None):
    """Check a box's ``bprop`` against central differences of its ``fprop``.

    The scalar checked is ``L = Σ fprop(x) ⊙ R`` for a fixed random ``R``, so
    ``∂L/∂y = R`` and ``bprop(R)`` must return ``∂L/∂x`` and set every
    ``grad_<p>`` to ``∂L/∂p``. (The differences use ``Σ (fprop(x) − y₀) ⊙ R``
    with ``y₀`` the unperturbed output: same gradient, less rounding.)

    Parameters
    ----------
    module : a ps4-style module (``fprop``, ``bprop``, ``named_parameters``)
    x : array (N, ...)
        Input; copied to float64, never changed. Keep it away from kinks.
    h : float, optional
    rng : numpy.random.Generator, optional
        Draws ``R``; ``numpy.random.default_rng(0)`` when None.

    Returns
    -------
    dict
        ``{"grad_x": err, "grad_W": err, ...}``: one relative error per
        gradient, parameters named as ``named_parameters()`` does
        (``"grad_0.W"`` inside a ``Sequential``).
    """
    rng = _default_rng(rng, "check_module")
    h = _check_h(h, "check_module")
    x = np.array(x, dtype=np.float64)  # our own copy: perturbed in place below
    name = type(module).__name__
    y0 = np.array(module.fprop(x), dtype=np.float64)
    upstream = rng.standard_normal(y0.shape)
    analytic = {"grad_x": module.bprop(upstream)}
    params = list(module.named_parameters())
    for pname, owner, attr in params:
        analytic["grad_" + pname] = getattr(owner, "grad_" + attr, None)
    analytic = {key: None if value is None else np.array(value, dtype=np.float64) for key, value in analytic.items()}

    def objective():  # Σ (y − y₀) ⊙ R: the constant y₀ changes no gradient, only removes rounding noise
        return float(np.sum((module.fprop(x) - y0) * upstream))

    errors = {}
    targets = [("grad_x", x)] + [("grad_" + pname, getattr(owner, attr)) for pname, owner, attr in params]
    for key, array in targets:
        if analytic[key] is None:
            what = "return grad_x" if key == "grad_x" else f"set {key}"
            raise ValueError(f"check_module expected {name}.bprop to {what}, got None")
        if analytic[key].shape != array.shape:
            raise ValueError(
                f"check_module expected {name}.bprop's {key} of shape {array.shape}, got shape {analytic[key].shape}"
            )
        errors[key] = relative_error(analytic[key], numerical_gradient(objective, array, h))
    return errors


# --- whole models: the report ------------------------------------------------


@dataclass
class ParameterCheck:
    """The check of one parameter.

    Attributes
    ----------
    name : str
        Qualified as ``named_parameters()`` yields it, e.g. ``"0.W"``.
    shape : tuple
    error : float
        :func:`scaled_error` of the analytic against the numeric gradient.
    worst_index : tuple
        Where ``|analytic − numeric|`` is largest; ``analytic_value`` and
        ``numeric_value`` are the two gradients there.
    n_checked : int
        Entries compared (all, unless ``max_entries`` was given).
    analytic, numeric : arrays of ``shape``
        The full gradients, for plots; ``numeric`` is NaN where not checked.
    """

    name: str
    shape: tuple
    error: float
    worst_index: tuple
    analytic_value: float
    numeric_value: float
    n_checked: int
    analytic: np.ndarray = field(repr=False)
    numeric: np.ndarray = field(repr=False)

    @property
    def band(self):
        return error_band(self.error)


@dataclass
class GradCheckReport:
    """What :func:`check_model` found; ``str(report)`` is a table for the lecture.

    Attributes
    ----------
    records : list of ParameterCheck
        One per parameter, in ``named_parameters()`` order; also
        ``report["0.W"]`` and ``for record in report``.
    h : float
    n_samples : int
        Samples given (before any was dropped).
    n_near_kink : int
        Samples with a pre-activation within the margin of a kink.
    kinks_handled : bool
        Whether those samples were dropped from the check.
    seconds : float
    """

    records: list
    h: float
    n_samples: int
    n_near_kink: int
    kinks_handled: bool
    seconds: float

    @property
    def max_error(self):
        return max((r.error for r in self.records), default=0.0)

    @property
    def band(self):
        return error_band(self.max_error)

    @property
    def passed(self):
        return self.band == "ok"

    def errors(self):
        """``{parameter name: relative error}``."""
        return {r.name: r.error for r in self.records}

    def __getitem__(self, name):
        for record in self.records:
            if record.name == name:
                return record
        raise KeyError(name)

    def __iter__(self):
        return iter(self.records)

    def __len__(self):
        return len(self.records)

    def __str__(self):
        used = self.n_samples - (self.n_near_kink if self.kinks_handled else 0)
        lines = [f"gradient check, central differences with h={self.h:g}, {self.seconds:.2f} s"]
        if self.n_near_kink == 0:
            lines.append(f"{used} samples, none near a kink")
        elif self.kinks_handled:
            lines.append(f"{used} samples used; {self.n_near_kink} dropped (a pre-activation near a kink)")
        else:
            lines.append(f"{used} samples; {self.n_near_kink} near a kink kept: expect suspicious errors")
        header = ("parameter", "shape", "checked", "rel. error", "band", "worst at", "analytic", "numeric")
        rows = [header] + [
            (
                r.name,
                str(r.shape),
                str(r.n_checked),
                f"{r.error:.1e}",
                r.band,
                str(r.worst_index),
                f"{r.analytic_value:+.4e}",
                f"{r.numeric_value:+.4e}",
            )
            for r in self.records
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        lines.append(f"worst: {self.max_error:.1e} ({self.band}; ok < {REL_ERROR_OK:g}, wrong > {REL_ERROR_WRONG:g})")
        return "\n".join(lines)


@dataclass
class DirectionalCheck:
    """What :func:`check_directional` found: ``numeric`` and ``analytic`` are ``∂L/∂d``."""

    error: float
    numeric: float
    analytic: float
    h: float
    n_near_kink: int

    @property
    def band(self):
        return error_band(self.error)

    @property
    def passed(self):
        return self.band == "ok"

    def __str__(self):
        return (
            f"directional check (h={self.h:g}): numeric {self.numeric:+.6e}, analytic {self.analytic:+.6e}, "
            f"relative error {self.error:.1e} ({self.band})"
        )



def _chain(model):
    """The model as a flat list of ``(prefix, module)`` that ``fprop`` runs in order.

    Nested ``Sequential``s are flattened; their parameter names stay the
    qualified ones (``"1.0.W"``). Any other model is a chain of one box.
    """
    if not isinstance(model, Sequential):
        return [("", model)]
    chain = []
    for i, module in enumerate(model.modules):
        chain += [(f"{i}.{prefix}", leaf) for prefix, leaf in _chain(module)]
    return chain


def _check_inputs(model, loss, X, y, where):
    for obj, what, methods in (
        (model, "model", ("fprop", "bprop", "named_parameters")),
        (loss, "loss", ("fprop", "bprop")),
    ):
        missing = [m for m in methods if not hasattr(obj, m)]
        if missing:
            raise TypeError(f"{where} expected {what} with {', '.join(methods)}, got {type(obj).__name__}")
    X = as_matrix(X, where, "X", dtype=np.float64)
    y = np.asarray(y)
    if y.ndim == 0:
        raise ValueError(f"{where} expected y with one target per row of X (shape ({len(X)},)), got shape ()")
    check_same_length(where, X, y)
    if len(X) == 0:
        raise ValueError(f"{where} expected X with at least one sample, got shape {X.shape}")
    return X, y


def _near_kink(model, X, h, kink_margin):
    """Mask ``(N,)`` of samples with a pre-activation within the margin of a kink.

    Perturbing a parameter by ``h`` moves a pre-activation by about ``h`` times
    the magnitude of the activations feeding it, so the margin is
    ``kink_margin · h · (1 + the sample's largest activation so far)``.
    """
    n = len(X)
    near = np.zeros(n, dtype=bool)
    scale = np.ones(n)
    a = X
    for _, module in _chain(model):
        flat = np.asarray(a).reshape(n, -1)
        kink = getattr(module, "kink", None)
        if kink is not None:
            margin = kink_margin * h * scale
            near |= (np.abs(flat - kink) <= margin[:, None]).any(axis=1)
        if flat.size:
            scale = np.maximum(scale, 1.0 + np.abs(flat).max(axis=1))
        a = module.fprop(a)
    return near


def _drop_kinks(model, X, y, h, kink_margin, handle_kinks, where):
    """Find the samples near a kink, drop them if asked: ``(X, y, n_near)``."""
    near = _near_kink(model, X, h, kink_margin)
    n_near = int(near.sum())
    if handle_kinks and n_near:
        if n_near == len(X):
            raise ValueError(
                f"{where} expected some samples away from the kinks, got all {len(X)} within "
                f"{kink_margin:g}·h of one; use other samples or a smaller h"
            )
        X, y = X[~near], y[~near]
    return X, y, n_near


def _analytic_gradients(model, loss, X, y):
    """One fprop/bprop: ``{qualified name: copy of grad}``."""
    loss.fprop(model.fprop(X), y)
    model.bprop(loss.bprop())
    grads = {}
    for name, owner, attr in model.named_parameters():
        grad = getattr(owner, "grad_" + attr, None)
        if grad is None:
            raise ValueError(f"check_model expected model.bprop to set grad_{attr} of parameter {name}, got None")
        grads[name] = np.array(grad, dtype=np.float64)
    return grads


def _choose_entries(model, max_entries, rng):
    """Flat indices to check per parameter: all, or ``max_entries`` drawn by ``rng``."""
    chosen = {}
    for name, owner, attr in model.named_parameters():
        size = np.size(getattr(owner, attr))
        if max_entries is None or size <= max_entries:
            chosen[name] = np.arange(size)
        else:
            chosen[name] = np.sort(rng.choice(size, size=max_entries, replace=False))
    return chosen


def _numerical_entries(f, param, flat, h):
    """:func:`numerical_gradient` of ``f()`` for the entries ``flat`` of ``param`` only (NaN elsewhere).

    The chosen entries are copied into a vector that :func:`numerical_gradient`
    moves; ``f`` writes it back into ``param`` before each evaluation.
    """
    if len(flat) == np.size(param):
        return numerical_gradient(f, param, h)
    saved = param.flat[flat]
    chosen = saved.copy()

    def at_chosen():
        param.flat[flat] = chosen
        return f()

    grad = np.full(np.shape(param), np.nan)
    try:
        grad.flat[flat] = numerical_gradient(at_chosen, chosen, h)
    finally:
        param.flat[flat] = saved
    return grad


def model_numerical_gradients(model, loss, X, y, h=1e-5, entries=None):
    """Central differences of ``loss.fprop(model.fprop(X), y)`` for every parameter, by :func:`numerical_gradient`.

    Two full forward passes per entry: move it by ``+h``, then ``−h``, restore it.

    Parameters
    ----------
    model, loss : ps4-style modules
    X : array (N, D)
    y : targets accepted by ``loss`` (labels ``(N,)`` for a cross-entropy)
    h : float, optional
    entries : dict, optional
        ``{name: flat indices}`` to compute; all entries when None (others NaN).

    Returns
    -------
    dict
        ``{qualified name: array like the parameter}``. Parameters are left
        bit-for-bit unchanged.
    """
    X, y = _check_inputs(model, loss, X, y, "model_numerical_gradients")
    h = _check_h(h, "model_numerical_gradients")
    chosen = _choose_entries(model, None, None) if entries is None else entries
    return _numerical_gradients(model, loss, X, y, h, chosen)


def _numerical_gradients(model, loss, X, y, h, chosen):
    def objective():
        return loss.fprop(model.fprop(X), y)

    return {name: _numerical_entries(objective, getattr(owner, attr), chosen[name], h)
            for name, owner, attr in model.named_parameters()}


def check_model(model, loss, X, y, h=1e-5, rng=None, *, handle_kinks=True, kink_margin=10.0, max_entries=None):
    """Check every parameter gradient of ``model`` under ``loss`` by finite differences.

    One ``fprop``/``bprop`` gives the analytic gradients; :func:`numerical_gradient`
    of the loss gives the numeric ones, two full forward passes per parameter
    entry (19,220 for the digits network, about 1.5 s; ``max_entries`` checks
    a random sample, :func:`check_directional` one direction of all of them).

    Parameters
    ----------
    model : ps4-style module, usually a ``Sequential``
    loss : loss module (``fprop(outputs, targets)``, ``bprop()``)
    X : array (N, D)
    y : targets accepted by ``loss`` (labels ``(N,)`` for a cross-entropy)
    h : float, optional
    rng : numpy.random.Generator, optional
        Picks the entries when ``max_entries`` is set; ``default_rng(0)`` when None.
    handle_kinks : bool, optional
        Drop the samples with a pre-activation (the input of a module with a
        ``kink`` attribute, such as ``ReLU``) within ``kink_margin · h ·
        (1 + activation magnitude)`` of the kink, where a difference quotient
        may straddle the jump. The report counts them either way.
    kink_margin : float, optional
    max_entries : int, optional
        Check at most this many random entries per parameter (big models).

    Returns
    -------
    GradCheckReport
        One :class:`ParameterCheck` per parameter, named as
        ``named_parameters()`` does; ``print(report)`` shows the table.
        Parameters are left bit-for-bit unchanged.
    """
    start = time.perf_counter()
    X, y = _check_inputs(model, loss, X, y, "check_model")
    h = _check_h(h, "check_model")
    rng = _default_rng(rng, "check_model")
    if max_entries is not None and (not isinstance(max_entries, numbers.Integral) or max_entries < 1):
        raise ValueError(f"check_model expected max_entries as an integer >= 1 or None, got {max_entries!r}")
    n_samples = len(X)
    X, y, n_near = _drop_kinks(model, X, y, h, kink_margin, handle_kinks, "check_model")
    analytic = _analytic_gradients(model, loss, X, y)
    chosen = _choose_entries(model, max_entries, rng)
    numeric = _numerical_gradients(model, loss, X, y, h, chosen)

    records = []
    for name, _, attr in model.named_parameters():
        a, b, flat = analytic[name], numeric[name], chosen[name]
        if a.shape != b.shape:
            raise ValueError(f"check_model expected grad_{attr} of {name} with shape {b.shape}, got shape {a.shape}")
        error, worst = scaled_error(a.flat[flat], b.flat[flat])
        worst = flat[worst] if len(flat) else 0
        index = tuple(int(i) for i in np.unravel_index(worst, a.shape)) if a.size else ()
        records.append(
            ParameterCheck(
                name=name,
                shape=a.shape,
                error=error,
                worst_index=index,
                analytic_value=float(a[index]) if a.size else 0.0,
                numeric_value=float(b[index]) if a.size else 0.0,
                n_checked=len(flat),
                analytic=a,
                numeric=b,
            )
        )
    return GradCheckReport(
        records=records,
        h=h,
        n_samples=n_samples,
        n_near_kink=n_near,
        kinks_handled=handle_kinks,
        seconds=time.perf_counter() - start,
    )


def check_directional(model, loss, X, y, h=1e-5, rng=None, *, handle_kinks=True, kink_margin=10.0):
    """Check the gradient along one random unit direction ``d`` of all the parameters.

    ``(L(θ + h d) − L(θ − h d)) / 2h ≈ ∇L · d``: the :func:`numerical_gradient`
    of ``t ↦ L(θ + t d)`` at ``t = 0``, two forward passes instead of two per
    parameter, so it scales to any model; a wrong gradient almost surely
    fails along a random ``d``, but which parameter is wrong stays unknown.

    Parameters
    ----------
    model, loss, X, y, h, handle_kinks, kink_margin
        As for :func:`check_model`.
    rng : numpy.random.Generator, optional
        Draws ``d``; ``default_rng(0)`` when None.

    Returns
    -------
    DirectionalCheck
        ``error`` is ``relative_error(numeric, analytic)``. Parameters are
        left bit-for-bit unchanged.
    """
    X, y = _check_inputs(model, loss, X, y, "check_directional")
    h = _check_h(h, "check_directional")
    rng = _default_rng(rng, "check_directional")
    X, y, n_near = _drop_kinks(model, X, y, h, kink_margin, handle_kinks, "check_directional")
    grads = _analytic_gradients(model, loss, X, y)
    params = [(getattr(owner, attr), grads[name]) for name, owner, attr in model.named_parameters()]
    directions = [rng.standard_normal(p.shape) for p, _ in params]
    norm = np.sqrt(sum(float(np.sum(d * d)) for d in directions))
    directions = [d / norm for d in directions] if norm > 0 else directions
    analytic = sum(float(np.sum(g * d)) for (_, g), d in zip(params, directions, strict=True))

    saved = [p.copy() for p, _ in params]
    t = np.zeros(())  # how far along d the parameters sit: θ + t d

    def along_d():
        for (p, _), s, d in zip(params, saved, directions, strict=True):
            np.copyto(p, s + t * d)
        return loss.fprop(model.fprop(X), y)

    try:
        numeric = float(numerical_gradient(along_d, t, h))
    finally:
        for (p, _), s in zip(params, saved, strict=True):
            np.copyto(p, s)
    return DirectionalCheck(
        error=relative_error(numeric, analytic), numeric=numeric, analytic=analytic, h=h, n_near_kink=n_near
    )
