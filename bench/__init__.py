"""Frontdesk benchmarks: `make bench` (bench/run.sh). See BENCHMARKS.md."""
