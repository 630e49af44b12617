"""What a client declared it can show a person: elicitation modes and MCP Apps views.

Handshake revisions declare capabilities once, in `initialize` (2025-06-18 `elicitation: {}`,
2025-11-25 `elicitation: {form?, url?}`); 2026-07-28 declares them on every request in
`_meta["io.modelcontextprotocol/clientCapabilities"]`. MCP Apps adds
`extensions["io.modelcontextprotocol/ui"]` with its `mimeTypes` (MCP Apps 2026-01-26, "Client (Host)
Capabilities"). Only what confirmation needs is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

APPS_EXTENSION: Final = "io.modelcontextprotocol/ui"
APPS_MIME_TYPE: Final = "text/html;profile=mcp-app"


@dataclass(frozen=True, slots=True)
class ClientFeatures:
    """Whether the client can answer form and URL elicitations and render MCP Apps views."""

    form: bool = False
    url: bool = False
    apps: bool = False


NO_FEATURES: Final = ClientFeatures()


def read_features(capabilities: Any) -> ClientFeatures:
    """The features a `ClientCapabilities` object declares; anything malformed declares nothing.

    2025-11-25 client/elicitation: an empty `elicitation` object means form mode only.
    """
    if not isinstance(capabilities, dict):
        return NO_FEATURES
    elicitation = capabilities.get("elicitation")
    form = url = False
    if isinstance(elicitation, dict):
        url = isinstance(elicitation.get("url"), dict)
        form = isinstance(elicitation.get("form"), dict) or not elicitation
    extensions = capabilities.get("extensions")
    apps = extensions.get(APPS_EXTENSION) if isinstance(extensions, dict) else None
    mime_types = apps.get("mimeTypes") if isinstance(apps, dict) else None
    has_apps = isinstance(mime_types, list) and APPS_MIME_TYPE in mime_types
    return ClientFeatures(form=form, url=url, apps=has_apps)
