"""`python -m halp_bench.reproduce --tiny` end to end (outputs, the claims its summary makes, over
three seeds), its verdict rule on medians and its figures (median and 5-95% band over seeds; the
dashboard's Reproduction page: tests/dashboard/)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from halp_core import registry

from halp_bench import mlp, reproduce

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduction")
    text = reproduce.reproduce(out, reproduce.Settings.tiny())
    return out, text


def _finals(frame, problem):
    """{label: median over seeds of the final f - f*} of one problem."""
    runs = reproduce.convex_runs(frame)
    return runs[runs["problem"] == problem].groupby("label")["subopt"].median().to_dict()


def test_writes_every_output(quick):
    out, text = quick
    for name in ("summary.md", "run.json", "convex.csv", "formats.csv", "mu_sweep.csv", "mlp.csv",
                 "convex_lsq.html", "convex_mnist.html", "convex_mnist-binary.html",
                 "mu_sweep.html", "mlp.html", "plotly.min.js"):
        assert (out / name).is_file(), name
    run = json.loads((out / "run.json").read_text())
    assert run["command"] == "python -m halp_bench.reproduce --tiny" and run["wall_seconds"] > 0
    assert run["machine"] == reproduce.cpu_description()
    wall = reproduce.seconds_text(run["wall_seconds"])
    assert f"in {wall} s of wall time on {run['machine']}" in text
    html = (out / "convex_lsq.html").read_text()
    assert 'src="plotly.min.js"' in html and "cdn.plot.ly" not in html  # works offline
    assert (out / "summary.md").read_text() == text
    convex = pd.read_csv(out / "convex.csv")
    assert set(convex["label"]) == {reproduce.label(s, p) for s, p in reproduce.CONVEX_SOLVERS}
    assert {"halp-8", "halp-10", "halp-12", "halp-16"} <= set(convex["label"])
    assert {reproduce.label(s, f) for s in ("lp-sgd", "halp") for f in registry.FORMATS} <= set(
        convex["label"])
    assert set(convex["problem"]) == {"lsq", "mnist", "mnist-binary"}
    seeds = set(range(reproduce.Settings.tiny().seeds))
    for name in ("convex.csv", "mu_sweep.csv", "mlp.csv"):
        assert set(pd.read_csv(out / name)["seed"]) == seeds, name
    assert "median over 3 seed(s)" in text and "applied to the medians" in text


def test_halp_tracks_svrg_while_lp_solvers_stall_on_least_squares(quick):
    out, text = quick
    convex = pd.read_csv(out / "convex.csv")
    finals = _finals(convex, "lsq")
    print("lsq median f - f* after 30 epochs:", {k: f"{v:.1e}" for k, v in finals.items()})
    for bits in (8, 16):
        assert finals[f"halp-{bits}"] <= reproduce.TOL
        assert finals[f"lp-sgd-{bits}"] > 1e-5
        assert f"HALP-{bits} tracks SVRG: f − f* = {finals[f'halp-{bits}']:.2e} (" in text
    assert finals["lp-svrg-8"] > 1e-5


def test_float_formats_halp_converges_where_lp_sgd_stalls_on_least_squares(quick):
    """Every float format on the shared 8-bit least-squares data: HALP in bf16 and fp16 reaches
    1e-10 like SVRG and keeps falling linearly in fp8 (bit centering re-scales its offset every
    epoch, so the offset needs only relative precision), while LP-SGD stalls in every format; the
    summary states each verdict by the rule on the medians."""
    out, text = quick
    convex = pd.read_csv(out / "convex.csv")
    finals = _finals(convex, "lsq")
    runs = reproduce.convex_runs(convex)
    stall = runs[runs["problem"] == "lsq"].groupby("label")["stall"].median()
    print("lsq formats, median f - f*:", {f"{s}-{f}": f"{finals[reproduce.label(s, f)]:.1e}"
                                          for s in ("halp", "lp-sgd") for f in registry.FORMATS})
    for fmt in ("bf16", "fp16"):
        assert finals[f"halp-{fmt}"] <= reproduce.TOL
    for fmt in registry.FORMATS:
        assert stall[f"halp-{fmt}"] > 1e3                       # still falling, linearly
        assert finals[f"halp-{fmt}"] < 1e-3 * finals[f"lp-sgd-{fmt}"]
        said = reproduce.verdict(finals[f"lp-sgd-{fmt}"], stall[f"lp-sgd-{fmt}"],
                                 finals["svrg-fp64"])
        assert said == "stalls", fmt
        assert f"| lsq | {fmt} |" in text
        assert f" {said}: {finals[f'lp-sgd-{fmt}']:.2e} (" in text
    line = next(t for t in text.splitlines() if t.startswith("- lsq: "))
    assert all(f"LP-SGD-{fmt}" in line.split("stalls: ")[1].split(";")[0]
               for fmt in registry.FORMATS), line


def test_format_floors_round_w_star_within_the_formats_relative_precision(quick):
    """formats.csv: w* rounded to each format at LP-SGD's scale is off by at most the format's
    relative precision 2^-(M+1) (norm-wise), and more mantissa bits give a lower floor."""
    out, _ = quick
    floors = pd.read_csv(out / "formats.csv")
    assert set(floors["problem"]) == {"lsq", "mnist", "mnist-binary"}
    assert list(floors["format"].unique()) == list(registry.FORMATS)
    for row in floors.itertuples():
        entry = registry.format_spec(row.format)
        assert row.relative_precision == 2.0 ** -(entry.mantissa_bits + 1)
        assert 0 < row.rel_error <= row.relative_precision, row
        assert row.floor_subopt > 0
    for _, part in floors.groupby("problem"):
        ordered = part.sort_values("mantissa_bits")["floor_subopt"].to_numpy()
        assert (np.diff(ordered) < 0).all(), part


def test_mu_sweep_reports_saturations_and_auto_within_2x(quick):
    out, _ = quick
    sweep = pd.read_csv(out / "mu_sweep.csv")
    assert sweep["saturations"].dtype.kind == "i" and (sweep["saturations"] > 0).any()
    table = reproduce.medians(sweep, ["problem", "mu"], ("epochs_to_tol",),
                              unreached=("epochs_to_tol",)).reset_index()
    for name, part in table.groupby("problem"):
        best = part.loc[part["mu"] != "auto", "epochs_to_tol"].min()
        auto = part.loc[part["mu"] == "auto", "epochs_to_tol"].iloc[0]
        print(f"{name}: best fixed mu {best} epochs, auto {auto} (medians over seeds)")
        assert auto <= 2 * best


def test_mlp_halp8_accuracy_within_half_a_point_of_lp_sgd8():
    """The paper's claim on the MLP, at the --quick MLP size (the --tiny one trains too briefly to
    tell): HALP-8 validates as well as LP-SGD-8, to half a percentage point. One seed's last epoch
    is too noisy to rank them (their gap flips sign across seeds at ~0.1-0.5%), so the statistic
    is the mean final validation accuracy over seeds 0, 1 and 2; at this size the sign of the
    difference follows the random stream (HALP-8 led with the shared table of earlier versions and
    trails by 0.2 points with per-coordinate random bits), so the test bounds the gap."""
    settings = reproduce.Settings.quick()
    _, problem, _ = reproduce.mnist_problems(settings)
    means = {}
    for method, tag in (("halp", "halp-8"), ("lp-sgd", "lp-sgd-8")):
        accuracies = [
            mlp.train(problem, method, hidden=settings.mlp_hidden, epochs=settings.mlp_epochs,
                      step=settings.mlp_step, bits=8, mu=settings.mlp_mu, seed=seed)
            .history["val_accuracy"].iloc[-1] for seed in (0, 1, 2)]
        means[tag] = float(np.mean(accuracies))
    print(f"mean over seeds 0-2: HALP-8 {means['halp-8']:.4f}, LP-SGD-8 {means['lp-sgd-8']:.4f}")
    assert means["halp-8"] >= means["lp-sgd-8"] - 0.005


def _synthetic_frames(finals):
    """Frames shaped like run_convex / run_mu_sweep / run_mlp output: one problem ("mnist"), every
    solver label ending at ``finals[label]`` (default 1e-2) after 2 epochs of 0.0001 s each."""
    convex = pd.concat([pd.DataFrame(dict(
        epoch=[0, 1, 2], subopt=[1.0, 2 * finals.get(tag, 1e-2), finals.get(tag, 1e-2)],
        grad_norm=[1.0, 0.1, 0.01], seconds=[0.0, 1e-4, 2e-4], saturations=0, problem="mnist",
        solver=s, precision=str(p), label=tag))
        for s, p, tag in ((s, p, reproduce.label(s, p)) for s, p in reproduce.CONVEX_SOLVERS)],
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
    assert (f"a low-precision run *tracks SVRG* on a problem when its median final f − f* is "
            f"at most {reproduce.TRACK_FACTOR:g}× SVRG-fp64's, or when both are at most 1e-10; "
            f"otherwise it *stalls* when its median f − f* fell less than "
            f"{reproduce.STALL_FACTOR:g}× over the last half") in text
    assert "HALP-16 tracks SVRG: f − f* = 8.99e-03" in text
    assert "HALP-8 does NOT track SVRG: f − f* = 2.36e-02" in text
    assert "| svrg-fp64 | 8.35e-03 |" in text and "| 0.0002 |" in text and "| 0.00 |" not in text
    assert "in 61 s of wall time on AMD EPYC, 2 logical CPUs, AVX2." in text


def test_format_verdicts_follow_the_stated_rule():
    """Float-format rows get the same rule: HALP-bf16 within 2x of SVRG tracks; LP-SGD-fp8-e5m2,
    which fell only 1.05x over the last half, stalls; HALP-fp8-e5m2, 10x off SVRG but still falling
    10x, does not track; the summary's table and verdict lines say so."""
    frames = _synthetic_frames({"svrg-fp64": 1e-3, "halp-bf16": 1.5e-3, "halp-fp8-e5m2": 1e-2})
    convex = frames[0]
    e5m2 = (convex["label"] == "lp-sgd-fp8-e5m2") & (convex["epoch"] == 1)
    convex.loc[e5m2, "subopt"] = 1.05e-2                     # fell 1.05x over the last half
    convex.loc[(convex["label"] == "halp-fp8-e5m2") & (convex["epoch"] == 1), "subopt"] = 0.1
    run = dict(command="c", wall_seconds=1.0, machine="m")
    text = reproduce.summary(convex, *frames[1:], reproduce.Settings.quick(), run)
    assert reproduce.RULE in text
    assert "| mnist | bf16 | 2^-8 = 3.9e-03 | — | " in text
    assert "tracks SVRG: 1.50e-03 (2×) |" in text
    assert "stalls: 1.00e-02 (1.05×) | does NOT track SVRG: 1.00e-02 (10×) |" in text
    line = next(t for t in text.splitlines() if t.startswith("- mnist: "))
    assert "HALP-bf16" in line.split("stalls:")[0] and "LP-SGD-fp8-e5m2" in line.split(
        "stalls:")[1].split(";")[0] and "HALP-fp8-e5m2" in line.split("does NOT track SVRG:")[1]
    assert reproduce.verdict_lines(convex) == [line]


