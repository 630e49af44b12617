"""The OpenPhone HTTP client: one pooled aiohttp session per process, the hot path of every tool call.

Why aiohttp: measured on this project's 2-core machine (README, "Why aiohttp"), a Starlette endpoint
making one pooled upstream GET per request served about 5,500 requests/s with aiohttp, 2,300 with
httpx over the `httpx-aiohttp` transport and 420 with httpx's default transport. The sandbox is an
ASGI app reached in-process through `aiohttp-asgi-connector`, so tests and `--sandbox` run the very
same client code, with no network.

Every request carries `Authorization: <key>` (no `Bearer`, openphone-api-notes.md §3.1), waits for
the key's slot in the per-key pacer, and is retried only as `RetryPolicy` allows. A key OpenPhone
rejected a short while ago is refused here without asking again (`KeyVerdicts`). Every failure
leaves as one `OpenPhoneError`; logs name the method, the path and the status, never the key, the
query (it holds phone numbers) or a body.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol

import aiohttp
import anyio
import orjson
from aiohttp_asgi_connector import ASGIApplicationConnector
from starlette.types import ASGIApp

from tools.api_errors import (
    connection_error,
    error_from_response,
    malformed_error,
    rate_limited_error,
    timeout_error,
)
from tools.rate_limit import KeyedRateLimiter, Pacer
from tools.retry import RetryPolicy, parse_retry_after

logger = logging.getLogger(__name__)

SANDBOX_BASE: Final = "http://sandbox.openphone.invalid"
DEFAULT_TIMEOUT: Final = 30.0
_USER_AGENT: Final = "openphone-mcp-gateway"
_MAX_BODY: Final = 8 * 1024 * 1024

QueryParams = Sequence[tuple[str, str]]
# Told of every upstream exchange: method, status (None when no answer came) and seconds taken.
Observer = Callable[[str, int | None, float], None]


class KeyVerdicts(Protocol):
    """What OpenPhone thought of each key, told by the client and asked before each request (the
    gateway's `KeyChecks`), so a key known to be bad is not sent to OpenPhone again and again."""

    def recently_rejected(self, api_key: str) -> bool:
        """Whether OpenPhone rejected `api_key` a short while ago."""
        ...

    def accepted(self, api_key: str) -> None:
        """OpenPhone has just answered a request made with `api_key` (2xx)."""
        ...

    async def rejected(self, api_key: str) -> None:
        """OpenPhone has just rejected `api_key` (401)."""
        ...


class OpenPhoneClient:
    """Sends requests to OpenPhone (or to an in-process ASGI stand-in) for any number of keys.

    The aiohttp session is opened on first use, inside the serving event loop, and closed by `aclose`.
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float = DEFAULT_TIMEOUT,
        rate_limit: float = 0.0,
        pacer: Pacer | None = None,
        app: ASGIApp | None = None,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        observe: Observer | None = None,
        verdicts: KeyVerdicts | None = None,
    ) -> None:
        self._base_url = SANDBOX_BASE if app is not None else base_url.rstrip("/")
        self._timeout = timeout
        self._app = app
        self._limiter: Pacer = pacer or KeyedRateLimiter(rate_limit)
        self._retry = retry or RetryPolicy()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._session: aiohttp.ClientSession | None = None
        self._observe = observe
        self._verdicts = verdicts
        self._closed = False

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def usable(self) -> bool:
        """False once closed (the process is shutting down)."""
        return not self._closed

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector: aiohttp.BaseConnector = (
                ASGIApplicationConnector(self._app)  # type: ignore[arg-type]
                if self._app is not None
                else aiohttp.TCPConnector(limit=256, limit_per_host=0, ttl_dns_cache=300)
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                headers={"Accept": "application/json", "User-Agent": _USER_AGENT},
                auto_decompress=True,
                trust_env=False,
                # One session serves every user's key: a cookie one answer set must never ride along
                # on another user's request (and the jar's per-request lookup is saved too).
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def aclose(self) -> None:
        """Close the pooled connections."""
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        api_key: str,
        method: str,
        path: str,
        *,
        params: QueryParams = (),
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Send one API request and return its decoded JSON object (None for 204).

        GET is repeatable; any other method is a write and is repeated only if it never left this
        process or OpenPhone refused it with 429.
        """
        repeatable = method == "GET"
        if self._verdicts is not None and self._verdicts.recently_rejected(api_key):
            raise error_from_response(401, b"", secret=api_key, write=not repeatable)
        data = orjson.dumps(body) if body is not None else None
        headers = {"Authorization": api_key}
        if data is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            attempt += 1
            await self._limiter.acquire(api_key)
            started = time.perf_counter()
            try:
                status, retry_after, payload = await self._exchange(method, path, params, headers, data)
            except aiohttp.ClientConnectorError:
                # The connection was never opened, so nothing reached OpenPhone: safe for writes too.
                delay = self._retry.delay(attempt, None, self._rng)
                if delay is None:
                    raise connection_error(write=not repeatable, sent=False) from None
            except TimeoutError:
                self._record(method, None, started)
                raise timeout_error(self._timeout, write=not repeatable, sent=True) from None
            except aiohttp.ClientError:
                delay = self._retry.delay(attempt, None, self._rng) if repeatable else None
                if delay is None:
                    raise connection_error(write=not repeatable, sent=True) from None
            else:
                self._record(method, status, started)
                logger.debug(
                    "openphone %s %s -> %s in %.0f ms",
                    method,
                    path,
                    status,
                    (time.perf_counter() - started) * 1000,
                )
                await self._tell_verdict(api_key, status)
                if 200 <= status < 300:
                    return _decode_success(status, payload, write=not repeatable)
                if not self._retry.may_retry_status(status, repeatable=repeatable):
                    raise error_from_response(status, payload, secret=api_key, write=not repeatable)
                delay = self._retry.delay(attempt, retry_after if status == 429 else None, self._rng)
                if delay is None:
                    if status == 429:
                        raise rate_limited_error(retry_after)
                    raise error_from_response(status, payload, secret=api_key, write=not repeatable)
            logger.info("openphone %s %s: retrying (attempt %d) in %.2f s", method, path, attempt + 1, delay)
            await anyio.sleep(delay)

    async def _tell_verdict(self, api_key: str, status: int) -> None:
        """Tell the verdicts what OpenPhone's `status` said of `api_key`: 2xx accepted it, 401 rejected it."""
        if self._verdicts is None:
            return
        if 200 <= status < 300:
            self._verdicts.accepted(api_key)
        elif status == 401:
            await self._verdicts.rejected(api_key)

    def _record(self, method: str, status: int | None, started: float) -> None:
        if self._observe is not None:
            self._observe(method, status, time.perf_counter() - started)

    async def _exchange(
        self,
        method: str,
        path: str,
        params: QueryParams,
        headers: dict[str, str],
        data: bytes | None,
    ) -> tuple[int, float | None, bytes]:
        session = self._open()
        async with session.request(
            method, self._base_url + path, params=list(params), headers=headers, data=data
        ) as response:
            payload = await response.content.read(_MAX_BODY)
            return response.status, parse_retry_after(response.headers.get("Retry-After")), payload


def _decode_success(status: int, payload: bytes, *, write: bool) -> dict[str, Any] | None:
    if status == 204:
        return None
    try:
        decoded = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise malformed_error(status, write=write) from None
    if not isinstance(decoded, dict):
        raise malformed_error(status, write=write)
    return decoded
