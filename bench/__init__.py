"""The benchmark of the service (issue 9): ``ptce bench`` / ``python -m bench.run``.

Not a test: a script that drives the embedded stack through its public interfaces and prints
figures; the recorded ones are in ``bench/RESULTS.md``.
"""
