"""Chaos run: the whole pipeline under process kills and server outages loses nothing.

    make chaos            (.venv/bin/python -m bench.chaos [--seed N] [--keep])

See ``plan`` for the workload and fault schedule, ``audit`` for what lost and
duplicated mean, and docs/reliability.md for the measured outcome.
"""
