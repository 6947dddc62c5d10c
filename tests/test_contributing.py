"""docs/contributing.md's recipes work as written: the code blocks marked `<!-- recipe: NAME -->`
are run here (the solver recipe is tests/halp_core/solvers/saga.py, run by
tests/halp_core/solvers/test_saga.py), and every file the guide names exists."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "contributing.md"


def recipes():
    """{name: code} of the marked python blocks of docs/contributing.md."""
    pattern = re.compile(r"<!-- recipe: ([\w-]+) -->\n```python\n(.*?)```", re.S)
    return dict(pattern.findall(GUIDE.read_text()))


def test_the_guide_has_every_recipe():
    assert set(recipes()) == {"format-unbiased", "benchmark", "page-data", "page-figures",
                              "page-view"}
    text = GUIDE.read_text()
    for heading in ("## Add a solver", "## Add a number format", "## Add a benchmark",
                    "## Add a dashboard page"):
        assert heading in text
    named = set(re.findall(r"`((?:tests|halp_core|halp_bench|benchmarks|dashboard|tools)/[\w/.]+"
                           r"\.py)`", text))
    assert {"tests/halp_core/solvers/saga.py", "tests/halp_core/solvers/test_saga.py",
            "tests/test_private_names.py"} <= named
    for path in named:
        assert (REPO / path).exists(), f"contributing.md names {path}, which does not exist"


def test_format_recipe_checks_unbiasedness():
    exec(compile(recipes()["format-unbiased"], "contributing.md:format-unbiased", "exec"), {})


def test_format_recipe_catches_a_biased_quantizer():
    """The check the recipe asks of every format fails on round-to-nearest (biased off the grid)."""
    from halp_core import fixed_point

    namespace = {}
    code = recipes()["format-unbiased"].split("\nfor value in")[0]
    exec(compile(code, "contributing.md:format-unbiased", "exec"), namespace)

    def nearest(x, scale, bits, out, key):
        return fixed_point.quantize_nearest(x, scale, bits, out)

    with pytest.raises(AssertionError):
        namespace["assert_unbiased"](nearest, 0.3, scale=1.0, bits=8)


def test_benchmark_recipe_is_discovered_and_runs(tmp_path):
    suite = tmp_path / "benchmarks"
    shutil.copytree(REPO / "benchmarks", suite, ignore=shutil.ignore_patterns("__pycache__"))
    (suite / "bench_example.py").write_text(recipes()["benchmark"])
    code = ("import sys; from asv_runner.discovery import list_benchmarks; "
            f"list_benchmarks({str(suite)!r}, sys.stdout)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    found = {b["name"]: b for b in json.loads(proc.stdout)}
    bench = found["bench_example.FullGradient.time_full_gradient"]
    assert bench["param_names"] == ["size_mb"] and bench["params"] == [["1", "10"]]
    run = ("from benchmarks.bench_example import FullGradient as B; b = B(); "
           "paths = B.setup_cache(); b.setup(paths, 1); b.time_full_gradient(paths, 1)")
    proc = subprocess.run([sys.executable, "-c", run], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr


def test_page_recipe_renders_as_a_new_page(tmp_path):
    """The three modules of the recipe in a copy of the dashboard, registered in pages.py, render
    on the shipped results (in a subprocess, so the copy is the `dashboard` package it imports)."""
    board = tmp_path / "dashboard"
    shutil.copytree(REPO / "dashboard", board, ignore=shutil.ignore_patterns("__pycache__"))
    for name, folder in (("page-data", "data"), ("page-figures", "figures"), ("page-view", "views")):
        (board / folder / "counts.py").write_text(recipes()[name])
    pages = board / "pages.py"
    pages.write_text(pages.read_text().replace(
        "]", '    ("views/counts.py", "Results count", "counts"),\n]'))
    script = f"""
import os
os.environ["HALP_SHIPPED_RESULTS"] = {str(REPO / "results")!r}
os.environ.pop("HALP_RESULTS", None)
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(board / "app.py")!r}, default_timeout=120)
at.switch_page("views/counts.py")
at.run()
assert not at.exception, [e.value for e in at.exception]
assert [t.value for t in at.title] == ["Results count"], [t.value for t in at.title]
assert len(at.get("plotly_chart")) == 1 and len(at.dataframe) == 1
print("rendered")
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**os.environ,
                                                       "PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 0 and "rendered" in proc.stdout, proc.stdout + proc.stderr
