"""`python -m halp_bench.reproduce --quick` end to end (outputs, the claims its summary makes),
its verdict rule and its figures (the dashboard's Reproduction page: tests/dashboard/)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from halp_bench import mlp, reproduce

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduction")
    text = reproduce.reproduce(out, reproduce.Settings.quick())
    return out, text


def _final(frame, problem, tag):
    part = frame[(frame["problem"] == problem) & (frame["label"] == tag)]
    return float(part["subopt"].iloc[-1])


def test_writes_every_output(quick):
    out, text = quick
    for name in ("summary.md", "run.json", "convex.csv", "mu_sweep.csv", "mlp.csv",
                 "convex_lsq.html", "convex_mnist.html", "mu_sweep.html", "mlp.html",
                 "plotly.min.js"):
        assert (out / name).is_file(), name
    run = json.loads((out / "run.json").read_text())
    assert run["command"] == "python -m halp_bench.reproduce --quick" and run["wall_seconds"] > 0
    assert run["machine"] == reproduce.cpu_description()
    wall = reproduce.seconds_text(run["wall_seconds"])
    assert f"in {wall} s of wall time on {run['machine']}" in text
    html = (out / "convex_lsq.html").read_text()
    assert 'src="plotly.min.js"' in html and "cdn.plot.ly" not in html  # works offline
    assert (out / "summary.md").read_text() == text
    convex = pd.read_csv(out / "convex.csv")
    assert set(convex["label"]) == {reproduce.label(s, p) for s, p in reproduce.CONVEX_SOLVERS}
    assert set(convex["problem"]) == {"lsq", "mnist"}


def test_halp_tracks_svrg_while_lp_solvers_stall_on_least_squares(quick):
    out, text = quick
    convex = pd.read_csv(out / "convex.csv")
    finals = {tag: _final(convex, "lsq", tag) for tag in convex["label"].unique()}
    print("lsq f - f* after 30 epochs:", {k: f"{v:.1e}" for k, v in finals.items()})
    for bits in (8, 16):
        assert finals[f"halp-{bits}"] <= reproduce.TOL
        assert finals[f"lp-sgd-{bits}"] > 1e-5
        assert f"HALP-{bits} tracks SVRG: f − f* = {finals[f'halp-{bits}']:.2e} (" in text
    assert finals["lp-svrg-8"] > 1e-5


def test_mu_sweep_reports_saturations_and_auto_within_2x(quick):
    out, _ = quick
    sweep = pd.read_csv(out / "mu_sweep.csv")
    assert sweep["saturations"].dtype.kind == "i" and (sweep["saturations"] > 0).any()
    for name, part in sweep.groupby("problem"):
        best = part.loc[part["mu"] != "auto", "epochs_to_tol"].min()
        auto = part.loc[part["mu"] == "auto", "epochs_to_tol"].iloc[0]
        print(f"{name}: best fixed mu {best} epochs, auto {auto}")
        assert auto <= 2 * best


def test_mlp_halp8_accuracy_at_least_lp_sgd8(quick):
    """The paper's claim on the MLP: HALP-8 validates at least as well as LP-SGD-8. One seed's last
    epoch is too noisy to rank them (their gap flips sign across seeds at ~0.1-0.5%), so the
    statistic is the mean final validation accuracy over seeds 0 (the reproduction's run), 1 and 2."""
    out, _ = quick
    final = pd.read_csv(out / "mlp.csv").groupby("label")["val_accuracy"].last()
    print(f"seed 0, final validation accuracy: HALP-8 {final['halp-8']:.4f}, "
          f"LP-SGD-8 {final['lp-sgd-8']:.4f}, SGD-fp32 {final['sgd-fp32']:.4f}")
    settings = reproduce.Settings.quick()
    _, problem = reproduce.mnist_problems(settings)
    means = {}
    for method, tag in (("halp", "halp-8"), ("lp-sgd", "lp-sgd-8")):
        accuracies = [final[tag]] + [
            mlp.train(problem, method, hidden=settings.mlp_hidden, epochs=settings.mlp_epochs,
                      step=settings.mlp_step, bits=8, mu=settings.mlp_mu, seed=seed)
            .history["val_accuracy"].iloc[-1] for seed in (1, 2)]
        means[tag] = float(np.mean(accuracies))
    print(f"mean over seeds 0-2: HALP-8 {means['halp-8']:.4f}, LP-SGD-8 {means['lp-sgd-8']:.4f}")
    assert means["halp-8"] >= means["lp-sgd-8"]


def _synthetic_frames(finals):
    """Frames shaped like run_convex / run_mu_sweep / run_mlp output: one problem ("mnist"), every
    solver label ending at ``finals[label]`` (default 1e-2) after 2 epochs of 0.0001 s each."""
    convex = pd.concat([pd.DataFrame(dict(
        epoch=[0, 1, 2], subopt=[1.0, 2 * finals.get(tag, 1e-2), finals.get(tag, 1e-2)],
        grad_norm=[1.0, 0.1, 0.01], seconds=[0.0, 1e-4, 2e-4], saturations=0, problem="mnist",
        label=tag)) for tag in (reproduce.label(s, p) for s, p in reproduce.CONVEX_SOLVERS)],
        ignore_index=True)
    sweep = pd.DataFrame(dict(problem="lsq", kappa=140.0, mu_min=0.6, mu=["0.6", "auto"],
                              mu_factor=[1.0, np.nan], epochs_to_tol=[20.0, 15.0],
                              final_subopt=1e-30, saturations=[0, 5]))
    mlp_frame = pd.concat([pd.DataFrame(dict(
        epoch=[0, 1], train_loss=[2.0, 0.1], val_accuracy=[0.1, 0.95], saturations=0,
        seconds=[0.0, 0.5], label=tag)) for tag in ("sgd-fp32", "lp-sgd-8", "halp-8")],
        ignore_index=True)
    return convex, sweep, mlp_frame


def test_summary_verdicts_follow_the_stated_rule():
    """The --quick MNIST finals of the issue: HALP-16 at 8.99e-3 against SVRG's 8.35e-3 tracks
    (1.08x), HALP-8 at 2.36e-2 does not (2.8x > TRACK_FACTOR); times keep their digits."""
    frames = _synthetic_frames({"svrg-fp64": 8.35e-3, "halp-16": 8.99e-3, "halp-8": 2.36e-2})
    run = dict(command="python -m halp_bench.reproduce --quick", wall_seconds=61.0,
               machine="AMD EPYC, 2 logical CPUs, AVX2")
    text = reproduce.summary(*frames, reproduce.Settings.quick(), run)
    assert (f"HALP-b *tracks SVRG* on a problem when its final f − f* is at most "
            f"{reproduce.TRACK_FACTOR:g}× SVRG-fp64's, or when both are at most 1e-10.") in text
    assert "HALP-16 tracks SVRG: f − f* = 8.99e-03" in text
    assert "HALP-8 does NOT track SVRG: f − f* = 2.36e-02" in text
    assert "| svrg-fp64 | 8.35e-03 |" in text and "| 0.0002 |" in text and "| 0.00 |" not in text
    assert "in 61 s of wall time on AMD EPYC, 2 logical CPUs, AVX2." in text


def test_tracks_rule_and_seconds_text():
    assert reproduce.tracks(8.99e-3, 8.35e-3) and not reproduce.tracks(2.36e-2, 8.35e-3)
    assert reproduce.tracks(4.4e-22, 3.6e-24)          # both below the floor
    assert not reproduce.tracks(1e-9, 1e-12)           # 1000x, above the floor
    assert [reproduce.seconds_text(x) for x in (0.000123, 0.0123, 1.5, 250.4)] == [
        "0.000123", "0.0123", "1.5", "250"]


def test_figures_take_any_number_of_labels():
    """More labels than the palette has colours (a folder with many runs) still draws."""
    labels = [f"run-{i}" for i in range(25)]
    convex = pd.DataFrame([dict(problem="p", label=t, epoch=e, seconds=0.1 * e,
                                subopt=1.0 / (e + 1),
                                grad_norm=1.0) for t in labels for e in range(3)])
    mlp = pd.DataFrame([dict(label=t, epoch=e, train_loss=1.0, val_accuracy=0.5)
                        for t in labels for e in range(3)])
    assert len(reproduce.convex_figure(convex, "p").data) == 25 * 4
    assert len(reproduce.mlp_figure(mlp).data) == 25 * 2
