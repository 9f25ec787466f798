# Server benchmarks.
