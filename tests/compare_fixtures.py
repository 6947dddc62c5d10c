"""Fixtures of the gate tests: a git repository with two commits and asv result files (schema 2)
written the way asv writes them, with or without samples."""

import json
import math
import subprocess

import numpy as np

MACHINE = "testbox-avx2"
ENV = "virtualenv-py3.11-numpy2.4.6"
DOT = "bench_kernels.Dot.time_dot"
PARAMS = [["'float32'", "'int8'"], ["'L2'"]]
COLUMNS = ["result", "params", "version", "started_at", "duration", "stats_ci_99_a", "stats_ci_99_b",
           "stats_q_25", "stats_q_75", "stats_number", "stats_repeat", "samples"]


def git_repo(path, commits=2):
    """A git repository at `path` with `commits` empty commits; returns their hashes, oldest first."""
    path.mkdir(parents=True, exist_ok=True)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=env)
    out = []
    for i in range(commits):
        subprocess.run(["git", "-C", str(path), "commit", "-q", "--allow-empty", "-m", f"c{i}"],
                       check=True, env=env)
        out.append(subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], check=True,
                                  capture_output=True, text=True).stdout.strip())
    return out


def noisy(center, n=40, noise=0.03, seed=0):
    """n samples around center (lognormal noise)."""
    return (center * np.exp(np.random.default_rng(seed).normal(0, noise, n))).tolist()


def write_result(results, commit, values, date=0, with_samples=True, version="v1"):
    """Write `results`/MACHINE/<hash8>-ENV.json (and benchmarks.json) for DOT.

    values: one entry per parameter combination (float32 L2, int8 L2): a list of samples, None
    (failed) or NaN (skipped). The stored value is the median, its interval the 2nd-98th percentile."""
    result, low, high, samples = [], [], [], []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            result.append(v), low.append(None), high.append(None), samples.append(None)
        else:
            result.append(float(np.median(v)))
            low.append(float(np.percentile(v, 2))), high.append(float(np.percentile(v, 98)))
            samples.append(list(v) if with_samples else None)
    row = [result, PARAMS, version, 0, 1.0, low, high, low, high, [1] * 2, [len(v) if isinstance(v, list) else 0 for v in values],
           samples]
    folder = results / MACHINE
    folder.mkdir(parents=True, exist_ok=True)
    data = {"commit_hash": commit, "env_name": ENV, "date": date, "params": {"machine": MACHINE},
            "python": "3.11", "requirements": {}, "env_vars": {}, "result_columns": COLUMNS,
            "results": {DOT: row}, "durations": {}, "version": 2}
    path = folder / f"{commit[:8]}-{ENV}.json"
    path.write_text(json.dumps(data))
    (results / "benchmarks.json").write_text(json.dumps(
        {DOT: {"name": DOT, "param_names": ["dtype", "level"], "params": PARAMS, "unit": "seconds",
               "version": version, "type": "time"}, "version": 2}))
    (folder / "machine.json").write_text(json.dumps({"machine": MACHINE, "version": 1}))
    return path
