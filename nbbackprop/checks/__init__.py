"""The checks the exercises call — one readable line per grade cell::

    check_linear(Linear, "grad_W")               # a visible test
    check_linear(Linear, "grad_W", hidden=True)  # its hidden twin

Each check probes the student's code on inputs chosen to make bugs loud,
compares the results with the reference and with finite differences, and on
failure raises :class:`CheckFailure` (an ``AssertionError``) whose message
starts with one diagnosis code — ``[transpose]``, ``[scale-batch]``, … — and
names the function, the part, a small input, what came and what was expected,
and the likely cause.

The same suites back the out-of-process autograder: ``suite.probe`` runs in
the student's process and returns plain numbers, ``suite.verdicts`` judges
them in the grader's.
"""

from importlib import import_module

from .verdict import CODES, CheckFailure, Raised, Verdict, last_traceback

ASSIGNMENTS = {
    "ps1_neurons": "ps1",
    "ps2_logistic": "ps2",
    "ps3_backprop": "ps3",
    "ps4_flow_graph": "ps4",
    "ps5_gradient_check": "ps5",
}


def suites(assignment):
    """The suites of an assignment, in the order of its notebook: list of :class:`core.Suite`."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"suites expected an assignment in {sorted(ASSIGNMENTS)}, got {assignment!r}")
    return import_module(f".{ASSIGNMENTS[assignment]}", __name__).SUITES


TARGETS = {
    "ps1_neurons": ("tlu", "and_gate", "or_gate", "not_gate", "xor_gate", "perceptron_train"),
    "ps2_logistic": ("sigmoid", "binary_cross_entropy", "logistic_gradients", "fit_logistic", "lda_fit"),
    "ps3_backprop": ("init_params", "forward", "cross_entropy", "backward", "sgd_step", "train"),
    "ps4_flow_graph": ("Linear", "Sigmoid", "Tanh", "ReLU", "SoftmaxCrossEntropy", "Sequential", "topological_order"),
    "ps5_gradient_check": ("numerical_gradient", "relative_error", "check_module", "buggy_modules"),
}


def suite_for(target):
    """The suite that grades ``target`` (a contract name such as ``"Linear"``)."""
    for assignment, targets in TARGETS.items():
        if target in targets:
            return next(suite for suite in suites(assignment) if suite.target == target)
    raise ValueError(f"suite_for expected a graded name from COURSE.md, got {target!r}")


def check(target, candidate, part=None, hidden=False):
    """Run the checks of ``target`` (one ``part`` or all) on ``candidate`` in this process.

    Raises :class:`CheckFailure` with the first failing part's diagnosis and message;
    prints one line when everything passes.
    """
    suite_for(target).run(candidate, part=part, hidden=hidden)


def _checker(target):
    def checker(candidate, part=None, hidden=False):
        check(target, candidate, part, hidden)

    checker.__name__ = f"check_{target.lower()}"
    checker.__doc__ = f"Check ``{target}`` (all parts, or one ``part``); see :func:`check`."
    return checker


# ps1_neurons
check_tlu = _checker("tlu")
check_and_gate = _checker("and_gate")
check_or_gate = _checker("or_gate")
check_not_gate = _checker("not_gate")
check_xor_gate = _checker("xor_gate")
check_perceptron_train = _checker("perceptron_train")
# ps2_logistic
check_sigmoid = _checker("sigmoid")
check_binary_cross_entropy = _checker("binary_cross_entropy")
check_logistic_gradients = _checker("logistic_gradients")
check_fit_logistic = _checker("fit_logistic")
check_lda_fit = _checker("lda_fit")
# ps3_backprop
check_init_params = _checker("init_params")
check_forward = _checker("forward")
check_cross_entropy = _checker("cross_entropy")
check_backward = _checker("backward")
check_sgd_step = _checker("sgd_step")
check_train = _checker("train")
# ps4_flow_graph
check_linear = _checker("Linear")
check_sigmoid_module = _checker("Sigmoid")
check_tanh = _checker("Tanh")
check_relu = _checker("ReLU")
check_softmax_cross_entropy = _checker("SoftmaxCrossEntropy")
check_sequential = _checker("Sequential")
check_topological_order = _checker("topological_order")
# ps5_gradient_check
check_numerical_gradient = _checker("numerical_gradient")
check_relative_error = _checker("relative_error")
check_check_module = _checker("check_module")
check_buggy_modules = _checker("buggy_modules")

__all__ = ["ASSIGNMENTS", "TARGETS", "CODES", "CheckFailure", "Raised", "Verdict", "check", "last_traceback",
           "suite_for", "suites"] + [
    name for name in dir() if name.startswith("check_")
]
