"""The benchmark behind `python benchmarks/run.py` (see benchmarks/README.md)."""
