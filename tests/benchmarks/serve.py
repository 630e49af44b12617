"""`python -m tests.benchmarks.serve ROLE --port P [--upstream URL]`: one peer under uvicorn.

Every peer runs under the uvicorn settings the gateway's `serve` uses (uvicorn's `standard` stack,
uvloop and httptools; no access log; no server header), so only the app differs.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import uvicorn

from tests.benchmarks.peers import bare_app, phone_numbers_body, sdk_app, sdk_sse_app, upstream_app
from tests.benchmarks.processes import HOST

# "bare-<client>": the bare endpoint calling the upstream through another HTTP client.
CLIENTS = ("aiohttp", "httpx", "httpx-aiohttp")
ROLES = ("upstream", "sdk", "sdk-sse", "bare", *(f"bare-{client}" for client in CLIENTS))


def build(role: str, upstream: str) -> Any:
    if role == "upstream":
        return upstream_app(asyncio.run(phone_numbers_body()))
    if role.startswith("bare-"):
        return bare_app(upstream, role.removeprefix("bare-"))
    return {"sdk": sdk_app, "sdk-sse": sdk_sse_app, "bare": bare_app}[role](upstream)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("role", choices=ROLES)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", default="")
    args = parser.parse_args()
    config = uvicorn.Config(
        build(args.role, args.upstream),
        host=HOST,
        port=args.port,
        server_header=False,
        access_log=False,
        log_level="warning",
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
