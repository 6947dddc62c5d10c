"""Low-precision gradients with loss scaling for the MLP (``mlp.train(..., grad_format=...,
loss_scaling=...)``), and the measurement of what each scaling policy recovers
(``python -m halp_bench.mlp.scaling --out docs/loss-scaling``; docs/loss-scaling.md).

What is low precision: the per-sample backpropagated quantities a mixed-precision trainer keeps in
its low-precision format, the score gradient d2 = softmax - one-hot (C,) and the hidden delta
d1 = (W2[:H] d2) * (z1 > 0) (H,). Per step (one sample) and per layer l (l = 2: d2, l = 1: d1):

    q_l = RN_fmt(S_l * v_l)    (round to nearest, ties to even: float_formats.encode_nearest_value)
    v_l <- q_l / S_l           (unscaled in float32; the update uses it)

with v_l the layer's float32 value (the float32 accumulation a GEMM would hand to the cast) and
d1 computed from the rounded, unscaled d2. The weights, the forward pass and the update stay
float32 (method "sgd" only). An entry *flushes* when v != 0 but q = 0 (underflow); a step
*overflows* when some |S_l v_l| rounds above the format's largest finite value (inf in IEEE fp16;
the kernels saturate and flag it). Every policy skips (does not apply) a step that overflowed,
as a trainer that checks its gradients for inf does; only "dynamic" also changes its scale.

Policies (``LossScaling``):

* ``none``: S_l = 1.
* ``static``: S_l = scale (one number for both layers: a scaled loss scales every backpropagated
  quantity alike).
* ``dynamic`` (torch.cuda.amp.GradScaler's rule): S starts at ``scale``; an overflowing step is
  skipped and S <- backoff * S with the clean-step count reset; after ``interval`` consecutive
  clean steps S <- growth * S (at most MAX_SCALE).
* ``adaptive`` (per layer, from the layer's own magnitude, in the spirit of Zhao et al. 2019,
  "Adaptive loss scaling for mixed precision training"): each step and each layer,
  S_l = 2^(floor(log2(max_finite / amax_l)) - margin) with amax_l = max |v_l| of that step's
  float32 value, so the layer's largest entry lands in the top binade below the format's largest
  finite value (margin = 0) or ``margin`` binades lower; S_l = 1 when v_l = 0; clipped to
  [1 / MAX_SCALE, MAX_SCALE]. Being a power of two, the scaling itself is exact.

Counts per epoch (history columns GRAD_COLUMNS): skipped steps, flushed entries and nonzero
entries of d2 and d1 (v != 0) and their magnitude (sum of |v|), and the geometric mean of the
scales used per layer.
"""

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from numba import njit

from halp_core import validate, float_formats, registry
from halp_core.float_formats import decode_value, encode_nearest_value
from halp_core.kernels import FAST

from . import sample_pass, SgdMethod, sgd_update

POLICIES = ("none", "static", "dynamic", "adaptive")
_CODE = {name: code for code, name in enumerate(POLICIES)}
_DYNAMIC, _ADAPTIVE = _CODE["dynamic"], _CODE["adaptive"]
MAX_SCALE = 2.0 ** 64
"""Largest loss scale (and 1 / smallest adaptive scale): far inside float32's range."""
GRAD_COLUMNS = ("skipped", "flushed", "nonzero", "flushed_mass", "mass", "scale_out",
                "scale_hidden")
"""History columns of a run with low-precision gradients: skipped steps, flushed (v != 0,
rounded to 0) and nonzero gradient entries of the epoch, the sum of |v| over the flushed and over
the nonzero entries, and the geometric mean over the epoch's steps of the scale of d2 (output
layer) and of d1 (hidden layer)."""


