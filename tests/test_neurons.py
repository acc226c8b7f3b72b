"""Threshold units, gates and the perceptron, checked on their truth tables and by hand."""

import numpy as np
import pytest

from nbbackprop.neurons import and_gate, not_gate, or_gate, perceptron_predict, perceptron_train, tlu, xor_gate

A = np.array([0, 0, 1, 1])
B = np.array([0, 1, 0, 1])


def test_tlu_worked_by_hand():
    # w = (2, -1), b = -1:  (0,0) → -1 < 0 → 0;  (1,0) → 1 ≥ 0 → 1;
    # (1,1) → 0 ≥ 0 → 1 (the threshold itself fires);  (0,1) → -2 → 0
    X = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    out = tlu(X, np.array([2.0, -1.0]), -1.0)
    assert out.tolist() == [0, 1, 1, 0]
    assert out.dtype.kind == "i" and out.shape == (4,)


@pytest.mark.parametrize(
    ("gate", "table"),
    [(and_gate, [0, 0, 0, 1]), (or_gate, [0, 1, 1, 1]), (xor_gate, [0, 1, 1, 0])],
)
def test_binary_gates_truth_tables(gate, table):
    assert gate(A, B).tolist() == table


def test_not_gate():
    assert not_gate(np.array([0, 1])).tolist() == [1, 0]


def test_xor_uses_five_threshold_units(monkeypatch):
    import nbbackprop.neurons as neurons

    calls = []
    real_tlu = neurons.tlu
    monkeypatch.setattr(neurons, "tlu", lambda *args: calls.append(1) or real_tlu(*args))
    assert neurons.xor_gate(A, B).tolist() == [0, 1, 1, 0]
    assert len(calls) == 5


def test_no_single_tlu_computes_xor():
    # a grid of candidate lines: none separates XOR (it is not linearly separable)
    X = np.stack([A, B], axis=1).astype(float)
    grid = np.linspace(-2, 2, 21)
    for w1 in grid:
        for w2 in grid:
            for b in grid:
                assert tlu(X, np.array([w1, w2]), b).tolist() != [0, 1, 1, 0]


def test_perceptron_worked_by_hand_on_and():
    # lr = 1, start at w = (0, 0), b = 0.  Epoch 1:
    #  (0,0) y=0: ŷ=1[0 ≥ 0]=1, error -1 → w=(0,0), b=-1
    #  (0,1) y=0: ŷ=1[-1 ≥ 0]=0, ok;  (1,0) y=0: ok
    #  (1,1) y=1: ŷ=1[-1 ≥ 0]=0, error +1 → w=(1,1), b=0
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 0, 0, 1])
    w, b = perceptron_train(X, y, lr=1.0, epochs=1)
    np.testing.assert_array_equal(w, [1.0, 1.0])
    assert b == 0.0
    w, b = perceptron_train(X, y, lr=1.0, epochs=10)
    assert perceptron_predict(X, w, b).tolist() == [0, 0, 0, 1]


def test_perceptron_converges_on_separable_data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 3))
    true_w = np.array([1.0, -2.0, 0.5])
    y = (X @ true_w + 0.3 >= 0).astype(int)
    w, b = perceptron_train(X, y, epochs=100)
    np.testing.assert_array_equal(perceptron_predict(X, w, b), y)


def test_perceptron_does_not_mutate_inputs():
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1])
    X.flags.writeable = False
    y.flags.writeable = False
    perceptron_train(X, y)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: tlu(np.zeros((4, 2)), np.zeros(3), 0.0), "tlu expected w as a 1-D array of shape (2,)"),
        (lambda: tlu(np.zeros(4), np.zeros(2), 0.0), "tlu expected X as a 2-D array"),
        (lambda: and_gate(np.array([0, 2]), np.array([0, 1])), "values in {0, 1}"),
        (lambda: or_gate(np.array([0, 1]), np.array([0, 1, 1])), "shape (2,)"),
        (lambda: perceptron_train(np.zeros((3, 2)), np.array([0, 1])), "shape (3,)"),
        (lambda: perceptron_train(np.zeros((2, 2)), np.array([0, 2])), "y in 0..1"),
    ],
)
def test_input_errors_are_clear(call, fragment):
    with pytest.raises(ValueError, match=None) as info:
        call()
    assert fragment in str(info.value)
