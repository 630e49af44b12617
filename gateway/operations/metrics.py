"""Prometheus metrics (`prometheus-client`), and `GET /metrics` for whoever holds `METRICS_TOKEN`.

Off unless `METRICS_TOKEN` is set: the endpoint then answers only `Authorization: Bearer <token>`
(compared in constant time) and is a 404 otherwise, so its existence is not advertised. Labels are
bounded: routes are the known paths (anything else is "other"), tools are the catalogue's names,
outcomes and results are fixed words, and an upstream status is a registered HTTP status (anything
else OpenPhone might answer is "other"). Each app gets its own registry, so tests do not share counts.
"""

from __future__ import annotations

import hmac
from http import HTTPStatus
from typing import Final, Generic, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response

MetricT = TypeVar("MetricT", Counter, Histogram)

UPSTREAM_BUCKETS: Final = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_KNOWN_STATUSES: Final = frozenset(status.value for status in HTTPStatus)


class Metrics:
    """The gateway's instruments, registered in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "gateway_http_requests",
            "HTTP requests by route and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.tool_calls = Counter(
            "gateway_tool_calls",
            "Tool calls by tool and outcome.",
            ["tool", "outcome"],
            registry=self.registry,
        )
        self.upstream = Histogram(
            "gateway_upstream_request_seconds",
            "OpenPhone API requests by method and status.",
            ["method", "status"],
            buckets=UPSTREAM_BUCKETS,
            registry=self.registry,
        )
        self.sse_streams = Gauge("gateway_sse_streams_open", "Open SSE streams.", registry=self.registry)
        self.token_verifications = Counter(
            "gateway_token_verifications",
            "Bearer token verifications by result.",
            ["result"],
            registry=self.registry,
        )

        self._requests = _Children(self.requests)
        self._tool_calls = _Children(self.tool_calls)
        self._upstream = _Children(self.upstream)
        self._verifications = _Children(self.token_verifications)

    def count_request(self, route: str, status: int) -> None:
        """One HTTP response on `route` (a known path, or "other"); status 0: none was sent."""
        self._requests(route, str(status)).inc()

    def observe_upstream(self, method: str, status: int | None, seconds: float) -> None:
        self._upstream(method, _status_label(status)).observe(seconds)

    def count_tool_call(self, tool: str, outcome: str) -> None:
        self._tool_calls(tool, outcome).inc()

    def count_verification(self, result: str) -> None:
        self._verifications(result).inc()


class _Children(Generic[MetricT]):
    """A labelled metric's children, each looked up once: `labels` takes a lock and builds tuples on
    every call, and every request counts three or four times. Label values are bounded (above)."""

    def __init__(self, metric: MetricT) -> None:
        self._metric: MetricT = metric
        self._children: dict[tuple[str, ...], MetricT] = {}

    def __call__(self, *values: str) -> MetricT:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


def _status_label(status: int | None) -> str:
    if status is None:
        return "none"
    return str(status) if status in _KNOWN_STATUSES else "other"


class MetricsEndpoint:
    """`GET /metrics`: Prometheus text format for the bearer of `token`; 404 when metrics are off."""

    def __init__(self, metrics: Metrics, token: str | None) -> None:
        self._metrics = metrics
        self._token = token

    async def respond(self, request: Request) -> Response:
        if self._token is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode(), self._token.encode()
        ):
            return Response(
                "Unauthorized",
                status_code=401,
                media_type="text/plain",
                headers={"www-authenticate": "Bearer"},
            )
        return Response(
            generate_latest(self._metrics.registry),
            media_type=CONTENT_TYPE_LATEST,
            headers={"cache-control": "no-store"},
        )