@dataclass(frozen=True)
class LossScaling:
    """A loss-scaling policy and its parameters (validated on construction).

    policy: one of POLICIES; scale: the static scale, or dynamic's initial one (float in
    [1 / MAX_SCALE, MAX_SCALE]; default 2^16 as GradScaler); backoff: dynamic's factor after an
    overflow (in (0, 1), default 0.5); growth: its factor after ``interval`` clean steps (> 1,
    default 2); interval: int >= 1 (default 2000); margin: adaptive's headroom in binades (int
    >= 0, default 0). Parameters a policy does not use must keep their defaults.
    """

    policy: str = "none"
    scale: float = 2.0 ** 16
    backoff: float = 0.5
    growth: float = 2.0
    interval: int = 2000
    margin: int = 0

    def __post_init__(self):
        validate.choice(self.policy, "loss_scaling policy", POLICIES)
        scale = validate.real(self.scale, "loss scale", positive=True)
        if not 1 / MAX_SCALE <= scale <= MAX_SCALE:
            raise ValueError(f"loss scale must be in [2^-64, 2^64], got {scale:g}")
        backoff = validate.real(self.backoff, "backoff", positive=True)
        if backoff >= 1:
            raise ValueError(f"backoff must be in (0, 1), got {backoff:g}")
        growth = validate.real(self.growth, "growth", positive=True)
        if growth <= 1:
            raise ValueError(f"growth must be > 1, got {growth:g}")
        validate.integer(self.interval, "interval", 1)
        validate.integer(self.margin, "margin", 0, 60)
        used = {"none": (), "static": ("scale",), "dynamic": ("scale", "backoff", "growth",
                                                              "interval"),
                "adaptive": ("margin",)}[self.policy]
        default = LossScaling.__dataclass_fields__
        for name in ("scale", "backoff", "growth", "interval", "margin"):
            if name not in used and getattr(self, name) != default[name].default:
                raise ValueError(f"loss scaling {self.policy!r} takes no {name} (it uses "
                                 f"{', '.join(used) or 'no parameter'})")


def as_scaling(loss_scaling):
    """``loss_scaling`` as a LossScaling: a policy name (its defaults) or a LossScaling."""
    if isinstance(loss_scaling, LossScaling):
        return loss_scaling
    if isinstance(loss_scaling, str):
        return LossScaling(loss_scaling)
    raise TypeError(f"loss_scaling must be one of {', '.join(map(repr, POLICIES))} or a "
                    f"scaling.LossScaling, got {loss_scaling!r}")


def check_grad_format(grad_format, loss_scaling, method):
    """Validate ``mlp.train``'s grad_format / loss_scaling pair; returns (format name or None,
    LossScaling)."""
    scaling = as_scaling(loss_scaling)
    if grad_format is None:
        if scaling.policy != "none":
            raise ValueError(f"loss_scaling={scaling.policy!r} needs a grad_format (one of "
                             f"{', '.join(map(repr, registry.FORMATS))})")
        return None, scaling
    if not isinstance(grad_format, str) or grad_format not in registry.FORMATS:
        raise ValueError(f"grad_format must be None or one of "
                         f"{', '.join(map(repr, registry.FORMATS))}, got {grad_format!r}")
    if method != "sgd":
        raise ValueError(f"grad_format applies to method 'sgd' (float32 weights); got "
                         f"method={method!r}")
    return grad_format, scaling


# ---- Numba kernels ---------------------------------------------------------------------------

@njit(cache=True, inline="always")
def _layer_scale(amax, max_finite, margin):
    """Adaptive scale of a layer whose largest |entry| is amax (float64): the power of two
    2^(floor(log2(max_finite / amax)) - margin), 1 for amax = 0, clipped to [2^-64, 2^64]."""
    if not amax > 0:
        return 1.0
    e = np.floor(np.log2(max_finite / amax)) - margin
    e = min(max(e, -64.0), 64.0)
    s = 2.0 ** e
    if amax * s > max_finite:   # log2 rounded up across an integer
        s *= 0.5
    return s


@njit(cache=True)
def _round_scaled(v, scale, fmt, counts, sums):
    """Round v (float32 array) in place to fmt at ``scale``: v <- RN(scale v) / scale; adds the
    nonzero and flushed entries to counts[2], counts[1] and their |v| to sums[3], sums[2];
    returns whether an entry overflowed."""
    over = False
    s = np.float32(scale)
    inv = np.float32(1.0 / scale)
    for k in range(v.shape[0]):
        x = v[k]
        p, clamped = encode_nearest_value(np.float32(x * s), fmt)
        over |= clamped
        r = decode_value(p, fmt) * inv
        if x != 0:
            counts[2] += 1
            sums[3] += abs(np.float64(x))
            if r == 0:
                counts[1] += 1
                sums[2] += abs(np.float64(x))
        v[k] = r
    return over


@njit(cache=True, inline="always")
def _amax(v):
    m = 0.0
    for k in range(v.shape[0]):
        m = max(m, abs(np.float64(v[k])))
    return m


