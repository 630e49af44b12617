"""Process settings for serving many connections, applied once before uvicorn starts.

Measured in tests/benchmarks (README "Performance"): freezing the start-up heap took the cyclic
collector off about a sixth of a tools/call's CPU and out of the p99 tail, and each idle SSE stream is
one open file, so the descriptor limit caps the streams a process can hold.
"""

from __future__ import annotations

import gc
import resource
from typing import Final

# The cyclic collector's thresholds once serving: young collections 10 times rarer than Python's
# default (700), the older generations as they were.
GC_THRESHOLDS: Final = (7_000, 10, 10)


def tune_garbage_collector() -> None:
    """Keep the collector off what lives as long as the process, make young collections rarer, and
    turn the collector on (`gateway.__main__` starts with it off).

    Everything alive once the app is built (modules, the app, the tool catalogue, phone-number
    metadata) lives until exit, yet every full collection scanned it again. `gc.freeze` moves it out
    of the collector's sight. It is not collected first: that full collection cost 25-45 ms of every
    cold start to free about 1 MiB of start-up garbage, which now stays frozen.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    gc.enable()


def raise_open_file_limit() -> int:
    """Raise the soft limit on open files to the hard limit (as Go's runtime does); returns it.

    Containers often start with a soft limit of 1,024, which would refuse connections long before
    memory runs short: fly.toml lets a Machine hold 10,000.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return soft
