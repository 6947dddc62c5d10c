"""Run a grid on dask.distributed: an embedded LocalCluster or an existing scheduler.

Workers only compute: each task returns its run's part (``runner.execute``) and the client
stores it as the task completes (``distributed.as_completed``), so the workers need not see the
client's disk. A run whose part is stored already is not submitted again; the scheduler reruns the
task of a worker that died and retries one that raised, and each finished run is stored once, by
the client. Tasks that fail for good are reported, never stored. A file problem's data file is
read once here and its bytes scattered to the workers (``send_files``), so the workers need not
see it.
"""

import os
from pathlib import Path
from contextlib import contextmanager
from dataclasses import dataclass, field

from distributed import Client, LocalCluster, as_completed
from tqdm import tqdm

from . import runner, storage

RETRIES = 2
LOST_FETCHES = 3
"""Times ``run_grid`` runs again a finished run whose result could not be fetched (lost with its
worker) before it counts the run as failed."""
"""Times the scheduler resubmits a task that raised (a worker's death is rescheduled by the
scheduler itself, up to distributed's ``allowed-failures``)."""


@dataclass
class Outcome:
    """What ``run_grid`` did: ``ran`` (run_ids run and stored now), ``skipped`` (runs stored
    already), ``failed`` (run_id -> the error of runs that failed after their retries; not stored)
    and ``flagged`` (kind of ``runner.VERDICTS`` -> {run_id: the solver's warning} of the runs
    stored now that diverged or made no progress)."""

    ran: list = field(default_factory=list)
    skipped: int = 0
    failed: dict = field(default_factory=dict)
    flagged: dict = field(default_factory=lambda: {kind: {} for kind in runner.VERDICTS})


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


def send_files(client, runs):
    """{sha256: Future of the file's bytes} of the data files of ``runs``' file problems: each
    read once here (``spec.DataFile.read``: SpecError naming the file when it is gone or changed
    since the spec was checked) and scattered to every worker of ``client``'s cluster (a worker
    that joins later fetches them from the others)."""
    sources = {run.source.sha256: run.source for run in runs if run.source is not None}
    return {sha256: client.scatter(source.read(), broadcast=True, hash=False)
            for sha256, source in sources.items()}


def run_grid(client, runs, out, *, progress=True, on_done=None):
    """Run every run of ``runs`` (spec.Run) without a readable part in ``out`` on ``client``'s
    cluster; the client stores each part in ``out`` (a path on the client's machine) as its task
    completes. A file problem's data file is read here once (``send_files``; SpecError before any
    run starts when it is gone or changed). A progress bar (stderr) shows done / total and the
    time left. on_done: optional ``on_done(run_id)`` after each stored run. Returns an
    :class:`Outcome`."""
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    have = storage.stored(out)
    todo = {run.run_id: run for run in runs if run.run_id not in have}
    outcome = Outcome(skipped=len(runs) - len(todo))
    files = send_files(client, todo.values())

    def submit(run):
        return client.submit(runner.execute, run,
                             *([files[run.source.sha256]] if run.source is not None else []),
                             retries=RETRIES, pure=False)

    futures = {submit(run): run_id for run_id, run in todo.items()}
    with tqdm(total=len(runs), initial=outcome.skipped, unit="run", desc="sweep",
              disable=not progress) as bar:
        pending = as_completed(futures)
        lost = dict.fromkeys(futures.values(), 0)
        for future in pending:
            run_id = futures[future]
            if future.status == "finished":
                try:
                    part = future.result()
                except (RuntimeError, OSError) as exc:
                    # Its result was on a worker that died after finishing (the fetch fails):
                    # run it again as a new task, LOST_FETCHES times at most.
                    del futures[future]
                    lost[run_id] += 1
                    if lost[run_id] > LOST_FETCHES:
                        outcome.failed[run_id] = f"result lost {lost[run_id]} times: {exc!r}"
                        bar.update(1)
                    else:
                        again = submit(todo[run_id])
                        futures[again] = run_id
                        pending.add(again)
                    continue
                part.store(out)
                outcome.ran.append(run_id)
                if part.kind:
                    outcome.flagged[part.kind][run_id] = part.text
                if on_done is not None:
                    on_done(run_id)
            else:
                outcome.failed[run_id] = repr(future.exception())
            del futures[future]
            future.release()
            bar.update(1)
    for data in files.values():
        data.release()
    return outcome
