"""Side-by-side benchmarks for asyncfile, run as ``python -m benchmarks``.

Every measurement runs in a fresh process (:mod:`benchmarks.worker`); the
parent (:mod:`benchmarks.runner`) interleaves repetitions across contenders
and prints one markdown table per case. This package imports nothing at
import time, so ``python -m benchmarks.worker`` stays cheap.
"""
