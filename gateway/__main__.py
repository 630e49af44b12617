"""`python -m gateway` and the `openphone-mcp` script: the command, with the collector off while it loads.

Loading the gateway allocates some 400,000 long-lived objects, and the cyclic collector, left on, runs
its full collections over all of them again and again: about a seventh of the CPU a cold start takes
(README "Performance"). Nothing loaded then is freed by it that matters (about 1 MiB of start-up
garbage), so the collector stays off until `serve` freezes that heap and turns it back on
(`gateway.operations.tuning`); the other commands exit before it would matter.

pydantic looks for plugins (the `pydantic` entry-point group) by reading the metadata of every
installed distribution the first time it builds a model: about 5 ms of every start. The gateway uses
no pydantic plugin, so they are off, through the switch pydantic documents for it
(`PYDANTIC_DISABLE_PLUGINS`); an operator who installs one sets that variable to the empty string.
"""

import gc
import os
import sys


def main() -> int:
    """Entry point of the console script; returns the process exit status."""
    gc.disable()
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from gateway.cli import main as run_command

    return run_command()


if __name__ == "__main__":
    sys.exit(main())
