"""Flow graphs: boxes joined into a DAG, run forward in topological order and backward in reverse.

A flow graph (lecture L06) is a directed acyclic graph whose nodes hold arrays:
*inputs* (fed at each run), *parameters* (stored in the graph) and *boxes*,
each computing its value from the values of its input nodes. A box is any
:class:`nbbackprop.modules.Module` (``Box`` here), under its one contract:

* ``fprop(*inputs)`` → output, keeping on the box what ``bprop`` needs;
* ``bprop(grad_out)`` → ``∂L/∂input = ∂L/∂out · ∂out/∂input``: the gradient
  itself for a box of one input, a tuple with one per input for a box of several;
* ``fmode(*tangents)`` → the output tangent ``ṫ_out = Σ_i ∂out/∂input_i · ṫ_i``.

The one-input boxes (``Sigmoid``, ``Tanh``, ``ReLU``, ``Exp``, ``Log``,
``Square``) are those of :mod:`nbbackprop.modules`, so a ``Linear`` or a
``Sequential`` can be a node too (its parameters stay inside it, with their
``grad_W``). Defined here: the gates of two inputs, two reductions, and the
losses as boxes of two inputs.

Reverse mode (backpropagation) is then three lines of bookkeeping:

1. ``fprop`` every box in :func:`topological_order`, so each input is ready;
2. seed ``∂L/∂L = 1`` and ``bprop`` every box in the reverse order;
3. where a node *fans out* (feeds several boxes, e.g. a shared parameter),
   its gradient is the **sum** of the gradients its consumers send back.

Vocabulary, used throughout: the **inputs** of a node are the nodes its box
reads (an arrow runs from each input to the node); its **consumers** are the
nodes whose boxes read it (:meth:`FlowGraph.consumers`). ``fprop`` of a node
waits for its inputs, ``bprop`` of a node for all its consumers. We avoid
"parent" and "child": texts use them both ways round.

One backward sweep gives the gradient with respect to every input and
parameter at once. Forward mode pushes one direction ``v`` through the graph
instead and gives one directional derivative ``∇L · v`` per sweep: cheap for
few inputs, costly for the many parameters of a network.

Example
-------
>>> g = FlowGraph()
>>> x, w, b = g.input("x"), g.parameter("w", 3.0), g.parameter("b", 1.0)
>>> loss = g.add(Square(), g.add(Add(), g.add(Multiply(), x, w), b), name="loss")
>>> float(g.fprop({"x": 2.0}))  # (2·3 + 1)² = 49
49.0
>>> {name: float(grad) for name, grad in g.bprop().items()}  # 2·7·(w, x, 1)
{'x': 42.0, 'w': 28.0, 'b': 14.0}

Why this module is long (about 550 lines): it is read in L06, and a third of it
is the text above and the boxes' docstrings; the code is about 260 lines.
"""

import numpy as np

from . import modules
from .modules import Exp, Log, Module, ReLU, Sigmoid, Square, Tanh

__all__ = [
    "Add",
    "Box",
    "Exp",
    "FlowGraph",
    "Log",
    "MatMul",
    "Maximum",
    "Mean",
    "Multiply",
    "Node",
    "ReLU",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "Square",
    "SquaredError",
    "Subtract",
    "Sum",
    "Tanh",
    "topological_order",
]


def topological_order(graph):
    """Order the nodes of a DAG so that every node comes after all of its inputs.

    Parameters
    ----------
    graph : dict
        Maps each node to the list of its inputs. Inputs that are not keys are
        leaves (no inputs of their own).

    Returns
    -------
    list
        Every node of the graph, inputs first.

    Raises
    ------
    ValueError
        If the graph has a cycle; the message names a node on it.
    """
    order, state = [], {}  # state: 1 = on the current path, 2 = done

    for root in graph:
        if state.get(root) == 2:
            continue
        stack = [(root, iter(graph.get(root, ())))]
        state[root] = 1
        while stack:
            node, inputs = stack[-1]
            for source in inputs:
                if state.get(source) == 1:
                    raise ValueError(f"topological_order: the graph has a cycle through {source!r}")
                if state.get(source) is None:
                    state[source] = 1
                    stack.append((source, iter(graph.get(source, ()))))
                    break
            else:
                stack.pop()
                state[node] = 2
                order.append(node)
    return order


