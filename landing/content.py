"""What the landing page shows, computed once from the settings and the tool registry.

The tool documentation comes from `ToolRegistry.listing()`, the same entries `tools/list` serves,
so a tool added to the catalog appears on the page with no change here or in the template.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from gateway.settings import Settings
from landing.examples import (
    Parameter,
    curl_command,
    example_arguments,
    parameter_table,
    pretty_json,
    shown_api_key,
    tools_call_request,
)
from oauth.choices import SEND_OPTIONS
from tools.grant import INBOXES_SENTENCE, NEW_NUMBERS_SENTENCE
from tools.registry import ToolRegistry
from tools.views import View

_HINTS: Final = (
    ("readOnlyHint", "read-only"),
    ("destructiveHint", "destructive"),
    ("idempotentHint", "idempotent"),
    ("openWorldHint", "open-world"),
)


@dataclass(frozen=True, slots=True)
class ViewDoc:
    """The interactive view a tool's result is shown in, and the names of its screenshots."""

    name: str
    title: str
    is_app_only: bool


@dataclass(frozen=True, slots=True)
class ToolDoc:
    """One tool's accordion: what it does, its parameters, its view, and a copyable example call."""

    name: str
    title: str
    description: str
    scope: str
    hints: tuple[str, ...]
    is_for_chatgpt: bool
    view: ViewDoc | None
    parameters: tuple[Parameter, ...]
    request_json: str
    curl: str


@dataclass(frozen=True, slots=True)
class LandingContent:
    """Everything on the page except the per-request nonce."""

    public_url: str
    mcp_url: str
    sse_url: str
    is_sandbox: bool
    api_key_shown: str
    tools: tuple[ToolDoc, ...]
    chatgpt_tool_names: tuple[str, ...]
    quickstart_curl: str
    python_snippet: str
    # The consent page's choices, each as (what it is, the sentence the page explains it with).
    choices: tuple[tuple[str, str], ...] = ()
    send_policy: str = "confirm"


def landing_content(settings: Settings, registry: ToolRegistry) -> LandingContent:
    """The page's content for a gateway served at `settings.public_url`."""
    mcp_url = f"{settings.public_url}/mcp"
    api_key = shown_api_key(settings.sandbox)
    # App-only helpers are for views, never the model, so they are not among the tools ChatGPT "sees".
    chatgpt = tuple(
        entry["name"]
        for entry in registry.listing("chatgpt")
        if "model" in entry["_meta"]["ui"]["visibility"]
    )
    views = {view.uri: view for view in registry.views}
    tools = tuple(
        tool_doc(entry, mcp_url, api_key, is_for_chatgpt=entry["name"] in chatgpt, views=views)
        for entry in registry.listing()
    )
    quickstart = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    return LandingContent(
        public_url=settings.public_url,
        mcp_url=mcp_url,
        sse_url=f"{settings.public_url}/sse",
        is_sandbox=settings.sandbox,
        api_key_shown=api_key,
        tools=tools,
        chatgpt_tool_names=chatgpt,
        quickstart_curl=curl_command(mcp_url, quickstart, api_key),
        python_snippet=python_snippet(mcp_url, api_key),
        choices=consent_choices(),
        send_policy=settings.send_policy,
    )


def consent_choices() -> tuple[tuple[str, str], ...]:
    """What a person chooses at consent, in the consent page's own words (oauth/choices.py)."""
    sends = tuple((f"{option.label}", option.sentence) for option in SEND_OPTIONS)
    return (("Which inboxes", INBOXES_SENTENCE), *sends, ("New numbers", NEW_NUMBERS_SENTENCE))


def tool_doc(
    entry: Mapping[str, Any],
    mcp_url: str,
    api_key: str,
    *,
    is_for_chatgpt: bool,
    views: Mapping[str, View],
) -> ToolDoc:
    """The accordion for one `tools/list` entry; `views` by URI name the view its `_meta.ui` points at."""
    schema: Mapping[str, Any] = entry["inputSchema"]
    request = tools_call_request(entry["name"], example_arguments(schema))
    annotations: Mapping[str, Any] = entry.get("annotations", {})
    schemes: list[Mapping[str, Any]] = entry.get("securitySchemes", [])
    scopes = [scope for scheme in schemes for scope in scheme.get("scopes", ())]
    return ToolDoc(
        name=entry["name"],
        title=entry.get("title") or entry["name"],
        description=entry.get("description", ""),
        scope=" ".join(scopes),
        hints=tuple(label for key, label in _HINTS if annotations.get(key)),
        is_for_chatgpt=is_for_chatgpt,
        view=_view_doc(entry.get("_meta", {}).get("ui", {}), views),
        parameters=tuple(parameter_table(schema)),
        request_json=pretty_json(request),
        curl=curl_command(mcp_url, request, api_key),
    )


def _view_doc(ui: Mapping[str, Any], views: Mapping[str, View]) -> ViewDoc | None:
    view = views.get(ui.get("resourceUri", ""))
    if view is None:
        return None
    return ViewDoc(name=view.name, title=view.title, is_app_only=ui.get("visibility") == ["app"])


def python_snippet(mcp_url: str, api_key: str) -> str:
    """A complete script calling one tool with the official MCP Python SDK (`mcp` 2.x)."""
    uses_env = api_key.startswith("$")
    key = f'os.environ["{api_key[1:]}"]' if uses_env else json.dumps(api_key)
    lines = ["import os", ""] if uses_env else []
    lines += [
        "import anyio",
        "import httpx2",
        "from mcp import Client",
        "from mcp.client.streamable_http import streamable_http_client",
        "",
        "",
        "async def main() -> None:",
        f'    http = httpx2.AsyncClient(headers={{"x-openphone-api-key": {key}}})',
        f'    transport = streamable_http_client("{mcp_url}", http_client=http)',
        "    async with http, Client(transport) as client:",
        '        result = await client.call_tool("list-phone-numbers", {})',
        "        print(result.structured_content)",
        "",
        "",
        "anyio.run(main)",
    ]
    return "\n".join(lines)
