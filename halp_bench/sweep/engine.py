"""Run a grid on dask.distributed: an embedded LocalCluster or an existing scheduler.

Every task writes its own part when its run finishes, so nothing finished is lost; a run whose
part exists is not submitted again, and a task retried by the scheduler after its worker died
finds its part if it was written. Tasks that fail for good are reported, never stored.
"""

import os
from pathlib import Path
from contextlib import contextmanager
from dataclasses import dataclass, field

from distributed import Client, LocalCluster, as_completed
from tqdm import tqdm

from . import storage
from .runner import run_and_store

RETRIES = 2
"""Times the scheduler resubmits a task that raised (a worker's death is rescheduled by the
scheduler itself, up to distributed's ``allowed-failures``)."""


@dataclass
class Outcome:
    """What ``run_grid`` did: ``ran`` (run_ids run now), ``skipped`` (runs stored already) and
    ``failed`` (run_id -> the error of runs that failed after their retries)."""

    ran: list = field(default_factory=list)
    skipped: int = 0
    failed: dict = field(default_factory=dict)


def local_cluster(workers):
    """A LocalCluster of ``workers`` processes with one thread each, on 127.0.0.1 only, without
    its web dashboard; NUMBA_NUM_THREADS=1 in the workers so they do not oversubscribe."""
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address=None,
                        env={"NUMBA_NUM_THREADS": "1"})


@contextmanager
def client(scheduler=None, workers=None):
    """A Client of the scheduler at ``scheduler`` (e.g. "tcp://10.0.0.5:8786", used unchanged)
    or of a new local cluster of ``workers`` processes (default: the CPU count); closes what it
    opened."""
    if scheduler is not None:
        with Client(scheduler) as c:
            yield c
        return
    with local_cluster(workers or os.cpu_count()) as cluster, Client(cluster) as c:
        yield c


def run_grid(client, runs, out, *, progress=True, on_done=None):
    """Run every run of ``runs`` (spec.Run) without a part in ``out`` on ``client``'s cluster, each
    task storing its own part; a progress bar (stderr) shows done / total and the time left.
    on_done: optional ``on_done(run_id)`` after each finished run. Returns an :class:`Outcome`."""
    out = Path(out).resolve()      # the workers' working folder may differ from ours
    (out / "runs").mkdir(parents=True, exist_ok=True)
    have = storage.stored(out)
    todo = {run.run_id: run for run in runs if run.run_id not in have}
    outcome = Outcome(skipped=len(runs) - len(todo))
    futures = {client.submit(run_and_store, run, str(out), retries=RETRIES, pure=False): run_id
               for run_id, run in todo.items()}
    with tqdm(total=len(runs), initial=outcome.skipped, unit="run", desc="sweep",
              disable=not progress) as bar:
        for future in as_completed(futures):
            run_id = futures[future]
            if future.status == "finished":
                outcome.ran.append(run_id)
                if on_done is not None:
                    on_done(run_id)
            else:
                outcome.failed[run_id] = repr(future.exception())
            future.release()
            bar.update(1)
    return outcome