# ---------------------------------------------------------------------------- boxes

Box = Module
"""The base of every box: :class:`nbbackprop.modules.Module`, one contract for modules and graph nodes."""


def _unbroadcast(grad, shape):
    """Sum ``grad`` over the axes numpy broadcast an input of ``shape`` along.

    ``X (N, K) + b (K,)`` copies ``b`` to every row, so ``grad_b = Σ_n grad_y[n]``.
    """
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class _Binary(Box):
    """A box of two arrays ``a``, ``b`` (numpy broadcasting allowed); keeps both; ``bprop`` returns a pair."""

    n_inputs = 2

    def fprop(self, a, b):
        self.a, self.b = np.asarray(a), np.asarray(b)
        return self._forward(self.a, self.b)


class Add(_Binary):
    """``y = a + b``; ``grad_a = grad_y``, ``grad_b = grad_y``, each summed over broadcast axes.

    With ``b`` of shape ``(K,)`` and ``a`` of shape ``(N, K)`` this is the bias
    of a linear layer: ``grad_b = Σ_n grad_y[n]``.
    """

    def _forward(self, a, b):
        return a + b

    def bprop(self, grad_out):
        return _unbroadcast(grad_out, self.a.shape), _unbroadcast(grad_out, self.b.shape)

    def fmode(self, da, db):
        return da + db


class Subtract(_Binary):
    """``y = a − b``; ``grad_a = grad_y``, ``grad_b = −grad_y`` (summed over broadcast axes)."""

    def _forward(self, a, b):
        return a - b

    def bprop(self, grad_out):
        return _unbroadcast(grad_out, self.a.shape), _unbroadcast(-grad_out, self.b.shape)

    def fmode(self, da, db):
        return da - db


class Multiply(_Binary):
    """Elementwise ``y = a ⊙ b``; ``grad_a = grad_y ⊙ b``, ``grad_b = grad_y ⊙ a``."""

    def _forward(self, a, b):
        return a * b

    def bprop(self, grad_out):
        return _unbroadcast(grad_out * self.b, self.a.shape), _unbroadcast(grad_out * self.a, self.b.shape)

    def fmode(self, da, db):
        return da * self.b + self.a * db


class Maximum(_Binary):
    """Elementwise ``y = max(a, b)``: the gradient is *routed* to the larger input, the other gets 0.

    ``grad_a = grad_y ⊙ [a ≥ b]``, ``grad_b = grad_y ⊙ [a < b]`` (a tie goes to ``a``);
    at a tie ``max`` has a kink and this is one of its one-sided derivatives.
    """

    def _forward(self, a, b):
        self.a_wins = a >= b
        return np.maximum(a, b)

    def bprop(self, grad_out):
        return (_unbroadcast(grad_out * self.a_wins, self.a.shape),
                _unbroadcast(grad_out * ~self.a_wins, self.b.shape))

    def fmode(self, da, db):
        return np.where(self.a_wins, da, db)


class MatMul(_Binary):
    """``Y = X · W`` for a batch ``X (N, n_in)`` and weights ``W (n_in, n_out)`` → ``(N, n_out)``.

    ``grad_X = grad_Y · Wᵀ`` of shape ``(N, n_in)``; ``grad_W = Xᵀ · grad_Y`` of
    shape ``(n_in, n_out)``; forward mode ``Ẏ = Ẋ · W + X · Ẇ``.
    """

    def _forward(self, X, W):
        return X @ W

    def bprop(self, grad_out):
        return grad_out @ self.b.T, self.a.T @ grad_out

    def fmode(self, dX, dW):
        return dX @ self.b + self.a @ dW


class Sum(Box):
    """``y = Σ_i x_i``, a scalar; ``grad_x = grad_y`` copied to every entry of ``x``."""

    def fprop(self, x):
        self.shape = np.shape(x)
        return np.sum(x)

    def bprop(self, grad_out):
        return np.full(self.shape, grad_out, dtype=np.float64)

    def fmode(self, dx):
        return np.sum(dx)


class Mean(Box):
    """``y = (1/n) Σ_i x_i`` over all ``n`` entries; ``grad_x = grad_y / n`` in every entry."""

    def fprop(self, x):
        self.shape = np.shape(x)
        return np.mean(x)

    def bprop(self, grad_out):
        return np.full(self.shape, grad_out / np.prod(self.shape), dtype=np.float64)

    def fmode(self, dx):
        return np.mean(dx)


