"""halp_core.solvers.divergence: divergence is never silent (issue 11): solve() warns once, with
the solver, precision, epoch, what it saw and the likely fix, and records it (Result.diverged_epoch / divergence and
history.attrs), when an epoch's iterate or loss is not finite, its loss exceeds GROWTH x the
start's (VR_GROWTH x for the variance-reduced solvers), or most of its coordinate updates
saturated; healthy runs, SGD's noisy ones included, never warn."""

import warnings

import numpy as np
import pytest

from halp_core import datasets, make_solver, solve
from halp_core.problems import BinaryLogistic, LeastSquares, Multinomial
from halp_core.solvers.divergence import GROWTH, MOSTLY_CLAMPED, VR_GROWTH


def _healthy_problems():
    """Small problems where SGD's trajectory is noisy: pure-noise targets (w* ~ 0, so f(w_0) is
    close to f*), random labels, a multinomial one, and an ill-conditioned least squares."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 20))
    return {
        "lsq-pure-noise": LeastSquares(X, rng.standard_normal(400), 1e-3),
        "logistic-random-labels": BinaryLogistic(X, np.where(rng.random(400) < 0.5, 1.0, -1.0),
                                                 1e-4),
        "multinomial": Multinomial(X, rng.integers(0, 4, 400), 1e-3),
        "lsq-cond-1000": datasets.synthetic_least_squares(400, 20, lam=1e-3, noise=0.1, seed=3,
                                                          cond=1000.0),
    }


HEALTHY = _healthy_problems()
EVERY_SOLVER = [("sgd", "fp64"), ("sgd", "fp32"), ("svrg", "fp64"), ("svrg", "fp32"),
                ("lp-sgd", 8), ("lp-svrg", 8), ("halp", 8), ("lp-sgd", 16), ("halp", 16)]


@pytest.mark.parametrize("problem", sorted(HEALTHY))
@pytest.mark.parametrize("solver,precision", EVERY_SOLVER)
def test_healthy_runs_never_warn(problem, solver, precision):
    prob = HEALTHY[problem]
    for factor in (0.5, 1.5):   # steps factor / L_max; 1.5 / L_max makes SGD noisiest
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            res = solve(prob, solver, precision=precision, step=factor / prob.L_max, epochs=8,
                        seed=1)
        assert not res.diverged and res.diverged_epoch is None and res.divergence == ""
        assert res.history.attrs["diverged_epoch"] is None
        limit = VR_GROWTH if solver in ("svrg", "lp-svrg", "halp") else 2.5   # GROWTH is 10
        assert res.history.loss.max() <= limit * res.history.loss.iloc[0]


@pytest.fixture(scope="module")
def lsq():
    """The issue's least-squares problem: mu_min = 0.69, lam = 0.01."""
    return datasets.synthetic_least_squares(1200, 40, lam=1e-2, noise=0.1, seed=7)


GREW = f"> {GROWTH:g} x its start"
VR_GREW = f"> {VR_GROWTH:g} x its start"   # svrg, lp-svrg, halp
CLAMPED = "coordinate updates saturated"

# Deliberately bad settings for each solver and the divergence each must show on the issue's
# problem: (case, solver, precision, solve() keywords for the problem, epoch, words of what was
# seen, words of the fix). lp-svrg's bad scale is 1/100 of its default 2 max|w*| / 127.
BAD = [
    ("sgd-fp64-step", "sgd", "fp64", lambda p: dict(step=1e3), 1, "not finite", "smaller step"),
    ("sgd-fp32-step", "sgd", "fp32", lambda p: dict(step=1e3), 1, "not finite", "smaller step"),
    ("svrg-fp64-step", "svrg", "fp64", lambda p: dict(step=3 / p.L_max), 1, VR_GREW, "smaller step"),
    ("svrg-fp32-step", "svrg", "fp32", lambda p: dict(step=3 / p.L_max), 1, VR_GREW, "smaller step"),
    ("lp-sgd-step", "lp-sgd", 8, lambda p: dict(step=30 / p.L_max), 1, GREW, "smaller step"),
    ("lp-svrg-scale", "lp-svrg", 8,
     lambda p: dict(step=0.5 / p.L_max, scale=0.02 * np.abs(p.w_star).max() / 127), 1, CLAMPED,
     "larger scale"),
    ("halp-mu-lam", "halp", 8, lambda p: dict(step=0.2 / p.L_max, mu=p.lam), 1, VR_GREW,
     "mu='auto' or a larger mu"),
    ("halp-mu-huge", "halp", 8, lambda p: dict(step=0.5 / p.L_max, mu=100 * p.L_max), 1, CLAMPED,
     "mu='auto' or a smaller mu"),
]


