"""Raw HTTP against `/mcp`: every refusal and every revision rule of the Streamable HTTP transport."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import orjson
import pytest

from gateway.protocol.core import MAX_BATCH_ITEMS
from tests.conftest import TEST_API_KEY, LiveServer

pytestmark = pytest.mark.anyio

BOTH = "application/json, text/event-stream"
MODERN = "2026-07-28"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "raw-test", "version": "1"},
}


def headers(accept: str = BOTH, **extra: str) -> dict[str, str]:
    return {
        "x-openphone-api-key": TEST_API_KEY,
        "content-type": "application/json",
        "accept": accept,
        **extra,
    }


def modern_headers(method: str, name: str | None = None, version: str = MODERN) -> dict[str, str]:
    extra = {"mcp-protocol-version": version, "mcp-method": method}
    if name is not None:
        extra["mcp-name"] = name
    return headers(**extra)


async def post(http: httpx.AsyncClient, body: Any, request_headers: dict[str, str]) -> httpx.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return await http.post("/mcp", content=content, headers=request_headers)


def request(method: str, params: dict[str, Any] | None = None, request_id: int | str = 1) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def sse_messages(body: str) -> list[dict[str, Any]]:
    """The JSON payloads of the `message` events in an event-stream body."""
    messages = []
    for block in body.split("\n\n"):
        lines = block.split("\n")
        if "event: message" in lines:
            data = "".join(line.removeprefix("data: ") for line in lines if line.startswith("data: "))
            messages.append(orjson.loads(data))
    return messages


class TestRefusals:
    async def test_missing_credential_is_401_with_a_resource_metadata_challenge(
        self, http: httpx.AsyncClient, live_server: LiveServer
    ) -> None:
        """RFC 9728 §5.1: the 401 points at the endpoint's protected-resource metadata."""
        response = await http.post("/mcp", content=b"{}", headers={"content-type": "application/json"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == (
            f'Bearer resource_metadata="{live_server.url}/.well-known/oauth-protected-resource/mcp"'
        )
        # RFC 6750 §3.1: no credential, no error code; the body agrees with the header (item 19).
        assert response.json() == {
            "error": "unauthorized",
            "error_description": "Authentication required: connect with OAuth, or send your OpenPhone API "
            "key in the x-openphone-api-key header.",
        }

    async def test_an_unknown_bearer_token_is_invalid_token(self, http: httpx.AsyncClient) -> None:
        """A presented but unusable token adds error="invalid_token" to the challenge (RFC 6750 §3.1)."""
        response = await http.post("/mcp", content=b"{}", headers={"authorization": "Bearer not-ours"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"].endswith(', error="invalid_token"')
        assert response.json() == {
            "error": "invalid_token",
            "error_description": "The access token is invalid or expired.",
        }
        assert "not-ours" not in response.text

    async def test_wrong_content_type_is_415(self, http: httpx.AsyncClient) -> None:
        response = await post(http, request("ping"), headers() | {"content-type": "text/plain"})
        assert response.status_code == 415
        assert response.json() == {
            "error": "unsupported_media_type",
            "error_description": "Send the JSON-RPC message with Content-Type: application/json.",
        }

    @pytest.mark.parametrize(
        "content_type",
        [
            pytest.param("application/x-www-form-urlencoded", id="form"),
            pytest.param("multipart/form-data; boundary=x", id="multipart"),
            pytest.param("text/plain;charset=UTF-8", id="text-plain"),
        ],
    )
    async def test_cors_safelisted_content_types_are_415(
        self, http: httpx.AsyncClient, content_type: str
    ) -> None:
        """Fetch §2.2.2: these need no preflight, so accepting one would open /mcp to cross-site POSTs."""
        response = await post(http, request("ping"), headers() | {"content-type": content_type})
        assert response.status_code == 415
        assert response.json()["error"] == "unsupported_media_type"

    async def test_a_body_over_one_mebibyte_is_413(self, http: httpx.AsyncClient) -> None:
        big = orjson.dumps(request("ping", {"padding": "x" * (1024 * 1024)}))
        response = await post(http, big, headers())
        assert response.status_code == 413
        assert response.json()["error_description"] == "The request body is larger than 1024 KiB."

    async def test_an_unacceptable_accept_header_is_406(self, http: httpx.AsyncClient) -> None:
        response = await post(http, request("ping"), headers(accept="image/png"))
        assert response.status_code == 406

    async def test_a_foreign_browser_origin_is_403(self, http: httpx.AsyncClient) -> None:
        """MCP 2025-11-25: a present and invalid Origin MUST get 403 (the DNS-rebinding defence)."""
        response = await post(http, request("ping"), headers(origin="https://evil.example.test"))
        assert response.status_code == 403

    @pytest.mark.parametrize("path", ["/mcp/", "/sse/", "/authorize/", "/token/", "/register/"])
    async def test_a_trailing_slash_is_not_redirected_to_the_host_the_request_named(
        self, http: httpx.AsyncClient, path: str
    ) -> None:
        """Review #12: Starlette's slash redirect built its Location from Host (evil.example.test/mcp)."""
        response = await http.post(path, content=b"{}", headers={"host": "evil.example.test"})
        assert response.status_code == 404
        assert "location" not in response.headers

    async def test_localhost_is_told_the_address_whose_oauth_identity_this_is(
        self, http: httpx.AsyncClient, live_server: LiveServer
    ) -> None:
        """Item 17: a 401 naming 127.0.0.1 to a client of localhost stopped the TypeScript SDK's sign-in."""
        port = live_server.settings.port
        response = await http.post("/mcp", content=b"{}", headers={"host": f"localhost:{port}"})
        assert response.status_code == 421
        assert response.json()["error_description"] == (
            f"This server answers as http://127.0.0.1:{port}: connect to that address (for example "
            f"http://127.0.0.1:{port}/mcp), or set PUBLIC_URL to the address you use."
        )

    async def test_a_foreign_host_is_421(self, http: httpx.AsyncClient) -> None:
        response = await post(http, request("ping"), headers(host="rebound.example.test"))
        assert response.status_code == 421

    @pytest.mark.parametrize(
        ("method", "extra"),
        [
            pytest.param("GET", {"accept": "application/json"}, id="get-without-event-stream"),
            pytest.param(
                "GET", {"accept": "text/event-stream", "mcp-session-id": "abc"}, id="get-with-session"
            ),
            pytest.param(
                "GET",
                {"accept": "text/event-stream", "mcp-protocol-version": "2025-06-18"},
                id="get-from-a-2025-06-18-client",
            ),
            pytest.param(
                "GET",
                {"accept": "text/event-stream", "mcp-protocol-version": "2025-11-25"},
                id="get-from-a-2025-11-25-client",
            ),
            pytest.param("DELETE", {}, id="delete"),
            pytest.param("PUT", {}, id="put"),
        ],
    )
    async def test_methods_other_than_post_are_405(
        self, http: httpx.AsyncClient, method: str, extra: dict[str, str]
    ) -> None:
        """The endpoint is sessionless: no standalone GET stream, no session to DELETE.

        A Streamable HTTP client's background GET (it sends MCP-Protocol-Version) once got a legacy SSE
        stream held open for nothing (item 18); only a client without the header is a legacy one.
        """
        response = await http.request(method, "/mcp", headers={"x-openphone-api-key": TEST_API_KEY, **extra})
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"


class TestJSONRPC:
    async def test_an_unparsable_body_is_parse_error_with_null_id(self, http: httpx.AsyncClient) -> None:
        response = await post(http, b'{"jsonrpc": "2.0", "id": 1, "method": ', headers())
        assert response.status_code == 400
        assert response.json() == {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": -32700, "message": "Parse error: the body is not valid JSON"},
        }

    @pytest.mark.parametrize(
        ("body", "expected_id", "message"),
        [
            pytest.param(
                {"jsonrpc": "1.0", "id": 7, "method": "ping"},
                7,
                "Invalid request: jsonrpc: Input should be '2.0'",
                id="version",
            ),
            pytest.param(
                {"jsonrpc": "2.0", "id": 7.5, "method": "ping"},
                None,
                "Invalid request: id: must be a string or an integer",
                id="float-id",
            ),
            pytest.param(
                {"jsonrpc": "2.0", "id": 3, "method": 5},
                3,
                "Invalid request: method: Input should be a valid string",
                id="method-type",
            ),
            pytest.param([], None, "Invalid request: empty batch", id="empty-batch"),
            pytest.param("ping", None, "Invalid request: a JSON-RPC message must be an object", id="string"),
        ],
    )
    async def test_an_invalid_request_object_is_32600(
        self, http: httpx.AsyncClient, body: Any, expected_id: int | None, message: str
    ) -> None:
        """JSON-RPC 2.0 §5.1: -32600 for a body that is JSON but not a request; the id is kept when valid."""
        response = await post(http, body, headers())
        assert response.status_code == 400
        error = response.json()
        assert error["id"] == expected_id
        assert error["error"]["code"] == -32600
        assert error["error"]["message"] == message

    async def test_an_unknown_method_is_32601(self, http: httpx.AsyncClient) -> None:
        response = await post(http, request("tools/destroy", {}, "abc"), headers())
        assert response.status_code == 200
        assert response.json() == {
            "jsonrpc": "2.0",
            "id": "abc",
            "error": {"code": -32601, "message": "Method not found: tools/destroy"},
        }

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"jsonrpc": "2.0", "method": "notifications/initialized"}, id="notification"),
            pytest.param({"jsonrpc": "2.0", "id": 9, "result": {}}, id="client-response"),
        ],
    )
    async def test_messages_that_need_no_answer_get_202_and_no_body(
        self, http: httpx.AsyncClient, body: dict[str, Any]
    ) -> None:
        response = await post(http, body, headers())
        assert response.status_code == 202
        assert response.content == b""

    async def test_an_unsupported_protocol_version_header_is_400(self, http: httpx.AsyncClient) -> None:
        """2025-06-18 transports: an invalid or unsupported MCP-Protocol-Version MUST get 400."""
        response = await post(
            http, request("tools/list", {}, 4), headers(**{"mcp-protocol-version": "1999-01-01"})
        )
        assert response.status_code == 400
        assert response.json()["id"] == 4
        assert response.json()["error"]["code"] == -32022
        assert response.json()["error"]["data"]["requested"] == "1999-01-01"