class SoftmaxCrossEntropy(Box):
    """:class:`nbbackprop.modules.SoftmaxCrossEntropy` as a box of two inputs, ``logits (N, K)`` and labels ``y (N,)``.

    ``L = −(1/N) Σ_n log softmax(z_n)[y_n]``; ``grad_logits = grad_L · (softmax(z) − onehot(y)) / N``;
    the labels get no gradient (``None``).
    """

    n_inputs = 2

    def __init__(self):
        self.loss = modules.SoftmaxCrossEntropy()

    def fprop(self, logits, y):
        return np.float64(self.loss.fprop(logits, y))

    def bprop(self, grad_out):
        return self.loss.bprop(grad_out), None

    def fmode(self, dlogits, dlabels):
        return np.sum(self.loss.bprop() * dlogits)


class SquaredError(Box):
    """:class:`nbbackprop.modules.MeanSquaredError` as a box of two inputs, ``ŷ (N, K)`` and targets ``t (N, K)``.

    ``L = (1/N) Σ_n ½ ‖ŷ_n − t_n‖²``; ``grad_ŷ = grad_L · (ŷ − t) / N`` and ``grad_t = −grad_ŷ``.
    """

    n_inputs = 2

    def __init__(self):
        self.loss = modules.MeanSquaredError()

    def fprop(self, predictions, targets):
        return np.float64(self.loss.fprop(predictions, targets))

    def bprop(self, grad_out):
        grad = self.loss.bprop(grad_out)
        return grad, -grad

    def fmode(self, dpredictions, dtargets):
        return np.sum(self.loss.bprop() * (dpredictions - dtargets))


# ---------------------------------------------------------------------------- the graph


class Node:
    """A node of a :class:`FlowGraph`: a leaf (``box is None``) or a box applied to ``inputs``.

    ``kind`` is ``"input"``, ``"parameter"`` or ``"box"``. Nodes compare and hash
    by identity; ``name`` is unique within its graph.
    """

    __slots__ = ("box", "inputs", "kind", "name")

    def __init__(self, name, kind, box=None, inputs=()):
        self.name, self.kind, self.box, self.inputs = name, kind, box, tuple(inputs)

    def __repr__(self):
        return f"Node({self.name!r})"

    def __str__(self):
        return self.name


