"""Interactive views for tool results (MCP Apps, extension `io.modelcontextprotocol/ui`, 2026-01-26).

A view is one self-contained HTML document served as a `ui://` resource with mimeType
`text/html;profile=mcp-app`. Its parts live beside this module (`view.css`, `bridge.js`, and each
view's scripts) and are joined once, at import: no build step, no CDN, nothing fetched at run time.
Templates are static and the same for every caller, because hosts prefetch, cache and review them
(MCP Apps "Predeclared Resource Review"): no key, user data or tenant URL is ever put in one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

VIEWS_DIR: Final = Path(__file__).parent
MIME_TYPE: Final = "text/html;profile=mcp-app"


@dataclass(frozen=True, slots=True)
class View:
    """One `ui://` view: its identity, what it is for, and the HTML a host renders."""

    name: str
    title: str
    description: str
    html: str

    @property
    def uri(self) -> str:
        return f"ui://openphone/{self.name}.html"

    def resource(self) -> dict[str, Any]:
        """The `resources/list` entry (with `_meta.ui` too, so hosts can review the CSP at connect)."""
        return {
            "uri": self.uri,
            "name": f"openphone-{self.name}",
            "title": self.title,
            "description": self.description,
            "mimeType": MIME_TYPE,
            "_meta": {"ui": _ui_meta()},
        }

    def contents(self) -> dict[str, Any]:
        """The `resources/read` content item; its `_meta` wins over the list entry's (MCP Apps draft)."""
        return {
            "uri": self.uri,
            "mimeType": MIME_TYPE,
            "text": self.html,
            "_meta": {
                "ui": _ui_meta(),
                "openai/widgetDescription": self.description,
                "openai/widgetPrefersBorder": True,
                "openai/widgetCSP": {"connect_domains": [], "resource_domains": []},
            },
        }


def _ui_meta() -> dict[str, Any]:
    # The CSP is declared empty on purpose: a view fetches nothing, all data arrives through the host
    # (MCP Apps "UIResourceMeta": the host MUST NOT allow undeclared domains).
    return {"prefersBorder": True, "csp": {"connectDomains": [], "resourceDomains": []}}


def _part(name: str) -> str:
    return (VIEWS_DIR / name).read_text(encoding="utf-8")


def document(title: str, *scripts: str) -> str:
    """A complete HTML5 document: the shared stylesheet and bridge, then `scripts`, all inline."""
    code = "\n".join(_part(script) for script in ("bridge.js", *scripts))
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>\n{_part('view.css')}</style>\n</head>\n"
        f'<body>\n<main id="app"></main>\n<script>\n{code}</script>\n</body>\n</html>\n'
    )


THREAD_VIEW: Final = View(
    name="thread",
    title="Conversation thread",
    description="Shows the text messages as a chat thread; the model already has them as text.",
    html=document("Conversation thread", "thread.js", "thread-view.js"),
)
CONVERSATIONS_VIEW: Final = View(
    name="conversations",
    title="Conversations",
    description="Lists conversations; choosing one shows its thread. The model already has the list.",
    html=document("Conversations", "thread.js", "conversations-view.js"),
)
CALL_VIEW: Final = View(
    name="call",
    title="Call",
    description="Shows call summaries and transcripts turn by turn; the model already has them as text.",
    html=document("Call", "call-view.js"),
)
CONTACT_VIEW: Final = View(
    name="contact",
    title="Contact card",
    description="Shows one contact as a card; the model already has its fields as text.",
    html=document("Contact card", "contact-view.js"),
)
BULK_VIEW: Final = View(
    name="bulk",
    title="Bulk send results",
    description="Shows each recipient's outcome of a bulk send and the totals; the model has them as text.",
    html=document("Bulk send results", "confirm.js", "bulk-view.js"),
)
SEND_VIEW: Final = View(
    name="send",
    title="Send a text",
    description="Shows a text waiting for the person's confirmation, with Send and Cancel, or the sent text.",
    html=document("Send a text", "confirm.js", "send-view.js"),
)
