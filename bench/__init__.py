"""Benchmarks: `python -m bench --customers N` (see bench/__main__.py)."""
