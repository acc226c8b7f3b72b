"""Pictures for the lectures: decision regions, loss curves, descent paths, gradient norms, flow graphs, digits.

The only module of the library that imports matplotlib. Every function draws on
the Axes ``ax`` you pass (or on a new figure when ``ax`` is None) and returns it
(a Figure for multi-panel pictures); none calls ``plt.show()``, so everything
also works headless with the Agg backend.
"""

import numbers

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from ._validation import as_labels, as_matrix
from .graph import topological_order

__all__ = [
    "draw_flow_graph",
    "plot_decision_boundary",
    "plot_descent_path",
    "plot_gradient_norms",
    "plot_loss_curve",
    "show_digits",
]

CLASS_COLORS = plt.get_cmap("tab10").colors  # class k is drawn in CLASS_COLORS[k]


def _axes(ax, figsize=(5, 4)):
    return plt.subplots(figsize=figsize, layout="constrained")[1] if ax is None else ax


def _class_colors(n_classes):
    return [CLASS_COLORS[k % len(CLASS_COLORS)] for k in range(n_classes)]


def _as_curve(values, where, name):
    """A 1-D float array with at least one finite entry."""
    try:
        curve = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        curve = np.array([[]])
    if curve.ndim != 1 or not np.isfinite(curve).any():
        raise ValueError(f"{where} expected {name} as a non-empty list of numbers, got {values!r:.60}")
    return curve


# --- decision regions --------------------------------------------------------


def plot_decision_boundary(predict, X, y, ax=None, resolution=200, margin=0.5, threshold=0.5):
    """Colour the plane by the prediction of ``predict`` and scatter the samples on top.

    Parameters
    ----------
    predict : callable
        Maps a grid of points ``(M, 2)`` to one of
        - integer labels ``(M,)``: one colour per class region;
        - probabilities or scores ``(M, K)`` with K > 1: the regions of ``argmax``;
        - one score per point ``(M,)`` or ``(M, 1)``, floats: a shaded map of the score
          and the boundary line ``score = threshold``.
    X : array (N, 2)
    y : array (N,) of int
        Class of each sample; class k is drawn in ``CLASS_COLORS[k]``.
    resolution : int
        Grid points along each axis.
    margin : float
        Space around the samples, in data units.
    threshold : float
        Boundary level for a single score: 0.5 for a probability σ(z), 0 for a logit z.

    Returns
    -------
    matplotlib.axes.Axes
    """
    where = "plot_decision_boundary"
    if not callable(predict):
        raise ValueError(f"{where} expected predict as a function of an (M, 2) array, got {type(predict).__name__}")
    X = as_matrix(X, where, "X", 2)
    y = as_labels(y, where, n_samples=X.shape[0])
    if not isinstance(resolution, numbers.Integral) or resolution < 2:
        raise ValueError(f"{where} expected resolution as an integer >= 2, got {resolution!r}")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    out = np.asarray(predict(grid))
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.shape[:1] != (grid.shape[0],) or out.ndim > 2:
        raise ValueError(
            f"{where} expected predict to return shape ({grid.shape[0]},) or ({grid.shape[0]}, K) "
            f"for a grid of shape {grid.shape}, got shape {out.shape}"
        )
    ax = _axes(ax)
    if out.ndim == 1 and out.dtype.kind == "f":  # one score per point
        shade = ax.contourf(xx, yy, out.reshape(xx.shape), levels=20, cmap="coolwarm", alpha=0.4)
        ax.contour(xx, yy, out.reshape(xx.shape), levels=[threshold], colors="k", linewidths=1.5)
        ax.figure.colorbar(shade, ax=ax, label="score")
        n_classes = y.max() + 1
    else:
        regions = out.argmax(axis=1) if out.ndim == 2 else out.astype(np.int64)
        if regions.min() < 0:
            raise ValueError(f"{where} expected predict to return class labels >= 0, got {regions.min()}")
        n_classes = max(y.max(), regions.max()) + 1
        ax.contourf(xx, yy, regions.reshape(xx.shape), levels=np.arange(n_classes + 1) - 0.5,
                    cmap=ListedColormap(_class_colors(n_classes)), alpha=0.3)
    for k, color in enumerate(_class_colors(n_classes)):
        ax.scatter(*X[y == k].T, s=20, color=color, edgecolors="k", linewidths=0.5, label=f"class {k}")
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xlabel="$x_1$", ylabel="$x_2$")
    ax.legend(loc="best", fontsize="small")
    return ax


