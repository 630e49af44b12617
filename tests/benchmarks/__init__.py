"""Side-by-side benchmarks: the gateway against the official MCP SDK server and a bare Starlette ceiling.

Not part of the test run: `scripts/bench` (or `python -m tests.benchmarks`) runs them all on this
machine in one go and prints a table, also written as JSON. Everything stays on loopback.
"""
