"""End to end with the official MCP Python SDK client, over every transport and revision style."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from mcp.shared.exceptions import MCPError

from tests.clients import connect, text_of
from tests.conftest import LiveServer

pytestmark = pytest.mark.anyio

TRANSPORTS = [
    pytest.param("streamable", "legacy", id="streamable-handshake"),
    pytest.param("streamable", "2026-07-28", id="streamable-2026-07-28"),
    pytest.param("streamable", "auto", id="streamable-auto"),
    pytest.param("/sse", "legacy", id="legacy-sse"),
    pytest.param("/mcp", "legacy", id="legacy-sse-at-mcp"),
]
HANDSHAKE_TRANSPORTS = [param for param in TRANSPORTS if param.values[1] == "legacy"]


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_client_connects_and_sees_the_server_identity(
    live_server: LiveServer, transport: str, mode: str
) -> None:
    """Connecting negotiates a revision and reports the gateway's name and capabilities."""
    async with connect(live_server, transport, mode) as client:
        if mode == "2026-07-28":
            # No handshake and no discover: the server names itself in every result's _meta.
            listing = await client.list_tools()
            assert listing.meta is not None
            info = listing.meta["io.modelcontextprotocol/serverInfo"]
            assert info["name"] == "openphone-mcp-gateway"
            assert info["version"] == version("openphone-mcp-gateway")
            return
        assert client.server_info is not None
        assert client.server_info.name == "openphone-mcp-gateway"
        # The installed distribution's version, which pyproject.toml reads from gateway.__version__.
        assert client.server_info.version == version("openphone-mcp-gateway")
        assert client.server_capabilities.tools is not None
        assert client.server_capabilities.logging is None
        modern = mode == "auto" and transport == "streamable"
        assert client.protocol_version == ("2026-07-28" if modern else "2025-11-25")


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_tools_list_is_the_registry(live_server: LiveServer, transport: str, mode: str) -> None:
    """tools/list returns every registered tool, in declaration order, with its schemas."""
    async with connect(live_server, transport, mode) as client:
        result = await client.list_tools()
    assert [tool.name for tool in result.tools] == ["add", "count-steps", "wait-forever", "refuse", "crash"]
    add = result.tools[0]
    assert add.title == "Add"
    assert add.input_schema["required"] == ["a", "b"]
    assert add.output_schema is not None
    assert add.output_schema["properties"]["total"]["type"] == "integer"
    assert add.annotations is not None
    assert add.annotations.read_only_hint is True


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_tool_call_returns_structured_content_and_a_text_copy(
    live_server: LiveServer, transport: str, mode: str
) -> None:
    """A successful call carries structuredContent plus the same JSON as text."""
    async with connect(live_server, transport, mode) as client:
        result = await client.call_tool("add", {"a": 2, "b": 40})
    assert result.is_error is False
    assert result.structured_content == {"total": 42}
    assert text_of(result) == '{"total":42}'


@pytest.mark.parametrize(("transport", "mode"), HANDSHAKE_TRANSPORTS)
@pytest.mark.filterwarnings("ignore:ping is removed as of 2026-07-28")
async def test_ping_is_answered(live_server: LiveServer, transport: str, mode: str) -> None:
    """ping gets an empty result in every handshake-era revision."""
    async with connect(live_server, transport, mode) as client:
        assert client.protocol_version == "2025-11-25"
        result = await client.send_ping()
    assert result.model_dump(exclude_none=True) == {}


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_progress_is_reported_while_a_tool_runs(
    live_server: LiveServer, transport: str, mode: str
) -> None:
    """A call with a progressToken receives strictly increasing notifications/progress before its result."""
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with connect(live_server, transport, mode) as client:
        result = await client.call_tool("count-steps", {"steps": 3}, progress_callback=on_progress)
    assert result.structured_content == {"steps_done": 3}
    assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_a_call_the_client_gives_up_on_is_cancelled_on_the_server(
    live_server: LiveServer, transport: str, mode: str, request: pytest.FixtureRequest
) -> None:
    """A client that times out cancels (notifications/cancelled, or closing the stream); the tool stops."""
    label = request.node.callspec.id
    async with connect(live_server, transport, mode) as client:
        with pytest.raises(MCPError):
            await client.call_tool("wait-forever", {"label": label}, read_timeout_seconds=0.5)
        assert await live_server.probe.wait_cancelled(label)
    assert label in live_server.probe.started
    assert label in live_server.probe.finished


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_invalid_arguments_are_a_tool_error_naming_field_and_rule(
    live_server: LiveServer, transport: str, mode: str
) -> None:
    """Arguments are validated before the handler runs; the model sees which field broke which rule."""
    async with connect(live_server, transport, mode) as client:
        result = await client.call_tool("add", {"a": "two", "b": 10_000_000})
    assert result.is_error is True
    assert text_of(result) == (
        "Invalid arguments: a: Input should be a valid integer, unable to parse string as an integer "
        "(int_parsing); b: Input should be less than or equal to 1000000 (less_than_equal)"
    )


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_a_tool_error_reaches_the_model_as_is(
    live_server: LiveServer, transport: str, mode: str
) -> None:
    """A handler's ToolError becomes an isError result carrying its message."""
    async with connect(live_server, transport, mode) as client:
        result = await client.call_tool("refuse", {})
    assert result.is_error is True
    assert text_of(result) == "The upstream refused the request."


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_an_unexpected_failure_reveals_nothing(
    live_server: LiveServer, transport: str, mode: str
) -> None:
    """A crashing handler yields -32603 with a fixed message: no exception text, no traceback."""
    async with connect(live_server, transport, mode) as client:
        with pytest.raises(MCPError) as caught:
            await client.call_tool("crash", {})
    assert caught.value.error.code == -32603
    assert caught.value.error.message == "Internal error while running the tool"
    assert caught.value.error.data is None


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_an_unknown_tool_is_invalid_params(live_server: LiveServer, transport: str, mode: str) -> None:
    """Calling a tool that does not exist is a protocol error naming it."""
    async with connect(live_server, transport, mode) as client:
        with pytest.raises(MCPError) as caught:
            await client.call_tool("no-such-tool", {})
    assert caught.value.error.code == -32602
    assert caught.value.error.message == "Unknown tool: no-such-tool"


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_resources_catalogue_is_empty_and_reads_fail_cleanly(
    live_server: LiveServer, transport: str, mode: str
) -> None:
    """resources/list and templates/list answer empty; reading an unknown URI is a clear error."""
    async with connect(live_server, transport, mode) as client:
        assert (await client.list_resources()).resources == []
        assert (await client.list_resource_templates()).resource_templates == []
        with pytest.raises(MCPError) as caught:
            await client.read_resource("openphone://nothing")
    assert caught.value.error.message == "Resource not found: openphone://nothing"
