"""Argument checks shared by halp_core's public functions (docs/design.md section 4: validate
once, at the API boundary; the Numba kernels behind it assume valid input).

Each check returns the value in its canonical form or raises TypeError (the wrong kind of value)
or ValueError (the right kind, a bad value) with a message that names the argument and says what
it must be.
"""

import contextlib
import os
from pathlib import Path

import numpy as np
import scipy.sparse.linalg

_NUMBER = (int, float, np.integer, np.floating)


def integer(value, name, minimum=None, maximum=None):
    """``value`` as a Python int in [minimum, maximum]; bools, floats (3.0 too) and strings are
    rejected, so ``n_classes='3'`` or ``3.7`` never pass as a count."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def real(value, name, *, minimum=None, positive=False):
    """``value`` as a finite Python float, > 0 if ``positive``, >= ``minimum`` if given."""
    if isinstance(value, bool) or not isinstance(value, _NUMBER):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if positive and not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    if not np.isfinite(value) or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum:g}"
        raise ValueError(f"{name} must be a finite number{bound}, got {value}")
    return value


def choice(value, name, options):
    """``value`` if it is a str among ``options`` (a tuple of str); ValueError otherwise."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def real_array(a, name, ndim, *, empty=False):
    """``a`` as a C-contiguous, finite float64 array of ``ndim`` dimensions (None: any), non-empty
    unless ``empty`` (a copy only when needed). Complex, object, string and ragged inputs are
    rejected, never coerced."""
    try:
        arr = np.asarray(a)
    except ValueError as exc:  # ragged nested sequences
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} is complex ({arr.dtype}); the problems are real-valued")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if arr.size == 0 and not empty:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    finite(arr, name)
    return arr


def kernel_array(a, name, dtypes, ndim=1, *, writeable=False):
    """Check an argument of a Numba kernel without converting it: a C-contiguous NumPy array of
    ``ndim`` dimensions (None: any) whose dtype is one of ``dtypes``, writeable if it is an output.
    Returns it unchanged."""
    allowed = ", ".join(np.dtype(t).name for t in dtypes)
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of {allowed}, got {type(a).__name__}")
    if a.dtype not in [np.dtype(t) for t in dtypes]:
        raise TypeError(f"{name} must have dtype {allowed}, got {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (np.ascontiguousarray)")
    if writeable and not a.flags.writeable:
        raise ValueError(f"{name} is read-only but is written to")
    return a


def finite(a, name):
    """Raise unless every entry of the float array ``a`` is finite."""
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf")


@contextlib.contextmanager
def numerics(what):
    """Run the numerical library calls of ``what`` (a str naming the computation and its input)
    and turn their failures into a ValueError naming it: LAPACK's LinAlgError, ARPACK's errors and
    overflows come from data or settings that are not finite or beyond float64's range, and say
    nothing of which input that was."""
    try:
        yield
    except (np.linalg.LinAlgError, scipy.sparse.linalg.ArpackError, OverflowError,
            FloatingPointError) as exc:
        raise ValueError(f"{what} failed ({type(exc).__name__}: {exc}): the data or settings "
                         f"hold NaN or inf or values beyond float64's range") from exc


def instance(obj, cls, name):
    """``obj`` if it is a ``cls`` (a class or tuple); else TypeError naming the expected type."""
    if not isinstance(obj, cls):
        names = " or ".join(c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,)))
        raise TypeError(f"{name} must be a halp_core {names}, got {type(obj).__name__}")
    return obj


def memory(nbytes, what):
    """Raise a ValueError before allocating ``nbytes`` when they exceed this machine's physical
    memory (an allocation that large either fails inside NumPy or gets the process killed)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf: let NumPy decide
        return
    if nbytes > total:
        raise ValueError(f"{what} needs {nbytes / 2**30:.3g} GiB, more than this machine's "
                         f"{total / 2**30:.3g} GiB of memory; use smaller sizes")


def env_path(variable):
    """The folder named by environment variable ``variable``, or None when it is unset or empty
    (an empty value would otherwise mean the current directory)."""
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else None


def numba_only(name):
    """Raise TypeError for a call from Python of ``name``, a function that exists only as a Numba
    overload (compiled into the kernels that call it; its Python body is this refusal)."""
    raise TypeError(f"{name} runs inside Numba-compiled code only: call it from an @njit "
                    f"function")
