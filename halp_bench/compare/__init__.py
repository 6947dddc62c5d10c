"""Regression gate: `./run compare BASE HEAD` builds both commits with asv, runs the benchmarks with
rounds interleaved and judges each benchmark with its rule.

Modules: rule (the timing rule, shared with the dashboard's History page), convergence (the rule
of the convergence benchmarks, shared too), acknowledged (the declared expected changes), history
(thresholds from a benchmark's own earlier results), run (building and running both commits with
asv), judge (rows and exit code), report (text, Markdown, JSON), __main__ (the command line). asv's
result files are read through halp_bench.asv_results.
"""
