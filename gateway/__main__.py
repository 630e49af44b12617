"""`python -m gateway` is `openphone-mcp`."""

import sys

from gateway.cli import main

sys.exit(main())
