"""`GET /healthz` (the process answers) and `GET /readyz` (its dependencies are usable).

Liveness is cheap and checks nothing else, so a slow dependency never gets a healthy machine
restarted. Readiness asks the shared state (the in-process store, or Redis) and the upstream client,
and says which one is not ready; a draining process is not ready, so a load balancer stops sending
it new work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.operations.drain import Drain
from tools.client import OpenPhoneClient

NO_STORE = {"cache-control": "no-store"}


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


class Readiness:
    """`GET /readyz`: 200 when the shared state answers and the OpenPhone client is open for use, else 503."""

    def __init__(
        self, checks: Mapping[str, Callable[[], Awaitable[bool]]], client: OpenPhoneClient, drain: Drain
    ) -> None:
        self._checks = checks
        self._client = client
        self._drain = drain

    async def respond(self, request: Request) -> Response:
        checks = {
            **{name: await check() for name, check in self._checks.items()},
            "openphone_client": self._client.usable,
            "serving": not self._drain.draining,
        }
        ready = all(checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503, headers=NO_STORE)
