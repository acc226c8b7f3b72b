"""The ps5 grader against the code students write: right answers pass, stubs and typical bugs are named."""

import types

import numpy as np
import pytest

from nbbackprop import gradcheck
from nbbackprop.checks import CheckFailure, check_buggy_modules, suite_for
from nbbackprop.checks.engine import plain
from nbbackprop.checks.ps5 import LARGE, buggy_boxes
from nbbackprop.mystery import MYSTERY_MODULES, N_FEATURES

# ---- what a student writes (a copy, not an import of the reference) -------------------------------


def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        f_plus = f()
        x[index] = saved - h
        f_minus = f()
        x[index] = saved
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def check_module(module, x, h=1e-5):
    x = np.array(x, dtype=float)
    upstream = np.random.default_rng(0).standard_normal(np.shape(module.fprop(x)))
    analytic = {"grad_x": np.array(module.bprop(upstream))}
    for p in module.param_names:
        analytic["grad_" + p] = np.array(getattr(module, "grad_" + p))

    def loss():
        return float(np.sum(module.fprop(x) * upstream))

    errors = {"grad_x": relative_error(analytic["grad_x"], numerical_gradient(loss, x, h))}
    for p in module.param_names:
        errors["grad_" + p] = relative_error(analytic["grad_" + p], numerical_gradient(loss, getattr(module, p), h))
    return errors


ANSWER = ["BoxB", "BoxE", "BoxF", "BoxG"]


def stub(*args, **kwargs):
    raise NotImplementedError("replace this line with your code: the docstring says what")


def codes(target, candidate, hidden=False):
    suite = suite_for(target)
    results = plain(suite.probe(candidate, hidden))
    return {v.id.split(".", 1)[1]: v.diagnosis for v in suite.verdicts(results, hidden)}


def messages(target, candidate, hidden=False):
    suite = suite_for(target)
    results = plain(suite.probe(candidate, hidden))
    return {v.id.split(".", 1)[1]: v.message for v in suite.verdicts(results, hidden)}


def all_ok(target, candidate):
    for hidden in (False, True):
        found = codes(target, candidate, hidden)
        assert set(found.values()) == {"ok"}, (hidden, found, messages(target, candidate, hidden))


def expect(target, candidate, expected, hidden=None):
    for flag in ((False, True) if hidden is None else (hidden,)):
        found = codes(target, candidate, flag)
        assert found == {**dict.fromkeys(found, "ok"), **expected}, (flag, found, messages(target, candidate, flag))


TARGETS = {"numerical_gradient": numerical_gradient, "relative_error": relative_error,
           "check_module": check_module, "buggy_modules": ANSWER}


# ---- the model answer, stubs and delegation --------------------------------------------------------


@pytest.mark.parametrize("target", list(TARGETS))
def test_model_answer_passes_every_part(target):
    all_ok(target, TARGETS[target])


@pytest.mark.parametrize("target", list(TARGETS))
def test_stub_fails_every_part_as_not_implemented(target):
    candidate = None if target == "buggy_modules" else stub
    for hidden in (False, True):
        assert set(codes(target, candidate, hidden).values()) == {"not-implemented"}


def test_check_module_is_judged_with_the_reference_helpers():
    # the student's numerical_gradient and relative_error still stubs: check_module alone is judged
    helpers = {**globals(), "numerical_gradient": stub, "relative_error": stub}
    own = types.FunctionType(check_module.__code__, helpers, "check_module", check_module.__defaults__)
    all_ok("check_module", own)


@pytest.mark.parametrize("target, delegate", [
    ("numerical_gradient", lambda f, x, h=1e-5: gradcheck.numerical_gradient(f, x, h)),
    ("relative_error", lambda a, b: gradcheck.relative_error(a, b)),
    ("check_module", lambda module, x, h=1e-5: gradcheck.check_module(module, x, h)),
])
def test_calling_the_reference_is_delegation(target, delegate):
    for hidden in (False, True):
        assert set(codes(target, delegate, hidden).values()) == {"delegation"}


def test_check_module_may_use_the_reference_helpers():
    def own(module, x, h=1e-5):
        x = np.array(x, dtype=float)
        upstream = np.random.default_rng(3).standard_normal(np.shape(module.fprop(x)))
        grads = {"grad_x": module.bprop(upstream)}
        grads.update({"grad_" + p: np.array(getattr(module, "grad_" + p)) for p in module.param_names})
        arrays = {"grad_x": x, **{"grad_" + p: getattr(module, p) for p in module.param_names}}
        return {key: gradcheck.relative_error(grads[key], gradcheck.numerical_gradient(
            lambda: float(np.sum(module.fprop(x) * upstream)), arrays[key], h)) for key in grads}

    all_ok("check_module", own)


# ---- correct but different ---------------------------------------------------------------------------


def numerical_gradient_nditer(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix].item()
        x[ix] = old + h
        fxph = f()
        x[ix] = old - h
        fxmh = f()
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


