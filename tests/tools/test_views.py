"""The MCP Apps views over real HTTP on every transport, and the rules their HTML is held to."""

from __future__ import annotations

import re
from typing import Any, Final

import httpx
import pytest
from mcp_types import TextResourceContents

from tests.clients import connect
from tests.conftest import LiveServer
from tools.catalog import build_registry
from tools.sandbox import SANDBOX_API_KEY
from tools.views import MIME_TYPE

pytestmark = pytest.mark.anyio

VIEW_URIS: Final = (
    "ui://openphone/send.html",
    "ui://openphone/bulk.html",
    "ui://openphone/thread.html",
    "ui://openphone/call.html",
    "ui://openphone/contact.html",
    "ui://openphone/conversations.html",
)
UI_META: Final = {"prefersBorder": True, "csp": {"connectDomains": [], "resourceDomains": []}}
# Anything that would load from elsewhere, parse text as markup, or run text as code.
_FORBIDDEN_IN_HTML: Final = re.compile(
    r"\b(?:src|href|action|srcset)\s*=|url\(|@import|https?:|//[a-z]|innerHTML|outerHTML|insertAdjacentHTML"
    r"|document\.write|\beval\(|new Function|fetch\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon",
    re.IGNORECASE,
)
# What an iframe sandboxed with `allow-scripts` alone withholds (MCP Apps promises a view no more):
# form submission, an origin (storage, cookies, the parent's DOM), modal dialogs, popups and
# navigating the top window.
_NEEDS_MORE_THAN_SCRIPTS: Final = re.compile(
    r"""<form|["']form["']|\.submit\(|requestSubmit|localStorage|sessionStorage|indexedDB|document\.cookie"""
    r"|\bcaches\.|serviceWorker|(?:parent|top|opener)\.(?:document|location)"
    r"|\b(?:alert|confirm|prompt|print)\(|window\.open\(|_blank",
)
_SECRET_LIKE: Final = re.compile(
    r"sk-[A-Za-z0-9]{8,}|Bearer\s+\S|api[-_]?key|secret|password|token\s*[:=]\s*['\"]"
)


async def test_every_view_a_tool_names_resolves_with_the_exact_mime_type(
    tool_server: LiveServer, transport: tuple[str, str]
) -> None:
    """Each `_meta.ui.resourceUri` in tools/list reads back as one `text/html;profile=mcp-app` document."""
    async with connect(tool_server, *transport, api_key=SANDBOX_API_KEY) as client:
        tools = (await client.list_tools()).tools
        named = {
            tool.meta["ui"]["resourceUri"] for tool in tools if tool.meta and "resourceUri" in tool.meta["ui"]
        }
        reads = {uri: await client.read_resource(uri) for uri in sorted(named)}
    assert named == set(VIEW_URIS)
    for uri, read in reads.items():
        (contents,) = read.contents
        assert isinstance(contents, TextResourceContents)
        assert (str(contents.uri), contents.mime_type) == (uri, MIME_TYPE)
        assert contents.text.startswith('<!doctype html>\n<html lang="en">')
        assert contents.meta is not None
        assert contents.meta["ui"] == UI_META
        assert contents.meta["openai/widgetCSP"] == {"connect_domains": [], "resource_domains": []}


async def test_resources_list_offers_every_view(tool_server: LiveServer, transport: tuple[str, str]) -> None:
    async with connect(tool_server, *transport, api_key=SANDBOX_API_KEY) as client:
        resources = (await client.list_resources()).resources
    assert [str(resource.uri) for resource in resources] == list(VIEW_URIS)
    assert {resource.mime_type for resource in resources} == {MIME_TYPE}
    assert all(resource.meta == {"ui": UI_META} for resource in resources)


