"""Build two commits and run their benchmarks with asv, rounds interleaved, into a private results
folder (never the repository's results/).

`run_asv` writes a copy of the repository's asv.conf.json whose results_dir and html_dir point
into the work folder (and whose relative paths and {conf_dir} are made absolute, so the copy can
live anywhere), then runs

    asv run --config COPY --machine MACHINE --interleave-rounds --record-samples
            -a rounds=N [--bench REGEX ...] HASHFILE:<BASE and HEAD>

with the repository's own environments (`.asv/env`, reused between runs). Rounds alternate the
commits (BASE HEAD, HEAD BASE, ...), so drift of the machine hits both; asv re-installs the
commit into the environment before each round (a cached wheel). asv itself is started as a
program (`<venv>/bin/asv`), not imported.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from halp_bench.files import FileFormatError, read_json, read_text


ASV_OK = (0, 2)
"""Exit codes of `asv run` after which results exist (2: a benchmark failed)."""


class GateError(RuntimeError):
    """The gate could not run (bad commit, asv failed, ...); the message says why."""


def check_machine(name, path=None):
    """Raise GateError unless asv's machine file (~/.asv-machine.json) describes `name`: asv run
    would otherwise stop to ask for it (./run compare and ./run bench register it)."""
    path = Path(path or Path.home() / ".asv-machine.json")
    try:
        known = read_json(path) if path.exists() else {}
    except FileFormatError as exc:
        raise GateError(f"asv's machine file {exc}") from None
    if not isinstance(known, dict) or name not in known:
        raise GateError(f"asv machine {name!r} is not registered in {path}: run the gate as "
                        f"`./run compare ...` (it registers the machine as ./run bench does)")


def git(repo, *args):
    """stdout of `git -C repo args` (stripped); GateError with git's message when it fails."""
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise GateError(f"git {' '.join(args)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


def resolve(repo, ref):
    """Full hash of commit `ref` (a hash, branch, tag or expression such as HEAD~1)."""
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GateError:
        raise GateError(f"not a commit of {repo}: {ref!r}") from None


def commit_time_ms(repo, commit):
    """Commit time of `commit` in milliseconds since the epoch (asv's `date` of a result file)."""
    return 1000.0 * int(git(repo, "show", "-s", "--format=%ct", commit))


def commits_between(repo, base, head):
    """Full hashes of BASE..HEAD (commits reachable from HEAD but not BASE, HEAD included)."""
    out = git(repo, "rev-list", f"{base}..{head}")
    return out.split() if out else [head]


def _strip_comments(text):
    """asv.conf.json without its whole-line // comments (the only comments asv's file holds)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def private_config(repo, work):
    """Path of a copy of `repo`/asv.conf.json that writes results and html under `work` and keeps
    everything else (repository, benchmarks, environments, build and install commands)."""
    repo, work = Path(repo).resolve(), Path(work).resolve()
    source = repo / "asv.conf.json"
    try:
        conf = json.loads(_strip_comments(read_text(source)))
    except FileFormatError as exc:
        raise GateError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise GateError(f"{source}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    for key in ("repo", "benchmark_dir", "env_dir"):
        conf[key] = str((repo / conf.get(key, {"repo": ".", "benchmark_dir": "benchmarks",
                                                "env_dir": "env"}[key])).resolve())
    conf["results_dir"], conf["html_dir"] = str(work / "results"), str(work / "html")
    for key in ("build_command", "install_command", "uninstall_command"):
        if key in conf:
            conf[key] = [c.replace("{conf_dir}", str(repo)) for c in conf[key]]
    conf["version"] = 1
    path = work / "asv.conf.json"
    path.write_text(json.dumps(conf, indent=1))
    return path


def asv_executable():
    """The asv program next to this interpreter (the project's venv), else the one on PATH."""
    here = Path(sys.executable).parent / "asv"
    found = str(here) if here.exists() else shutil.which("asv")
    if not found:
        raise GateError("asv is not installed (./run setup installs it)")
    return found


def run_asv(repo, base, head, work, machine, rounds, bench=(), log=None, timeout=None):
    """Measure commits `base` and `head` (full hashes) with asv into `work`/results.

    rounds: asv rounds per commit (>= 2: they alternate); bench: regular expressions for asv's
    --bench; log: a file object for asv's output (None: inherit stdout). Returns asv's exit code
    (0, or 2 when a benchmark failed); anything else raises GateError with the end of asv's output.
    """
    if base == head:
        raise GateError(f"BASE and HEAD are the same commit ({base[:8]}): nothing to compare")
    if rounds < 2:
        raise GateError(f"rounds must be at least 2 (they alternate the commits), got {rounds}")
    work = Path(work).resolve()   # asv reads HASHFILE: and its config from its own directory
    work.mkdir(parents=True, exist_ok=True)
    config = private_config(repo, work)
    hashes = work / "hashes.txt"
    hashes.write_text(f"{base}\n{head}\n")
    cmd = [asv_executable(), "run", "--config", str(config), "--machine", machine,
           "--interleave-rounds", "--record-samples", "-a", f"rounds={rounds}"]
    for b in bench:
        cmd += ["--bench", b]
    cmd.append(f"HASHFILE:{hashes}")
    env = dict(os.environ)
    env.setdefault("PIP_CONSTRAINT", str(Path(repo).resolve() / "constraints.txt"))
    proc = subprocess.run(cmd, cwd=repo, env=env, stdout=log or None, stderr=subprocess.STDOUT,
                          timeout=timeout)
    if proc.returncode not in ASV_OK:
        raise GateError(f"asv run exited {proc.returncode} (command: {' '.join(cmd)}); "
                        "see its output above or in the log")
    return proc.returncode