# --- training curves ---------------------------------------------------------


def plot_loss_curve(history, ax=None, log=False, xlabel="epoch"):
    """Plot the losses (and accuracies) recorded during training.

    Parameters
    ----------
    history : list of float, or dict of str → list of float
        A single loss curve, or named curves such as
        ``{"loss": [...], "val_loss": [...], "accuracy": [...]}``. Curves whose
        name contains "acc" go on a second y axis on the right, in ``[0, 1]``.
    log : bool
        Log scale for the losses (they must then be positive).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes of the losses.
    """
    where = "plot_loss_curve"
    curves = dict(history) if isinstance(history, dict) else {"loss": history}
    if not curves:
        raise ValueError(f"{where} expected at least one curve, got an empty dict")
    curves = {name: _as_curve(values, where, f"history[{name!r}]") for name, values in curves.items()}
    losses = {name: c for name, c in curves.items() if "acc" not in str(name).lower()}
    metrics = {name: c for name, c in curves.items() if name not in losses}
    if log and any(np.nanmin(c) <= 0 for c in losses.values()):
        raise ValueError(f"{where} expected positive losses for log=True, got a value <= 0")
    ax = _axes(ax)
    for name, curve in losses.items():
        ax.plot(np.arange(1, len(curve) + 1), curve, label=str(name))
    ax.set(xlabel=xlabel, ylabel="loss", yscale="log" if log else "linear")
    handles, labels = ax.get_legend_handles_labels()
    if metrics:
        right = ax.twinx()
        for i, (name, curve) in enumerate(metrics.items()):
            right.plot(np.arange(1, len(curve) + 1), curve, "--", color=_class_colors(len(curves))[len(losses) + i],
                       label=str(name))
        right.set(ylabel="accuracy", ylim=(0, 1.02))
        more = right.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    ax.legend(handles, labels, loc="best", fontsize="small")
    return ax


def plot_gradient_norms(norms, ax=None):
    """Compare the size of each layer's gradient on a log scale (vanishing gradients, L04).

    Parameters
    ----------
    norms : dict of str → list of float, or list of float
        Layer name → ``||∂L/∂W||`` at each training step (one line per layer),
        or a list with one value per layer, input side first, for a single step.

    Returns
    -------
    matplotlib.axes.Axes
    """
    where = "plot_gradient_norms"
    if isinstance(norms, dict):
        if not norms:
            raise ValueError(f"{where} expected at least one layer, got an empty dict")
        curves = {str(name): _as_curve(values, where, f"norms[{name!r}]") for name, values in norms.items()}
    else:
        curves = {"": _as_curve(norms, where, "norms")}
    lowest = min(np.nanmin(curve) for curve in curves.values())
    if lowest < 0:
        raise ValueError(f"{where} expected norms >= 0, got {lowest:.3g}")
    ax = _axes(ax)
    if isinstance(norms, dict):  # one line per layer, over training
        for name, curve in curves.items():
            ax.plot(np.arange(1, len(curve) + 1), curve, label=name)
        ax.set_xlabel("training step")
        ax.legend(fontsize="small")
    else:  # one step: one marker per layer
        layers = np.arange(1, len(curves[""]) + 1)
        ax.plot(layers, curves[""], "o-")
        ax.set(xlabel="layer (input side first)", xticks=layers)
    ax.set(ylabel="gradient norm", yscale="log")
    return ax


# --- gradient descent --------------------------------------------------------


def _until_exit(path, lo, hi):
    """Cut ``path`` where it first leaves the box ``[lo, hi]``; return ``(points, left)``.

    ``path[0]`` must lie in the box. When the path leaves, the last point
    returned is where the step that leaves crosses the border of the box.
    """
    inside = np.all((path >= lo) & (path <= hi), axis=1)  # NaN counts as outside
    if inside.all():
        return path, False
    k = np.argmin(inside)  # the first point outside, k >= 1
    p = path[k - 1]
    step = np.nan_to_num(path[k] - p, nan=0.0, posinf=1e300, neginf=-1e300)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(step > 0, (hi - p) / step, np.where(step < 0, (lo - p) / step, np.inf))
    return np.vstack([path[:k], p + min(t.min(), 1.0) * step]), True


