"""A hand-made output of `python -m halp_bench.nets` (nets.csv, nets.md, nets_run.json) for the
Reproduction page's deep-learning section.

Both networks ('cnn', 'lstm'), the eight runs of the experiment (LABELS), seeds 0 and 1, epochs 0 to
EPOCHS. A run's validation accuracy climbs in a straight line from 0.1 at epoch 0 to FINAL[network]
[label] + 0.01 × seed at epoch EPOCHS; each epoch takes SECONDS[network] seconds. The LSTM's
halp-fp8-e4m3 seed 1 diverges (FAILED): its history stops at epoch 1 and every row names the failure.
With these numbers the verdicts (halp_bench.nets.experiment's rule) are VERDICTS.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

LABELS = {"sgd-fp32": ("sgd", "fp32"), "lp-sgd-8": ("lp-sgd", "8"), "lp-sgd-bf16": ("lp-sgd", "bf16"),
          "lp-sgd-fp8-e4m3": ("lp-sgd", "fp8-e4m3"), "halp-8": ("halp", "8"), "halp-bf16": ("halp", "bf16"),
          "halp-fp8-e4m3": ("halp", "fp8-e4m3"), "lp-svrg-8": ("lp-svrg", "8")}
"""Run label -> (method, precision)."""
FINAL = {"cnn": {"sgd-fp32": 0.88, "lp-sgd-8": 0.75, "lp-sgd-bf16": 0.84, "lp-sgd-fp8-e4m3": 0.80,
                 "halp-8": 0.85, "halp-bf16": 0.84, "halp-fp8-e4m3": 0.70, "lp-svrg-8": 0.83},
         "lstm": {"sgd-fp32": 0.92, "lp-sgd-8": 0.80, "lp-sgd-bf16": 0.90, "lp-sgd-fp8-e4m3": 0.80,
                  "halp-8": 0.90, "halp-bf16": 0.90, "halp-fp8-e4m3": 0.70, "lp-svrg-8": 0.85}}
"""Final validation accuracy of seed 0 (seed 1: 0.01 more)."""
SECONDS = {"cnn": 2.0, "lstm": 3.0}
"""Seconds per epoch of every run of a network."""
LAYERS = {"cnn": ("conv1", "dense"), "lstm": ("embedding", "gates")}
"""Each network's layers: its mu_<layer> columns (NaN in the other network's rows)."""
SEEDS = (0, 1)
EPOCHS = 2
FAILED = ("lstm", "halp-fp8-e4m3", 1)
"""(network, label, seed) of the run that diverges at epoch 2."""
FAILURE = ("lstm halp-fp8-e4m3 diverged at epoch 2: the weights or the training loss are not finite; "
           "use a smaller step or a fixed mu")
VERDICTS = {"cnn": {"8": "ahead", "bf16": "level", "fp8-e4m3": "behind"},
            "lstm": {"8": "ahead", "bf16": "level", "fp8-e4m3": "level"}}
"""network -> precision -> verdict: the failed run's last accuracy (0.405) widens HALP-fp8's spread."""
RUN = {"command": "python -m halp_bench.nets --quick", "wall_seconds": 123.4, "machine": "Hand-made CPU (2 cores)",
       "profile": {"name": "quick", "seeds": len(SEEDS)}}
SUMMARY = "# HALP against LP-SGD on two networks\n\nHand-made for the dashboard's tests.\n"


def run_rows(network, label, seed):
    """The history rows of one run (every column of nets.csv)."""
    last = 1 if (network, label, seed) == FAILED else EPOCHS
    epoch = np.arange(last + 1)
    accuracy = 0.1 + (FINAL[network][label] + 0.01 * seed - 0.1) * epoch / EPOCHS
    method, precision = LABELS[label]
    rows = pd.DataFrame({
        "network": network, "method": method, "precision": precision, "label": label, "seed": seed,
        "epoch": epoch, "passes": epoch * (1.0 if "sgd" in method else 3.0), "seconds": SECONDS[network] * epoch,
        "train_loss": 2.3 / (1 + epoch), "val_loss": 2.4 / (1 + epoch), "val_accuracy": accuracy,
        "saturations": 0})
    for net, layers in LAYERS.items():
        for layer in layers:
            rows[f"mu_{layer}"] = 1.0 if (net == network and method == "halp") else np.nan
    rows["failure"] = FAILURE if last < EPOCHS else ""
    return rows


def histories():
    """Every run's rows, as nets.csv holds them."""
    return pd.concat([run_rows(network, label, seed) for network in FINAL for label in LABELS for seed in SEEDS],
                     ignore_index=True)


def write_nets(folder):
    """Write nets.csv, nets.md and nets_run.json into `folder` (made if needed); return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    histories().to_csv(folder / "nets.csv", index=False)
    (folder / "nets.md").write_text(SUMMARY)
    (folder / "nets_run.json").write_text(json.dumps(RUN, indent=1) + "\n")
    return folder
