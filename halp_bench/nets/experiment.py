"""The paper's deep-learning claim, measured: every run of ``train.RUNS`` on both networks
(LeNet-5 on Fashion-MNIST, the LSTM tagger on the Brown corpus) with several seeds, the verdict of
HALP against LP-SGD at each precision, and the outputs of ``python -m halp_bench.nets``.

Runs go to dask.distributed (``halp_bench.sweep.engine.client``: an embedded LocalCluster, one
process per CPU, or the scheduler given); each network's data are scattered to the workers once.

Verdict rule (``verdict``): at one precision, HALP is *ahead* of LP-SGD when its median final
validation accuracy over seeds exceeds LP-SGD's by more than the seeds' spread (the larger of the
two methods' 5-95% ranges of final accuracy), *behind* when it trails by more than that, and
*level* otherwise.
"""

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from . import cnn, data, lstm, train

NETWORKS = ("cnn", "lstm")
TITLES = {"cnn": "LeNet-5 on Fashion-MNIST", "lstm": "LSTM tagger on the Brown corpus"}
VERDICTS = ("ahead", "level", "behind")
QUANTILES = (0.05, 0.95)


@dataclass(frozen=True)
class Profile:
    """Sizes and hyperparameters of one run of the experiment (one per network where it says
    so); rows / sentences None = the whole split."""

    name: str
    cnn_rows: int | None
    cnn_val_rows: int | None
    lstm_sentences: int | None
    lstm_val_sentences: int | None
    cnn_epochs: int
    lstm_epochs: int
    seeds: int = 5
    batch: int = 32
    cnn_step: float = cnn.LeNet.default_step
    lstm_step: float = lstm.Tagger.default_step
    lam: float = 1e-4

    def epochs(self, network):
        return self.cnn_epochs if network == "cnn" else self.lstm_epochs

    def step(self, network):
        return self.cnn_step if network == "cnn" else self.lstm_step


PROFILES = {
    "quick": Profile("quick", cnn_rows=4000, cnn_val_rows=2000, lstm_sentences=2000,
                     lstm_val_sentences=1000, cnn_epochs=3, lstm_epochs=3),
    "full": Profile("full", cnn_rows=None, cnn_val_rows=None, lstm_sentences=None,
                    lstm_val_sentences=None, cnn_epochs=4, lstm_epochs=3),
}
"""The profiles of ``python -m halp_bench.nets``: ``quick`` (both networks on a subset, the tests
run it) and ``full`` (every training image and sentence)."""


def load(network, profile):
    """(network instance, train split, validation split) of ``network`` at ``profile``'s size."""
    if network == "cnn":
        tr, val = data.fashion_mnist(train_rows=profile.cnn_rows, val_rows=profile.cnn_val_rows)
        return cnn.LeNet(), tr, val
    tagging = data.brown_tagging(train_sentences=profile.lstm_sentences,
                                 val_sentences=profile.lstm_val_sentences)
    return (lstm.Tagger(len(tagging.words), len(tagging.tags)), tagging.train, tagging.val)


@dataclass(frozen=True)
class Run:
    """One training run: network, method, precision, seed, and its hyperparameters."""

    network: str
    method: str
    precision: object
    seed: int
    epochs: int
    step: float
    lam: float
    batch: int
    mu: object = "auto"
    epoch_fraction: float = 1.0
    """T as a fraction of one pass (1: T = n / batch steps)."""
    label: str = ""
    """The run's name in the outputs ("" = train.label(method, precision))."""
    warm_epochs: int = train.WARM_EPOCHS

    @property
    def name(self):
        """The run's label in the outputs, e.g. 'halp-8' or a study variant's."""
        return self.label or train.label(self.method, self.precision)


def runs(profile):
    """Every Run of the experiment: each network x train.RUNS x seeds 0..seeds-1."""
    return [Run(net, method, precision, seed, profile.epochs(net), profile.step(net), profile.lam,
                profile.batch)
            for net in NETWORKS for method, precision in train.RUNS for seed in range(profile.seeds)]


