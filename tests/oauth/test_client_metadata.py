"""Client ID Metadata Documents (`oauth/client_metadata.py`, draft-ietf-oauth-client-id-metadata-document):
URL rules, the address policy, document validation, and fetches from a real HTTPS server on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
import trustme
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from hypothesis import example, given, settings
from hypothesis import strategies as st

from oauth.client_metadata import (
    FETCH_FAILED,
    MAX_FETCHES_PER_HOST,
    NON_PUBLIC_ADDRESS,
    ClientMetadata,
    ClientMetadataError,
    ClientMetadataFetcher,
    is_metadata_url,
    is_public_address,
    parse_client_metadata,
    parse_metadata_url,
)
from oauth.uris import IPAddress

pytestmark = pytest.mark.anyio

HOST = "client.test"
CLIENT_ID = "https://client.test/client.json"
REDIRECT_URI = "https://app.client.test/callback"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def document(client_id: str, **fields: Any) -> bytes:
    return json.dumps({"client_id": client_id, "redirect_uris": [REDIRECT_URI], **fields}).encode()


def allow_loopback(address: IPAddress) -> bool:
    return address.is_loopback


def refuse_all(address: IPAddress) -> bool:
    return False


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


class StaticResolver(AbstractResolver):
    """DNS from a table (unknown names get `default`), so tests never reach a real name server."""

    def __init__(self, table: dict[str, list[str]], default: list[str] | None = None) -> None:
        self.table = table
        self.default = default
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        addresses = self.table.get(host, self.default)
        if addresses is None:
            raise socket.gaierror(socket.EAI_NONAME, "unknown host")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        pass


@dataclass(frozen=True)
class TLS:
    server: ssl.SSLContext
    client: ssl.SSLContext


@dataclass
class DocumentServer:
    """An HTTPS server for `client.test` on 127.0.0.1; tests set `routes` and read `hits` and `hosts`."""

    port: int
    release: anyio.Event
    routes: dict[str, Handler] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    hosts: list[str] = field(default_factory=list)

    def url(self, path: str = "/client.json") -> str:
        return f"https://{HOST}:{self.port}{path}"

    def serve(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> str:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(
                body=body, status=status, headers={"Content-Type": content_type, **(headers or {})}
            )

        self.routes[path] = handler
        return self.url(path)

    def serve_document(self, path: str = "/client.json", **fields: Any) -> str:
        return self.serve(path, document(self.url(path), **fields))

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        self.hosts.append(request.host)
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404)
        return await handler(request)


@dataclass
class Listener:
    """Listening sockets nobody accepts on: any connection attempt stays queued and is counted."""

    port: int
    sockets: list[socket.socket]

    def connections(self) -> int:
        count = 0
        for sock in self.sockets:
            sock.setblocking(False)
            while True:
                try:
                    connection, _ = sock.accept()
                except BlockingIOError:
                    break
                connection.close()
                count += 1
        return count


@pytest.fixture(scope="session")
def tls() -> TLS:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST).configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return TLS(server, client)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def resolver() -> StaticResolver:
    return StaticResolver({HOST: ["127.0.0.1"]})


@pytest.fixture
async def server(tls: TLS) -> AsyncIterator[DocumentServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    documents = DocumentServer(port=sock.getsockname()[1], release=anyio.Event())
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", documents.dispatch)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.SockSite(runner, sock, ssl_context=tls.server).start()
    try:
        yield documents
    finally:
        documents.release.set()
        await runner.cleanup()
        sock.close()


@pytest.fixture
async def fetcher(
    tls: TLS, clock: FakeClock, resolver: StaticResolver
) -> AsyncIterator[ClientMetadataFetcher]:
    async with ClientMetadataFetcher(
        ssl=tls.client, address_policy=allow_loopback, resolver=resolver, clock=clock
    ) as fetcher:
        yield fetcher


@pytest.fixture
def listener() -> Iterator[Listener]:
    v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    v4.bind(("127.0.0.1", 0))
    v4.listen()
    sockets = [v4]
    port = v4.getsockname()[1]
    v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        v6.bind(("::1", port))
    except OSError:  # no IPv6 loopback here: the [::1] cases still prove nothing was attempted on v4
        v6.close()
    else:
        v6.listen()
        sockets.append(v6)
    yield Listener(port, sockets)
    for sock in sockets:
        sock.close()


class TestIsMetadataUrl:
    @pytest.mark.parametrize(
        ("client_id", "expected"),
        [
            pytest.param("https://client.test/client.json", True, id="https-with-path"),
            pytest.param("https://client.test/", True, id="root-path"),
            pytest.param("https://client.test:8443/c?v=1", True, id="port-and-query"),
            pytest.param("https://client.test", False, id="no-path"),
            pytest.param("https://client.test?next=/x", False, id="query-but-no-path"),
            pytest.param("http://client.test/client.json", False, id="http"),
            pytest.param("3f2a9c0e-registered-client", False, id="registered-id"),
            pytest.param("", False, id="empty"),
        ],
    )
    def test_shape(self, client_id: str, expected: bool) -> None:
        """A Client Identifier URL is https and has a path (§3)."""
        assert is_metadata_url(client_id) is expected


class TestParseMetadataUrl:
    @pytest.mark.parametrize(
        "client_id",
        [
            pytest.param("https://client.test/client.json", id="plain"),
            pytest.param("https://client.test/", id="root-path"),
            pytest.param("https://client.test:8443/oauth/client.json?v=2", id="port-and-query"),
            pytest.param("https://client.test/a%20b.json", id="percent-encoded"),
            pytest.param("https://[2606:4700::1111]/client.json", id="ipv6-literal"),
        ],
    )
    def test_valid_url_is_returned_unchanged(self, client_id: str) -> None:
        """The URL fetched is exactly the string the client sent."""
        assert str(parse_metadata_url(client_id)) == client_id

    @pytest.mark.parametrize(
        ("client_id", "description"),
        [
            pytest.param("http://client.test/c", "client_id URL must use https", id="http"),
            pytest.param("HTTPS://client.test/c", "client_id URL must use https", id="uppercase-scheme"),
            pytest.param("https://client.test", "client_id URL must contain a path", id="no-path"),
            pytest.param(
                "https://client.test/c#x", "client_id URL must not contain a fragment", id="fragment"
            ),
            pytest.param(
                "https://client.test/c#", "client_id URL must not contain a fragment", id="empty-fragment"
            ),
            pytest.param(
                "https://me@client.test/c", "client_id URL must not contain a username or password", id="user"
            ),
            pytest.param(
                "https://@client.test/c",
                "client_id URL must not contain a username or password",
                id="empty-user",
            ),
            pytest.param(
                "https://client.test/a/../c", "client_id URL must not contain dot path segments", id="dot-dot"
            ),
            pytest.param(
                "https://client.test/./c", "client_id URL must not contain dot path segments", id="single-dot"
            ),
            pytest.param(
                "https://client.test/a/%2E%2e/c",
                "client_id URL must not contain dot path segments",
                id="encoded",
            ),
            pytest.param("https:///c", "client_id URL has an invalid host", id="empty-host"),
            pytest.param("https://127.1/c", "client_id URL has an invalid host", id="short-ipv4"),
            pytest.param("https://2130706433/c", "client_id URL has an invalid host", id="integer-ipv4"),
            pytest.param("https://0x7f.0.0.1/c", "client_id URL has an invalid host", id="hex-ipv4"),
            pytest.param("https://client_x.test/c", "client_id URL has an invalid host", id="underscore"),
            pytest.param("https://[fe80::1%25eth0]/c", "client_id URL has an invalid host", id="zone-id"),
            pytest.param("https://client.test/a b", "client_id is not a valid URL", id="space"),
            pytest.param("https://client.test/caf\u00e9", "client_id is not a valid URL", id="non-ascii"),
            pytest.param("https://client.test/100%", "client_id is not a valid URL", id="stray-percent"),
            pytest.param(
                "https://client.test:99999/c", "client_id is not a valid URL", id="port-out-of-range"
            ),
            pytest.param(
                "https://client.test/" + "a" * 1006,
                "client_id URL is longer than 1024 characters",
                id="too-long",
            ),
        ],
    )
    def test_invalid_url_is_refused(self, client_id: str, description: str) -> None:
        """Each §3 rule (and our length and syntax limits) has its own description."""
        with pytest.raises(ClientMetadataError) as caught:
            parse_metadata_url(client_id)
        assert caught.value.description == description


def _address(text: str) -> IPAddress:
    return ipaddress.ip_address(text)


class TestIsPublicAddress:
    @pytest.mark.parametrize(
        ("address", "expected"),
        [
            pytest.param("8.8.8.8", True, id="public-v4"),
            pytest.param("2606:4700::1111", True, id="public-v6"),
            pytest.param("::ffff:8.8.8.8", True, id="mapped-public"),
            pytest.param("127.0.0.1", False, id="loopback"),
            pytest.param("127.255.0.1", False, id="loopback-range"),
            pytest.param("10.0.0.1", False, id="private-10"),
            pytest.param("172.16.0.1", False, id="private-172"),
            pytest.param("192.168.1.1", False, id="private-192"),
            pytest.param("169.254.169.254", False, id="cloud-metadata"),
            pytest.param("100.64.0.1", False, id="shared"),
            pytest.param("0.0.0.0", False, id="unspecified-v4"),  # noqa: S104 - judged, not bound
            pytest.param("224.0.0.1", False, id="multicast-v4"),
            pytest.param("239.255.255.250", False, id="multicast-v4-global-scope"),
            pytest.param("240.0.0.1", False, id="reserved-v4"),
            pytest.param("255.255.255.255", False, id="broadcast"),
            pytest.param("::1", False, id="loopback-v6"),
            pytest.param("::", False, id="unspecified-v6"),
            pytest.param("fe80::1", False, id="link-local-v6"),
            pytest.param("fc00::1", False, id="unique-local"),
            pytest.param("fd12:3456::1", False, id="unique-local-fd"),
            pytest.param("fec0::1", False, id="site-local"),
            pytest.param("ff0e::1", False, id="multicast-v6"),
            pytest.param("::ffff:127.0.0.1", False, id="mapped-loopback"),
            pytest.param("::ffff:10.0.0.1", False, id="mapped-private"),
            pytest.param("::ffff:169.254.169.254", False, id="mapped-cloud-metadata"),
            pytest.param("2002:7f00:1::", False, id="6to4-loopback"),
            pytest.param("64:ff9b::7f00:1", False, id="nat64-loopback"),
            pytest.param("2001:db8::1", False, id="documentation"),
        ],
    )
    def test_table(self, address: str, expected: bool) -> None:
        """Only globally reachable unicast addresses may be fetched from (§6.5)."""
        assert is_public_address(_address(address)) is expected

    @given(st.ip_addresses(v=4))
    def test_ipv4_is_global_unicast(self, address: ipaddress.IPv4Address) -> None:
        """For IPv4 the policy is `is_global`, minus multicast."""
        assert is_public_address(address) == (address.is_global and not address.is_multicast)

    @given(st.ip_addresses(v=4))
    def test_ipv4_mapped_is_judged_by_its_ipv4_address(self, address: ipaddress.IPv4Address) -> None:
        """::ffff:a.b.c.d reaches a.b.c.d, so it gets the same answer."""
        mapped = ipaddress.IPv6Address(f"::ffff:{address}")
        assert is_public_address(mapped) == (address.is_global and not address.is_multicast)

    @given(st.one_of(st.ip_addresses(v=6), st.ip_addresses(network="2000::/3")))
    @example(ipaddress.IPv6Address("2002:a00:1::"))
    @example(ipaddress.IPv6Address("2002:808:808::"))
    @example(ipaddress.IPv6Address("::8.8.8.8"))
    def test_ipv6_is_global_minus_special_blocks(self, address: ipaddress.IPv6Address) -> None:
        """For IPv6 the policy is `is_global`, minus multicast, reserved, site-local and refused 6to4."""
        if address.ipv4_mapped is not None:
            embedded = address.ipv4_mapped
            expected = embedded.is_global and not embedded.is_multicast
        else:
            special = address.is_multicast or address.is_reserved or address.is_site_local
            sixtofour = address.sixtofour
            embedded_ok = sixtofour is None or (sixtofour.is_global and not sixtofour.is_multicast)
            expected = address.is_global and not special and embedded_ok
        assert is_public_address(address) == expected

    @given(st.ip_addresses())
    def test_never_more_permissive_than_is_global(self, address: IPAddress) -> None:
        """Whatever the policy accepts, the standard library calls global."""
        if is_public_address(address):
            assert address.is_global


class TestParseClientMetadata:
    def test_full_document(self) -> None:
        """Every field we read is parsed; unknown fields are ignored (RFC 7591 §2)."""
        metadata = parse_client_metadata(
            document(
                CLIENT_ID,
                client_name="Test Client",
                client_uri="https://client.test/",
                logo_uri="https://client.test/logo.png",
                token_endpoint_auth_method="none",
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
                scope="messages contacts",
                software_id="something-we-do-not-read",
            ),
            CLIENT_ID,
        )
        assert metadata == ClientMetadata(
            client_id=CLIENT_ID,
            redirect_uris=(REDIRECT_URI,),
            client_name="Test Client",
            client_uri="https://client.test/",
            logo_uri="https://client.test/logo.png",
            token_endpoint_auth_method="none",
            grant_types=("authorization_code", "refresh_token"),
            response_types=("code",),
            scope="messages contacts",
        )

    def test_client_name_whitespace_is_folded_as_at_registration(self) -> None:
        """Review #9: the name shown on the consent page is cleaned as a registered client's is."""
        metadata = parse_client_metadata(
            document(CLIENT_ID, client_name="Claude\n\n  (official)\t"), CLIENT_ID
        )
        assert metadata.client_name == "Claude (official)"

    def test_minimal_document_defaults_to_a_public_client(self) -> None:
        """A document without token_endpoint_auth_method describes a client with no secret."""
        metadata = parse_client_metadata(document(CLIENT_ID), CLIENT_ID)
        assert metadata.token_endpoint_auth_method == "none"
        assert metadata.client_name is None

    @pytest.mark.parametrize(
        ("body", "description"),
        [
            pytest.param(b"{not json", "client metadata document is not valid JSON", id="bad-json"),
            pytest.param(b"", "client metadata document is not valid JSON", id="empty"),
            pytest.param(b"\xff\xfe{}", "client metadata document is not valid JSON", id="not-utf8"),
            pytest.param(
                document(CLIENT_ID) + b" []", "client metadata document is not valid JSON", id="trailing"
            ),
            pytest.param(b"[]", "client metadata document is not a JSON object", id="array"),
            pytest.param(
                b'"https://client.test/c.json"', "client metadata document is not a JSON object", id="string"
            ),
            pytest.param(
                json.dumps({"client_id": CLIENT_ID}).encode(),
                "client metadata document is missing redirect_uris",
                id="missing-redirect-uris",
            ),
            pytest.param(
                json.dumps({"redirect_uris": [REDIRECT_URI]}).encode(),
                "client metadata document is missing client_id",
                id="missing-client-id",
            ),
            pytest.param(
                document(CLIENT_ID, redirect_uris=[]),
                "client metadata document has an invalid redirect_uris",
                id="empty-redirect-uris",
            ),
            pytest.param(
                document(CLIENT_ID, redirect_uris=REDIRECT_URI),
                "client metadata document has an invalid redirect_uris",
                id="redirect-uris-string",
            ),
            pytest.param(
                document(CLIENT_ID, redirect_uris=[1]),
                "client metadata document has an invalid redirect_uris",
                id="redirect-uri-number",
            ),
            pytest.param(
                document(CLIENT_ID, redirect_uris=["/callback"]),
                "client metadata document has an invalid redirect_uris",
                id="relative-redirect-uri",
            ),
            pytest.param(
                document(CLIENT_ID, redirect_uris=[REDIRECT_URI + "#x"]),
                "client metadata document has an invalid redirect_uris",
                id="redirect-uri-fragment",
            ),
            pytest.param(
                document(CLIENT_ID, client_name="x" * 201),
                "client metadata document has an invalid client_name",
                id="long-client-name",
            ),
            pytest.param(
                document(CLIENT_ID, client_name="Claude\u202e (official)"),
                "client metadata document has an invalid client_name",
                id="bidi-override-in-name",
            ),
            pytest.param(
                document(CLIENT_ID, client_name="Claude\u200b"),
                "client metadata document has an invalid client_name",
                id="zero-width-in-name",
            ),
            pytest.param(
                document(CLIENT_ID, client_name=" \n "),
                "client metadata document has an invalid client_name",
                id="blank-name",
            ),
            pytest.param(
                document(CLIENT_ID, client_name=7),
                "client metadata document has an invalid client_name",
                id="client-name-number",
            ),
            pytest.param(
                document(CLIENT_ID, token_endpoint_auth_method="client_secret_basic"),
                "client metadata document must use token_endpoint_auth_method none",
                id="shared-secret-auth",
            ),
            pytest.param(
                document(CLIENT_ID, token_endpoint_auth_method="private_key_jwt"),
                "client metadata document must use token_endpoint_auth_method none",
                id="private-key-jwt",
            ),
            pytest.param(
                document(CLIENT_ID, client_secret="s3cret"),
                "client metadata document must not contain a client_secret",
                id="client-secret",
            ),
            pytest.param(
                document("https://client.test/other.json"),
                "client metadata document names a different client_id",
                id="other-client-id",
            ),
            pytest.param(
                document("https://client.test:443/client.json"),
                "client metadata document names a different client_id",
                id="equivalent-but-not-equal",
            ),
        ],
    )
    def test_invalid_document_is_refused(self, body: bytes, description: str) -> None:
        """Each way a document can be unacceptable has its own description, and none quotes the body."""
        with pytest.raises(ClientMetadataError) as caught:
            parse_client_metadata(body, CLIENT_ID)
        assert caught.value.description == description


