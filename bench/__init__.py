"""ringtest benchmarks: `python -m bench` runs every one and rewrites bench/RESULTS.md."""
