"""Benchmarks of the file manager: `python -m bench` (or `make bench`).

Cold start, AWS calls per operation, consumer throughput, listing cost,
local event latency and package size, each beside a floor measured in the
same run. See docs/benchmarks.md for the method and the latest figures.
"""
