"""dashboard/benchmarks.py against the asv suite: every benchmark the dashboard reads exists in
benchmarks/ with the parameter names and values the dashboard selects by, and no other dashboard
module writes a benchmark name of its own."""

import ast
import re

import pytest
from dashboard_helpers import ROOT, asv_benchmarks

from dashboard import benchmarks

NAME = re.compile(r"bench_\w+\.\w+\.\w+")
"""A full asv benchmark name (module.Class.method)."""


@pytest.mark.parametrize("name", sorted(benchmarks.PARAM_NAMES))
def test_every_benchmark_read_is_in_the_suite(name):
    found = asv_benchmarks()
    assert name in found, f"{name} (dashboard/benchmarks.py) is not in benchmarks/"
    assert found[name]["param_names"] == benchmarks.PARAM_NAMES[name]


@pytest.mark.parametrize("name, param", sorted(benchmarks.PARAM_VALUES))
def test_every_parameter_value_picked_is_in_the_suite(name, param):
    found = asv_benchmarks()[name]
    stored = found["params"][found["param_names"].index(param)]
    assert {repr(v) for v in benchmarks.PARAM_VALUES[name, param]} <= set(stored)


def test_every_name_constant_has_its_parameter_names():
    names = {v for k, v in vars(benchmarks).items() if k.isupper() and isinstance(v, str) and NAME.fullmatch(v)}
    assert names == set(benchmarks.PARAM_NAMES)


def test_no_other_dashboard_module_writes_a_benchmark_name():
    """Pages, tables and figures import names from dashboard/benchmarks.py instead of writing them."""
    found = []
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        if path.name == "benchmarks.py" and path.parent.name == "dashboard":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and NAME.search(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found