@njit(cache=True)
def round_backprop(z1, W2, d1, d2, fmt, max_finite, policy, scale, margin, counts, sums):
    """Round one sample's d2 (C,) and d1 (H,) (float32, in place) through fmt as the module
    docstring says: d2 at its scale, then d1 = (W2[:H] d2) * (z1 > 0) recomputed from the rounded
    d2 and rounded at its own. scale: the static / dynamic scale (float); policy: index in
    POLICIES; counts (3,) int64 [skipped, flushed, nonzero] and sums (4,) float64 [sum log2 S_2,
    sum log2 S_1, flushed |v|, nonzero |v|] are accumulated. Returns whether the step
    overflowed."""
    s2 = _layer_scale(_amax(d2), max_finite, margin) if policy == _ADAPTIVE else scale
    over = _round_scaled(d2, s2, fmt, counts, sums)
    H, C = d1.shape[0], d2.shape[0]
    for c in range(H):
        back = np.float32(0)
        if z1[c] > 0:
            for k in range(C):
                back += W2[c, k] * d2[k]
        d1[c] = back
    s1 = _layer_scale(_amax(d1), max_finite, margin) if policy == _ADAPTIVE else scale
    over |= _round_scaled(d1, s1, fmt, counts, sums)
    sums[0] += np.log2(s2)
    sums[1] += np.log2(s1)
    return over


# Not cached: it inlines kernels of mlp/__init__.py, whose edits Numba's cache of this file would
# not see (compiling it takes a few seconds).
@njit(fastmath=FAST)
def sgd_lowgrad_epoch(X, labels, W1, W2, lam, alpha, idx, fmt, max_finite, policy, backoff,
                       growth, interval, margin, state, counts, sums, xa, z1, h, d1, d2, scores,
                       p):
    """One SGD epoch (float32 weights, in place) whose backpropagated d2, d1 pass through the
    format fmt (float_formats.params(name)) with loss scaling; as mlp.sgd_epoch otherwise.

    X (n, d) float32, labels (n,) int64, idx (T,) int64; max_finite: the format's largest value;
    policy: index in POLICIES; backoff, growth, interval, margin: the LossScaling's; state (2,)
    float64 [scale, clean steps since the last change] (dynamic updates it; carried between
    epochs); counts (3,) int64, sums (4,) float64: accumulated (see round_backprop); the rest are
    mlp.scratch_buffers."""
    shrink = np.float32(alpha * lam)
    a = np.float32(alpha)
    for t in range(idx.shape[0]):
        sample_pass(X, labels, idx[t], W1, W2, xa, z1, h, d1, d2, scores, p)
        over = round_backprop(z1, W2, d1, d2, fmt, max_finite, policy, state[0], margin,
                               counts, sums)
        if over:
            counts[0] += 1
            if policy == _DYNAMIC:
                state[0] = max(state[0] * backoff, 1.0 / MAX_SCALE)
                state[1] = 0
            continue
        if policy == _DYNAMIC:
            state[1] += 1
            if state[1] >= interval:
                state[0] = min(state[0] * growth, MAX_SCALE)
                state[1] = 0
        sgd_update(W1, W2, xa, h, d1, d2, shrink, a)


class SgdLowGrad(SgdMethod):
    """State of float32 SGD with low-precision gradients: the weights [W1, W2] (in place), the
    scaler's state, ``steps_used`` and the last epoch's GRAD_COLUMNS (``stats``)."""

    columns = GRAD_COLUMNS

    def __init__(self, X, labels, weights, lam, scratch, grad_format, scaling):
        super().__init__(X, labels, weights, lam, scratch)
        self.fmt = float_formats.params(grad_format)
        self.max_finite = float_formats.max_finite(grad_format)
        self.scaling = scaling
        self.state = np.array([scaling.scale if scaling.policy in ("static", "dynamic") else 1.0,
                               0.0])
        self.stats = (0, 0, 0, 0.0, 0.0, math.nan, math.nan)

    def epoch(self, idx, alpha):
        """One epoch of T = len(idx) steps of size alpha; sets ``stats``; returns 0 (no weight
        saturates)."""
        self.steps_used.append(alpha)
        counts, sums = self.run(idx, alpha)
        T = max(idx.shape[0], 1)
        self.stats = (int(counts[0]), int(counts[1]), int(counts[2]), float(sums[2]),
                      float(sums[3]), float(2.0 ** (sums[0] / T)), float(2.0 ** (sums[1] / T)))
        return 0

    def run(self, idx, alpha):
        """The steps idx (int64) of size alpha of the Numba kernel; returns (counts, sums) of
        these steps."""
        counts, sums = np.zeros(3, np.int64), np.zeros(4)
        sc = self.scaling
        sgd_lowgrad_epoch(self.X, self.labels, self.W[0], self.W[1], self.lam, alpha, idx,
                           self.fmt, self.max_finite, _CODE[sc.policy], sc.backoff, sc.growth,
                           sc.interval, sc.margin, self.state, counts, sums, *self.scratch)
        return counts, sums