NEVER_CONTACTED = [
    pytest.param("https://127.0.0.1:{port}/client.json", NON_PUBLIC_ADDRESS, id="loopback"),
    pytest.param("https://localhost:{port}/client.json", NON_PUBLIC_ADDRESS, id="localhost"),
    pytest.param("https://[::1]:{port}/client.json", NON_PUBLIC_ADDRESS, id="loopback-v6"),
    pytest.param("https://[::ffff:127.0.0.1]:{port}/client.json", NON_PUBLIC_ADDRESS, id="mapped-loopback"),
    pytest.param("https://0.0.0.0:{port}/client.json", NON_PUBLIC_ADDRESS, id="unspecified"),
    pytest.param("https://10.0.0.1:{port}/client.json", NON_PUBLIC_ADDRESS, id="private"),
    pytest.param("https://169.254.169.254:{port}/latest/meta-data", NON_PUBLIC_ADDRESS, id="cloud-metadata"),
    pytest.param("https://100.64.0.1:{port}/client.json", NON_PUBLIC_ADDRESS, id="shared"),
    pytest.param("http://127.0.0.1:{port}/client.json", "client_id URL must use https", id="http"),
    pytest.param(
        "https://user:pass@127.0.0.1:{port}/client.json",
        "client_id URL must not contain a username or password",
        id="userinfo",
    ),
    pytest.param(
        "https://127.0.0.1:{port}/client.json#frag",
        "client_id URL must not contain a fragment",
        id="fragment",
    ),
    pytest.param("https://127.0.0.1:{port}", "client_id URL must contain a path", id="no-path"),
    pytest.param(
        "https://2130706433:{port}/client.json", "client_id URL has an invalid host", id="integer-ip"
    ),
]