class TestHandshake:
    @pytest.mark.parametrize("revision", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"])
    async def test_initialize_echoes_a_supported_revision(
        self, http: httpx.AsyncClient, revision: str
    ) -> None:
        body = request(
            "initialize", {"protocolVersion": revision, "capabilities": {}, "clientInfo": {"name": "t"}}
        )
        response = await post(http, body, headers())
        assert response.status_code == 200
        result = response.json()["result"]
        assert result["protocolVersion"] == revision
        assert result["capabilities"] == {
            "tools": {"listChanged": False},
            "resources": {"subscribe": False, "listChanged": False},
        }
        assert result["serverInfo"]["name"] == "openphone-mcp-gateway"
        assert "mcp-session-id" not in response.headers

    @pytest.mark.parametrize("requested", ["1999-01-01", "2026-07-28"])
    async def test_initialize_answers_the_newest_handshake_revision_otherwise(
        self, http: httpx.AsyncClient, requested: str
    ) -> None:
        body = request(
            "initialize", {"protocolVersion": requested, "capabilities": {}, "clientInfo": {"name": "t"}}
        )
        response = await post(http, body, headers())
        assert response.json()["result"]["protocolVersion"] == "2025-11-25"

    async def test_initialize_without_client_info_is_invalid_params(self, http: httpx.AsyncClient) -> None:
        body = request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}})
        response = await post(http, body, headers())
        assert response.json()["error"] == {
            "code": -32602,
            "message": "Invalid params: clientInfo: Field required",
        }

    async def test_a_batch_is_answered_in_2025_03_26(self, http: httpx.AsyncClient) -> None:
        """2025-03-26 added batches: every request gets its answer, notifications none."""
        batch = [
            request("ping", None, 1),
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            request("x", {}, 2),
        ]
        response = await post(http, batch, headers(**{"mcp-protocol-version": "2025-03-26"}))
        assert response.status_code == 200
        assert response.json() == [
            {"jsonrpc": "2.0", "id": 1, "result": {}},
            {"jsonrpc": "2.0", "id": 2, "error": {"code": -32601, "message": "Method not found: x"}},
        ]

    async def test_a_batch_of_notifications_gets_202(self, http: httpx.AsyncClient) -> None:
        batch = [{"jsonrpc": "2.0", "method": "notifications/initialized"}]
        response = await post(http, batch, headers())
        assert response.status_code == 202

    async def test_initialize_inside_a_batch_is_refused(self, http: httpx.AsyncClient) -> None:
        """2025-03-26 lifecycle: the initialize request MUST NOT be part of a batch."""
        init = request(
            "initialize", {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t"}}
        )
        response = await post(http, [init], headers(**{"mcp-protocol-version": "2025-03-26"}))
        assert response.json() == [
            {
                "jsonrpc": "2.0",
                "id": 1,
                "error": {"code": -32600, "message": "initialize must not be part of a batch"},
            }
        ]

    async def test_a_batch_of_the_maximum_size_is_answered(self, http: httpx.AsyncClient) -> None:
        batch = [request("ping", None, i) for i in range(MAX_BATCH_ITEMS)]
        response = await post(http, batch, headers(**{"mcp-protocol-version": "2025-03-26"}))
        assert response.status_code == 200
        assert [answer["id"] for answer in response.json()] == list(range(MAX_BATCH_ITEMS))

    async def test_a_batch_over_the_maximum_size_is_refused(self, http: httpx.AsyncClient) -> None:
        """Review #1: a 1 MiB batch of tools/list once made an 850 MB answer; one item too many is refused."""
        batch = [request("tools/list", None, i) for i in range(MAX_BATCH_ITEMS + 1)]
        response = await post(http, batch, headers(**{"mcp-protocol-version": "2025-03-26"}))
        assert response.status_code == 400
        assert response.json() == {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": -32600,
                "message": "Invalid request: a batch may hold at most 32 messages, this one has 33",
            },
        }

    @pytest.mark.parametrize("revision", ["2025-06-18", "2025-11-25"])
    async def test_a_batch_is_refused_after_2025_06_18(self, http: httpx.AsyncClient, revision: str) -> None:
        """2025-06-18 removed JSON-RPC batching."""
        response = await post(http, [request("ping")], headers(**{"mcp-protocol-version": revision}))
        assert response.status_code == 400
        assert response.json()["error"] == {
            "code": -32600,
            "message": f"JSON-RPC batches are not allowed in protocol revision {revision}",
        }