# ---- the measurement: python -m halp_bench.mlp.scaling ------------------------------------------

GRAD_FORMATS = ("fp16", "fp8-e5m2", "fp8-e4m3")
"""The gradient formats the measurement runs (bf16 has float32's exponent range: it does not
underflow where these do)."""
STATIC_HEADROOM = 16.0
"""The measurement's static scale: the largest power of two S with S * STATIC_HEADROOM at most
the format's largest finite value (room for gradient entries up to 16 in magnitude)."""


@dataclass
class Size:
    """The measurement's size: training rows of MNIST (the first ones), epochs, seeds; the MLP's
    hidden width, step and L2 strength (docs/reproduction.md's MLP)."""

    rows: int = 50000
    epochs: int = 4
    seeds: int = 5
    hidden: int = 64
    step: float = 0.02
    lam: float = 1e-4

    @classmethod
    def quick(cls):
        return cls(rows=2000, epochs=2, seeds=3)


def static_scale(grad_format):
    """The measurement's static scale for ``grad_format`` (see STATIC_HEADROOM)."""
    return float(2.0 ** math.floor(math.log2(float_formats.max_finite(grad_format)
                                             / STATIC_HEADROOM)))


def policy_settings(grad_format, policy):
    """The LossScaling the measurement runs for ``policy`` with ``grad_format``: static at
    ``static_scale``, the others at their defaults."""
    if policy == "static":
        return LossScaling("static", scale=static_scale(grad_format))
    return LossScaling(policy)


def runs(problem, size, progress=None):
    """Train every (gradient format, policy) and the float32 baseline with seeds 0..seeds-1; one
    frame of every epoch's history row with grad_format ("fp32" for the baseline), policy,
    seed and the policy's parameters (scale, interval, margin)."""
    from . import train   # noqa: PLC0415

    cases = [("fp32", "none")] + [(f, p) for f in GRAD_FORMATS for p in POLICIES]
    frames = []
    for grad_format, policy in cases:
        scaling = policy_settings(grad_format, policy) if grad_format != "fp32" else None
        for seed in range(size.seeds):
            start = time.perf_counter()
            res = train(problem, "sgd", hidden=size.hidden, epochs=size.epochs, step=size.step,
                        lam=size.lam, seed=seed,
                        grad_format=None if scaling is None else grad_format,
                        loss_scaling=scaling or "none")
            hist = res.history.copy()
            for column in GRAD_COLUMNS:
                if column not in hist:
                    hist[column] = math.nan if column.startswith("scale") else 0
            hist["steps"] = problem.n
            hist.insert(0, "seed", seed)
            hist.insert(0, "policy", policy)
            hist.insert(0, "grad_format", grad_format)
            for name, value in asdict(scaling or LossScaling()).items():
                if name != "policy":
                    hist[name] = value if scaling is not None else math.nan
            frames.append(hist)
            if progress:
                progress(f"{grad_format:9s} {policy:9s} seed {seed}: val accuracy "
                         f"{hist.val_accuracy.iloc[-1]:.4f}, skipped {int(hist.skipped.sum())}, "
                         f"{time.perf_counter() - start:.0f} s")
    return pd.concat(frames, ignore_index=True)


def summarize(frame):
    """One row per (grad_format, policy) of a ``runs`` frame, in its order: the mean over seeds
    of the final training loss and of the final validation accuracy (with its min and max), the
    share of skipped steps, of flushed gradient entries and of their magnitude (sum of |v|)
    (over all epochs and seeds), the
    geometric mean scales of d2 and d1 of the last epoch (mean over seeds) and the number of
    seeds."""
    trained = frame[frame.epoch > 0]
    rows = []
    for (fmt, policy), part in trained.groupby(["grad_format", "policy"], sort=False):
        final = part[part.epoch == part.epoch.max()]
        nonzero, mass = part.nonzero.sum(), part.mass.sum()
        rows.append(dict(grad_format=fmt, policy=policy,
                         train_loss=final.train_loss.mean(),
                         val_accuracy=final.val_accuracy.mean(),
                         val_min=final.val_accuracy.min(), val_max=final.val_accuracy.max(),
                         skipped_share=part.skipped.sum() / part.steps.sum(),
                         flushed_share=part.flushed.sum() / nonzero if nonzero else math.nan,
                         flushed_mass=part.flushed_mass.sum() / mass if mass else math.nan,
                         scale_out=final.scale_out.mean(), scale_hidden=final.scale_hidden.mean(),
                         seeds=final.seed.nunique()))
    return pd.DataFrame(rows)


