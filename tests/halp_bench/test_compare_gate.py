"""The gate around the rule: reading result files, history thresholds, acknowledgements, reports
and the command line's exit codes (`python -m halp_bench.compare --no-run` on fixture files)."""

import json
import math
import subprocess
from pathlib import Path

import pytest
from compare_fixtures import DOT, ENV, MACHINE, git_repo, noisy, write_result

from halp_bench import asv_results
from halp_bench.compare import acknowledged, history, judge, report, rule, run
from halp_bench.compare.__main__ import main

F32, I8 = "dtype=float32, level=L2", "dtype=int8, level=L2"


@pytest.fixture
def repo(tmp_path):
    """(repository, out folder, [base, head]): two commits, no results yet."""
    commits = git_repo(tmp_path / "repo")
    return tmp_path / "repo", tmp_path / "out", commits


def gate(repo, out, base, head, capsys=None):
    """Exit code of the CLI judging OUT/asv/results, and the JSON report (None when not written)."""
    code = main([base, head, "--repo", str(repo), "--out", str(out), "--machine", MACHINE, "--no-run"])
    path = out / "report.json"
    return code, json.loads(path.read_text()) if path.exists() else None


def verdicts(doc):
    return {r["params"]: r["verdict"] for r in doc["rows"]}


def test_identical_commits_pass(repo):
    repo, out, (base, head) = repo
    write_result(out / "asv" / "results", base, [noisy(1e-3, seed=1), noisy(5e-4, seed=2)])
    write_result(out / "asv" / "results", head, [noisy(1e-3, seed=3), noisy(5e-4, seed=4)])
    code, doc = gate(repo, out, base, head)
    assert code == judge.EXIT_OK
    assert verdicts(doc) == {F32: rule.NO_CHANGE, I8: rule.NO_CHANGE}


def test_a_2x_slowdown_fails_with_exit_1_and_reports(repo, capsys):
    repo, out, (base, head) = repo
    write_result(out / "asv" / "results", base, [noisy(1e-3, seed=1), noisy(5e-4, seed=2)])
    write_result(out / "asv" / "results", head, [noisy(2e-3, seed=3), noisy(5e-4, seed=4)])
    code, doc = gate(repo, out, base, head)
    assert code == judge.EXIT_REGRESSION == doc["exit_code"]
    assert verdicts(doc) == {F32: rule.REGRESSION, I8: rule.NO_CHANGE}
    row = next(r for r in doc["rows"] if r["params"] == F32)
    assert 1.8 < row["low"] < row["ratio"] < row["high"] < 2.3 and row["threshold"] == rule.MIN_EFFECT
    assert row["n_base"] == row["n_head"] == 40 and row["threshold_from"] == "default"
    assert doc["counts"][rule.REGRESSION] == 1 and doc["base"] == base and doc["head"] == head
    printed = capsys.readouterr().out
    assert "ratio [interval]" in printed and f"{DOT}  {F32}" in printed and "exit code 1" in printed
    md = (out / "report.md").read_text()
    assert f"`{base[:8]}` → `{head[:8]}`" in md and "| benchmark | params | BASE | HEAD |" in md
    assert "❌ regression" in md and "1 without change" in md and rule.RULE_TEXT in md


def test_an_improvement_passes(repo):
    repo, out, (base, head) = repo
    write_result(out / "asv" / "results", base, [noisy(2e-3, seed=1), noisy(5e-4, seed=2)])
    write_result(out / "asv" / "results", head, [noisy(1e-3, seed=3), noisy(5e-4, seed=4)])
    code, doc = gate(repo, out, base, head)
    assert code == judge.EXIT_OK and verdicts(doc)[F32] == rule.IMPROVEMENT


def test_a_failed_benchmark_gives_exit_2(repo):
    repo, out, (base, head) = repo
    write_result(out / "asv" / "results", base, [noisy(1e-3, seed=1), noisy(5e-4, seed=2)])
    write_result(out / "asv" / "results", head, [noisy(2e-3, seed=3), None])
    code, doc = gate(repo, out, base, head)
    assert code == judge.EXIT_FAILED               # 2 wins over the regression
    assert verdicts(doc) == {F32: rule.REGRESSION, I8: rule.FAILED}
    assert next(r for r in doc["rows"] if r["params"] == I8)["note"] == "HEAD failed"


def test_skipped_on_both_sides_is_left_out(repo):
    repo, out, (base, head) = repo
    write_result(out / "asv" / "results", base, [noisy(1e-3, seed=1), math.nan])
    write_result(out / "asv" / "results", head, [noisy(1e-3, seed=3), math.nan])
    code, doc = gate(repo, out, base, head)
    assert code == judge.EXIT_OK and list(verdicts(doc)) == [F32]


