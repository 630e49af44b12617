"""draft-ietf-oauth-client-id-metadata-document-00: https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-00

A client whose `client_id` is an https URL publishes its metadata at that URL (MCP 2025-11-25
authorization, "Client ID Metadata Documents"); this module fetches and validates that document.
The URL is chosen by a stranger, so fetching it is a server-side request forgery risk (§6.5): the
host is resolved once, every address must pass the address policy, and aiohttp connects only to the
addresses that passed, so a DNS answer cannot change between the check and the connection. Redirects
are never followed, the body is capped (§6.6), and only a JSON object naming the URL as its
`client_id` is accepted (§4.1).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import ssl as ssl_module
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final, Self, TypeAlias
from urllib.parse import unquote

import aiohttp
import anyio
from aiohttp.abc import AbstractResolver, ResolveResult
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from yarl import URL

from oauth.registration import MAX_CLIENT_ID_CHARS, clean_client_name
from oauth.uris import IPAddress, has_uri_syntax, is_valid_host, literal_address

logger = logging.getLogger(__name__)

AddressPolicy: TypeAlias = Callable[[IPAddress], bool]

MAX_URL_LENGTH: Final = MAX_CLIENT_ID_CHARS
MAX_DOCUMENT_BYTES: Final = 5 * 1024  # §6.6 recommends reading at most 5 kilobytes
FETCH_TIMEOUT_SECONDS: Final = 5.0
DEFAULT_CACHE_SECONDS: Final = 5 * 60.0
MIN_CACHE_SECONDS: Final = 60.0  # §4.4 lets us bound the lifetime from below and above
MAX_CACHE_SECONDS: Final = 24 * 60 * 60.0
# Departs from §4.4 ("MUST NOT cache error responses") on purpose: one refetch a minute at most per
# failing URL, so a flood of authorize requests cannot turn us into a request amplifier.
# negative_ttl=0 restores the strict reading.
NEGATIVE_CACHE_SECONDS: Final = 60.0
MAX_CACHE_ENTRIES: Final = 512
MAX_CLIENT_NAME_LENGTH: Final = 200
# A stranger picks the URL, so fetches are bounded per host and in all, and one over a bound is refused
# at once rather than queued: a tarpit host cannot hold the pool and slow every other sign-in (review #8).
MAX_FETCHES_PER_HOST: Final = 4
MAX_CONCURRENT_FETCHES: Final = 64
# One text for every transport failure, so the answer does not say whether a host resolves, speaks TLS,
# answers at all or with which status; the log keeps the reason.
FETCH_FAILED: Final = "could not fetch the client metadata document"

NON_PUBLIC_ADDRESS: Final = "client_id URL resolves to a non-public address"

_HEADERS: Final = {
    "Accept": "application/json",
    "Accept-Encoding": "identity",
    "User-Agent": "openphone-mcp-gateway",
}
_URL_WITH_PATH: Final = re.compile(r"https://[^/?#]*/")
_REDIRECT_URI: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^#\s]+")
_MAX_AGE: Final = re.compile(r"max-age=\"?([0-9]+)\"?")
_DOCUMENT_ERROR: Final = "client_metadata"


class ClientMetadataError(Exception):
    """Raised when a client_id URL cannot be fetched or does not serve acceptable client metadata.

    `description` is short, safe to show the user, and never quotes the response. `reason`, when
    given, says more for the log only (a transport failure's cause, which the description hides).
    """

    def __init__(self, description: str, reason: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.reason = reason


class ClientMetadata(BaseModel):
    """A Client ID Metadata Document (§4.1): RFC 7591 client metadata; unknown fields are ignored."""

    # Built with the first document fetched, not at start-up.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    client_id: str
    redirect_uris: tuple[str, ...] = Field(min_length=1)
    client_name: str | None = Field(default=None, max_length=MAX_CLIENT_NAME_LENGTH)
    client_uri: str | None = None
    logo_uri: str | None = None
    token_endpoint_auth_method: str = "none"
    grant_types: tuple[str, ...] | None = None
    response_types: tuple[str, ...] | None = None
    scope: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _refuse_secrets(cls, data: Any) -> Any:
        # §4.1: client_secret and client_secret_expires_at MUST NOT be used.
        if isinstance(data, dict) and ("client_secret" in data or "client_secret_expires_at" in data):
            raise PydanticCustomError(
                _DOCUMENT_ERROR, "client metadata document must not contain a client_secret"
            )
        return data

    @field_validator("token_endpoint_auth_method")
    @classmethod
    def _require_public_client(cls, method: str) -> str:
        # §4.1 forbids shared-secret methods; we accept only public clients (no private_key_jwt yet).
        if method != "none":
            raise PydanticCustomError(
                _DOCUMENT_ERROR, "client metadata document must use token_endpoint_auth_method none"
            )
        return method

    @field_validator("client_name")
    @classmethod
    def _printable_name(cls, value: str | None) -> str | None:
        return None if value is None else clean_client_name(value)

    @field_validator("redirect_uris")
    @classmethod
    def _require_absolute_redirect_uris(cls, uris: tuple[str, ...]) -> tuple[str, ...]:
        # RFC 6749 §3.1.2: a redirection endpoint URI is absolute and has no fragment.
        if not all(_REDIRECT_URI.fullmatch(uri) for uri in uris):
            raise PydanticCustomError(
                _DOCUMENT_ERROR, "client metadata document has an invalid redirect_uris"
            )
        return uris


def is_metadata_url(client_id: str) -> bool:
    """True when `client_id` has the shape of a Client Identifier URL: https with a path (§3).

    Only the shape; `ClientMetadataFetcher.fetch` enforces every other rule with a precise error.
    """
    return _URL_WITH_PATH.match(client_id) is not None


def is_public_address(address: IPAddress) -> bool:
    """True when `address` is globally reachable unicast, so a fetch from it cannot reach our network.

    Refuses loopback, private, link-local (169.254.169.254 included), shared, unspecified, reserved,
    site-local and multicast addresses, and IPv6 forms embedding a refused IPv4 address
    (IPv4-mapped, 6to4).
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public_address(address.ipv4_mapped)
        if address.sixtofour is not None and not is_public_address(address.sixtofour):
            return False
        if address.is_site_local:
            return False
    return address.is_global and not address.is_multicast and not address.is_reserved


def parse_metadata_url(client_id: str) -> URL:
    """Check `client_id` against §3 and return it as the exact URL to fetch.

    Raises ClientMetadataError naming the first rule broken.
    """
    if len(client_id) > MAX_URL_LENGTH:
        raise ClientMetadataError(f"client_id URL is longer than {MAX_URL_LENGTH} characters")
    if not client_id.startswith("https://"):
        raise ClientMetadataError("client_id URL must use https")  # §3
    if not has_uri_syntax(client_id):
        raise ClientMetadataError("client_id is not a valid URL")
    if "#" in client_id:
        raise ClientMetadataError("client_id URL must not contain a fragment")  # §3
    if not _URL_WITH_PATH.match(client_id):
        raise ClientMetadataError("client_id URL must contain a path")  # §3
    try:
        url = URL(client_id, encoded=True)
        host, is_unchanged = url.raw_host or "", str(url) == client_id  # yarl parses the port lazily
    except ValueError:
        raise ClientMetadataError("client_id is not a valid URL") from None
    if "@" in url.raw_authority:
        raise ClientMetadataError("client_id URL must not contain a username or password")  # §3
    if not is_valid_host(host):
        raise ClientMetadataError("client_id URL has an invalid host")
    if any(unquote(segment) in (".", "..") for segment in url.raw_path.split("/")):
        raise ClientMetadataError("client_id URL must not contain dot path segments")  # §3
    if not is_unchanged:
        # We fetch, and later compare, exactly the string the client sent (§4.1).
        raise ClientMetadataError("client_id is not a valid URL")
    return url


def parse_client_metadata(document: bytes, client_id: str) -> ClientMetadata:
    """Validate a fetched document as the metadata of `client_id`; raises ClientMetadataError."""
    try:
        metadata = ClientMetadata.model_validate_json(document)
    except ValidationError as exc:
        # Not chained: a validation error quotes the document, and bodies never reach logs.
        raise ClientMetadataError(_describe(exc)) from None
    if metadata.client_id != client_id:  # §4.1: simple string comparison
        raise ClientMetadataError("client metadata document names a different client_id")
    return metadata


def _describe(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_context=False, include_input=False)[0]
    if error["type"] == _DOCUMENT_ERROR:
        return error["msg"]
    if error["type"].startswith("json_"):
        return "client metadata document is not valid JSON"
    if not error["loc"]:
        return "client metadata document is not a JSON object"
    name = error["loc"][0]
    if error["type"] == "missing":
        return f"client metadata document is missing {name}"
    return f"client metadata document has an invalid {name}"


class _VettingResolver(AbstractResolver):
    """Resolves through `inner`; refuses the host unless the policy accepts every address.

    aiohttp connects to exactly the addresses returned here (numeric, no second lookup), while the
    URL still supplies the Host header and TLS server name: DNS rebinding cannot slip through.
    """

    def __init__(self, inner: AbstractResolver, policy: AddressPolicy, *, owns_inner: bool) -> None:
        self._inner = inner
        self._policy = policy
        self._owns_inner = owns_inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not results:
            raise OSError(f"{host} has no addresses")
        for result in results:
            address = literal_address(result["host"])
            if address is None or not self._policy(address):
                raise ClientMetadataError(NON_PUBLIC_ADDRESS)
        return results

    async def close(self) -> None:
        if self._owns_inner:
            await self._inner.close()


@dataclass(frozen=True, slots=True)
class _Outcome:
    """A fetch result: the metadata or the error, and when it stops being fresh."""

    expires_at: float
    metadata: ClientMetadata | None = None
    # The error's texts, not the exception: a cached traceback would keep its frames alive.
    error: str = ""
    reason: str | None = None

    def unwrap(self) -> ClientMetadata:
        if self.metadata is None:
            raise ClientMetadataError(self.error, self.reason)
        return self.metadata


@dataclass(eq=False)
class _Flight:
    """One fetch in progress; callers asking for the same URL wait for it instead of fetching."""

    # Looked up when a fetch starts: reading anyio.Event loads anyio's synchronization modules (~6 ms).
    done: anyio.Event = field(default_factory=lambda: anyio.Event())
    outcome: _Outcome | None = None


class _State(Enum):
    OPEN = "open"  # usable; the HTTP session opens on the first fetch, inside the running loop
    CLOSED = "closed"  # aclose() ran; fetch() refuses


class ClientMetadataFetcher:
    """Fetches Client ID Metadata Documents safely, with a bounded LRU cache and shared in-flight fetches.

    `address_policy` decides which resolved addresses may be contacted; tests may widen it, production
    keeps `is_public_address`. `resolver` replaces the system DNS lookup (its answers are still vetted).
    """

    def __init__(
        self,
        *,
        timeout: float = FETCH_TIMEOUT_SECONDS,
        max_bytes: int = MAX_DOCUMENT_BYTES,
        address_policy: AddressPolicy = is_public_address,
        ssl: ssl_module.SSLContext | bool = True,
        clock: Callable[[], float] = time.monotonic,
        resolver: AbstractResolver | None = None,
        cache_size: int = MAX_CACHE_ENTRIES,
        negative_ttl: float = NEGATIVE_CACHE_SECONDS,
    ) -> None:
        if timeout <= 0 or max_bytes <= 0 or cache_size <= 0 or negative_ttl < 0:
            raise ValueError("timeout, max_bytes and cache_size must be positive, negative_ttl not negative")
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._policy = address_policy
        self._ssl = ssl
        self._clock = clock
        self._resolver = resolver
        self._cache_size = cache_size
        self._negative_ttl = negative_ttl
        self._cache: OrderedDict[str, _Outcome] = OrderedDict()
        self._flights: dict[str, _Flight] = {}
        self._fetching: dict[str, int] = {}
        self._session: aiohttp.ClientSession | None = None
        self._vetting: _VettingResolver | None = None
        self._state = _State.OPEN

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def fetch(self, client_id: str) -> ClientMetadata:
        """Return the validated metadata `client_id` names, from the cache while fresh.

        Raises ClientMetadataError for every refusal or failure, RuntimeError after `aclose`.
        """
        if self._state is _State.CLOSED:
            raise RuntimeError("ClientMetadataFetcher is closed")
        url = parse_metadata_url(client_id)
        literal = literal_address(url.raw_host or "")
        if literal is not None and not self._policy(literal):
            raise ClientMetadataError(NON_PUBLIC_ADDRESS)  # aiohttp skips the resolver for literals
        while True:
            cached = self._cached(client_id)
            if cached is not None:
                return cached.unwrap()
            flight = self._flights.get(client_id)
            if flight is None:
                break
            await flight.done.wait()
            if flight.outcome is not None:
                return flight.outcome.unwrap()
            # The leading caller was cancelled before finishing: try again, perhaps as the leader.
        flight = self._flights[client_id] = _Flight()
        try:
            with self._slot(url.raw_host or ""):  # a refusal here is not cached: it says nothing of the URL
                outcome = flight.outcome = await self._load(client_id, url)
            self._remember(client_id, outcome)
        finally:
            del self._flights[client_id]
            flight.done.set()
        return outcome.unwrap()

    async def aclose(self) -> None:
        """Close the HTTP session and the resolver; later fetches raise RuntimeError."""
        self._state = _State.CLOSED
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._vetting is not None:
            await self._vetting.close()
            self._vetting = None

    @contextmanager
    def _slot(self, host: str) -> Iterator[None]:
        """Hold one of the host's fetch slots, or raise ClientMetadataError when none is free."""
        if self._fetching.get(host, 0) >= MAX_FETCHES_PER_HOST or (
            sum(self._fetching.values()) >= MAX_CONCURRENT_FETCHES
        ):
            logger.info("client metadata from host %s refused: too many fetches in flight", host)
            raise ClientMetadataError(FETCH_FAILED, reason="too many fetches in flight")
        self._fetching[host] = self._fetching.get(host, 0) + 1
        try:
            yield
        finally:
            self._fetching[host] -= 1
            if not self._fetching[host]:
                del self._fetching[host]

    def _cached(self, client_id: str) -> _Outcome | None:
        outcome = self._cache.get(client_id)
        if outcome is None:
            return None
        if outcome.expires_at <= self._clock():
            del self._cache[client_id]
            return None
        self._cache.move_to_end(client_id)
        return outcome

    def _remember(self, client_id: str, outcome: _Outcome) -> None:
        self._cache[client_id] = outcome
        self._cache.move_to_end(client_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _load(self, client_id: str, url: URL) -> _Outcome:
        try:
            metadata, lifetime = await self._download(client_id, url)
        except ClientMetadataError as exc:
            logger.info(
                "client metadata from host %s refused: %s", url.raw_host, exc.reason or exc.description
            )
            return _Outcome(self._clock() + self._negative_ttl, error=exc.description, reason=exc.reason)
        return _Outcome(self._clock() + lifetime, metadata=metadata)

    async def _download(self, client_id: str, url: URL) -> tuple[ClientMetadata, float]:
        session = self._open()
        with _translate_errors(), anyio.fail_after(self._timeout):
            async with session.get(url, allow_redirects=False) as response:
                _check_response(response, self._max_bytes)
                document = await _read_capped(response.content, self._max_bytes)
                lifetime = _cache_lifetime(",".join(response.headers.getall("Cache-Control", [])))
        return parse_client_metadata(document, client_id), lifetime

    def _open(self) -> aiohttp.ClientSession:
        if self._state is _State.CLOSED:  # a caller that waited across aclose() must not reopen
            raise RuntimeError("ClientMetadataFetcher is closed")
        if self._session is None:
            inner = self._resolver if self._resolver is not None else aiohttp.ThreadedResolver()
            self._vetting = _VettingResolver(inner, self._policy, owns_inner=self._resolver is None)
            connector = aiohttp.TCPConnector(
                resolver=self._vetting, use_dns_cache=False, ssl=self._ssl, limit=MAX_CONCURRENT_FETCHES
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                headers=_HEADERS,
                auto_decompress=False,
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session


@contextmanager
def _translate_errors() -> Iterator[None]:
    """Map transport failures to ClientMetadataError; the cause is chained for logs, never shown."""
    try:
        yield
    except TimeoutError as exc:
        raise ClientMetadataError(FETCH_FAILED, reason="timed out") from exc
    except aiohttp.ClientConnectorDNSError as exc:
        raise ClientMetadataError(FETCH_FAILED, reason="host could not be resolved") from exc
    except aiohttp.ClientSSLError as exc:
        raise ClientMetadataError(FETCH_FAILED, reason="TLS connection failed") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise ClientMetadataError(FETCH_FAILED, reason=type(exc).__name__) from exc


def _check_response(response: aiohttp.ClientResponse, max_bytes: int) -> None:
    """Refuse, before reading the body, a response that cannot carry a metadata document."""
    if 300 <= response.status < 400:
        # draft -01 §4: the authorization server MUST NOT follow redirects.
        raise ClientMetadataError(
            FETCH_FAILED, reason=f"redirect (HTTP status {response.status}), not followed"
        )
    if response.status != 200:
        raise ClientMetadataError(FETCH_FAILED, reason=f"HTTP status {response.status}")
    media_type = response.content_type.lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):  # §4.1: application/json or application/<AS-defined>+json
        raise ClientMetadataError("client metadata document is not served as JSON")
    if response.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        raise ClientMetadataError("client metadata document uses an unsupported content encoding")
    if response.content_length is not None and response.content_length > max_bytes:
        raise _too_large(max_bytes)


async def _read_capped(stream: aiohttp.StreamReader, max_bytes: int) -> bytes:
    """Read the body, but never more than `max_bytes` + 1 bytes (§6.6)."""
    body = bytearray()
    while len(body) <= max_bytes:
        chunk = await stream.read(max_bytes + 1 - len(body))
        if not chunk:
            break
        body += chunk
    if len(body) > max_bytes:
        raise _too_large(max_bytes)
    return bytes(body)


def _too_large(max_bytes: int) -> ClientMetadataError:
    size = f"{max_bytes // 1024} KB" if max_bytes % 1024 == 0 else f"{max_bytes} bytes"
    return ClientMetadataError(f"client metadata document is larger than {size}")


def _cache_lifetime(cache_control: str) -> float:
    """Seconds to keep a document: its max-age clamped to our bounds, else the default (§4.4)."""
    directives = [directive.strip().lower() for directive in cache_control.split(",")]
    if "no-store" in directives or "no-cache" in directives:
        return MIN_CACHE_SECONDS
    for directive in directives:
        match = _MAX_AGE.fullmatch(directive)
        if match is not None:
            return min(max(float(match[1]), MIN_CACHE_SECONDS), MAX_CACHE_SECONDS)
    return DEFAULT_CACHE_SECONDS
