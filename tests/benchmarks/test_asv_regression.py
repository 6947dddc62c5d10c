"""Proof that the asv set-up catches a performance regression between commits (issue 3, item 4).

The test copies the working tree into a fresh git repository in a temporary folder and makes
three commits there:

  C0  the code as it is;
  C1  a change that does not touch performance (a comment appended to halp_core/kernels.py,
      so the package is rebuilt);
  C2  a deliberate 2x slowdown of ``halp_core.kernels.dot``: the original body is renamed and
      the new ``dot`` computes the same product twice (as ``a.b`` and ``b.a``, which LLVM cannot
      merge) and returns the larger value.

Then ``asv continuous`` builds each commit into a virtualenv (asv.conf.json, PyPI through pip's
cache) and runs a small subset of ``bench_kernels.Dot.time_dot``:
  - C0 -> C1 must not be flagged (exit 0, no "+" row);
  - C1 -> C2 must be flagged (exit 1, the slowed benchmark named on a "+" line).

The factor is 1.5: identical commits have moved by up to 1.37x on this noisy 2-core VM, while
the slowdown is ~2x; asv also requires the change to be statistically significant.

Cost: one virtualenv with the pinned stack (from pip's cache after the first run) and three
wheel builds; see docs/benchmarks.md for measured times.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = r"bench_kernels\.Dot\.time_dot\('(int8|float32)', 'L2'\)"
FACTOR = "1.5"
SLOW_NAME = "bench_kernels.Dot.time_dot"

SLOWDOWN = '''

@njit(cache=True)
def _dot(a, b):
    """DELIBERATELY SLOWED (asv regression test): the same product computed twice."""
    return max(_dot_once(a, b), _dot_once(b, a))
'''


def _run(cmd, cwd, env, timeout=1800):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


def _git(cwd, env, *args):
    rc, out = _run(["git", *args], cwd, env, timeout=120)
    assert rc == 0, f"git {' '.join(args)} failed:\n{out}"
    return out.strip()


def _copy_tree(dst):
    """Tracked and untracked-but-not-ignored files of the working tree (no results/)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, files):
        if rel.startswith("results/"):
            continue
        src = REPO / rel
        if not src.is_file():
            continue
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def slow_down_dot(source):
    """Kernel source with ``_dot`` (the Numba kernel behind ``dot``) made to do its work twice
    (text edit, see module doc)."""
    anchor = "\ndef _dot(a, b):"
    assert source.count(anchor) == 1, "halp_core/kernels.py no longer defines `def _dot(a, b):`"
    assert "njit" in source
    return source.replace(anchor, "\ndef _dot_once(a, b):", 1) + SLOWDOWN


def _flagged(output):
    """Benchmark rows asv marks as slower: '+' in the "Change" column of its comparison table
    (asv 0.6 prints a Markdown table, `| +   | before | after | ratio | name |`; older
    versions a plain one, `+   before   after   ratio   name`)."""
    return [line for line in output.splitlines() if re.match(r"^(\|\s*)?\+\s", line)]


@pytest.fixture(scope="module")
def asv_repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("asv-regression")
    repo, home = root / "repo", root / "home"
    repo.mkdir()
    home.mkdir()
    env = dict(os.environ)
    # A private HOME (asv's machine file, git identity) but pip's real cache, so the pinned
    # wheels are downloaded once per machine, not once per test run.
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR",
                                          str(Path.home() / ".cache" / "pip"))
    env["HOME"] = str(home)
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "asv regression test"
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "asv-test@example.invalid"
    env.pop("HALP_BENCH_LARGE", None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    _copy_tree(repo)
    _git(repo, env, "init", "-q", "-b", "main")
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "-q", "-m", "C0: code as it is")
    c0 = _git(repo, env, "rev-parse", "HEAD")

    kernels = repo / "halp_core" / "kernels.py"
    kernels.write_text(kernels.read_text() + "\n# C1: a change that does not touch performance\n")
    _git(repo, env, "commit", "-q", "-am", "C1: comment only")
    c1 = _git(repo, env, "rev-parse", "HEAD")

    kernels.write_text(slow_down_dot(kernels.read_text()))
    _git(repo, env, "commit", "-q", "-am", "C2: dot does its work twice")
    c2 = _git(repo, env, "rev-parse", "HEAD")

    rc, out = _run([sys.executable, "-m", "asv", "machine", "--yes"], repo, env)
    assert rc == 0, out
    return repo, env, (c0, c1, c2)


def _continuous(repo, env, base, head):
    cmd = [sys.executable, "-m", "asv", "continuous", "--factor", FACTOR, "--interleave-rounds",
           "--show-stderr", "--no-only-changed", "--bench", BENCH, base, head]
    return _run(cmd, repo, env, timeout=2400)


def test_slowdown_edit_is_valid_python():
    source = (REPO / "halp_core" / "kernels.py").read_text()
    edited = slow_down_dot(source)
    compile(edited, "kernels.py", "exec")
    assert "def _dot_once(a, b):" in edited and edited.count("def _dot(a, b):") == 1


@pytest.mark.slow
def test_no_change_is_not_flagged(asv_repo):
    repo, env, (c0, c1, _) = asv_repo
    rc, out = _continuous(repo, env, c0, c1)
    print(out)   # the comparison table, shown by `pytest -rP`
    assert rc == 0, f"asv continuous flagged (or failed on) a no-op change (exit {rc}):\n{out}"
    # Nothing slower (a '-' row, "faster", is noise in the harmless direction and does not
    # fail a gate: asv continuous exits 1 only for slowdowns).
    assert not _flagged(out), out
    assert "PERFORMANCE DECREASED" not in out, out


@pytest.mark.slow
def test_slowdown_is_flagged(asv_repo):
    repo, env, (_, c1, c2) = asv_repo
    rc, out = _continuous(repo, env, c1, c2)
    print(out)
    assert rc == 1, f"asv continuous did not report the 2x slowdown (exit {rc}):\n{out}"
    flagged = _flagged(out)
    assert any(SLOW_NAME in line for line in flagged), out
    assert "PERFORMANCE DECREASED" in out, out
