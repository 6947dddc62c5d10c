"""halp_bench.bits: the measured bit requirement of a sweep (its rule on medians over seeds, the
widths above it, "none", a baseline that never converged) and the written outputs."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from halp_bench import bits
from halp_core.bit_budget import CALIBRATION, bits_for

EPOCHS = 30
L_MAX = 10.0


def _run(lam, solver, precision, seed, reached, mu="", kappa=100.0, diverged=-1, d=10):
    """One synthetic sweep run shaped like halp_bench.sweep.load's rows: f - f* falls 10x per
    epoch from 1 and reaches 1e-10 at epoch ``reached`` exactly (None: stays at 1e-3)."""
    epochs = np.arange(EPOCHS + 1)
    if reached is None:
        subopt = np.full(EPOCHS + 1, 1e-3)
    else:
        subopt = np.where(epochs < reached, 1e-9, 1e-11)
    return pd.DataFrame(dict(
        problem="synthetic_least_squares", n=100, d=d, lam=lam, noise=0.1, cond=1e4, solver=solver,
        precision=str(precision), step_factor=0.5, mu=mu, data_bits=16, seed=seed, epochs=EPOCHS,
        run_id=f"{lam}-{solver}-{precision}-{mu}-{seed}", kappa=kappa, L_max=L_MAX,
        diverged_epoch=diverged, verdict="diverged" if diverged >= 0 else "", machine="m",
        version="v", epoch=epochs, passes=2.0 * epochs,
        seconds=0.01 * epochs, loss=subopt, subopt=subopt, grad_norm=1.0, dist=1.0,
        saturations=0))


def _frame():
    kappa = 100.0                                        # kappa sqrt(10) = 316: predicted 10 bits
    mu_min = repr(L_MAX / kappa)
    runs = []
    for seed in range(3):
        runs.append(_run(1.0, "svrg", "fp64", seed, 10, kappa=kappa))          # budget 20
        # point 1 (lam = 1): 7 passes alone (below a failing 8, it does not count), 8 fails,
        # 9 passes on two of three seeds (so its median passes), 10 and 11 pass
        reach = {7: 15, 8: 25, 9: 18 if seed < 2 else None, 10: 12, 11: 11}
        for b, r in reach.items():
            runs.append(_run(1.0, "halp", b, seed, r, mu=mu_min, kappa=kappa))
            runs.append(_run(1.0, "halp", b, seed, 12, mu="auto", kappa=kappa,
                             diverged=3 if b == 7 else -1))
        # point 2 (lam = 0.1): no width makes the budget; point 3 (lam = 0.01): SVRG never gets there
        runs.append(_run(0.1, "svrg", "fp64", seed, 5, kappa=4e4))
        runs.append(_run(0.01, "svrg", "fp64", seed, None, kappa=10.0))
        for b in (7, 8, 9, 10, 11):
            runs.append(_run(0.1, "halp", b, seed, 11, mu="auto", kappa=4e4))
            runs.append(_run(0.01, "halp", b, seed, 3, mu="auto", kappa=10.0))
    return pd.concat(runs, ignore_index=True)


def test_requirement_follows_the_stated_rule():
    table, runs, skipped = bits.requirement(_frame())
    assert bits_for(100.0, 10) == 10
    one = table[(table["lam"] == 1.0)].set_index("mu")
    assert one.loc["mu_min", "measured"] == 9         # 9 passes on the median seed, 8 fails
    assert one.loc["mu_min", "predicted"] == 10 and one.loc["mu_min", "agrees"]
    assert one.loc["mu_min", "svrg_epochs"] == 10 and one.loc["mu_min", "budget"] == 20
    assert one.loc["auto", "measured"] == 8           # width 7 diverged: not reached
    assert one.loc["mu_min", "calibrated"] == bits_for(100.0, 10, CALIBRATION) == 5
    assert not one.loc["mu_min", "calibrated_agrees"] and not one.loc["auto", "censored"]
    two = table[table["lam"] == 0.1].iloc[0]
    assert math.isnan(two["measured"]) and two["predicted"] == bits_for(4e4, 10) == 18
    assert two["agrees"]                              # "none" agrees with a prediction >= 11
    assert [p["lam"] for p, _ in skipped] == [0.01]
    assert set(table.columns) == set(bits.COLUMNS) and (table["seeds"] == 3).all()
    assert len(runs) == len(_frame()["run_id"].unique())


def test_agreement_counts():
    table, _, _ = bits.requirement(_frame())
    stats = bits.agreement(table)
    assert stats["mu_min"] == dict(points=1, agree=1, share=1.0, none=0, over=0, under=0,
                                   median_difference=-1.0, calibrated_agree=0)
    assert stats["auto"]["points"] == 2 and stats["auto"]["none"] == 1


def test_write_outputs(tmp_path, monkeypatch):
    frame = _frame()
    monkeypatch.setattr(bits.sweep, "load", lambda folder: frame)
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "spec.toml").write_text("epochs = 1\n")
    table = bits.write([folder], tmp_path / "out")
    out = tmp_path / "out"
    assert pd.read_csv(out / "requirement.csv").shape == table.shape
    record = json.loads((out / "record.json").read_text())
    assert record["agreement"]["mu_min"]["agree"] == 1 and record["target"] == bits.TARGET
    assert record["commands"][-1].startswith("python -m halp_bench.bits")
    assert (out / "requirement.png").stat().st_size > 1000
    assert len(pd.read_csv(out / "runs.csv")) == frame["run_id"].nunique()


def test_empty_sweep_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(bits.sweep, "load", lambda folder: pd.DataFrame())
    with pytest.raises(ValueError, match="no sweep runs"):
        bits.write([tmp_path], tmp_path / "out")


def test_bits_report_compares_sweep_specs_without_decoding_them(tmp_path):
    (tmp_path / "spec.toml").write_bytes(b"\xff\xfe not UTF-8")
    assert bits.spec_sources([tmp_path]) == [str(tmp_path / "spec.toml")]
