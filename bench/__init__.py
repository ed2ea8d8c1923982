"""Benchmarks of Clinic API against hand-written Django views. Not run by `make test`."""