def execute(run, net, train_data, val_data):
    """Train one Run; its history with the run's columns (network, method, precision, label,
    seed, failure: the divergence or no-progress message, "" for a healthy run)."""
    import warnings   # noqa: PLC0415 (the warning is recorded in the frame instead)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = train.train(net, train_data, val_data, run.method, run.precision,
                             epochs=run.epochs, step=run.step, lam=run.lam, batch=run.batch,
                             mu=run.mu, seed=run.seed, warm_epochs=run.warm_epochs,
                             epoch_steps=max(int(train.samples(train_data) // run.batch
                                                 * run.epoch_fraction), 1))
    hist = result.history.copy()
    hist.insert(0, "seed", run.seed)
    hist.insert(0, "label", run.name)
    hist.insert(0, "precision", str(run.precision))
    hist.insert(0, "method", run.method)
    hist.insert(0, "network", run.network)
    attrs = result.history.attrs
    hist["failure"] = attrs.get("divergence") or attrs.get("no_progress") or ""
    return hist


STUDY = (("halp-8", "halp", 8, {}), ("halp-12", "halp", 12, {}), ("halp-16", "halp", 16, {}),
         ("halp-8, mu 0.1", "halp", 8, dict(mu=0.1)), ("halp-8, mu 10", "halp", 8, dict(mu=10.0)),
         ("halp-8, T = 1/4 pass", "halp", 8, dict(quarter=True)),
         ("halp-8, no warm epoch", "halp", 8, dict(warm_epochs=0)),
         ("halp-bf16, no warm epoch", "halp", "bf16", dict(warm_epochs=0)),
         ("halp-8, step / 2", "halp", 8, dict(step=0.5)), ("halp-8, step x 2", "halp", 8, dict(step=2.0)),
         ("lp-sgd-8", "lp-sgd", 8, {}), ("lp-sgd-8, step / 2", "lp-sgd", 8, dict(step=0.5)),
         ("lp-sgd-8, step x 2", "lp-sgd", 8, dict(step=2.0)), ("sgd-fp32", "sgd", "fp32", {}))
"""Where HALP stands against LP-SGD and why (``--study``): (label, method, precision, change)
with change one of bits (the precision), a fixed mu for every layer, T = a quarter pass (four
times the epochs, so the same data passes), no warm epoch (SVRG's terms from the first step), or
the step times a factor (LP-SGD-8's too)."""


def study_runs(profile):
    """Every Run of the study at ``profile``'s size: each network x STUDY x seeds."""
    out = []
    for net in NETWORKS:
        epochs, step = profile.epochs(net), profile.step(net)
        for name, method, precision, change in STUDY:
            quarter = change.get("quarter", False)
            out += [Run(net, method, precision, seed, epochs * (4 if quarter else 1),
                        step * change.get("step", 1.0), profile.lam, profile.batch,
                        change.get("mu", "auto"), 0.25 if quarter else 1.0, name,
                        change.get("warm_epochs", train.WARM_EPOCHS))
                    for seed in range(profile.seeds)]
    return out


def selected(grid, network=None, labels=None):
    """``grid`` (a function of the profile giving Runs) narrowed to one network (None: all) and
    to the runs whose label is in ``labels`` (None: all); the result's ``__wrapped__`` is grid."""
    def narrowed(profile):
        return [run for run in grid(profile)
                if (network is None or run.network == network)
                and (labels is None or run.name in labels)]
    narrowed.__wrapped__ = grid
    return narrowed


def run_all(profile, *, client, progress=print, grid=runs):
    """Run every Run of ``grid(profile)`` (default: the experiment's) on the dask ``client``;
    one DataFrame of all histories."""
    from distributed import as_completed   # noqa: PLC0415 (only the runner needs it)
    futures = []
    for network in dict.fromkeys(run.network for run in grid(profile)):
        net, tr, val = load(network, profile)
        net_f, tr_f, val_f = (client.scatter(x, broadcast=True) for x in (net, tr, val))
        futures += [client.submit(execute, run, net_f, tr_f, val_f, pure=False)
                    for run in grid(profile) if run.network == network]
    frames = []
    for done, future in enumerate(as_completed(futures), 1):
        frame = future.result()
        last = frame.iloc[-1]
        progress(f"[{done}/{len(futures)}] {last.network} {last.label} seed {last.seed}: "
                 f"val accuracy {last.val_accuracy:.4f}, {last.seconds:.1f} s"
                 + (f" -- {last.failure}" if last.failure else ""))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).sort_values(
        ["network", "method", "precision", "label", "seed", "epoch"], kind="stable",
        ignore_index=True)


