"""Benchmarks that print figures (never tests that assert on time). Run them from the repository root:

    python bench/streaming.py [--quick] [--time-scale 0.25]

``bench/README.md`` explains the workloads and how to read the tables.
"""