def plot_descent_path(f, path, ax=None, xlim=None, ylim=None, levels=30, resolution=200):
    """Contours of ``f(w₁, w₂)`` and the steps ``w ← w − η ∇f(w)`` of gradient descent on top.

    Parameters
    ----------
    f : callable
        ``f(W1, W2)`` vectorised over two meshgrid arrays, returning an array of
        the same shape, e.g. ``lambda w1, w2: w1**2 + 10 * w2**2``.
    path : array (K, 2), or dict of str → array (K, 2)
        The iterates ``w⁽⁰⁾, w⁽¹⁾, …``; arrows join consecutive points. A dict
        draws several paths on the same contours (batch against stochastic
        descent, say), each in its own colour and named in the legend.
    xlim, ylim : (float, float), optional
        The window; by default it fits the paths. A path that leaves the window
        (a too-large step diverging) is drawn until its exit point, marked ✕.
    levels : int or list of float
        Contour levels, passed to ``Axes.contour``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    where = "plot_descent_path"
    if not callable(f):
        raise ValueError(f"{where} expected f as a function f(w1, w2), got {type(f).__name__}")
    if isinstance(path, dict) and not path:
        raise ValueError(f"{where} expected at least one path, got an empty dict")
    paths = {str(name): as_matrix(p, where, f"path[{name!r}]", 2) for name, p in path.items()} \
        if isinstance(path, dict) else {"": as_matrix(path, where, "path", 2)}
    for p in paths.values():
        if p.shape[0] == 0 or not np.isfinite(p[0]).all():
            raise ValueError(f"{where} expected path with a finite first point, got {p[:1].tolist()}")
    finite = np.vstack([p[np.isfinite(p).all(axis=1)] for p in paths.values()])
    pad = 0.1 * np.ptp(finite, axis=0) + 0.5
    window = []
    for name, limits, axis in (("xlim", xlim, 0), ("ylim", ylim, 1)):
        if limits is None:
            limits = (finite[:, axis].min() - pad[axis], finite[:, axis].max() + pad[axis])
        if np.shape(limits) != (2,) or not limits[0] < limits[1]:
            raise ValueError(f"{where} expected {name} as (low, high) with low < high, got {limits!r}")
        window.append(np.asarray(limits, dtype=np.float64))
    lo, hi = np.array(window).T
    for p in paths.values():
        if not np.all((p[0] >= lo) & (p[0] <= hi)):
            raise ValueError(f"{where} expected the first point of path inside xlim, ylim, got {p[0].tolist()}")
    W1, W2 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    Z = np.asarray(f(W1, W2), dtype=np.float64)
    if Z.shape != W1.shape:
        raise ValueError(f"{where} expected f(W1, W2) of shape {W1.shape} (f must be vectorised), got shape {Z.shape}")
    ax = _axes(ax)
    ax.contour(W1, W2, Z, levels=levels, cmap="viridis", linewidths=0.8)
    single = len(paths) == 1 and "" in paths
    for k, (name, p) in enumerate(paths.items()):
        color = "crimson" if single else CLASS_COLORS[(k + 3) % len(CLASS_COLORS)]
        shown, escaped = _until_exit(p, lo, hi)
        steps = np.diff(shown, axis=0)
        ax.quiver(*shown[:-1].T, *steps.T, angles="xy", scale_units="xy", scale=1, color=color,
                  width=0.005 if single else 0.003, label=None if single else f"{name}: {len(p) - 1} steps")
        if single:
            ax.plot(*shown[-1:].T, "X" if escaped else "*", color=color, markersize=10,
                    label="leaves the window" if escaped else f"after {len(p) - 1} steps", clip_on=False)
        elif escaped:
            ax.plot(*shown[-1:].T, "X", color=color, markersize=9, clip_on=False)
    starts = np.array([p[0] for p in paths.values()])
    ax.plot(*starts.T, "o", color="k", label="start")
    ax.set(xlim=tuple(window[0]), ylim=tuple(window[1]), xlabel="$w_1$", ylabel="$w_2$")
    ax.legend(loc="upper right", fontsize="small")
    return ax


# --- flow graphs ---------------------------------------------------------------


def _depths(graph):
    """Column of each node: 0 for a leaf, else 1 + the largest column among its inputs."""
    depth = {}
    for node in topological_order(graph):
        inputs = graph.get(node, ())
        depth[node] = 1 + max(depth[i] for i in inputs) if inputs else 0
    return depth


def draw_flow_graph(graph, labels=None, ax=None):
    """Draw a flow graph (a DAG) left to right: inputs in column 0, each node one column after its deepest input.

    Parameters
    ----------
    graph : dict
        Maps each node to the list of its inputs, as for
        :func:`nbbackprop.graph.topological_order`. Nodes that have no inputs
        (leaves: inputs, parameters) are drawn as grey rounded boxes, the others
        as blue boxes. An input used twice gets two arrows.
    labels : dict, optional
        Node → text in its box; ``str(node)`` by default.

    Returns
    -------
    matplotlib.axes.Axes
        One text per node (``ax.texts`` without annotations) and one arrow
        annotation per edge.
    """
    where = "draw_flow_graph"
    if not isinstance(graph, dict) or not graph:
        raise ValueError(f"{where} expected graph as a non-empty dict node → list of inputs, got {graph!r:.60}")
    for node, inputs in graph.items():
        if not isinstance(inputs, list | tuple):
            raise ValueError(f"{where} expected a list of inputs for node {node!r}, got {type(inputs).__name__}")
    if labels is not None and not isinstance(labels, dict):
        raise ValueError(f"{where} expected labels as a dict node → text, got {type(labels).__name__}")
    labels = labels or {}
    depth = _depths(graph)
    columns = {}
    for node, column in depth.items():
        columns.setdefault(column, []).append(node)
    height = max(len(nodes) for nodes in columns.values())
    if ax is None:
        ax = _axes(None, figsize=(1.5 * len(columns), 0.5 + 0.8 * height))
    boxes = {}
    for column, nodes in columns.items():
        for row, node in enumerate(nodes):
            leaf = not graph.get(node)
            style = dict(boxstyle="round,pad=0.4", fc="0.9", ec="0.4") if leaf else \
                dict(boxstyle="square,pad=0.4", fc="#cfe2f3", ec="#1f4e79")
            y = (len(nodes) - 1) / 2 - row
            boxes[node] = ax.text(column, y, labels.get(node, str(node)), ha="center", va="center", bbox=style,
                                  zorder=3)
    for node, inputs in graph.items():
        for j, source in enumerate(inputs):
            bend = 0.3 * inputs[:j].count(source)  # the same input used again: a curved arrow
            ax.annotate("", xy=(0, 0.5), xycoords=boxes[node], xytext=(1, 0.5), textcoords=boxes[source],
                        arrowprops=dict(arrowstyle="-|>", color="0.3", shrinkA=6, shrinkB=6,
                                        connectionstyle=f"arc3,rad={bend}"))
    ax.set(xlim=(-0.6, len(columns) - 0.4), ylim=(-height / 2, height / 2))
    ax.axis("off")
    return ax


# --- digits ------------------------------------------------------------------


def show_digits(images, labels=None, predictions=None, n_cols=10, fig=None):
    """A grid of 8×8 digit images, titled with their label (and prediction, in red when wrong).

    Parameters
    ----------
    images : array (N, 64) or (N, 8, 8)
        Pixels, 0..16 or scaled to [0, 1] (drawn dark on light).
    labels, predictions : array (N,) of int, optional
    n_cols : int
        Images per row.
    fig : matplotlib.figure.Figure, optional
        Drawn into (cleared first); a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    where = "show_digits"
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 2 and images.shape[1] == 64:
        images = images.reshape(-1, 8, 8)
    if images.ndim != 3 or images.shape[1:] != (8, 8) or images.shape[0] == 0:
        raise ValueError(f"{where} expected images of shape (N, 64) or (N, 8, 8) with N >= 1, got shape {images.shape}")
    if not isinstance(n_cols, numbers.Integral) or n_cols < 1:
        raise ValueError(f"{where} expected n_cols as an integer >= 1, got {n_cols!r}")
    n = images.shape[0]
    labels = None if labels is None else as_labels(labels, where, n_samples=n)
    predictions = None if predictions is None else as_labels(predictions, where, n_samples=n, name="predictions")
    n_cols = min(n_cols, n)
    vmin, vmax = images.min(), images.max()
    n_rows = -(-n // n_cols)
    fig = plt.figure(figsize=(1.1 * n_cols, 1.3 * n_rows), layout="constrained") if fig is None else fig
    fig.clear()
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r", vmin=vmin, vmax=vmax)
        if predictions is not None:
            wrong = labels is not None and labels[i] != predictions[i]
            title = f"{labels[i]} → {predictions[i]}" if labels is not None else f"pred {predictions[i]}"
            ax.set_title(title, fontsize=9, color="red" if wrong else "black")
        elif labels is not None:
            ax.set_title(str(labels[i]), fontsize=9)
    return fig