class TestRefusedBeforeConnecting:
    @pytest.mark.parametrize(("template", "description"), NEVER_CONTACTED)
    async def test_refused_client_id_is_never_contacted(
        self, listener: Listener, template: str, description: str
    ) -> None:
        """With the default policy and real DNS, a refused URL never opens a connection (§6.5)."""
        async with ClientMetadataFetcher() as fetcher:
            with pytest.raises(ClientMetadataError) as caught:
                await fetcher.fetch(template.format(port=listener.port))
        assert caught.value.description == description
        assert listener.connections() == 0

    async def test_host_with_one_non_public_address_is_refused(self, server: DocumentServer) -> None:
        """Every resolved address must pass: one private answer among loopback ones refuses the host."""
        resolver = StaticResolver({HOST: ["127.0.0.1", "10.0.0.1"]})
        server.serve_document()
        async with ClientMetadataFetcher(address_policy=allow_loopback, resolver=resolver) as fetcher:
            with pytest.raises(ClientMetadataError) as caught:
                await fetcher.fetch(server.url())
        assert caught.value.description == NON_PUBLIC_ADDRESS
        assert server.hits.total() == 0

    async def test_unknown_host_is_reported(self, fetcher: ClientMetadataFetcher) -> None:
        """A name that does not resolve fails as every transport failure does; only the log says why."""
        with pytest.raises(ClientMetadataError) as caught:
            await fetcher.fetch("https://unknown.test/client.json")
        assert (caught.value.description, caught.value.reason) == (FETCH_FAILED, "host could not be resolved")

    @settings(max_examples=200, deadline=None)
    @given(
        st.one_of(
            st.text(),
            st.text().map(lambda rest: "https://" + rest),
            st.from_regex(r"\Ahttps://[a-z0-9.:@%\[\]-]{0,24}/[!-~]{0,24}\Z"),
        )
    )
    async def test_any_string_fails_only_with_client_metadata_error(self, client_id: str) -> None:
        """Whatever the string, fetch raises only ClientMetadataError (every address refused: no network)."""
        resolver = StaticResolver({}, default=["127.0.0.1"])
        async with ClientMetadataFetcher(address_policy=refuse_all, resolver=resolver) as fetcher:
            with pytest.raises(ClientMetadataError):
                await fetcher.fetch(client_id)