# ---- results --------------------------------------------------------------------------------

def is_failure(messages):
    """Which entries of a ``failure`` column (a Series: messages, "" or NaN for a healthy run, as
    read back from CSV) name a failure."""
    return messages.notna() & (messages.astype(str) != "")


def failed_runs(frame):
    """The ``finals`` rows of the runs that failed (diverged or made no progress)."""
    runs_ = finals(frame)
    return runs_[is_failure(runs_["failure"])]


def finals(frame):
    """One row per run (network, label, seed): final val_accuracy and val_loss, the median
    seconds per epoch, whether it failed."""
    last = frame.groupby(["network", "method", "precision", "label", "seed"], sort=False).agg(
        val_accuracy=("val_accuracy", "last"), val_loss=("val_loss", "last"),
        epochs=("epoch", "max"), seconds=("seconds", "last"), failure=("failure", "last"))
    last["epoch_seconds"] = last["seconds"] / last["epochs"]
    return last.reset_index()


def table(frame):
    """Per network and run label: median, 5% and 95% of final validation accuracy over seeds,
    median seconds per epoch, seeds, failed runs."""
    runs_ = finals(frame)
    grouped = runs_.groupby(["network", "method", "precision", "label"], sort=False)
    out = grouped["val_accuracy"].agg(median="median",
                                      low=lambda a: a.quantile(QUANTILES[0]),
                                      high=lambda a: a.quantile(QUANTILES[1]))
    out["epoch_seconds"] = grouped["epoch_seconds"].median()
    out["seeds"] = grouped["seed"].nunique()
    out["failed"] = grouped["failure"].agg(lambda f: int(is_failure(f).sum()))
    order = [train.label(m, p) for m, p in train.RUNS] + [name for name, *_ in STUDY]
    rank = {tag: k for k, tag in reversed(list(enumerate(order)))}
    out = out.reset_index()
    return out.sort_values(["network", "label"], key=lambda c: c.map(rank).fillna(len(rank))
                           if c.name == "label" else c.map(NETWORKS.index), kind="stable",
                           ignore_index=True)


def verdict(halp, lp_sgd):
    """The verdict (one of VERDICTS) of HALP's final accuracies against LP-SGD's (arrays over
    seeds), by the module's rule."""
    halp, lp_sgd = np.asarray(halp, float), np.asarray(lp_sgd, float)
    spread = max(np.subtract(*np.quantile(x, QUANTILES[::-1])) for x in (halp, lp_sgd))
    gap = np.median(halp) - np.median(lp_sgd)
    return VERDICTS[0] if gap > spread else VERDICTS[2] if -gap > spread else VERDICTS[1]


def verdicts(frame):
    """Per network and precision with both methods: median accuracies, the gap, the spread and
    the verdict."""
    runs_ = finals(frame)
    rows = []
    for (network, precision), part in runs_.groupby(["network", "precision"], sort=False):
        by = {m: part.loc[part["method"] == m, "val_accuracy"].to_numpy() for m in ("halp", "lp-sgd")}
        if min(len(v) for v in by.values()) == 0:
            continue
        spread = max(np.subtract(*np.quantile(v, QUANTILES[::-1])) for v in by.values())
        rows.append(dict(network=network, precision=precision, halp=np.median(by["halp"]),
                         lp_sgd=np.median(by["lp-sgd"]),
                         gap=np.median(by["halp"]) - np.median(by["lp-sgd"]), spread=spread,
                         verdict=verdict(by["halp"], by["lp-sgd"])))
    return pd.DataFrame(rows)


RULE = ("HALP is *ahead* of LP-SGD at a precision when its median final validation accuracy over "
        "seeds exceeds LP-SGD's by more than the seeds' spread (the larger of the two methods' "
        "5–95% ranges), *behind* when it trails by more than that, and *level* otherwise.")
