"""Benchmarks of sirene (run through ``sirene bench ...``); each module exposes ``run(argv) -> int``."""