@pytest.mark.parametrize("solver,precision,settings,epoch,seen,fix", [case[1:] for case in BAD],
                         ids=[case[0] for case in BAD])
def test_bad_settings_warn_once_and_are_recorded(lsq, solver, precision, settings, epoch, seen,
                                                 fix):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = solve(lsq, solver, precision=precision, epochs=12, seed=0, **settings(lsq))
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1, messages
    message = messages[0]
    label = precision if isinstance(precision, str) else f"{precision} bits"
    assert message.startswith(f"{solver} ({label}) diverged at epoch {epoch}: "), message
    assert seen in message and fix in message and "float32" not in message, message
    assert res.diverged and res.diverged_epoch == epoch and res.divergence == message
    assert res.history.attrs["diverged_epoch"] == epoch
    assert res.history.attrs["divergence"] == message
    finite = np.isfinite(res.history.loss.iloc[-1])
    assert len(res.history) == (13 if finite else epoch + 1)   # a non-finite run stops


def test_float32_overflow_is_not_blamed_on_the_step():
    """Data near 1e19: the float32 full gradient overflows (products of two ~1e19 numbers pass
    float32's 3.4e38); float64 at the same step is healthy."""
    base = datasets.synthetic_least_squares(300, 10, lam=1e-2, noise=0.1, seed=0, data_bits=None)
    prob = LeastSquares(base.X * 1e19, base.y * 1e19, 1e-2, data_bits=None)
    step = 0.5 / prob.L_max
    with pytest.warns(RuntimeWarning, match=r"svrg \(fp32\) diverged at epoch 1: float32 "
                                            r"overflow.*use precision='fp64' or rescale the data"):
        res = solve(prob, "svrg", precision="fp32", step=step, epochs=5)
    assert res.diverged_epoch == 1 and len(res.history) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        healthy = solve(prob, "svrg", precision="fp64", step=step, epochs=5)
    assert healthy.history.subopt.iloc[-1] < 1e-3 * healthy.history.subopt.iloc[0]


def test_halp_ending_above_its_start_is_loud():
    """HALP in fp8-e5m2 (two mantissa bits, mu="auto") on least squares 4000 x 512: the rounding,
    relative to each offset coordinate, outweighs the progress and the loss climbs past its
    start from epoch 2: never silently."""
    prob = datasets.synthetic_least_squares(4000, 512, lam=1e-2, noise=0.1, seed=0, cond=1.0)
    with pytest.warns(RuntimeWarning, match=r"halp \(fp8-e5m2\) diverged at epoch \d+: loss .* > "
                                            r"1.2 x its start .*a wider format"):
        res = solve(prob, "halp", precision="fp8-e5m2", step=0.5 / prob.L_max, epochs=6, seed=0)
    assert res.diverged


