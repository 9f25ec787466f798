# JSON helper benchmarks.
