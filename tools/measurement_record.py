"""What the measuring tools (tools/step_cost.py, width_speedups.py, time_to_accuracy.py) share:
the commit a record names, the argument parser's --out, and writing the record (JSON) there.
``tools/docs_numbers/sources.measurement`` reads the files back."""

import argparse
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def commit(package=None):
    """The commit (8 hex digits) of this working tree, or of the checkout that holds ``package``
    (an imported package), with "+" when the tracked files (of the package's folder, when given)
    have uncommitted changes."""
    folder = ROOT if package is None else pathlib.Path(package.__file__).resolve().parent
    head = subprocess.run(["git", "rev-parse", "--short=8", "HEAD"], cwd=folder, text=True,
                          capture_output=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "."],
                           cwd=folder, text=True, capture_output=True, check=True).stdout.strip()
    return head + ("+" if dirty else "")


def parser(doc):
    """An argument parser described by the first paragraph of ``doc``, with --out."""
    found = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    found.add_argument("--out", type=pathlib.Path, help="write the JSON here (else print it)")
    return found


def write(record, out):
    """The record as JSON in the file ``out`` (its folder made), or on stdout when out is None."""
    text = json.dumps(record, indent=1) + "\n"
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    else:
        sys.stdout.write(text)
