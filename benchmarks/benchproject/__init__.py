"""The Django project the benchmarks serve: one small JSON view, so per-request overhead shows."""
