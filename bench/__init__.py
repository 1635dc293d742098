"""The benchmark: a fictional national-scale dataset (`bench.dataset`) and the harness that
times named measurements on it at 1% and 100% (`bench.run`, `make bench`). Not part of
the app: it imports `inventory`, nothing in `inventory` imports it."""
