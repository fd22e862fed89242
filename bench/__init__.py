"""Benchmarks of CodeFormer Studio against the reference pipeline, measured side by side.

None of this is a test: each module prints its figures and the ratios against a baseline
measured in the same run. `python -m bench.run_all [--quick]` runs them all and writes
`bench/results/report.md` and `bench/results/report.png`.
"""
