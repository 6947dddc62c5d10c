"""Reading the project's files back: every decoding error names the file (halp_bench.files), and
the one rule for non-finite values in asv results (halp_bench.compare.asv_results.value_status)
as the gate and tools.docs_numbers apply it."""

import json
import math
import re

import pytest

from halp_bench import asv_results, files
from halp_bench.compare import acknowledged, judge, run
from tools.docs_numbers import formatting, sources

TIME = "bench_epoch.EpochTime.time_epoch"
TO_TARGET = "bench_peers.PeerTimeToTarget.track_time_to_target"
RATIO = "bench_peers.PeerRatio.track_time_to_1e4_ratio"


def result_file(path, results):
    """An asv result file at `path`: {benchmark: (values, samples or None)} over params 'a', 'b', ..."""
    rows = {}
    for name, (values, samples) in results.items():
        params = [[repr(chr(97 + i)) for i in range(len(values))]]
        rows[name] = [values, params, "v1", None, None,
                      samples or [None] * len(values)]
    path.write_text(json.dumps({"commit_hash": "a" * 40, "env_name": "env", "date": 1, "version": 2,
                                "result_columns": ["result", "params", "version", "stats_ci_99_a",
                                                   "stats_ci_99_b", "samples"],
                                "results": rows}))   # json.dumps writes bare NaN / Infinity, as asv
    return path


@pytest.mark.parametrize("content, words", [
    (b"\xff\xfe{}", "not UTF-8 text (byte 0"),
    (b'{"commit_hash": "ab', "not JSON (line 1, column 17: Unterminated string"),   # truncated
    (b"hello", "not JSON (line 1, column 1"),
])
def test_json_that_cannot_be_decoded_names_the_file(tmp_path, content, words):
    path = tmp_path / "r.json"
    path.write_bytes(content)
    with pytest.raises(files.FileFormatError, match="^" + re.escape(f"{path}: {words}")):
        files.read_json(path)
    with pytest.raises(asv_results.ResultFileError, match=re.escape(str(path))):
        asv_results.read(path)


def test_missing_toml_and_csv_files_name_the_file(tmp_path):
    with pytest.raises(files.FileFormatError, match=rf"^{tmp_path / 'none.json'}: cannot be read"):
        files.read_json(tmp_path / "none.json")
    (tmp_path / "a.toml").write_text("[[change]\n")
    with pytest.raises(files.FileFormatError, match=rf"^{tmp_path / 'a.toml'}: not valid TOML"):
        files.read_toml(tmp_path / "a.toml")
    (tmp_path / "a.csv").write_bytes(b"")
    with pytest.raises(files.FileFormatError, match=rf"^{tmp_path / 'a.csv'}: not a CSV table"):
        files.read_csv(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_bytes("x,y\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(files.FileFormatError, match=rf"^{tmp_path / 'b.csv'}: not UTF-8"):
        files.read_csv(tmp_path / "b.csv")
    (tmp_path / "c.csv").write_text('x,y\n"1,2\n')
    with pytest.raises(files.FileFormatError, match=rf"^{tmp_path / 'c.csv'}: not a CSV table"):
        files.read_csv(tmp_path / "c.csv")
    (tmp_path / "good.csv").write_text("x,y\na,1\n")
    assert list(files.read_csv(tmp_path / "good.csv")["y"]) == [1]


def test_acknowledgements_and_asv_files_of_the_gate_name_the_file(tmp_path):
    ack = tmp_path / "acknowledged.toml"
    ack.write_bytes(b'[[change]]\ncommit = "\xff"\n')
    with pytest.raises(ValueError, match=rf"^{ack}: not UTF-8"):
        acknowledged.load(ack)
    machines = tmp_path / "asv-machine.json"
    machines.write_text('{"vm": ')
    with pytest.raises(run.GateError, match=rf"{machines}: not JSON"):
        run.check_machine("vm", machines)
    (tmp_path / "benchmarks.json").write_text("[1, 2")
    with pytest.raises(asv_results.ResultFileError, match="benchmarks.json: not JSON"):
        asv_results.param_names(tmp_path)


def test_value_status_is_one_rule_for_every_value():
    assert asv_results.value_status(TIME, 1.5) == asv_results.OK
    assert asv_results.value_status(TIME, None) == asv_results.FAILED
    assert asv_results.value_status(TIME, math.nan) == asv_results.SKIPPED
    for bad in (math.inf, -math.inf, "1.0", True, [1.0], 10 ** 400):
        assert asv_results.value_status(TIME, bad) == asv_results.INVALID, bad
    for name in (TO_TARGET, RATIO, "bench_convergence.Convergence.track_epochs_to_target"):
        assert asv_results.value_status(name, math.inf) == asv_results.NOT_REACHED
        assert asv_results.value_status(name, -math.inf) == asv_results.INVALID


def test_result_files_with_non_finite_values_are_flagged(tmp_path):
    path = result_file(tmp_path / "r.json", {
        TIME: ([1.0, -math.inf, math.nan, math.inf, 2.0], [None, None, None, None, [2.0, math.inf]]),
        TO_TARGET: ([math.inf, 0.5], None)})
    got = asv_results.read(path)
    status = {k[1]: m.status for k, m in got.items() if k[0] == TIME}
    assert status == {"param1=a": "ok", "param1=b": "invalid", "param1=c": "skipped",
                      "param1=d": "invalid", "param1=e": "invalid"}   # e: a sample is inf
    assert math.isnan(got[(TIME, "param1=b")].value) and got[(TIME, "param1=b")].raw == -math.inf
    reached = got[(TO_TARGET, "param1=a")]
    assert reached.status == asv_results.NOT_REACHED and reached.value == math.inf
    assert asv_results.benchmark_values(path, TO_TARGET)[("b",)].value == 0.5


def test_the_gate_fails_an_invalid_value_and_leaves_out_a_target_missed_twice(tmp_path):
    base = result_file(tmp_path / "base.json", {TIME: ([1.0, 1.0], None), TO_TARGET: ([math.inf], None)})
    head = result_file(tmp_path / "head.json", {TIME: ([-math.inf, 1.0], None),
                                                TO_TARGET: ([math.inf], None)})
    rows = judge.judge(asv_results.read(base), asv_results.read(head))
    assert [(r.benchmark, r.params, r.verdict, r.note) for r in rows if r.verdict == "failed"] == \
        [(TIME, "param1=a", "failed", "HEAD invalid")]
    assert TO_TARGET not in {r.benchmark for r in rows}
    assert judge.exit_code(rows) == judge.EXIT_FAILED


def test_docs_quote_not_reached_and_refuse_an_invalid_value(tmp_path):
    path = result_file(tmp_path / "r.json", {TO_TARGET: ([math.inf, 0.5], None),
                                             TIME: ([1.0, -math.inf], None)})
    values = sources.asv_values(path, TO_TARGET)
    assert values == {("a",): math.inf, ("b",): 0.5}
    assert formatting.seconds(values[("a",)]) == "not reached"
    with pytest.raises(files.FileFormatError, match=rf"^{path}: {TIME}\('b',\) holds -inf"):
        sources.asv_values(path, TIME)
