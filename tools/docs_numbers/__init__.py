"""Regenerate every measured number that README.md and docs/*.md quote.

    python -m tools.docs_numbers           # rewrite the generated blocks in place
    python -m tools.docs_numbers --check   # change nothing; exit 1 and list the stale blocks
    ./run docs                             # the same as the first

Prose is written by hand; numbers live only between markers (``engine``), and every block names
the file or command its numbers come from. The package:

* ``engine``: finds, regenerates and checks the blocks;
* ``pinned``: the shipped asv runs the documents quote (machine, commit, command), declared once;
* ``sources``: where numbers are read: asv results (only through ``sources.load_results``), the
  machine files, the hot-loop counts ``tools/asm_probe.py --loops --out`` writes to
  ``docs/kernel-loops/<commit>.json``, and the folders of the other measurements under docs/;
* ``formatting``: durations, tables, solver labels;
* ``documents/<document>``: one module per document, declaring its blocks (``BLOCKS``) with the
  sentence templates they fill; ``catalog`` gathers them;
* measured blocks (README's and docs/bits.md's "paper's claim" tables) run the solvers (a few
  seconds; every HALP row passes mu explicitly) and are compared within
  ``engine.MEASURED_FACTOR``: solver output differs in the last bits between CPUs.
"""