def test_verdict_rule():
    assert reproduce.verdict(1.5e-3, 1.0, 1e-3) == "tracks SVRG"          # within 2x
    assert reproduce.verdict(1e-20, 1.0, 1e-24) == "tracks SVRG"          # both below 1e-10
    assert reproduce.verdict(1e-2, 1.9, 1e-3) == "stalls"                 # fell < STALL_FACTOR
    assert reproduce.verdict(1e-2, 0.5, 1e-3) == "stalls"                 # rose
    assert reproduce.verdict(1e-2, 2.0, 1e-3) == "does NOT track SVRG"    # still falling


def test_mlp_rows_keep_their_labels():
    """MLP runs are (method, precision) pairs labelled like the convex ones; MLP_FORMATS (float
    formats of the MLP, added once halp_bench.mlp trains in them) are names of registry.FORMATS."""
    assert set(reproduce.MLP_FORMATS) <= set(registry.FORMATS)
    labels = [reproduce.label(m, p) for m, p in reproduce.MLP_METHODS]
    assert labels == ["sgd-fp32", *(f"{m}-{p}" for m in ("lp-sgd", "halp")
                                     for p in (8, *reproduce.MLP_FORMATS))]


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
    assert len(reproduce.convex_figure(convex, "p").data) == 25 * 4 * 3   # band edges + median
    assert len(reproduce.mlp_figure(mlp).data) == 25 * 2 * 3