"""The verdict rule in words (``verdict``)."""


def profile_settings(profile):
    """The profile as a dict (for run.json and the summary)."""
    return asdict(profile)



def network_tables(frame, network):
    """Markdown lines of one network: the table of final validation accuracy (median, 5-95%
    over seeds), seconds per epoch and failed runs per run, then the verdicts per precision."""
    part = table(frame)
    part = part[part["network"] == network]
    lines = ["| run | final validation accuracy, median (5–95%) | seconds per epoch | "
             "failed runs |", "| --- | --- | --- | --- |"]
    lines += [f"| {row.label} | {row.median:.4f} ({row.low:.4f}–{row.high:.4f}) | "
              f"{row.epoch_seconds:.2f} | {row.failed} of {row.seeds} |" for row in part.itertuples()]
    ver = verdicts(frame)
    lines += ["", "| precision | HALP | LP-SGD | gap | spread | verdict |",
              "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {row.precision} | {row.halp:.4f} | {row.lp_sgd:.4f} | {row.gap:+.4f} | "
              f"{row.spread:.4f} | **{row.verdict}** |"
              for row in ver[ver["network"] == network].itertuples()]
    return lines


def summary(frame, profile, run):
    """The markdown summary of one experiment: the rule, per network the table of final validation
    accuracy (median, 5-95% over seeds) and seconds per epoch per run, the verdicts, and every
    failed run. ``run``: the command, wall seconds and machine (run.json)."""
    lines = ["# HALP against LP-SGD on two networks", "",
             f"`{run['command']}` ({profile.name} profile) ran in {run['wall_seconds']:.0f} s on "
             f"{run['machine']}; {profile.seeds} seeds per run, minibatches of {profile.batch}, "
             f"lam = {profile.lam:g}, HALP's mu per layer automatic, T = one pass per epoch.", "",
             f"Verdict rule: {RULE}", ""]
    for network in NETWORKS:
        if (frame["network"] == network).any():
            lines += [f"## {TITLES[network]}", "",
                      f"{profile.epochs(network)} epochs of step {profile.step(network):g}.", "",
                      *network_tables(frame, network), ""]
    failed = failed_runs(frame)
    lines += ["## Failed runs", ""]
    lines += [f"- {row.failure} (seed {row.seed})" for row in failed.itertuples()] or ["None."]
    return "\n".join(lines) + "\n"


def study_summary(frame, profile, run):
    """The markdown of ``--study``: per network, each STUDY variant's final validation accuracy
    (median, 5-95%), saturated updates per epoch and HALP's median mu over layers and epochs."""
    lines = ["# Why HALP stands where it does: bits, mu, T and step", "",
             f"`{run['command']}` ran in {run['wall_seconds']:.0f} s on {run['machine']}; "
             f"{profile.seeds} seeds per variant, the {profile.name} profile's size.", ""]
    order = {name: k for k, (name, *_) in enumerate(STUDY)}
    for network in NETWORKS:
        part = frame[frame["network"] == network]
        if part.empty:
            continue
        tab = table(part).set_index("label")
        later = part[part["epoch"] > 0]
        sat = later.groupby("label")["saturations"].median()
        mu = later.filter(like="mu_").assign(label=later["label"]).groupby("label").median(
            numeric_only=True).median(axis=1)
        lines += [f"## {TITLES[network]}", "",
                  "| variant | final validation accuracy, median (5–95%) | saturated updates per "
                  "epoch (median) | mu (median over layers) |", "| --- | --- | --- | --- |"]
        for tag in sorted(tab.index, key=lambda t: order.get(t, len(order))):
            row = tab.loc[tag]
            mu_text = "—" if np.isnan(mu.get(tag, np.nan)) else f"{mu[tag]:.3g}"
            lines.append(f"| {tag} | {row['median']:.4f} ({row['low']:.4f}–{row['high']:.4f}) | "
                         f"{sat.get(tag, 0):.0f} | {mu_text} |")
        lines.append("")
    return "\n".join(lines) + "\n"
