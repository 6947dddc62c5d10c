"""Bad-input tables: a test module lists its cases as (id, call, exception, words the message
must contain) and gets one parametrized test from ``refusal_test`` (or, for calls that could
crash the process, ``fresh_process_refusal_test``); plus the small array makers the tables use."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def ones(n, dtype):
    """np.ones(n) of ``dtype``."""
    return np.ones(n, dtype=dtype)


def read_only(a):
    """``a`` made read-only (returned)."""
    a.flags.writeable = False
    return a


def refusal_test(cases, fixture=None):
    """A pytest test over ``cases``: each case's call raises its exception with a message that
    matches its words. call() takes no argument, or the value of the fixture named ``fixture``."""
    parametrize = pytest.mark.parametrize("call,error,match", [case[1:] for case in cases],
                                          ids=[case[0] for case in cases])
    if fixture is None:
        def test(call, error, match):
            with pytest.raises(error, match=match):
                call()
    else:
        def test(request, call, error, match):
            argument = request.getfixturevalue(fixture)
            with pytest.raises(error, match=match):
                call(argument)
    return parametrize(test)


def fresh_process_refusal_test(cases, module):
    """A pytest test over ``cases`` [(id, code, expected)]: the Python expression ``code``
    (numpy as np and halp_core's ``module`` imported), run in a fresh process so that a crash
    shows as one, prints ``expected`` (the exception's type and message) and exits cleanly."""
    repo = Path(__file__).resolve().parents[1]

    @pytest.mark.parametrize("name,code,expected", cases, ids=[case[0] for case in cases])
    def test(name, code, expected):
        script = (f"import numpy as np\nfrom halp_core import {module}\n"
                  f"try:\n    print('result', {code})\n"
                  "except Exception as exc:\n    print(f'{type(exc).__name__}: {exc}')\n")
        env = dict(os.environ, PYTHONPATH=str(repo))
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env=env, cwd=repo, timeout=600)
        assert proc.returncode == 0, f"crashed (exit {proc.returncode}): {proc.stderr[-500:]}"
        assert expected in proc.stdout, proc.stdout

    return test
