"""halp_core.validate: each check returns the value in its canonical form or raises TypeError (the
wrong kind of value) or ValueError (a bad value) whose message names the argument and says what it
must be."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse.linalg

from halp_core import float_formats, grids, int_lanes, problems, validate


@pytest.mark.parametrize("call,expected", [
    (lambda: validate.integer(np.int16(3), "n", 1), 3),
    (lambda: validate.integer(2**64 - 1, "seed", 0, 2**64 - 1), 2**64 - 1),
    (lambda: validate.real(np.float32(0.5), "lam", minimum=0), 0.5),
    (lambda: validate.real(2, "step", positive=True), 2.0),
    (lambda: validate.choice("uniform", "sampling", ("uniform", "permutation")), "uniform"),
], ids=["integer", "integer-top", "real", "real-int", "choice"])
def test_good_values_come_back_canonical(call, expected):
    got = call()
    assert got == expected and type(got) is type(expected)


# (id, call, exception, the whole message or its start)
BAD = [
    ("integer-bool", lambda: validate.integer(True, "n"), TypeError, "n must be an int, got True"),
    ("integer-float", lambda: validate.integer(3.0, "n"), TypeError, "n must be an int, got 3.0"),
    ("integer-low", lambda: validate.integer(0, "n", 1), ValueError, "n must be >= 1, got 0"),
    ("integer-high", lambda: validate.integer(9, "bits", 2, 8), ValueError,
     "bits must be <= 8, got 9"),
    ("real-str", lambda: validate.real("1", "step"), TypeError, "step must be a number, got '1'"),
    ("real-positive", lambda: validate.real(0.0, "step", positive=True), ValueError,
     "step must be a finite number > 0, got 0.0"),
    ("real-inf", lambda: validate.real(np.inf, "lam"), ValueError,
     "lam must be a finite number, got inf"),
    ("real-minimum", lambda: validate.real(-1, "lam", minimum=0), ValueError,
     "lam must be a finite number >= 0, got -1.0"),
    ("choice", lambda: validate.choice("UNIFORM", "sampling", ("uniform", "permutation")),
     ValueError, "sampling must be one of 'uniform', 'permutation'; got 'UNIFORM'"),
    ("choice-not-str", lambda: validate.choice(None, "sampling", ("uniform",)), ValueError,
     "sampling must be one of 'uniform'; got None"),
    ("real-array-complex", lambda: validate.real_array(np.ones(2) * 1j, "X", 1), TypeError,
     "X is complex (complex128)"),
    ("real-array-ragged", lambda: validate.real_array([[1.0], [1.0, 2.0]], "X", 2), TypeError,
     "X must be a numeric array"),
    ("real-array-ndim", lambda: validate.real_array(np.ones(3), "X", 2), ValueError,
     "X must be 2-D, got shape (3,)"),
    ("real-array-empty", lambda: validate.real_array(np.ones((0, 2)), "X", 2), ValueError,
     "X is empty (shape (0, 2))"),
    ("real-array-nan", lambda: validate.real_array([1.0, np.nan], "y", 1), ValueError,
     "y contains NaN or inf"),
    ("kernel-array-list", lambda: validate.kernel_array([1], "a", (np.int8,)), TypeError,
     "a must be a NumPy array of int8, got list"),
    ("kernel-array-dtype", lambda: validate.kernel_array(np.ones(2), "a", (np.int8, np.int16)),
     TypeError, "a must have dtype int8, int16, got float64"),
    ("kernel-array-strided", lambda: validate.kernel_array(np.ones(4)[::2], "a", (np.float64,)),
     ValueError, "a must be C-contiguous"),
    ("kernel-array-read-only", lambda: validate.kernel_array(
        np.frombuffer(b"\0" * 8), "out", (np.float64,), writeable=True), ValueError,
     "out is read-only but is written to"),
    ("instance", lambda: validate.instance({}, problems.Problem, "problem"), TypeError,
     "problem must be a halp_core Problem, got dict"),
    ("instance-tuple", lambda: validate.instance(1, (problems.LeastSquares,
                                                     problems.Multinomial), "problem"),
     TypeError, "problem must be a halp_core LeastSquares or Multinomial, got int"),
    ("memory", lambda: validate.memory(2**80, "a huge table"), ValueError,
     "a huge table needs 1.13e+15 GiB, more than this machine's"),
]


@pytest.mark.parametrize("call,error,message", [case[1:] for case in BAD],
                         ids=[case[0] for case in BAD])
def test_bad_value_is_named(call, error, message):
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error and str(caught.value).startswith(message)


def test_real_array_copies_only_when_needed():
    a = np.ones((2, 3))
    assert validate.real_array(a, "X", 2) is a
    converted = validate.real_array(np.ones((3, 2), dtype=np.int8).T, "X", 2)
    assert converted.dtype == np.float64 and converted.flags.c_contiguous


@pytest.mark.parametrize("error", [np.linalg.LinAlgError("singular"),
                                   scipy.sparse.linalg.ArpackNoConvergence("no", None, None),
                                   OverflowError("big"), FloatingPointError("nan")],
                         ids=lambda e: type(e).__name__)
def test_numerics_names_the_computation(error):
    with pytest.raises(ValueError, match=rf"the curvature of X failed \({type(error).__name__}: "
                                         r".*values beyond float64's range") as caught:
        with validate.numerics("the curvature of X"):
            raise error
    assert type(caught.value) is ValueError and caught.value.__cause__ is error


def test_numerics_lets_other_errors_through():
    with pytest.raises(KeyError):
        with validate.numerics("a lookup"):
            raise KeyError("x")


def test_env_path_treats_empty_as_unset(monkeypatch):
    monkeypatch.setenv("HALP_TEST_FOLDER", "  ")
    assert validate.env_path("HALP_TEST_FOLDER") is None
    monkeypatch.delenv("HALP_TEST_FOLDER")
    assert validate.env_path("HALP_TEST_FOLDER") is None
    monkeypatch.setenv("HALP_TEST_FOLDER", "~/cache ")
    assert validate.env_path("HALP_TEST_FOLDER") == Path.home() / "cache"


@pytest.mark.parametrize("function,args", [
    (grids.value, (1, None)), (grids.step, (0.0, 0.0, 0.0, 0.0, 1, 0, None)),
    (int_lanes.epoch_lanes, (None, 1, 0, None, None)),
    (float_formats.encode_stochastic_value, (1.0, 0, None)),
    (float_formats.encode_nearest_value, (1.0, None)), (float_formats.decode_value, (0, None)),
    (float_formats.data_value, (0, None)), (float_formats.data_row, (None, 0, None, None)),
], ids=lambda x: getattr(x, "__name__", ""))
def test_a_numba_only_function_called_from_python_says_so(function, args):
    """The Python names of functions that exist only as Numba overloads refuse a Python call
    with a message, never return None as if they had computed something."""
    with pytest.raises(TypeError, match="runs inside Numba-compiled code only"):
        function(*args)