def _scale_text(value):
    return "—" if not np.isfinite(value) else f"2^{math.log2(value):.1f}"


def _share(value, fmt):
    return "—" if not np.isfinite(value) else format(value, fmt)


def table(frame):
    """The summary of a ``runs`` frame as markdown lines (a table)."""
    lines = ["| gradients | loss scaling | training loss | validation accuracy, mean (min–max) | "
             "skipped steps | flushed entries | flushed magnitude | scale d2 / d1 (last epoch) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in summarize(frame).itertuples():
        scales = (_scale_text(r.scale_out) if r.grad_format == "fp32" else
                  f"{_scale_text(r.scale_out)} / {_scale_text(r.scale_hidden)}")
        lines.append(f"| {r.grad_format} | {r.policy} | {r.train_loss:.4f} | {r.val_accuracy:.4f} "
                     f"({r.val_min:.4f}–{r.val_max:.4f}) | {r.skipped_share:.2%} | "
                     f"{_share(r.flushed_share, '.2%')} | {_share(r.flushed_mass, '.1e')} | "
                     f"{scales} |")
    return lines


def flushed_by_epoch(frame):
    """Markdown lines: the share of flushed gradient entries in each epoch (all seeds), one row
    per gradient format and policy of a ``runs`` frame (the float32 baseline left out)."""
    low = frame[(frame.epoch > 0) & (frame.grad_format != "fp32")]
    sums = low.groupby(["grad_format", "policy", "epoch"], sort=False)[["flushed", "nonzero"]].sum()
    share = (sums.flushed / sums.nonzero).unstack("epoch")
    epochs = list(share.columns)
    lines = ["| gradients | loss scaling | " + " | ".join(f"epoch {e}" for e in epochs) + " |",
             "| --- | --- | " + " | ".join("---" for _ in epochs) + " |"]
    for (fmt, policy), row in share.iterrows():
        lines.append(f"| {fmt} | {policy} | " + " | ".join(f"{v:.2%}" for v in row) + " |")
    return lines


def command(size):
    """The command line that runs ``size`` (without --out)."""
    quick = replace(size, seeds=Size.quick().seeds) == Size.quick()
    seeds = (Size.quick() if quick else Size()).seeds
    return "python -m halp_bench.mlp.scaling" + (" --quick" if quick else "") + (
        f" --seeds {size.seeds}" if size.seeds != seeds else "")


def measure(out, size, mnist_path=None):
    """Run the measurement and write ``runs.csv`` (every epoch of every run), ``summary.md`` (the
    table) and ``run.json`` (command, size, wall time, machine) into ``out``; returns the table's
    lines."""
    from halp_core import datasets  # noqa: PLC0415
    from halp_core.problems import Multinomial  # noqa: PLC0415

    from halp_bench.machine import cpu_description  # noqa: PLC0415

    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    full = datasets.mnist(lam=size.lam, path=mnist_path)
    problem = Multinomial(full.X[:size.rows], full.labels[:size.rows], full.lam, n_classes=10,
                          name=f"mnist-{size.rows}")
    problem.X_val, problem.y_val = full.X_val, full.y_val
    frame = runs(problem, size, progress=lambda m: print(m, file=sys.stderr, flush=True))
    frame.to_csv(out / "runs.csv", index=False)
    lines = [*table(frame), "", "Flushed gradient entries by epoch:", "", *flushed_by_epoch(frame)]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    run = dict(command=command(size), size=asdict(size),
               wall_seconds=round(time.perf_counter() - start, 1), machine=cpu_description())
    (out / "run.json").write_text(json.dumps(run, indent=1) + "\n")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m halp_bench.mlp.scaling",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results-loss-scaling", help="output folder")
    parser.add_argument("--quick", action="store_true",
                        help=f"the first {Size.quick().rows} rows, {Size.quick().epochs} epochs")
    parser.add_argument("--seeds", type=int, default=None, help=f"default {Size().seeds}")
    parser.add_argument("--mnist-path", default=None, help="a local mnist.pkl.gz")
    args = parser.parse_args(argv)
    size = Size.quick() if args.quick else Size()
    if args.seeds is not None:
        if args.seeds < 1:
            parser.error("--seeds must be >= 1")
        size.seeds = args.seeds
    print("\n".join(measure(args.out, size, args.mnist_path)))
    return 0


if __name__ == "__main__":   # run the package's module, whose LossScaling train() knows
    from halp_bench.mlp import scaling as _module

    sys.exit(_module.main())