async def test_the_mcp_apps_and_chatgpt_keys_name_the_same_view(
    tool_server: LiveServer, transport: tuple[str, str]
) -> None:
    async with connect(tool_server, *transport, api_key=SANDBOX_API_KEY) as client:
        tools = (await client.list_tools()).tools
    with_view = {tool.name: tool.meta for tool in tools if tool.meta and "resourceUri" in tool.meta["ui"]}
    assert set(with_view) == {
        "send-message",
        "bulk-messages",
        "fetch-messages",
        "fetch-call-transcripts",
        "create-contact",
        "list-conversations",
        "get-call-summary",
        "get-contact",
        "update-contact",
        "read-thread",
    }
    for meta in with_view.values():
        assert meta["openai/outputTemplate"] == meta["ui/resourceUri"] == meta["ui"]["resourceUri"]


async def test_tools_that_write_are_model_only_and_helpers_app_only(
    tool_server: LiveServer, transport: tuple[str, str]
) -> None:
    """A view can never call a tool that sends, changes or deletes, except confirm-send, which acts only
    with the token a held send's result gives the view; it and read-thread hide from the model."""
    async with connect(tool_server, *transport, api_key=SANDBOX_API_KEY) as client:
        tools = (await client.list_tools()).tools
    visibility = {tool.name: (tool.meta or {})["ui"]["visibility"] for tool in tools}
    writers = {tool.name for tool in tools if tool.annotations and tool.annotations.read_only_hint is False}
    assert writers == {
        "send-message",
        "bulk-messages",
        "create-contact",
        "update-contact",
        "delete-contact",
        "confirm-send",
        "undo-contact-change",
    }
    model_only = {name for name, seen_by in visibility.items() if seen_by == ["model"]}
    app_only = {name for name, seen_by in visibility.items() if seen_by == ["app"]}
    assert model_only == writers - {"confirm-send"}
    assert app_only == {"read-thread", "confirm-send"}
    helper = next(tool for tool in tools if tool.name == "read-thread")
    assert helper.meta is not None
    assert (helper.meta["openai/visibility"], helper.meta["securitySchemes"][0]["scopes"]) == (
        "private",
        ["messages:read"],
    )


@pytest.mark.parametrize("method", ["resources/list", "resources/read"])
async def test_view_reads_and_lists_carry_caching_fields_in_2026_07_28(
    tool_server: LiveServer, method: str
) -> None:
    """SEP-2549: the templates change only with a deploy, so 2026-07-28 clients may cache them."""
    params: dict[str, Any] = {"uri": VIEW_URIS[1]} if method == "resources/read" else {}
    params["_meta"] = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "views-test", "version": "1"},
    }
    headers = tool_server.headers(SANDBOX_API_KEY) | {
        "content-type": "application/json",
        "accept": "application/json",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": method,
    }
    if method == "resources/read":
        headers["mcp-name"] = VIEW_URIS[1]
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{tool_server.url}/mcp", json=body, headers=headers)
    assert response.status_code == 200
    result = response.json()["result"]
    assert (result["ttlMs"], result["cacheScope"], result["resultType"]) == (300_000, "private", "complete")


@pytest.mark.parametrize("view", build_registry().views, ids=lambda view: view.name)
def test_the_html_loads_nothing_parses_no_markup_and_holds_no_secret(view: Any) -> None:
    """A view is one inline document: no remote or relative URL, no markup parsing, nothing secret-like."""
    html: str = view.html
    assert _FORBIDDEN_IN_HTML.findall(html) == []
    assert _SECRET_LIKE.findall(html) == []
    assert SANDBOX_API_KEY not in html
    assert html.count("<script>") == html.count("</script>") == 1
    assert html.count("<style>") == html.count("</style>") == 1
    assert len(html.encode()) < 32 * 1024


@pytest.mark.parametrize("view", build_registry().views, ids=lambda view: view.name)
def test_the_html_needs_nothing_a_scripts_only_sandbox_withholds(view: Any) -> None:
    """No form, storage, cookie, modal, popup or top navigation: strict hosts give a view scripts alone."""
    assert _NEEDS_MORE_THAN_SCRIPTS.findall(view.html) == []