@pytest.mark.parametrize("bits", [4, 2])
@pytest.mark.parametrize("name", ["lsq", "logistic", "digits"])
def test_few_bit_halp_keeps_progressing(lsq, name, bits):
    """4- and 2-bit HALP (mu="auto") ended above its start on these problems until the automatic
    mu kept to its rounding-noise floor (halp_core.bit_centering.noise_floor); now every epoch
    but the first two lowers f - f*, healthy."""
    prob = {"lsq": lsq, "logistic": datasets.synthetic_logistic(1000, 20, lam=1e-2, seed=0),
            "digits": datasets.digits(lam=1e-3)}[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = solve(prob, "halp", precision=bits, step=0.5 / prob.L_max, epochs=10, seed=0)
    gaps = res.history.subopt.to_numpy()
    assert not res.failed and np.all(np.diff(gaps[2:]) < 0), gaps


def test_saturation_at_the_float64_floor_is_not_divergence():
    """A HALP run converged to float64's floor sizes its grid from a gradient of rounding noise and
    may clamp most updates of an epoch while f - f* does not move (a 300-epoch run clamped 53% of
    one epoch at f - f* = 1e-29): solve must not call that diverged. The situation is built, not
    awaited (whether a run gets there depends on the last bits of w*, which differ with the CPU's
    BLAS kernels): the anchor is put 1e-9 from w* (f - f* below float64's resolution of f*; the
    gradient there is as meaningless as rounding noise but nonzero on every machine), and a large
    fixed mu makes the grid so fine that every coordinate's v-term alone (alpha mu = 500 grid
    ranges per step) clamps. The same epoch 0.01 from w*, where the grid scales alike (least
    squares: the same clamping), is flagged: the floor, not the clamping, decides."""
    prob = datasets.synthetic_least_squares(400, 10, lam=1e-2, noise=0.1, seed=0)
    direction = np.ones(prob.d) / np.sqrt(prob.d)

    def epoch_from(distance):
        run = make_solver(prob, "halp", precision=8, step=0.5 / prob.L_max,
                          mu=1e3 * prob.L_max, seed=0)
        run.center[...] = prob.w_star + distance * direction
        run.run_epoch()
        clamped = run.saturations[-1] / (run.steps_per_epoch * prob.d)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return clamped, run.w, run.check()   # the rules solve applies, through the public API

    clamped, w, verdict = epoch_from(1e-9)
    assert clamped > MOSTLY_CLAMPED   # the case it guards against
    assert prob.suboptimality(w) < 1e-15 * abs(prob.f_star)   # still at the floor
    assert verdict == ""
    clamped, _, verdict = epoch_from(1e-2)
    assert clamped > MOSTLY_CLAMPED
    assert CLAMPED in verdict


# ---- no progress (issue 23): a run whose f - f*, ||grad f|| and ||w - w*|| never move ----------

STUCK_CASES = [
    # (case, solver, precision, solve() keywords for the problem, words of the fix)
    ("halp-mu-tiny", "halp", 8, lambda p: dict(step=0.5 / p.L_max, mu=1e-300),
     "mu='auto' or a larger mu (mu=1e-300 here)"),
    ("sgd-step-tiny", "sgd", "fp64", lambda p: dict(step=1e-9 / p.L_max), "use a larger step"),
    ("svrg-fp32-step-tiny", "svrg", "fp32", lambda p: dict(step=1e-7 / p.L_max),
     "use a larger step"),
    ("lp-svrg-step-tiny", "lp-svrg", 8, lambda p: dict(step=1e-7 / p.L_max), "smaller scale"),
]


@pytest.mark.parametrize("solver,precision,settings,fix", [case[1:] for case in STUCK_CASES],
                         ids=[case[0] for case in STUCK_CASES])
def test_no_progress_warns_once_and_is_recorded(lsq, solver, precision, settings, fix):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = solve(lsq, solver, precision=precision, epochs=3, seed=0, **settings(lsq))
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1, messages
    label = precision if isinstance(precision, str) else f"{precision} bits"
    assert messages[0].startswith(f"{solver} ({label}) made no progress in 3 epochs: "), messages
    assert fix in messages[0], messages
    assert res.no_progress == messages[0] == res.history.attrs["no_progress"]
    assert res.failed and not res.diverged and len(res.history) == 4


@pytest.mark.parametrize("problem", sorted(HEALTHY))
@pytest.mark.parametrize("solver,precision", [("sgd", "fp64"), ("svrg", "fp32"), ("lp-sgd", 8),
                                              ("lp-svrg", 8), ("halp", 8), ("halp", "bf16")])
def test_one_epoch_of_a_small_healthy_step_is_progress(problem, solver, precision):
    """One epoch at a twentieth of the usual step still moves f - f*, ||grad f|| or ||w - w*||
    by far more than STUCK (at least 6.9% on these problems)."""
    prob = HEALTHY[problem]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = solve(prob, solver, precision=precision, step=0.05 / prob.L_max, epochs=1, seed=0)
    assert not res.failed and res.no_progress == "" and res.history.attrs["no_progress"] == ""


def test_no_progress_is_not_judged_at_the_optimum_before_a_data_pass_or_after_divergence(lsq):
    # Started at the optimum (targets 0: w* = 0, f* = 0): nothing to make progress on.
    at_optimum = LeastSquares(lsq.X, np.zeros(lsq.n), lsq.lam)
    # Fewer inner steps than one data pass at a tiny step: too little work to judge.
    short = dict(steps_per_epoch=lsq.n // 4, epochs=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for solver, precision in (("svrg", "fp64"), ("halp", 8), ("sgd", "fp64")):
            res = solve(at_optimum, solver, precision=precision, step=0.5 / lsq.L_max, epochs=3)
            assert not res.failed and res.history.subopt.iloc[0] == 0
        res = solve(lsq, "sgd", precision="fp64", step=1e-9 / lsq.L_max, **short)
        assert not res.failed
    # The same tiny step over one more epoch (a full pass in all) is judged.
    with pytest.warns(RuntimeWarning, match="made no progress in 4 epochs"):
        solve(lsq, "sgd", precision="fp64", step=1e-9 / lsq.L_max, **{**short, "epochs": 4})
    # A diverged run is reported as such, once, not also as stuck.
    with pytest.warns(RuntimeWarning) as caught:
        res = solve(lsq, "sgd", precision="fp64", step=1e3, epochs=3)
    assert len(caught) == 1 and res.diverged and res.no_progress == ""
    assert res.history.attrs["no_progress"] == ""


def test_make_solver_check_reports_what_solve_reports(lsq):
    """Callers of run_epoch() learn divergence and no progress from check(): the same text as
    solve's, warned once, kept on the object."""
    cases = {"healthy": dict(step=0.5 / lsq.L_max), "stuck": dict(step=0.5 / lsq.L_max, mu=1e-300),
             "diverged": dict(step=1e3)}
    for case, settings in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = solve(lsq, "halp", precision=8, epochs=4, seed=0, **settings)
        run = make_solver(lsq, "halp", precision=8, seed=0, **settings)
        assert run.check() == "" and not run.failed   # before any epoch: the start only
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = [(run.run_epoch(), run.check())[1] for _ in range(4)]
        messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        assert run.failed == expected.failed and len(messages) == int(expected.failed), case
        assert run.diverged_epoch == expected.diverged_epoch, case
        assert run.divergence == expected.divergence, case
        if case == "stuck":   # judged on the epochs so far: from the first one on
            assert found == [run.no_progress] * 4 and "made no progress in 1 epoch:" in found[0]
        else:
            assert run.no_progress == expected.no_progress == "", case
            assert found[-1] == expected.divergence and messages == [expected.divergence] * (
                case == "diverged")


def test_divergence_stops_with_a_warning():
    prob = datasets.synthetic_least_squares(120, 8, lam=0.05, noise=0.1, seed=0)
    with pytest.warns(RuntimeWarning, match="diverged"):
        res = solve(prob, "sgd", precision="fp64", step=1e3, epochs=50)
    assert len(res.history) < 51
    assert not np.isfinite(res.history.loss.iloc[-1])
    assert res.diverged_epoch == len(res.history) - 1   # recorded at the epoch it stopped


def test_diverging_halp_with_a_coarse_grid_is_reported_not_raised():
    """HALP-4 with the coarse fixed grid mu = lam on an ill-conditioned problem (kappa about 1e4,
    16-bit data) diverges, its loss passing float32's range and then 1e200; solve must warn and
    record it, whatever precision the anchor's gradient pass ran in."""
    prob = datasets.synthetic_least_squares(2000, 40, lam=1e-3, noise=0.1, seed=0, data_bits=16,
                                            cond=1e4)
    with pytest.warns(RuntimeWarning, match="diverged"):
        res = solve(prob, "halp", precision=4, step=0.5 / prob.L_max, epochs=60, seed=0,
                    mu=prob.lam)
    assert res.diverged_epoch is not None and res.history.loss.max() > 1e200


def test_a_huge_fixed_mu_is_one_clamping_warning_not_an_overflow(lsq):
    """mu = 1e308 sizes a grid so fine that every update clamps: one warning, the divergence
    rule's, and no numpy overflow warning beside it."""
    with pytest.warns(RuntimeWarning, match=r"halp \(8 bits\) diverged at epoch 1: 100% of the "
                                            r"coordinate updates saturated; use mu='auto' or a "
                                            r"smaller mu") as caught:
        solve(lsq, "halp", precision=8, step=0.5 / lsq.L_max, mu=1e308, epochs=2)
    assert len(caught) == 1
