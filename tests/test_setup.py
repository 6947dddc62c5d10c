"""The set-up cannot rot: every version it installs is pinned in constraints.txt, the one place that
./run, asv's environments and pyproject.toml agree with, and CI builds from nothing."""

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from asv import util as asv_util
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]


def constraints():
    """constraints.txt as {canonical name: version}; fails on anything but `name==version` lines."""
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"constraints.txt: {line!r} is not an exact pin (name==version)"
        name = canonicalize_name(match[1])
        assert name not in pins, f"constraints.txt pins {name} twice"
        pins[name] = match[2]
    return pins


def test_build_requirements_are_pinned():
    pins = constraints()
    for name in ("pip", "setuptools", "wheel", "cython", "virtualenv", "build"):
        assert name in pins, f"build requirement {name} is not pinned in constraints.txt"


def test_pyproject_requirements_agree_with_constraints():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = constraints()
    declared = list(project["dependencies"])
    for extra, reqs in project["optional-dependencies"].items():
        declared += [r for r in reqs if not r.startswith("halp-core")]
    for text in declared:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in pins, f"pyproject.toml requires {text} but constraints.txt does not pin it"
        assert req.specifier.contains(pins[name], prereleases=True), \
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject.toml's {text}"


def test_asv_matrix_agrees_with_constraints():
    conf = asv_util.load_json(str(REPO / "asv.conf.json"), js_comments=True)
    pins = constraints()
    for name, versions in conf["matrix"]["req"].items():
        assert versions == [pins.get(canonicalize_name(name))], \
            f"asv.conf.json pins {name} {versions}, constraints.txt {pins.get(canonicalize_name(name))}"
    assert any("constraints.txt" in cmd for cmd in conf["install_command"])


def test_asv_environments_install_every_peer():
    """bench_peers measures every peer in asv's environments: pyproject.toml's `peers` extra is
    installed there, pinned, without build isolation (sklearn-contrib-lightning's sdist builds
    against the environment's numpy, Cython and the matrix's setuptools) after Cython."""
    conf = asv_util.load_json(str(REPO / "asv.conf.json"), js_comments=True)
    commands = conf["install_command"]
    (peers,) = [i for i, cmd in enumerate(commands) if "{wheel_file}[peers]" in cmd]
    assert "--no-build-isolation" in commands[peers] and "constraints.txt" in commands[peers]
    assert any("cython" in cmd.split() and "constraints.txt" in cmd for cmd in commands[:peers])
    assert "setuptools" in conf["matrix"]["req"]
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "sklearn-contrib-lightning" in {canonicalize_name(Requirement(r).name)
                                           for r in extras["peers"]}


def test_run_script_pins_nothing_itself():
    script = (REPO / "run").read_text()
    assert 'PIP_CONSTRAINT="$PWD/constraints.txt"' in script
    body = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"[A-Za-z0-9_-](==|>=|<=|~=)[0-9]", body), \
        "./run names a version: pin it in constraints.txt instead"


def test_ci_builds_a_fresh_venv_without_pip_cache():
    ci = (REPO / ".ci" / "run").read_text()
    assert "PIP_NO_CACHE_DIR=1" in ci and "rm -rf .venv" in ci
    assert ci.rstrip().splitlines()[-1] == "./run test"


@pytest.mark.skipif(Path(sys.prefix).resolve() != (REPO / ".venv").resolve(),
                    reason="checks the project's own .venv (made by ./run setup)")
def test_every_installed_package_is_pinned():
    pins = constraints()
    unpinned = []
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name == "halp-core":
            continue
        if pins.get(name) != dist.version:
            unpinned.append(f"{name}=={dist.version} (constraints.txt: {pins.get(name)})")
    assert not unpinned, "installed but not pinned: " + ", ".join(sorted(unpinned))
