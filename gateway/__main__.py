"""`python -m gateway` and the `openphone-mcp` script: the command, with the collector off while it loads.

Loading the gateway allocates some 400,000 long-lived objects, and the cyclic collector, left on, runs
its full collections over all of them again and again: about a seventh of the CPU a cold start takes
(README "Performance"). Nothing loaded then is freed by it that matters (about 1 MiB of start-up
garbage), so the collector stays off until `serve` freezes that heap and turns it back on
(`gateway.operations.tuning`); the other commands exit before it would matter.
"""

import gc
import sys


def main() -> int:
    """Entry point of the console script; returns the process exit status."""
    gc.disable()
    from gateway.cli import main as run_command

    return run_command()


if __name__ == "__main__":
    sys.exit(main())