class FlowGraph:
    """A DAG of boxes with reverse-mode (``bprop``) and forward-mode (``forward_mode``) differentiation.

    Attributes
    ----------
    nodes : dict
        Name → :class:`Node`, in the order they were added (``g["h1"]`` looks one up).
    params : dict
        Name → array: the parameter values, used by every run (update them to train).
    values : dict
        Name → value of every node computed by the last ``fprop``.
    grads : dict
        Name → ``∂output/∂node`` for every node reached by the last ``bprop``.
    """

    def __init__(self):
        self.nodes, self.params, self.values, self.grads = {}, {}, {}, {}
        self._output = None

    def __getitem__(self, name):
        return self.nodes[name]

    # -- building

    def _new(self, where, node):
        if not isinstance(node.name, str):
            raise TypeError(f"{where} expected a name as a str, got {type(node.name).__name__}")
        if node.name in self.nodes:
            raise ValueError(f"{where} expected a new node name, got {node.name!r} which is already used")
        self.nodes[node.name] = node
        return node

    def _node(self, node, where):
        """The node of this graph given as a :class:`Node` or by name."""
        name = node.name if isinstance(node, Node) else node
        found = self.nodes.get(name) if isinstance(name, str) else None
        if found is None or (isinstance(node, Node) and found is not node):
            raise ValueError(f"{where} expected a node of this graph (or its name), got {node!r}")
        return found

    def input(self, name):
        """Add an input node: its value must be fed to every ``fprop``."""
        return self._new("FlowGraph.input", Node(name, "input"))

    def parameter(self, name, value):
        """Add a parameter node holding a float64 copy of ``value`` in ``self.params[name]``."""
        node = self._new("FlowGraph.parameter", Node(name, "parameter"))
        self.params[name] = np.array(value, dtype=np.float64)
        return node

    def add(self, box, *inputs, name=None):
        """Add a node computing ``box.fprop(*values of inputs)``; returns the new :class:`Node`.

        ``name`` defaults to the box's class name and a number, e.g. ``"matmul3"``.
        A box keeps the values of its last ``fprop``, so each node needs its own box.
        """
        if not (hasattr(box, "fprop") and hasattr(box, "bprop")):
            raise TypeError(f"FlowGraph.add expected a box with fprop and bprop, got {type(box).__name__}")
        inputs = [self._node(node, "FlowGraph.add") for node in inputs]
        name = name or f"{type(box).__name__.lower()}{len(self.nodes)}"
        for other in self.nodes.values():
            if other.box is box:
                raise ValueError(
                    f"FlowGraph.add expected a new box for node {name!r}, got the {box!r} already used at node "
                    f"{other.name!r}: one box keeps one fprop's values; create another {box!r}"
                )
        n_inputs = getattr(box, "n_inputs", len(inputs))
        if len(inputs) != n_inputs:
            raise ValueError(f"FlowGraph.add expected {n_inputs} input(s) for {box!r}, got {len(inputs)}")
        return self._new("FlowGraph.add", Node(name, "box", box, inputs))

    def as_dict(self, output=None):
        """Node → list of its input nodes, for :func:`topological_order` or drawing.

        With ``output`` given, only the nodes ``output`` depends on (itself included).
        """
        if output is None:
            return {node: list(node.inputs) for node in self.nodes.values()}
        graph, stack = {}, [self._node(output, "FlowGraph.as_dict")]
        while stack:
            node = stack.pop()
            if node not in graph:
                graph[node] = list(node.inputs)
                stack.extend(node.inputs)
        return graph

    def consumers(self, node):
        """The nodes whose boxes read ``node`` (a :class:`Node` or its name), in the order they were added.

        A node read twice by one box (``x · x``) is listed once. In ``bprop`` the
        gradient of ``node`` is the sum of what these consumers send back.
        """
        node = self._node(node, "FlowGraph.consumers")
        return [other for other in self.nodes.values() if any(source is node for source in other.inputs)]

    # -- running

    def fprop(self, feed, output=None):
        """Compute ``output`` (default: the last node added) from the fed inputs.

        Parameters
        ----------
        feed : dict
            Name → value for every input ``output`` depends on; a parameter's name
            may be fed too, overriding ``self.params`` for this run.
        output : Node or str, optional

        Returns
        -------
        The value of ``output``; every node's value is kept in ``self.values``.
        """
        unknown = sorted(set(feed) - set(self.nodes))
        if unknown:
            raise ValueError(f"FlowGraph.fprop expected feed names among {list(self.nodes)}, got {unknown}")
        output = self._node(list(self.nodes)[-1] if output is None else output, "FlowGraph.fprop")
        self.values, self.grads, self._output = {}, {}, None
        for node in topological_order(self.as_dict(output)):
            if node.box is None:
                value = feed.get(node.name, self.params.get(node.name))
                if value is None:
                    raise ValueError(
                        f"FlowGraph.fprop expected a feed value for input {node.name!r}, got feed keys {sorted(feed)}"
                    )
                self.values[node.name] = np.asarray(value)
            else:
                args = [self.values[source.name] for source in node.inputs]
                self.values[node.name] = self._call(node, "fprop", *args)
        self._output = output
        return self.values[output.name]

    def bprop(self, output=None):
        """Reverse mode: the gradient of the scalar ``output`` of the last ``fprop``.

        Seeds ``∂output/∂output = 1``, runs every ``bprop`` in reverse topological
        order and sums the gradients arriving at a node that feeds several boxes.

        Returns
        -------
        dict
            Name → gradient, shaped like the value, for each input and parameter
            the output depends on (inputs with no gradient, like labels, are left out).
        """
        if self._output is None:
            raise RuntimeError("FlowGraph.bprop called before fprop")
        output = self._output if output is None else self._node(output, "FlowGraph.bprop")
        if output.name not in self.values:
            raise ValueError(f"FlowGraph.bprop expected a node computed by the last fprop, got {output.name!r}")
        value = self.values[output.name]
        if np.size(value) != 1:
            raise ValueError(
                f"FlowGraph.bprop expected a scalar output, got {output.name!r} of shape {np.shape(value)}"
            )
        grads = {output.name: np.ones(np.shape(value))}  # the seed ∂output/∂output = 1
        order = topological_order(self.as_dict(output))
        for node in reversed(order):
            if node.box is None or node.name not in grads:
                continue
            sent = self._check_grads(node, self._call(node, "bprop", grads[node.name]))
            for source, grad in zip(node.inputs, sent, strict=True):
                if grad is None:
                    continue
                # a fork: add up what every consumer sends back (a new array, never +=: grads may be shared)
                grads[source.name] = grads[source.name] + grad if source.name in grads else grad
        self.grads = grads
        return {node.name: grads[node.name] for node in order if node.box is None and node.name in grads}

    def forward_mode(self, feed, tangents, output=None):
        """Forward mode: the directional derivative ``Σ_i ∂output/∂leaf_i · tangents[i]``.

        Runs ``fprop``, then one more sweep in topological order carrying a tangent
        (a direction, shaped like the value) through each box's ``fmode``. Leaves
        missing from ``tangents`` get a zero tangent.

        Returns
        -------
        The tangent of ``output``, shaped like its value; for a scalar output and
        ``tangents = {name: v}`` it equals ``(grad of name) · v`` from ``bprop``.
        """
        self.fprop(feed, output)
        output = self._output
        unknown = sorted(set(tangents) - {name for name, node in self.nodes.items() if node.box is None})
        if unknown:
            raise ValueError(f"FlowGraph.forward_mode expected tangents for leaves of the graph, got {unknown}")
        dots = {}
        for node in topological_order(self.as_dict(output)):
            value = self.values[node.name]
            if node.box is None:
                dot = np.asarray(tangents.get(node.name, np.zeros(np.shape(value))), dtype=np.float64)
                if dot.shape != value.shape:
                    raise ValueError(
                        f"FlowGraph.forward_mode expected the tangent of {node.name!r} with shape {value.shape}, "
                        f"got shape {dot.shape}"
                    )
                dots[node.name] = dot
            else:
                args = [dots[source.name] for source in node.inputs]
                dots[node.name] = self._call(node, "fmode", *args)
        return dots[output.name]

    @staticmethod
    def _call(node, step, *args):
        """Run ``node.box.<step>(*args)``; on failure say which node and box it was."""
        try:
            return getattr(node.box, step)(*args)
        except Exception as err:
            raise ValueError(
                f"FlowGraph.{step}: box {node.name!r} ({type(node.box).__name__}) failed: {type(err).__name__}: {err}"
            ) from err

    def _check_grads(self, node, sent):
        """The gradients a box's ``bprop`` sent back, as a tuple: one per input, each shaped like it (or None).

        A box of one input returns its gradient itself (``grad_x``), a box of several a tuple.
        """
        where = f"FlowGraph.bprop: box {node.name!r} ({type(node.box).__name__})"
        if len(node.inputs) == 1:
            if isinstance(sent, (tuple, list)):
                raise ValueError(f"{where} expected bprop to return the gradient of its one input, got a "
                                 f"{type(sent).__name__}: a box of one input returns grad_x itself")
            sent = (sent,)
        if not isinstance(sent, (tuple, list)) or len(sent) != len(node.inputs):
            got = f"{len(sent)}" if isinstance(sent, (tuple, list)) else f"a {type(sent).__name__}"
            hint = (" (a loss of nbbackprop.modules sends back ∂L/∂outputs alone; in a flow graph use "
                    "graph.SoftmaxCrossEntropy or graph.SquaredError)") if hasattr(node.box, "per_sample") else ""
            raise ValueError(
                f"{where} expected bprop to return a tuple of {len(node.inputs)} gradient(s), got {got}{hint}"
            )
        for source, grad in zip(node.inputs, sent, strict=True):
            expected = np.shape(self.values[source.name])
            if grad is not None and np.shape(grad) != expected:
                raise ValueError(
                    f"{where} expected a gradient for {source.name!r} of shape {expected}, got shape {np.shape(grad)}"
                )
        return sent

    def __repr__(self):
        return f"FlowGraph({len(self.nodes)} nodes, output {list(self.nodes)[-1] if self.nodes else None!r})"
