"""An `Edge` around a test app, with the production parts and nothing else of the gateway."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from starlette.types import ASGIApp

from gateway.edge.entry import Edge
from gateway.edge.origin_guard import OriginGuard
from gateway.edge.security_headers import SecurityHeaders
from gateway.operations.metrics import Metrics


def edge_around(
    app: ASGIApp,
    *,
    public_url: str = "http://gateway.test",
    allowed_origins: Iterable[str] = (),
    guarded: Iterable[str] = (),
    metrics: Metrics | None = None,
    direct: Mapping[tuple[str, str], ASGIApp] | None = None,
) -> Edge:
    """`app` behind the edge; `guarded` paths get the origin check; every path is a known route."""
    guarded = list(guarded)
    return Edge(
        app,
        guard=OriginGuard(public_url=public_url, allowed_origins=allowed_origins, paths=guarded),
        security=SecurityHeaders(https=public_url.startswith("https://")),
        metrics=metrics or Metrics(),
        routes=guarded,
        direct=direct,
    )
