"""halp_bench: the harness around the halp_core solver library.

- ``halp_bench.peers``: other libraries' solvers (scikit-learn, cyanure, tick, lightning, copt) on
  halp_core's objectives, one module per library;
- ``halp_bench.contenders``: one way to run any contender, ours or a peer;
- ``halp_bench.reproduce``: the paper's experiments (``python -m halp_bench.reproduce``);
- ``halp_bench.mlp``: a small MLP trained with SGD, LP-SGD and HALP, at b bits or in a float
  format, and with low-precision gradients under loss scaling (``python -m
  halp_bench.mlp.scaling``, docs/loss-scaling.md);
- ``halp_bench.machine``: the CPU a measurement ran on (``python -m halp_bench.machine``);
- ``halp_bench.sweep``: grids of runs from a TOML spec on dask.distributed, one Parquet file per
  run (``python -m halp_bench.sweep``, docs/sweeps.md).

halp_bench imports halp_core, never the other way round (tests/test_layers.py).
"""
