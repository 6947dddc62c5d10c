"""python -m halp_bench.nets: the verdict rule, the tables and summary, failures in the exit status,
and the quick profile end to end (slow: both networks, every run, five seeds)."""

import json

import numpy as np
import pandas as pd
import pytest

from halp_bench.nets import __main__ as cli
from halp_bench.nets import experiment, train


def test_verdict_rule():
    level = np.array([0.80, 0.81, 0.82, 0.83, 0.84])
    assert experiment.verdict(level + 0.05, level) == "ahead"
    assert experiment.verdict(level - 0.05, level) == "behind"
    assert experiment.verdict(level + 0.01, level) == "level"   # less than the seeds' spread
    # the spread is the wider of the two: a noisy HALP is level even with a higher median
    assert experiment.verdict(np.array([0.70, 0.80, 0.88, 0.95, 0.99]), level) == "level"


def _frame(failure=""):
    """nets.csv rows: one network, HALP-8 ahead of LP-SGD-8, two epochs, five seeds."""
    rows = []
    for method, base in (("halp", 0.90), ("lp-sgd", 0.80), ("sgd", 0.85)):
        precision = "fp32" if method == "sgd" else "8"
        for seed in range(5):
            for epoch in (0, 1, 2):
                rows.append(dict(network="cnn", method=method, precision=precision,
                                 label=f"{method}-{precision}", seed=seed, epoch=epoch,
                                 seconds=1.5 * epoch, val_loss=1.0 / (1 + epoch),
                                 val_accuracy=0.1 if epoch == 0 else base + 0.002 * seed,
                                 failure=failure if (method, seed) == ("halp", 4) else ""))
    return pd.DataFrame(rows)


def test_tables_and_summary():
    frame = _frame()
    tab = experiment.table(frame).set_index("label")
    assert tab.loc["halp-8", "median"] == pytest.approx(0.904)
    assert tab.loc["halp-8", "epoch_seconds"] == pytest.approx(1.5)
    assert (tab["seeds"] == 5).all() and (tab["failed"] == 0).all()
    ver = experiment.verdicts(frame)
    assert ver[["network", "precision", "verdict"]].values.tolist() == [["cnn", "8", "ahead"]]
    run = dict(command="python -m halp_bench.nets --quick", wall_seconds=12.0, machine="a CPU")
    text = experiment.summary(frame, experiment.PROFILES["quick"], run)
    assert "| halp-8 | 0.9040 (0.9004–0.9076) | 1.50 | 0 of 5 |" in text
    assert "| 8 | 0.9040 | 0.8040 | +0.1000 |" in text and "**ahead**" in text
    assert "## Failed runs\n\nNone." in text


def test_a_failed_run_is_listed_and_fails_the_command(monkeypatch, tmp_path, capsys):
    message = "cnn halp-8 diverged at epoch 1: the weights or the training loss are not finite"
    frame = _frame(failure=message)
    assert experiment.table(frame).set_index("label").loc["halp-8", "failed"] == 1
    monkeypatch.setattr(experiment, "run_all", lambda profile, client, progress, grid: frame)
    monkeypatch.setattr(cli.engine, "client", _no_cluster)
    assert cli.main(["--quick", "--out", str(tmp_path)]) == 1
    assert f"FAILED: {message} (seed 4)" in capsys.readouterr().err
    assert f"- {message} (seed 4)" in (tmp_path / "nets.md").read_text()


class _no_cluster:
    def __init__(self, *args):
        pass

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_bad_arguments_are_refused(tmp_path):
    for argv in (["--seeds", "0"], ["--workers", "0"]):
        with pytest.raises(SystemExit):
            cli.main([*argv, "--out", str(tmp_path)])


@pytest.mark.slow
def test_the_quick_profile_trains_both_networks_in_every_run(tmp_path):
    """The CI run of the deep-learning claim: every network x run x seed, no failure, every
    output written."""
    assert cli.main(["--quick", "--out", str(tmp_path)]) == 0
    frame = pd.read_csv(tmp_path / "nets.csv", keep_default_na=False)
    profile = experiment.PROFILES["quick"]
    runs = frame.groupby(["network", "label"])["seed"].nunique()
    want = {(net, train.label(m, p)) for net in experiment.NETWORKS for m, p in train.RUNS}
    assert set(runs.index) == want and (runs == profile.seeds).all()
    assert (frame.groupby(["network", "label", "seed"])["epoch"].max()
            == frame.groupby(["network", "label", "seed"])["network"].first().map(
                profile.epochs)).all()
    assert (frame["failure"] == "").all()
    final = frame[frame["epoch"] > 0].groupby(["network", "label"])["val_accuracy"].median()
    assert (final.loc["cnn"] > 0.6).all() and (final.loc["lstm"] > 0.5).all()
    text = (tmp_path / "nets.md").read_text()
    assert text.count("| precision | HALP | LP-SGD | gap | spread | verdict |") == 2
    run = json.loads((tmp_path / "nets_run.json").read_text())
    assert run["command"] == "python -m halp_bench.nets --quick" and run["wall_seconds"] > 0
    assert all((tmp_path / f"nets_{net}.html").stat().st_size > 0 for net in experiment.NETWORKS)


def test_the_study_varies_one_thing_at_a_time():
    profile = experiment.PROFILES["quick"]
    runs = experiment.study_runs(profile)
    assert len(runs) == len(experiment.NETWORKS) * len(experiment.STUDY) * profile.seeds
    by = {(r.network, r.label): r for r in runs if r.seed == 0}
    base = by[("cnn", "halp-8")]
    assert (base.step, base.mu, base.epoch_fraction, base.epochs) == (
        profile.cnn_step, "auto", 1.0, profile.cnn_epochs)
    assert by[("cnn", "halp-16")].precision == 16
    assert by[("cnn", "halp-8, mu 10")].mu == 10.0
    quarter = by[("lstm", "halp-8, T = 1/4 pass")]
    assert quarter.epoch_fraction == 0.25 and quarter.epochs == 4 * profile.lstm_epochs
    assert by[("lstm", "lp-sgd-8, step x 2")].step == 2 * profile.lstm_step


def test_runs_can_be_narrowed_to_a_network_and_labels(tmp_path, capsys):
    profile = experiment.PROFILES["quick"]
    grid = experiment.selected(experiment.study_runs, "lstm", ["halp-8, mu 0.1", "halp-16"])
    runs = grid(profile)
    assert {(r.network, r.name) for r in runs} == {("lstm", "halp-8, mu 0.1"), ("lstm", "halp-16")}
    assert len(runs) == 2 * profile.seeds
    assert len(experiment.selected(experiment.runs)(profile)) == len(experiment.runs(profile))
    with pytest.raises(SystemExit):
        cli.main(["--quick", "--only", "halp-7", "--out", str(tmp_path)])
    assert "no run has the label(s) ['halp-7']" in capsys.readouterr().err