def test_a_corrupt_or_missing_result_file_is_a_clear_error(repo, capsys):
    repo, out, (base, head) = repo
    write_result(out / "asv" / "results", base, [noisy(1e-3, seed=1), noisy(5e-4, seed=2)])
    code, doc = gate(repo, out, base, head)
    assert code == judge.EXIT_FAILED and doc is None
    assert f"expected one asv result file of commit {head[:8]}" in capsys.readouterr().err
    path = write_result(out / "asv" / "results", head, [noisy(1e-3, seed=3), noisy(5e-4, seed=4)])
    path.write_text('{"results": {')
    assert gate(repo, out, base, head)[0] == judge.EXIT_FAILED
    err = capsys.readouterr().err
    assert str(path) in err and "not JSON" in err
    path.write_text(json.dumps({"commit_hash": head}))
    assert gate(repo, out, base, head)[0] == judge.EXIT_FAILED
    assert "not an asv result file" in capsys.readouterr().err


def test_a_bad_commit_is_a_clear_error(repo, capsys):
    repo, out, (base, _) = repo
    assert main([base, "no-such-ref", "--repo", str(repo), "--out", str(repo / "o"), "--machine", MACHINE,
                 "--no-run"]) == judge.EXIT_FAILED
    assert "not a commit" in capsys.readouterr().err


def test_an_acknowledged_regression_passes(repo):
    repo, out, (base, head) = repo
    write_result(out / "asv" / "results", base, [noisy(1e-3, seed=1), noisy(5e-4, seed=2)])
    write_result(out / "asv" / "results", head, [noisy(2e-3, seed=3), noisy(5e-4, seed=4)])
    ack_file = repo / acknowledged.ACK_FILE
    ack_file.parent.mkdir()
    ack_file.write_text(f'[[change]]\ncommit = "{head[:10]}"\nbenchmark = "bench_kernels\\\\.Dot\\\\..*"\n'
                        f'params = "dtype=float32, .*"\nreason = "the dot kernel now checks overflow"\n')
    code, doc = gate(repo, out, base, head)
    assert code == judge.EXIT_OK
    assert verdicts(doc) == {F32: rule.ACKNOWLEDGED, I8: rule.NO_CHANGE}
    note = next(r for r in doc["rows"] if r["params"] == F32)["note"]
    assert "regression acknowledged" in note and "checks overflow" in note
    assert "☑️ acknowledged" in (out / "report.md").read_text()


def test_history_thresholds_come_from_earlier_results(repo, tmp_path):
    """A noisy benchmark's own history raises its threshold above a 1.2x change; without that
    history the same change is a regression."""
    repo, out, (base, head) = repo
    write_result(out / "asv" / "results", base, [noisy(1e-3, seed=1), noisy(5e-4, seed=2)])
    write_result(out / "asv" / "results", head, [noisy(1.25e-3, seed=3), noisy(5e-4, seed=4)])
    assert gate(repo, out, base, head)[1]["rows"][0]["verdict"] == rule.REGRESSION
    earlier = noisy(1e-3, n=12, noise=0.15, seed=5)
    for i, value in enumerate(earlier):
        write_result(repo / "results", f"{i:08x}" + "a" * 32, [[value] * 5, [5e-4] * 5], date=i)
    write_result(repo / "results", head, [[9.0] * 5, [5e-4] * 5], date=99)     # HEAD itself: left out
    code, doc = gate(repo, out, base, head)
    row = doc["rows"][0]
    assert row["params"] == F32 and row["threshold_from"] == "history of 12 commits"
    assert row["threshold"] == pytest.approx(rule.history_threshold(earlier))
    assert row["threshold"] > row["ratio"] > rule.MIN_EFFECT and row["verdict"] == rule.NO_CHANGE
    assert code == judge.EXIT_OK
    assert doc["rows"][1]["threshold"] == rule.MIN_EFFECT     # int8: no noise in its history


def test_earlier_values_keep_the_version_environment_and_order(tmp_path):
    results = tmp_path / "results"
    write_result(results, "b" * 40, [[2.0] * 3, [1.0] * 3], date=2)
    write_result(results, "a" * 40, [[1.0] * 3, [1.0] * 3], date=1)
    write_result(results, "c" * 40, [[3.0] * 3, None], date=3, version="v2")
    found = history.earlier_values(results, MACHINE, ENV, {DOT: ["dtype", "level"]})
    assert found[(DOT, F32, "v1")] == [1.0, 2.0] and found[(DOT, F32, "v2")] == [3.0]
    assert (DOT, I8, "v2") not in found                    # failed values are no history
    assert history.earlier_values(results, MACHINE, "other-env") == {}
    assert history.earlier_values(tmp_path / "none", MACHINE, ENV) == {}


def test_summaries_decide_where_no_samples_were_recorded(tmp_path):
    base = write_result(tmp_path, "a" * 40, [noisy(1e-3, seed=1), noisy(5e-4, seed=2)], with_samples=False)
    head = write_result(tmp_path, "b" * 40, [noisy(3e-3, seed=3), noisy(5e-4, seed=4)], with_samples=False)
    rows = judge.judge(asv_results.read(base), asv_results.read(head))
    assert [r.verdict for r in rows] == [rule.REGRESSION, rule.NO_CHANGE]
    assert rows[0].n_base == 0 and rows[0].params == "param1=float32, param2=L2"


