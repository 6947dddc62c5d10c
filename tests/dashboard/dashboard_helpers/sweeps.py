"""A synthetic sweep folder as `python -m halp_bench.sweep SPEC --out DIR` writes one: `spec.toml` and
`runs/<run_id>.parquet` (one row per epoch, parameters named by the metadata key `halp.params`).

The sweep: HALP 8-bit on one least-squares problem, step_factor × mu (0.05, 0.1, 0.5 × 'auto', '1'),
seeds 0, 1, 2, 20 epochs. f − f* = exp(−rate × epoch) with rate 0.5 at step 0.05 (reaches 1e-4 at
epoch 19, never 1e-8), 1.5 at step 0.1 and 2 at step 0.5, times 1 + 0.05 × seed. The run step 0.5,
mu '1', seed 2 diverges at epoch 3 (f − f* inf from there). Seeds 0 and 1 ran on machine 'box-a',
seed 2 on 'box-b'.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PARAMS = ["problem", "n", "d", "lam", "noise", "cond", "solver", "precision", "step_factor", "mu",
          "data_bits", "seed", "epochs"]
SPEC = '[sweep]\nproblem = "lsq"\nstep_factor = [0.05, 0.1, 0.5]\nmu = ["auto", "1"]\nseeds = [0, 1, 2]\n'
STEPS = {0.05: 0.5, 0.1: 1.5, 0.5: 2.0}
"""step_factor -> rate of the synthetic f − f*."""
MUS = ("auto", "1")
SEEDS = (0, 1, 2)
EPOCHS = 20
DIVERGED = (0.5, "1", 2)
"""(step_factor, mu, seed) of the run that diverges at epoch 3."""


def run_rows(step, mu, seed):
    """History rows of one synthetic run (every column of the contract)."""
    epoch = np.arange(EPOCHS + 1)
    subopt = np.exp(-STEPS[step] * (1 + 0.05 * seed) * epoch)
    diverged = 3 if (step, mu, seed) == DIVERGED else -1
    if diverged >= 0:
        subopt[diverged:] = np.inf
    return pd.DataFrame({
        "problem": "lsq", "n": 1000, "d": 20, "lam": 1e-3, "noise": 0.1, "cond": np.nan, "solver": "halp",
        "precision": "8", "step_factor": step, "mu": mu, "data_bits": 8, "seed": seed, "epochs": EPOCHS,
        "run_id": f"s{step}-mu{mu}-seed{seed}", "kappa": 100.0, "L_max": 4.0, "diverged_epoch": diverged,
        "verdict": "diverged" if diverged >= 0 else "",
        "machine": "box-b" if seed == 2 else "box-a", "version": "0.1",
        "epoch": epoch, "passes": 3.0 * epoch, "seconds": 0.01 * epoch * (2 if seed == 2 else 1),
        "loss": 1 + subopt, "subopt": subopt, "grad_norm": np.sqrt(subopt), "dist": np.sqrt(subopt),
        "saturations": np.where(epoch > 0, 5 if mu == "1" else 0, 0)})


def write_run(folder, frame, params=PARAMS, name=None):
    """Write one run's rows to `folder`/runs/<name or its run_id>.parquet with `halp.params` = params;
    return the path."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**table.schema.metadata, b"halp.params": json.dumps(params).encode()})
    path = Path(folder) / "runs" / f"{name or frame['run_id'].iloc[0]}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def write_sweep(dest):
    """Write the synthetic sweep folder at `dest`; return it."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "spec.toml").write_text(SPEC)
    for step in STEPS:
        for mu in MUS:
            for seed in SEEDS:
                write_run(dest, run_rows(step, mu, seed))
    return dest


def write_faulty_sweep(dest):
    """The synthetic sweep at `dest` plus one faulty run file of each kind (not Parquet, columns
    missing, text in a numeric column, an earlier file's run id, a folder, a dangling symlink);
    returns {file name: words its problem holds}."""
    runs = write_sweep(dest) / "runs"
    (runs / "garbage.parquet").write_bytes(b"PAR1 this is not parquet")
    write_run(dest, run_rows(0.1, "auto", 9).drop(columns=["subopt", "machine"]).assign(run_id="nosubopt"))
    write_run(dest, run_rows(0.1, "auto", 8).assign(passes="many", run_id="textpasses"))
    write_run(dest, run_rows(0.1, "auto", 0).assign(seed=7), name="zz-duplicate")  # an earlier file's run id
    (runs / "folder.parquet").mkdir()
    (runs / "dangling.parquet").symlink_to(runs / "nowhere")
    return {"garbage.parquet": "could not be read as Parquet", "nosubopt.parquet": "lacks column(s) machine, subopt",
            "textpasses.parquet": "column 'passes' does not hold numbers",
            "zz-duplicate.parquet": "already read", "folder.parquet": "not a regular file",
            "dangling.parquet": "cannot be read"}