class TestFetch:
    async def test_valid_document(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer, resolver: StaticResolver
    ) -> None:
        """The document is fetched over TLS from the vetted address, with the URL's Host, after one lookup."""
        url = server.serve_document(client_name="Test Client")
        metadata = await fetcher.fetch(url)
        assert metadata == ClientMetadata(
            client_id=url, redirect_uris=(REDIRECT_URI,), client_name="Test Client"
        )
        assert server.hosts == [f"{HOST}:{server.port}"]
        assert resolver.lookups == [HOST]

    async def test_document_of_exactly_max_bytes_is_accepted(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer
    ) -> None:
        """The 5 KB limit is inclusive (§6.6)."""
        body = document(server.url())
        url = server.serve("/client.json", body + b" " * (5120 - len(body)))
        assert (await fetcher.fetch(url)).client_id == url

    @pytest.mark.parametrize(
        "chunked", [pytest.param(False, id="content-length"), pytest.param(True, id="chunked")]
    )
    async def test_document_over_max_bytes_is_refused(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer, chunked: bool
    ) -> None:
        """A body of 5 KB + 1 is refused, whether or not its length was announced (§6.6)."""
        body = document(server.url())
        padded = body + b" " * (5121 - len(body))

        async def stream(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            if chunked:
                response.enable_chunked_encoding()
            else:
                response.content_length = len(padded)
            await response.prepare(request)
            for start in range(0, len(padded), 1000):
                await response.write(padded[start : start + 1000])
            await response.write_eof()
            return response

        server.routes["/client.json"] = stream
        with pytest.raises(ClientMetadataError) as caught:
            await fetcher.fetch(server.url())
        assert caught.value.description == "client metadata document is larger than 5 KB"

    async def test_mismatched_client_id_is_refused(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer
    ) -> None:
        """The document must name its own URL as client_id (§4.1)."""
        url = server.serve("/client.json", document(server.url("/someone-else.json")))
        with pytest.raises(ClientMetadataError) as caught:
            await fetcher.fetch(url)
        assert caught.value.description == "client metadata document names a different client_id"

    @pytest.mark.parametrize(
        "content_type",
        [
            pytest.param("application/json; charset=utf-8", id="json-with-charset"),
            pytest.param("application/cimd+json", id="structured-suffix"),
            pytest.param("Application/JSON", id="case-insensitive"),
        ],
    )
    async def test_json_content_types_are_accepted(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer, content_type: str
    ) -> None:
        """application/json and application/<anything>+json are JSON (§4.1)."""
        url = server.serve("/client.json", document(server.url()), content_type=content_type)
        assert (await fetcher.fetch(url)).client_id == url

    @pytest.mark.parametrize(
        "content_type",
        [
            pytest.param("text/html", id="html"),
            pytest.param("text/plain", id="text"),
            pytest.param("application/octet-stream", id="octet-stream"),
            pytest.param("application/jsonp", id="jsonp"),
        ],
    )
    async def test_other_content_types_are_refused(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer, content_type: str
    ) -> None:
        """A document not served as JSON is refused, even when its body is JSON."""
        url = server.serve("/client.json", document(server.url()), content_type=content_type)
        with pytest.raises(ClientMetadataError) as caught:
            await fetcher.fetch(url)
        assert caught.value.description == "client metadata document is not served as JSON"

    async def test_compressed_document_is_refused(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer
    ) -> None:
        """We ask for identity encoding and never inflate a body (no decompression bombs)."""
        url = server.serve("/client.json", document(server.url()), headers={"Content-Encoding": "gzip"})
        with pytest.raises(ClientMetadataError) as caught:
            await fetcher.fetch(url)
        assert caught.value.description == "client metadata document uses an unsupported content encoding"

    @pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
    async def test_redirect_is_not_followed(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer, status: int
    ) -> None:
        """A 3xx is an error and its Location is never requested (draft -01 §4)."""
        target = server.serve_document("/target.json")
        url = server.serve("/client.json", b"", status=status, headers={"Location": target})
        with pytest.raises(ClientMetadataError) as caught:
            await fetcher.fetch(url)
        assert (caught.value.description, caught.value.reason) == (
            FETCH_FAILED,
            f"redirect (HTTP status {status}), not followed",
        )
        assert server.hits["/target.json"] == 0

    @pytest.mark.parametrize("status", [201, 204, 404, 500])
    async def test_status_other_than_200_is_refused(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer, status: int
    ) -> None:
        """Only 200 OK carries a document."""
        url = server.serve("/client.json", document(server.url()) if status != 204 else b"", status=status)
        with pytest.raises(ClientMetadataError) as caught:
            await fetcher.fetch(url)
        assert (caught.value.description, caught.value.reason) == (FETCH_FAILED, f"HTTP status {status}")

    async def test_bad_json_is_refused(self, fetcher: ClientMetadataFetcher, server: DocumentServer) -> None:
        """A body that is not JSON is refused without being quoted."""
        url = server.serve("/client.json", b"{'client_id': 'https://client.test/client.json'}")
        with pytest.raises(ClientMetadataError) as caught:
            await fetcher.fetch(url)
        assert caught.value.description == "client metadata document is not valid JSON"

    async def test_missing_redirect_uris_is_refused(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer
    ) -> None:
        """A document without redirect_uris cannot be used for the authorization code flow."""
        url = server.serve("/client.json", json.dumps({"client_id": server.url()}).encode())
        with pytest.raises(ClientMetadataError) as caught:
            await fetcher.fetch(url)
        assert caught.value.description == "client metadata document is missing redirect_uris"

    async def test_confidential_client_is_refused(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer
    ) -> None:
        """A metadata-document client has no secret, so only token_endpoint_auth_method none is accepted."""
        url = server.serve_document(token_endpoint_auth_method="client_secret_post")
        with pytest.raises(ClientMetadataError) as caught:
            await fetcher.fetch(url)
        assert caught.value.description == "client metadata document must use token_endpoint_auth_method none"

    async def test_slow_server_times_out(
        self, tls: TLS, resolver: StaticResolver, server: DocumentServer
    ) -> None:
        """A server that never answers costs at most the timeout."""

        async def stall(request: web.Request) -> web.StreamResponse:
            await server.release.wait()
            return web.Response(status=503)

        server.routes["/client.json"] = stall
        async with ClientMetadataFetcher(
            timeout=0.5, ssl=tls.client, address_policy=allow_loopback, resolver=resolver
        ) as fetcher:
            with anyio.fail_after(3), pytest.raises(ClientMetadataError) as caught:
                await fetcher.fetch(server.url())
        assert (caught.value.description, caught.value.reason) == (FETCH_FAILED, "timed out")

    async def test_slow_body_times_out(
        self, tls: TLS, resolver: StaticResolver, server: DocumentServer
    ) -> None:
        """The timeout covers reading the body, not just the headers."""

        async def trickle(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(b"{")
            await server.release.wait()
            return response

        server.routes["/client.json"] = trickle
        async with ClientMetadataFetcher(
            timeout=0.5, ssl=tls.client, address_policy=allow_loopback, resolver=resolver
        ) as fetcher:
            with anyio.fail_after(3), pytest.raises(ClientMetadataError) as caught:
                await fetcher.fetch(server.url())
        assert (caught.value.description, caught.value.reason) == (FETCH_FAILED, "timed out")

    async def test_untrusted_certificate_is_refused(
        self, resolver: StaticResolver, server: DocumentServer
    ) -> None:
        """TLS is verified against the system trust store by default."""
        url = server.serve_document()
        async with ClientMetadataFetcher(address_policy=allow_loopback, resolver=resolver) as fetcher:
            with pytest.raises(ClientMetadataError) as caught:
                await fetcher.fetch(url)
        assert (caught.value.description, caught.value.reason) == (FETCH_FAILED, "TLS connection failed")
        assert server.hits.total() == 0

    async def test_fetch_after_aclose_raises(self, fetcher: ClientMetadataFetcher) -> None:
        """A closed fetcher refuses work instead of reopening a session."""
        await fetcher.aclose()
        with pytest.raises(RuntimeError, match=r"^ClientMetadataFetcher is closed$"):
            await fetcher.fetch(CLIENT_ID)


class TestCache:
    async def test_second_fetch_makes_no_request(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer
    ) -> None:
        """A fresh document is served from the cache (§4.4)."""
        url = server.serve_document()
        first = await fetcher.fetch(url)
        assert await fetcher.fetch(url) == first
        assert server.hits["/client.json"] == 1

    @pytest.mark.parametrize(
        ("cache_control", "fresh_for", "stale_after"),
        [
            pytest.param(None, 299, 300, id="default-5-minutes"),
            pytest.param("max-age=600", 599, 600, id="max-age"),
            pytest.param("public, max-age=120", 119, 120, id="max-age-among-directives"),
            pytest.param("max-age=5", 59, 60, id="raised-to-60-seconds"),
            pytest.param("max-age=0", 59, 60, id="zero-raised-to-60-seconds"),
            pytest.param("no-store", 59, 60, id="no-store-raised-to-60-seconds"),
            pytest.param("max-age=31536000", 86399, 86400, id="lowered-to-24-hours"),
            pytest.param("max-age=soon", 299, 300, id="unparsable-uses-default"),
        ],
    )
    async def test_max_age_is_honoured_within_bounds(
        self,
        fetcher: ClientMetadataFetcher,
        server: DocumentServer,
        clock: FakeClock,
        cache_control: str | None,
        fresh_for: float,
        stale_after: float,
    ) -> None:
        """Cache-Control max-age sets the lifetime, clamped to [60 s, 24 h]; default 5 minutes (§4.4)."""
        headers = {"Cache-Control": cache_control} if cache_control else {}
        url = server.serve("/client.json", document(server.url()), headers=headers)
        start = clock.now
        await fetcher.fetch(url)
        clock.now = start + fresh_for
        await fetcher.fetch(url)
        assert server.hits["/client.json"] == 1
        clock.now = start + stale_after
        await fetcher.fetch(url)
        assert server.hits["/client.json"] == 2

    async def test_failure_is_remembered_for_60_seconds(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer, clock: FakeClock
    ) -> None:
        """A failed fetch is not retried for 60 s, then it is."""
        url = server.url()
        for _ in range(2):
            with pytest.raises(ClientMetadataError) as caught:
                await fetcher.fetch(url)
            assert (caught.value.description, caught.value.reason) == (FETCH_FAILED, "HTTP status 404")
        assert server.hits["/client.json"] == 1
        server.serve_document()
        clock.now += 60
        assert (await fetcher.fetch(url)).client_id == url
        assert server.hits["/client.json"] == 2

    async def test_negative_ttl_zero_remembers_no_failure(
        self, tls: TLS, resolver: StaticResolver, server: DocumentServer
    ) -> None:
        """negative_ttl=0 is the draft's strict reading: error responses are never cached (§4.4)."""
        async with ClientMetadataFetcher(
            ssl=tls.client, address_policy=allow_loopback, resolver=resolver, negative_ttl=0
        ) as fetcher:
            with pytest.raises(ClientMetadataError):
                await fetcher.fetch(server.url())
            server.serve_document()
            assert (await fetcher.fetch(server.url())).client_id == server.url()
        assert server.hits["/client.json"] == 2

    async def test_least_recently_used_entry_is_evicted(
        self, tls: TLS, resolver: StaticResolver, server: DocumentServer
    ) -> None:
        """The cache is bounded; the entry used least recently goes first."""
        first, second, third = (server.serve_document(f"/{name}.json") for name in ("a", "b", "c"))
        async with ClientMetadataFetcher(
            ssl=tls.client, address_policy=allow_loopback, resolver=resolver, cache_size=2
        ) as fetcher:
            for url in (first, second, first, third, first, second):
                await fetcher.fetch(url)
        assert server.hits == Counter({"/a.json": 1, "/b.json": 2, "/c.json": 1})


class TestConcurrency:
    async def test_concurrent_fetches_share_one_request(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer
    ) -> None:
        """Callers asking for the same URL at once wait for one request and share its result."""
        arrived, gate = anyio.Event(), anyio.Event()
        body = document(server.url())

        async def held(request: web.Request) -> web.StreamResponse:
            arrived.set()
            await gate.wait()
            return web.Response(body=body, content_type="application/json")

        server.routes["/client.json"] = held
        results: list[ClientMetadata] = []

        async def fetch() -> None:
            results.append(await fetcher.fetch(server.url()))

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for _ in range(5):
                    tg.start_soon(fetch)
                await arrived.wait()
                await anyio.sleep(0.05)
                gate.set()
        assert len(results) == 5
        assert all(result == results[0] for result in results)
        assert server.hits["/client.json"] == 1

    async def test_concurrent_failure_is_shared(
        self, tls: TLS, resolver: StaticResolver, server: DocumentServer
    ) -> None:
        """Waiting callers get the leader's error, even with negative caching off."""
        arrived, gate = anyio.Event(), anyio.Event()

        async def held(request: web.Request) -> web.StreamResponse:
            arrived.set()
            await gate.wait()
            return web.Response(status=500)

        server.routes["/client.json"] = held
        errors: list[str | None] = []

        async def fetch(fetcher: ClientMetadataFetcher) -> None:
            try:
                await fetcher.fetch(server.url())
            except ClientMetadataError as exc:
                errors.append(exc.reason)

        async with ClientMetadataFetcher(
            ssl=tls.client, address_policy=allow_loopback, resolver=resolver, negative_ttl=0
        ) as fetcher:
            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    for _ in range(3):
                        tg.start_soon(fetch, fetcher)
                    await arrived.wait()
                    await anyio.sleep(0.05)
                    gate.set()
        assert errors == ["HTTP status 500"] * 3
        assert server.hits["/client.json"] == 1

    async def test_waiter_takes_over_when_the_leader_is_cancelled(
        self, fetcher: ClientMetadataFetcher, server: DocumentServer
    ) -> None:
        """Cancelling the caller whose request is in flight does not strand the others."""
        arrived = anyio.Event()
        body = document(server.url())

        async def first_stalls(request: web.Request) -> web.StreamResponse:
            if server.hits["/client.json"] == 1:
                arrived.set()
                await server.release.wait()
            return web.Response(body=body, content_type="application/json")

        server.routes["/client.json"] = first_stalls
        leader = anyio.CancelScope()
        results: list[ClientMetadata] = []

        async def lead() -> None:
            with leader:
                await fetcher.fetch(server.url())

        async def wait() -> None:
            results.append(await fetcher.fetch(server.url()))

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(lead)
                await arrived.wait()
                tg.start_soon(wait)
                await anyio.sleep(0.05)
                leader.cancel()
        assert leader.cancelled_caught
        assert [result.client_id for result in results] == [server.url()]
        assert server.hits["/client.json"] == 2


class TestFetchBounds:
    async def test_a_tarpit_host_holds_only_its_own_slots(
        self, tls: TLS, server: DocumentServer, listener: Listener
    ) -> None:
        """Review #8: 100 fetches to a tarpit once filled the pool, and a real sign-in waited 4.5 s.

        Past MAX_FETCHES_PER_HOST, fetches to the tarpit are refused at once (and not cached), so a
        document on another host is fetched while the tarpit's fetches still hang.
        """
        resolver = StaticResolver({HOST: ["127.0.0.1"], "tarpit.test": ["127.0.0.1"]})
        refused: list[str | None] = []

        async def into_the_tarpit(fetcher: ClientMetadataFetcher, index: int) -> None:
            with pytest.raises(ClientMetadataError) as caught:
                await fetcher.fetch(f"https://tarpit.test:{listener.port}/client-{index}.json")
            assert caught.value.description == FETCH_FAILED
            refused.append(caught.value.reason)

        url = server.serve_document()
        async with ClientMetadataFetcher(
            timeout=60, ssl=tls.client, address_policy=allow_loopback, resolver=resolver
        ) as fetcher:
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    for index in range(100):
                        tg.start_soon(into_the_tarpit, fetcher, index)
                    while len(refused) < 100 - MAX_FETCHES_PER_HOST:  # noqa: ASYNC110
                        await anyio.sleep(0.01)
                    assert (await fetcher.fetch(url)).client_id == url
                    tg.cancel_scope.cancel()
        assert refused == ["too many fetches in flight"] * (100 - MAX_FETCHES_PER_HOST)
