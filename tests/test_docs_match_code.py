"""The docs match the code: docs/design.md names every module of halp_core and halp_bench, every
file path the docs quote exists, and nothing points at a file outside the repository."""

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DESIGN = REPO / "docs" / "design.md"
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _modules(package):
    """Dotted names, below ``package``, of its modules and subpackages (``solvers.halp``, ...),
    __main__ files and the package itself left out."""
    names = set()
    for path in (REPO / package).rglob("*.py"):
        parts = path.relative_to(REPO / package).with_suffix("").parts
        if parts[-1] == "__main__" or parts == ("__init__",):
            continue
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.parametrize("package", ["halp_core", "halp_bench"])
def test_design_names_every_module(package):
    text = DESIGN.read_text()
    named = set(re.findall(r"`([\w.]+)`", text))
    # a module counts as named by its dotted name below the package, its last part (a package's
    # list of its modules), or its full dotted name
    missing = sorted(m for m in _modules(package)
                     if not {m, m.split(".")[-1], f"{package}.{m}"} & named)
    assert not missing, f"docs/design.md does not name {package}'s modules {missing}"


def test_every_path_the_docs_quote_exists():
    pattern = re.compile(r"`((?:halp_core|halp_bench|benchmarks|dashboard|tools|tests|docs|results|"
                         r"sweeps)/[\w/.\-]+)`")
    missing = [(doc.name, quoted) for doc in DOCS for quoted in pattern.findall(doc.read_text())
               if not (REPO / quoted.rstrip("/")).exists()]
    assert not missing, f"paths quoted by the docs that do not exist: {missing}"


def test_nothing_points_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    outside = re.compile("FIELD" + "-NOTES|\\.\\./shared/")   # split: this file must not match
    found = [name for name in tracked
             if name.endswith((".py", ".md", ".toml", ".json", ".cfg", ".txt")) or name == "run"
             if (REPO / name).is_file() and outside.search((REPO / name).read_text(errors="replace"))]
    assert not found, f"files citing notes outside the repository: {found}"