class TestStatelessRevision:
    async def test_server_discover_describes_the_server(self, http: httpx.AsyncClient) -> None:
        response = await post(
            http, request("server/discover", {"_meta": ENVELOPE}), modern_headers("server/discover")
        )
        assert response.status_code == 200
        result = response.json()["result"]
        assert result["supportedVersions"] == ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", MODERN]
        assert result["resultType"] == "complete"
        assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "openphone-mcp-gateway"
        assert result["ttlMs"] == 300_000
        assert result["cacheScope"] == "private"

    async def test_list_results_carry_caching_directives_only_in_2026_07_28(
        self, http: httpx.AsyncClient
    ) -> None:
        """SEP-2549 ttlMs/cacheScope are 2026-07-28 fields; handshake-era results stay as they were."""
        modern = await post(http, request("tools/list", {"_meta": ENVELOPE}), modern_headers("tools/list"))
        handshake = await post(
            http, request("tools/list", {}), headers(**{"mcp-protocol-version": "2025-11-25"})
        )
        assert (modern.json()["result"]["ttlMs"], modern.json()["result"]["cacheScope"]) == (
            300_000,
            "private",
        )
        assert set(handshake.json()["result"]) == {"tools"}

    async def test_a_request_without_the_envelope_is_400_invalid_params(
        self, http: httpx.AsyncClient
    ) -> None:
        response = await post(http, request("tools/list", {}, 101), modern_headers("tools/list"))
        assert response.status_code == 400
        assert response.json()["id"] == 101
        assert response.json()["error"]["code"] == -32602

    @pytest.mark.parametrize(
        ("method", "params", "request_headers", "message"),
        [
            pytest.param(
                "tools/list",
                {},
                {"mcp-protocol-version": "2025-11-25", "mcp-method": "tools/list"},
                "MCP-Protocol-Version header does not match the protocolVersion in params._meta",
                id="version",
            ),
            pytest.param(
                "tools/list",
                {},
                {"mcp-protocol-version": MODERN, "mcp-method": "tools/call"},
                "Mcp-Method header does not match the request's method",
                id="method",
            ),
            pytest.param(
                "tools/call",
                {"name": "add", "arguments": {"a": 1, "b": 2}},
                {"mcp-protocol-version": MODERN, "mcp-method": "tools/call", "mcp-name": "crash"},
                "Mcp-Name header does not match the request's 'name'",
                id="name",
            ),
        ],
    )
    async def test_routing_headers_must_match_the_body(
        self,
        http: httpx.AsyncClient,
        method: str,
        params: dict[str, Any],
        request_headers: dict[str, str],
        message: str,
    ) -> None:
        """SEP-2243: a disagreement between headers and body is 400 with HeaderMismatch (-32020)."""
        body = request(method, {**params, "_meta": ENVELOPE}, 5)
        response = await post(http, body, headers(**request_headers))
        assert response.status_code == 400
        assert response.json() == {"jsonrpc": "2.0", "id": 5, "error": {"code": -32020, "message": message}}

    async def test_routing_headers_are_compared_without_surrounding_whitespace(
        self, live_server: LiveServer
    ) -> None:
        """RFC 9110 §5.5: whitespace around a field value is not part of it, whatever the parser keeps.

        Sent over a raw socket: httpx refuses to send such header values at all.
        """
        params = {"name": "add", "arguments": {"a": 1, "b": 1}, "_meta": ENVELOPE}
        body = orjson.dumps(request("tools/call", params, 6))
        port = live_server.settings.port
        head = (
            f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nAccept: application/json\r\n"
            f"X-OpenPhone-Api-Key: {TEST_API_KEY}\r\nMCP-Protocol-Version: {MODERN}  \r\n"
            f"Mcp-Method: tools/call\t\r\nMcp-Name:   add  \r\nContent-Length: {len(body)}\r\n\r\n"
        )
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(head.encode() + body)
            raw = b""
            with anyio.fail_after(5):
                async for chunk in stream:
                    raw += chunk
        status_line, _, rest = raw.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 200 OK"
        assert orjson.loads(rest.partition(b"\r\n\r\n")[2])["result"]["structuredContent"] == {"total": 2}

    async def test_an_unsupported_envelope_version_is_32022(self, http: httpx.AsyncClient) -> None:
        meta = {**ENVELOPE, "io.modelcontextprotocol/protocolVersion": "v999.0.0"}
        body = request("server/discover", {"_meta": meta}, 301)
        response = await post(http, body, modern_headers("server/discover", version="v999.0.0"))
        assert response.status_code == 400
        assert response.json()["error"]["code"] == -32022
        assert response.json()["error"]["data"]["requested"] == "v999.0.0"

    @pytest.mark.parametrize("method", ["initialize", "ping", "logging/setLevel", "unknown/method"])
    async def test_methods_removed_or_unknown_are_404(self, http: httpx.AsyncClient, method: str) -> None:
        """2026-07-28 transports: an unknown method is 404 with -32601."""
        response = await post(http, request(method, {"_meta": ENVELOPE}, 500), modern_headers(method))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == -32601

    async def test_a_call_with_progress_upgrades_to_an_event_stream(self, http: httpx.AsyncClient) -> None:
        """Notifications sent while the tool runs stream ahead of the response."""
        params = {
            "name": "count-steps",
            "arguments": {"steps": 2},
            "_meta": {**ENVELOPE, "progressToken": "p"},
        }
        response = await post(
            http, request("tools/call", params, 8), modern_headers("tools/call", "count-steps")
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        messages = sse_messages(response.text)
        assert [m.get("method") for m in messages] == [
            "notifications/progress",
            "notifications/progress",
            None,
        ]
        assert messages[-1]["result"]["structuredContent"] == {"steps_done": 2}

    async def test_a_call_without_progress_is_plain_json(self, http: httpx.AsyncClient) -> None:
        params = {"name": "add", "arguments": {"a": 1, "b": 2}, "_meta": ENVELOPE}
        response = await post(http, request("tools/call", params, 9), modern_headers("tools/call", "add"))
        assert response.headers["content-type"] == "application/json"
        assert response.json()["result"]["structuredContent"] == {"total": 3}


class TestAcceptLeniency:
    @pytest.mark.parametrize("accept", ["application/json", "*/*", BOTH])
    async def test_json_capable_clients_get_json(self, http: httpx.AsyncClient, accept: str) -> None:
        response = await post(http, request("ping"), headers(accept=accept))
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"jsonrpc": "2.0", "id": 1, "result": {}}

    async def test_chatgpts_scanner_labels_octet_stream_and_accepts_anything(
        self, http: httpx.AsyncClient
    ) -> None:
        """openai-apps-sdk-examples#183: the scanner's POST is read from its JSON body, not its label."""
        scanner = headers(accept="*/*") | {"content-type": "application/octet-stream"}
        response = await post(http, request("tools/list"), scanner)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert [tool["name"] for tool in response.json()["result"]["tools"]] == [
            "add",
            "count-steps",
            "wait-forever",
            "refuse",
            "crash",
        ]

    async def test_a_client_accepting_only_event_streams_gets_one(self, http: httpx.AsyncClient) -> None:
        """Claude's proxy has been seen sending only text/event-stream; it still gets its answer."""
        response = await post(http, request("ping"), headers(accept="text/event-stream"))
        assert response.headers["content-type"] == "text/event-stream"
        assert sse_messages(response.text) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]

    async def test_a_json_only_client_still_gets_its_result_without_progress(
        self, http: httpx.AsyncClient
    ) -> None:
        params = {"name": "count-steps", "arguments": {"steps": 2}, "_meta": {"progressToken": 1}}
        response = await post(http, request("tools/call", params), headers(accept="application/json"))
        assert response.headers["content-type"] == "application/json"
        assert response.json()["result"]["structuredContent"] == {"steps_done": 2}
