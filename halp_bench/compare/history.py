"""History-aware thresholds: each benchmark's threshold from its own earlier results on the same
machine (as conbench's lookback), through `rule.history_threshold`.

Earlier results are the asv result files `<results>/<machine>/<hash8>-<env>.json` of the same
environment name (the gate's) whose commit time (`date`) is before HEAD's, ordered by it; only
values of the same benchmark version count. HEAD's own file, if there is one, is left out. The
History page uses the same definition: the values of a series before the judged commit.
"""

from collections import defaultdict
from pathlib import Path

from halp_bench import asv_results
from halp_bench.compare import rule


def earlier_values(results_dir, machine, env, names=None, exclude=(), before=None):
    """{(benchmark, params key, version): [values, oldest first]} of ok results in
    `<results_dir>/<machine>/*-<env>.json`, leaving out commits whose hash starts with an entry of
    `exclude` and files whose `date` (asv: commit time in ms) is not below `before` (None: no
    limit). names: benchmarks.json's param names (see asv_results.read). Files that cannot be
    read raise asv_results.ResultFileError (the history is part of the decision)."""
    folder = Path(results_dir) / machine
    files = sorted(folder.glob(f"*-{env}.json")) if folder.is_dir() else []
    dated = []
    for path in files:
        commit = path.name.split("-", 1)[0]
        if any(e.startswith(commit) or commit.startswith(e) for e in exclude):
            continue
        found = asv_results.load_strict(path)
        date = found.date if found.date is not None else 0.0
        if before is None or date < before:
            dated.append((date, path.name, found))
    out = defaultdict(list)
    for _, _, found in sorted(dated, key=lambda t: t[:2]):
        for (bench, params), m in asv_results.keyed(found, names).items():
            if m.status == asv_results.OK:
                out[(bench, params, m.version)].append(m.value)
    return dict(out)


def thresholds(keys, history, min_effect=rule.MIN_EFFECT):
    """{(benchmark, params key): (threshold, number of earlier values used)} for `keys`
    (benchmark, params key, version) given `earlier_values` output."""
    out = {}
    for bench, params, version in keys:
        values = history.get((bench, params, version), [])[-rule.LOOKBACK:]
        out[(bench, params)] = (rule.history_threshold(values, min_effect), len(values))
    return out