def test_verdicts_and_figures_read_medians_over_seeds():
    """Five seeds of one label: the summary's number and the figure's line are their median, the
    band their 5% and 95% quantiles; a tolerance most seeds missed is "not reached"."""
    finals = [1e-3, 2e-3, 3e-3, 4e-3, 1.0]                   # one wild seed
    convex, sweep, mlp_frame = _synthetic_frames({})
    convex = pd.concat([convex.assign(seed=s, subopt=np.where(
        (convex["label"] == "halp-8") & (convex["epoch"] == 2), f, convex["subopt"]))
        for s, f in enumerate(finals)], ignore_index=True)
    run = dict(command="c", wall_seconds=1.0, machine="m")
    text = reproduce.summary(convex, sweep, mlp_frame, reproduce.Settings.quick(), run)
    assert "| halp-8 | 3.00e-03 |" in text
    fig = reproduce.convex_figure(convex, "mnist")
    low, high, median = (t for t in fig.data if t.legendgroup == "halp-8"
                         and t.xaxis == "x" and t.yaxis == "y")
    assert median.y[-1] == pytest.approx(3e-3) and median.name == "halp-8"
    assert low.y[-1] == pytest.approx(np.quantile(finals, 0.05))
    assert high.y[-1] == pytest.approx(np.quantile(finals, 0.95)) and high.fill == "tonexty"
    epochs = pd.DataFrame(dict(problem="p", mu="auto", seed=range(5),
                               epochs_to_tol=[10.0, np.nan, np.nan, np.nan, 12.0]))
    table = reproduce.medians(epochs, ["problem", "mu"], ("epochs_to_tol",),
                              unreached=("epochs_to_tol",))
    assert np.isnan(table["epochs_to_tol"].iloc[0]) and table["seeds"].iloc[0] == 5
