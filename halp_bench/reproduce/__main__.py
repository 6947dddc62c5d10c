"""``python -m halp_bench.reproduce``: see halp_bench.reproduce."""

from . import main

main()