def numerical_gradient_flat(f, x, h=1e-5):
    grad = np.empty(x.size)
    flat = x.reshape(-1)  # a view of a contiguous x
    for i in range(x.size):
        saved = float(flat[i])
        flat[i] = saved + h
        up = np.asarray(f()).item()
        flat[i] = saved - h
        down = np.asarray(f()).item()
        flat[i] = saved
        grad[i] = (up - down) / h / 2
    return grad.reshape(x.shape)


def relative_error_eps(a, b):
    a, b = np.array(a, dtype=float), np.array(b, dtype=float)
    return np.max(np.abs(a - b) / (np.abs(a) + np.abs(b) + 1e-12))  # np.float64, an epsilon added


def relative_error_loop(a, b):
    worst = 0.0
    for u, v in zip(np.ravel(a), np.ravel(b)):
        denominator = max(abs(u) + abs(v), 1e-12)
        worst = max(worst, abs(u - v) / denominator)
    return worst


def check_module_named_parameters(module, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    y0 = module.fprop(x)
    upstream = np.random.default_rng(7).uniform(-1, 1, y0.shape)
    grad_x = module.bprop(upstream).copy()
    params = [(name, getattr(owner, attr), getattr(owner, "grad_" + attr).copy())
              for name, owner, attr in module.named_parameters()]

    def loss():
        return np.sum((module.fprop(x) - y0) * upstream)  # y0 subtracted: less rounding

    out = {"grad_x": relative_error_loop(grad_x, numerical_gradient_nditer(loss, x, h))}
    for name, value, grad in params:
        out[f"grad_{name}"] = relative_error_loop(grad, numerical_gradient_nditer(loss, value, h))
    return out


@pytest.mark.parametrize("target, candidate", [
    ("numerical_gradient", numerical_gradient_nditer),
    ("numerical_gradient", numerical_gradient_flat),
    ("relative_error", relative_error_eps),
    ("relative_error", relative_error_loop),
    ("check_module", check_module_named_parameters),
    ("buggy_modules", set(ANSWER)),
    ("buggy_modules", tuple(MYSTERY_MODULES[name] for name in reversed(ANSWER))),
], ids=["nditer", "flat-view", "epsilon", "python-loop", "named_parameters", "set", "classes"])
def test_correct_but_different_gets_full_marks(target, candidate):
    all_ok(target, candidate)


# ---- typical bugs, each named ------------------------------------------------------------------------


def numerical_gradient_one_sided(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    base = f()
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        grad[index] = (f() - base) / h
        x[index] = saved
    return grad


def numerical_gradient_not_restored(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        x[index] += h
        f_plus = f()
        x[index] -= 2 * h
        grad[index] = (f_plus - f()) / (2 * h)
    return grad


def numerical_gradient_drift(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        x[index] += h
        f_plus = f()
        x[index] -= 2 * h
        f_minus = f()
        x[index] += h  # back — but not always to the same last bit
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_gradient_copy(f, x, h=1e-5):
    return numerical_gradient(f, x.copy(), h)


def numerical_gradient_over_h(f, x, h=1e-5):
    return 2 * numerical_gradient(f, x, h)


def numerical_gradient_fixed_h(f, x, h=1e-5):
    return numerical_gradient(f, x, 1e-5)


def test_one_sided_difference_costs_once_and_is_named():
    expect("numerical_gradient", numerical_gradient_one_sided, {"central": "mismatch"})
    assert "one-sided" in messages("numerical_gradient", numerical_gradient_one_sided)["central"]


def test_x_not_put_back_is_mutation_only():
    expect("numerical_gradient", numerical_gradient_not_restored, {"restored": "mutation"})


def test_x_put_back_by_arithmetic_drifts_and_is_told_why():
    expect("numerical_gradient", numerical_gradient_drift, {"restored": "mutation"})
    assert "last bit" in messages("numerical_gradient", numerical_gradient_drift)["restored"]


@pytest.mark.parametrize("candidate, expected, words", [
    (numerical_gradient_copy, {"value": "mismatch", "central": "mismatch"}, "copy"),
    (numerical_gradient_over_h, {"value": "scale", "central": "scale"}, "2h"),
    (numerical_gradient_fixed_h, {"central": "mismatch"}, "the h you were given"),
])
def test_numerical_gradient_bugs(candidate, expected, words):
    expect("numerical_gradient", candidate, expected)
    assert words in " ".join(messages("numerical_gradient", candidate).values())


def relative_error_mean(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.mean(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def relative_error_norms(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def relative_error_no_floor(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


def relative_error_where(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denominator = np.abs(a) + np.abs(b)
    return float(np.max(np.where(denominator > 0, np.abs(a - b) / denominator, 0.0)))


def relative_error_first(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-12)))


def relative_error_signed(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max((a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


@pytest.mark.parametrize("candidate, expected, words", [
    (relative_error_mean, {"max": "mismatch"}, "not the mean"),
    (relative_error_norms, {"max": "mismatch"}, "norms"),
    (relative_error_no_floor, {"zeros": "unstable"}, "floor"),
    (relative_error_where, {"zeros": "unstable"}, "np.where"),
    (relative_error_first, {"value": "mismatch"}, "|a| + |b|, not by |a|"),
    (relative_error_signed, {"value": "mismatch"}, "absolute value"),
])
def test_relative_error_bugs_cost_once(candidate, expected, words):
    expect("relative_error", candidate, expected)
    assert words in " ".join(messages("relative_error", candidate).values())


def check_module_forgets_b(module, x, h=1e-5):
    errors = check_module(module, x, h)
    errors.pop("grad_b", None)
    return errors


def check_module_upstream_ones(module, x, h=1e-5):
    x = np.array(x, dtype=float)
    y = module.fprop(x)
    errors = {"grad_x": relative_error(module.bprop(np.ones_like(y)),
                                       numerical_gradient(lambda: float(np.sum(module.fprop(x))), x, h))}
    for p in module.param_names:
        errors["grad_" + p] = relative_error(getattr(module, "grad_" + p),
                                             numerical_gradient(lambda: float(np.sum(module.fprop(x))),
                                                                getattr(module, p), h))
    return errors


def check_module_bprop_last(module, x, h=1e-5):
    x = np.array(x, dtype=float)
    upstream = np.random.default_rng(0).standard_normal(np.shape(module.fprop(x)))

    def loss():
        return float(np.sum(module.fprop(x) * upstream))

    numeric = {"grad_x": numerical_gradient(loss, x, h)}
    numeric.update({"grad_" + p: numerical_gradient(loss, getattr(module, p), h) for p in module.param_names})
    analytic = {"grad_x": module.bprop(upstream)}  # reads the cache of the last, shifted fprop
    analytic.update({"grad_" + p: getattr(module, "grad_" + p) for p in module.param_names})
    return {key: relative_error(analytic[key], numeric[key]) for key in numeric}


def check_module_arrays(module, x, h=1e-5):
    errors = check_module(module, x, h)
    return {key: np.full(3, value) for key, value in errors.items()}


@pytest.mark.parametrize("candidate, expected", [
    (check_module_forgets_b, {"keys": "mismatch"}),
    (check_module_upstream_ones, {"buggy": "chain-rule"}),
    (check_module_bprop_last, {"correct": "mismatch"}),
    (check_module_arrays, {"correct": "shape"}),
], ids=["forgets-a-parameter", "upstream-of-ones", "bprop-after-differences", "arrays-not-floats"])
def test_check_module_bugs(candidate, expected):
    expect("check_module", candidate, expected)


def test_check_module_that_finds_nothing_is_told_so():
    def blind(module, x, h=1e-5):
        return {"grad_x": 0.0, **{"grad_" + p: 0.0 for p in module.param_names}}

    expect("check_module", blind, {"buggy": "mismatch"})


def test_wrong_buggy_list_counts_without_naming():
    wrong = ["BoxA", "BoxB", "BoxE"]  # one false alarm, two missed
    assert set(codes("buggy_modules", wrong, hidden=False).values()) == {"ok"}  # the visible test checks the form
    expect("buggy_modules", wrong, {"found": "mismatch", "clean": "mismatch"}, hidden=True)
    found = messages("buggy_modules", wrong, hidden=True)
    assert "misses 2" in found["found"] and "lists 1" in found["clean"]
    for name in MYSTERY_MODULES:
        assert name not in found["found"] + found["clean"]


@pytest.mark.parametrize("answer, code", [
    (["BoxB", "BoxZ"], "mismatch"), ("BoxB", "shape"), ([1, 2], "shape"),
])
def test_buggy_modules_form(answer, code):
    for hidden in (False, True):
        assert set(codes("buggy_modules", answer, hidden).values()) == {code}


def test_nbgrader_route_raises_with_the_code_and_says_the_visible_test_checks_the_form(capsys):
    check_buggy_modules(["BoxA"], "found")
    assert "hidden test" in capsys.readouterr().out
    with pytest.raises(CheckFailure, match=r"^\[mismatch\] \[found\]"):
        check_buggy_modules(["BoxA"], "found", hidden=True)


# ---- the truth behind buggy_modules -------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MYSTERY_MODULES))
def test_mystery_truth_matches_the_reference_check(name):
    rng = np.random.default_rng(11)
    for trial in range(2):
        box = MYSTERY_MODULES[name](rng)
        x = rng.uniform(-2, 2, (5, N_FEATURES))
        worst = max(gradcheck.check_module(box, x, rng=np.random.default_rng(trial)).values())
        if name in buggy_boxes():
            assert worst > LARGE
        else:
            assert worst < gradcheck.REL_ERROR_OK


def test_the_answer_is_computed_when_judging_and_never_shipped():
    assert buggy_boxes() == {"BoxB", "BoxE", "BoxF", "BoxG"}  # what the reference check finds, box by box
    import pathlib

    import nbbackprop

    for path in pathlib.Path(nbbackprop.__file__).parent.rglob("*.py"):
        text = path.read_text()
        assert not any(f"{{{', '.join(repr(b) for b in order)}}}" in text or str(list(order)) in text
                       for order in [("BoxB", "BoxE", "BoxF", "BoxG")]), path
