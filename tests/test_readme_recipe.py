"""README's "Your data, your machine" recipe works as written: its three commands (the code block
marked `<!-- recipe: your-data -->`) run in a scratch copy of the repository on a small svmlight
file this test writes. The first two run as they are (asv measures in its `existing` environment,
the quick profile); the third starts the dashboard server, so the test runs the page it points to,
Speedups, with Streamlit's AppTest on the same results instead.

The scratch copy holds the files `./run bench` and `./run report` read (run, asv.conf.json,
benchmarks/, dashboard/, ...) with no results, and its `.venv` is the interpreter running the
tests (the project's .venv under `./run test`): `--existing` sets nothing up where `.venv`
exists, and halp_core / halp_bench are the ones that interpreter imports. HOME is a temporary
folder (asv's machine file, the reference optima), the Numba cache the usual one.

Marked slow: about 2 minutes here (asv's discovery, the convergence suite's trajectories, four
speedups of one second each, the report twice)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RECIPE = re.compile(r"<!-- recipe: your-data -->\n```bash\n(.*?)```", re.S)
COPIED = ("run", "asv.conf.json", "constraints.txt", "pyproject.toml", "README.md", "benchmarks", "dashboard")
"""What the scratch copy holds of the working tree."""


def recipe():
    """The README's recipe: its command lines, in order."""
    (block,) = RECIPE.findall((REPO / "README.md").read_text())
    return [line for line in block.splitlines() if line.strip()]


def write_svmlight(path, n=400, d=8, seed=0):
    """A binary logistic problem (labels -1 / +1) of n rows and d features as an svmlight file."""
    import numpy as np
    from sklearn.datasets import dump_svmlight_file

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    dump_svmlight_file(X, y, str(path))


def scratch_copy(dest):
    """COPIED of the working tree in `dest`, committed in a new git repository (asv saves results
    under a commit), with `.venv` pointing at the running interpreter's environment."""
    dest.mkdir()
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    os.symlink(sys.prefix, dest / ".venv")
    for args in (["init", "-q", "--initial-branch=main"], ["add", "-A"],   # asv.conf.json: branch main
                 ["-c", "user.email=recipe@example.invalid", "-c", "user.name=recipe", "commit", "-qm", "scratch"]):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)
    return dest


def test_the_readme_names_three_commands():
    first, report, browse = recipe()
    assert "./run bench" in first and "--file data.svm" in first
    assert report.strip() == "./run report"
    assert "streamlit run dashboard/app.py" in browse


@pytest.mark.slow
@pytest.mark.skipif(sys.prefix == sys.base_prefix or not (Path(sys.prefix) / "bin" / "asv").exists(),
                    reason="needs the project's virtual environment (asv included), as ./run test has")
def test_the_recipe_as_written(tmp_path, monkeypatch):
    repo = scratch_copy(tmp_path / "repo")
    write_svmlight(repo / "data.svm")
    home = tmp_path / "home"
    home.mkdir()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HALP_BENCH_", "HALP_RESULTS", "HALP_SHIPPED_RESULTS", "PYTHONPATH"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=cache)
    bench, report, browse = recipe()
    for command in (bench, report):
        proc = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True,
                              timeout=1500)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    text = (repo / "report" / "index.html").read_text()
    assert "Your problems: data</h4>" in text and "HALP / SVRG fp32" in text   # the speedup table
    assert re.search(r"id='convergence-[\w-]+-data'>Your problem data: f − f\* per epoch</h4>", text)
    # The third command serves dashboard/app.py on results/: its Speedups page, run here.
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(repo / "results"))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=300)
    at.switch_page("views/speedups.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Your problems" in [h.value for h in at.header]
    yours = next(t.value for t in at.dataframe if "problem" in t.value.columns)
    assert set(yours["problem"]) == {"data"} and (yours["speedup (×)"] > 0).all()
