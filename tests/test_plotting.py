"""Tests of nbbackprop.plotting, headless: each picture returns its Axes/Figure and draws what it should."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.quiver import Quiver
from matplotlib.text import Annotation

from nbbackprop.plotting import (
    draw_flow_graph,
    plot_decision_boundary,
    plot_descent_path,
    plot_gradient_norms,
    plot_loss_curve,
    show_digits,
)

matplotlib.use("Agg")  # headless: no window, no plt.show()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 2.0], [2.0, 0.5], [1.5, 1.5]])
Y = np.array([0, 1, 1, 0, 2, 2, 1])


def render(ax_or_fig):
    """Draw for real, so errors that only show up at draw time surface in the test."""
    figure = ax_or_fig if isinstance(ax_or_fig, Figure) else ax_or_fig.figure
    figure.canvas.draw()


# --- plot_decision_boundary -----------------------------------------------------


@pytest.mark.parametrize(
    "predict",
    [
        lambda G: (G[:, 0] > 1).astype(int) + (G[:, 1] > 1),  # labels
        lambda G: np.column_stack([G[:, 0], G[:, 1], 1 - G.sum(axis=1)]),  # scores (M, K): argmax
        lambda G: G[:, 0] - G[:, 1] > 0,  # booleans count as labels
    ],
)
def test_decision_boundary_regions(predict):
    ax = plot_decision_boundary(predict, X, Y, resolution=30)
    render(ax)
    assert isinstance(ax, Axes)
    assert len(ax.collections) >= 1 + 3  # the filled regions + one scatter per class
    offsets = np.concatenate([c.get_offsets() for c in ax.collections[-3:]])
    assert len(offsets) == len(X)  # every sample drawn once
    assert ax.get_xlim() == pytest.approx((-0.5, 2.5))  # samples plus the default margin


def test_decision_boundary_single_score_draws_the_threshold_line():
    ax = plt.figure().add_subplot()
    out = plot_decision_boundary(lambda G: 1 / (1 + np.exp(-(G[:, 0] - 1))), X, Y % 2, ax=ax, resolution=25)
    render(out)
    assert out is ax
    levels = [c.levels for c in ax.collections if hasattr(c, "levels") and len(c.levels) == 1]
    assert levels == [[0.5]]  # the boundary σ(z) = ½


@pytest.mark.parametrize(
    ("predict", "data", "message"),
    [
        ("not callable", (X, Y), "predict"),
        (lambda G: G[:10, 0], (X, Y), r"shape \(100,\)"),
        (lambda G: -np.ones(len(G), dtype=int), (X, Y), "labels >= 0"),
        (lambda G: G[:, 0], (X[:, :1], Y), "2 features"),
        (lambda G: G[:, 0], (X, Y[:3]), r"shape \(7,\)"),
    ],
)
def test_decision_boundary_bad_input(predict, data, message):
    with pytest.raises(ValueError, match=f"plot_decision_boundary expected .*{message}"):
        plot_decision_boundary(predict, *data, resolution=10)


# --- plot_loss_curve --------------------------------------------------------------


def test_loss_curve_from_a_list():
    ax = plot_loss_curve([3.0, 2.0, 1.5, 1.2], log=True)
    render(ax)
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    assert ax.get_yscale() == "log"


def test_loss_curve_from_a_history_dict_puts_accuracy_on_a_second_axis():
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.8, 0.9]}
    ax = plot_loss_curve(history)
    render(ax)
    assert [line.get_label() for line in ax.lines] == ["loss", "val_loss"]
    (right,) = [other for other in ax.figure.axes if other is not ax]
    assert [line.get_label() for line in right.lines] == ["accuracy"]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["loss", "val_loss", "accuracy"]


@pytest.mark.parametrize(
    ("history", "kwargs"),
    [([], {}), ({}, {}), ({"loss": "abc"}, {}), ([[1.0, 2.0]], {}), ([1.0, 0.0], {"log": True})],
)
def test_loss_curve_bad_input(history, kwargs):
    with pytest.raises(ValueError, match="plot_loss_curve expected"):
        plot_loss_curve(history, **kwargs)


# --- plot_descent_path --------------------------------------------------------------


def bowl(w1, w2):
    return w1**2 + 10 * w2**2


def descend(lr, steps, start=(2.0, 1.0)):
    """Gradient descent on the bowl: ∇f = (2 w1, 20 w2)."""
    path = [np.array(start)]
    for _ in range(steps):
        path.append(path[-1] - lr * np.array([2, 20]) * path[-1])
    return np.array(path)


def test_descent_path_converging():
    path = descend(lr=0.04, steps=20)
    ax = plot_descent_path(bowl, path, levels=15)
    render(ax)
    quiver = [c for c in ax.collections if isinstance(c, Quiver)]
    assert len(quiver) == 1 and quiver[0].N == len(path) - 1  # one arrow per step
    lo, hi = ax.get_xlim()
    assert lo < path[:, 0].min() and path[:, 0].max() < hi


def test_descent_path_diverging_is_clipped_to_the_window():
    path = descend(lr=0.15, steps=40)  # w2 is multiplied by 1 − 0.15·20 = −2 at each step
    assert np.abs(path).max() > 1e11
    ax = plot_descent_path(bowl, path, xlim=(-3, 3), ylim=(-3, 3))
    render(ax)
    assert ax.get_xlim() == (-3, 3) and ax.get_ylim() == (-3, 3)
    (quiver,) = [c for c in ax.collections if isinstance(c, Quiver)]
    tips = quiver.get_offsets() + np.column_stack([quiver.U, quiver.V])
    assert np.abs(tips).max() == pytest.approx(3.0)  # the last arrow stops on the border
    assert quiver.N < len(path) - 1


def test_descent_path_survives_overflow_to_inf_and_nan():
    path = np.array([[1.0, 1.0], [-4.0, 8.0], [np.inf, -np.inf], [np.nan, np.nan]])
    ax = plot_descent_path(bowl, path, xlim=(-5, 5), ylim=(-5, 5))
    render(ax)
    assert ax.get_ylim() == (-5, 5)


def test_descent_paths_from_a_dict_share_one_set_of_contours():
    paths = {"small steps": descend(lr=0.02, steps=10), "large steps": descend(lr=0.09, steps=10, start=(-2.0, 1.0))}
    ax = plot_descent_path(bowl, paths, resolution=30)
    render(ax)
    quivers = [c for c in ax.collections if isinstance(c, Quiver)]
    assert [q.N for q in quivers] == [10, 10]  # one arrow field per path
    assert quivers[0].get_facecolor().tolist() != quivers[1].get_facecolor().tolist()
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["small steps: 10 steps", "large steps: 10 steps", "start"]
    lo, hi = ax.get_xlim()
    assert lo < -2.0 and 2.0 < hi  # the window fits both paths


@pytest.mark.parametrize(
    ("f", "path", "kwargs", "message"),
    [
        (None, [[0.0, 0.0]], {}, "f as a function"),
        (bowl, {}, {}, "at least one path"),
        (bowl, {"a": [[0.0, 0.0]], "b": [[0.0, 0.0, 1.0]]}, {}, "2 features"),
        (bowl, [[0.0, 0.0, 0.0]], {}, "2 features"),
        (bowl, np.empty((0, 2)), {}, "finite first point"),
        (bowl, [[0.0, 0.0]], {"xlim": (1, -1)}, "xlim"),
        (bowl, [[9.0, 0.0]], {"xlim": (-1, 1), "ylim": (-1, 1)}, "inside"),
        (lambda w1, w2: 1.0, [[0.0, 0.0]], {}, "vectorised"),
    ],
)
def test_descent_path_bad_input(f, path, kwargs, message):
    with pytest.raises(ValueError, match=f"plot_descent_path expected .*{message}"):
        plot_descent_path(f, path, resolution=10, **kwargs)


# --- plot_gradient_norms --------------------------------------------------------------


def test_gradient_norms_one_line_per_layer_on_a_log_scale():
    norms = {"layer 1": np.geomspace(1e-1, 1e-5, 30), "layer 2": np.geomspace(1, 1e-2, 30), "layer 3": [0.5] * 30}
    ax = plot_gradient_norms(norms)
    render(ax)
    assert [line.get_label() for line in ax.lines] == list(norms)
    assert ax.get_yscale() == "log"


def test_gradient_norms_of_one_step():
    ax = plot_gradient_norms([1e-6, 1e-4, 1e-2, 0.0])  # a zero norm (dead layer) must not break the log scale
    render(ax)
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])


@pytest.mark.parametrize("norms", [{}, [], {"layer 1": [0.1, -0.2]}, [[1.0, 2.0]], "big"])
def test_gradient_norms_bad_input(norms):
    with pytest.raises(ValueError, match="plot_gradient_norms expected"):
        plot_gradient_norms(norms)


# --- draw_flow_graph ------------------------------------------------------------------


def boxes_and_arrows(ax):
    arrows = [t for t in ax.texts if isinstance(t, Annotation)]
    boxes = [t for t in ax.texts if not isinstance(t, Annotation)]
    return boxes, arrows


def test_flow_graph_of_logistic_regression_with_fan_out_and_shared_inputs():
    # J = L(σ(Wx + b), y) + ½λ‖W‖²: W feeds two nodes (fan-out), "sq" uses W twice
    graph = {"z": ["W", "x"], "u": ["z", "b"], "a": ["u"], "L": ["a", "y"], "sq": ["W", "W"], "J": ["L", "sq"]}
    ax = draw_flow_graph(graph, labels={"z": "W·x", "sq": "‖W‖²"})
    render(ax)
    boxes, arrows = boxes_and_arrows(ax)
    assert sorted(box.get_text() for box in boxes) == sorted(["W", "x", "b", "y", "W·x", "u", "a", "L", "‖W‖²", "J"])
    assert len(arrows) == sum(len(inputs) for inputs in graph.values()) == 11
    column = {box.get_text(): box.get_position()[0] for box in boxes}
    # depth = 1 + deepest input; leaves in column 0
    assert column == {"W": 0, "x": 0, "b": 0, "y": 0, "W·x": 1, "‖W‖²": 1, "u": 2, "a": 3, "L": 4, "J": 5}
    styles = {box.get_text(): box.get_bbox_patch().get_facecolor() for box in boxes}
    assert styles["W"] == styles["y"] != styles["J"]  # leaves look different


def test_flow_graph_on_given_axes_with_integer_nodes():
    ax = plt.figure().add_subplot()
    assert draw_flow_graph({2: [0, 1], 3: [2, 0]}, ax=ax) is ax
    boxes, arrows = boxes_and_arrows(ax)
    assert sorted(box.get_text() for box in boxes) == ["0", "1", "2", "3"] and len(arrows) == 4


@pytest.mark.parametrize(
    ("graph", "labels", "error", "message"),
    [
        ({}, None, ValueError, "draw_flow_graph expected graph"),
        ([("a", "b")], None, ValueError, "draw_flow_graph expected graph"),
        ({"a": "b"}, None, ValueError, "draw_flow_graph expected a list of inputs"),
        ({"a": ["b"]}, ["A"], ValueError, "draw_flow_graph expected labels"),
        ({"a": ["b"], "b": ["a"]}, None, ValueError, "cycle"),
    ],
)
def test_flow_graph_bad_input(graph, labels, error, message):
    with pytest.raises(error, match=message):
        draw_flow_graph(graph, labels)


# --- show_digits ------------------------------------------------------------------------


def test_show_digits_titles_mistakes_in_red():
    images = np.random.default_rng(0).uniform(0, 16, size=(12, 64))
    labels = np.arange(12) % 10
    predictions = labels.copy()
    predictions[[3, 7]] = 0
    fig = show_digits(images, labels, predictions, n_cols=5)
    render(fig)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 15  # 3 rows of 5, the last 3 left blank
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 12
    red = [ax.get_title() for ax in drawn if ax.title.get_color() == "red"]
    assert red == ["3 → 0", "7 → 0"]


def test_show_digits_accepts_8x8_images_without_labels():
    fig = show_digits(np.zeros((3, 8, 8)))
    assert len(fig.axes) == 3 and all(ax.get_title() == "" for ax in fig.axes)


@pytest.mark.parametrize(
    ("images", "kwargs", "message"),
    [
        (np.zeros((3, 63)), {}, "images of shape"),
        (np.zeros((0, 64)), {}, "images of shape"),
        (np.zeros((3, 64)), {"labels": [1, 2]}, r"labels of shape \(3,\)"),
        (np.zeros((3, 64)), {"n_cols": 0}, "n_cols"),
    ],
)
def test_show_digits_bad_input(images, kwargs, message):
    with pytest.raises(ValueError, match=f"show_digits expected .*{message}"):
        show_digits(images, **kwargs)