@pytest.mark.parametrize("text, words", [
    ("[[change]\n", "not valid TOML"),
    ('[[change]]\ncommit = "abcdef12"\nbenchmark = ".*"\n', "missing ['reason']"),
    ('[[change]]\ncommit = "xyz"\nbenchmark = ".*"\nreason = "r"\n', "7 to 40 hex"),
    ('[[change]]\ncommit = "abcdef12"\nbenchmark = "(("\nreason = "r"\n', "not a regular expression"),
    ('[[change]]\ncommit = "abcdef12"\nbenchmark = ".*"\nreason = "r"\nwhy = "x"\n', "unknown ['why']"),
    ('[[ack]]\ncommit = "abcdef12"\n', "unknown table"),
])
def test_bad_acknowledgement_files_name_the_problem(tmp_path, text, words):
    path = tmp_path / "acknowledged.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match="acknowledged.toml") as err:
        acknowledged.load(path)
    assert words in str(err.value)


def test_the_shipped_acknowledgement_file_is_valid():
    from pathlib import Path
    assert isinstance(acknowledged.load(Path(__file__).resolve().parents[2] / acknowledged.ACK_FILE), list)


def test_private_config_keeps_asv_away_from_results(tmp_path):
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    path = run.private_config(root, tmp_path)
    conf = json.loads(path.read_text())
    assert conf["results_dir"] == str(tmp_path.resolve() / "results")
    assert conf["html_dir"] == str(tmp_path.resolve() / "html")
    assert conf["repo"] == str(root) and conf["env_dir"] == str(root / ".asv" / "env")
    assert conf["benchmark_dir"] == str(root / "benchmarks") and conf["version"] == 1
    assert all("{conf_dir}" not in c for c in conf["install_command"])
    assert any(f"{root}/constraints.txt" in c for c in conf["install_command"])


def test_run_asv_refuses_what_it_cannot_compare(tmp_path):
    with pytest.raises(run.GateError, match="same commit"):
        run.run_asv(tmp_path, "a" * 40, "a" * 40, tmp_path, MACHINE, 4)
    with pytest.raises(run.GateError, match="at least 2"):
        run.run_asv(tmp_path, "a" * 40, "b" * 40, tmp_path, MACHINE, 1)


def test_an_unregistered_machine_is_named(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps({"version": 1, "other": {}}))
    with pytest.raises(run.GateError, match="'box-avx2' is not registered"):
        run.check_machine("box-avx2", tmp_path / "m.json")
    run.check_machine("other", tmp_path / "m.json")


def test_json_report_has_no_nan_and_markdown_escapes_pipes():
    row = judge.Row(DOT, "x=a|b", "seconds", 1e-3, math.nan, math.nan, math.nan, math.nan, 1.1, "default",
                    3, 0, rule.FAILED, "HEAD failed")
    info = {"base": "a" * 40, "head": "b" * 40, "machine": MACHINE, "rounds": 4}
    doc = json.loads(report.to_json([row], info, judge.exit_code([row])))
    assert doc["exit_code"] == 2 and doc["rows"][0]["head"] is None and doc["schema"] == report.SCHEMA
    assert "x=a\\|b" in report.markdown([row], info, 2)
    assert report.value_text(1.5e-3, "seconds") == "1.5 ms" and report.value_text(2e9, "bytes") == "2 GB"
    assert judge.exit_code([]) == judge.EXIT_FAILED


def test_the_ci_recipe_runs_the_gate_and_posts_its_markdown():
    import yaml
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    flow = yaml.safe_load((root / "docs" / "ci" / "regression-gate.yml").read_text())
    assert "pull_request" in flow[True] and flow["permissions"]["pull-requests"] == "write"
    steps = flow["jobs"]["gate"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    gate_step = next(s for s in steps if "./run compare" in s.get("run", ""))
    assert "pull_request.base.sha" in gate_step["run"] and "pull_request.head.sha" in gate_step["run"]
    assert "--out compare-results" in gate_step["run"] and 'echo "code=$?"' in gate_step["run"]
    post = next(s for s in steps if "createComment" in s.get("with", {}).get("script", ""))
    assert "compare-results/report.md" in post["with"]["script"]
    assert steps[-1]["if"] == "steps.gate.outputs.code != '0'"
    assert not (root / ".github" / "workflows" / "regression-gate.yml").exists()   # a recipe, not active here


def test_run_asv_names_its_files_by_absolute_path(tmp_path, monkeypatch):
    """The default output folder is relative (compare-results/): asv must still find the hash file
    and the private config, so both reach it as absolute paths (a relative HASHFILE: made asv say
    'is not a file' and the gate exit 2)."""
    seen = {}

    def fake_run(cmd, **kw):
        seen["cmd"] = cmd
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(run.subprocess, "run", fake_run)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "asv.conf.json").write_text(
        (Path(__file__).resolve().parents[2] / "asv.conf.json").read_text())
    run.run_asv(tmp_path, "a" * 40, "b" * 40, Path("compare-results") / "asv", MACHINE, 2)
    hashfile = Path(seen["cmd"][-1].removeprefix("HASHFILE:"))
    config = Path(seen["cmd"][seen["cmd"].index("--config") + 1])
    assert hashfile.is_absolute() and hashfile.is_file()
    assert config.is_absolute() and config.is_file()
