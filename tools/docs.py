"""The tool table of the README (and `openphone-mcp tools`), generated from the tool declarations.

The README embeds this table between `<!-- tools:start -->` and `<!-- tools:end -->`; a test fails
when they differ, so the documentation cannot drift from what `tools/list` serves.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Final

from tools.catalog import CHATGPT_TOOLS, OPENPHONE_TOOLS
from tools.registry import Tool

START_MARKER: Final = "<!-- tools:start -->"
END_MARKER: Final = "<!-- tools:end -->"


def _hints(tool: Tool[Any, Any]) -> str:
    annotations = tool.annotations
    flags = (
        ("read-only", annotations.read_only),
        ("destructive", annotations.destructive),
        ("idempotent", annotations.idempotent),
        ("open-world", annotations.open_world),
    )
    return ", ".join(name for name, on in flags if on) or "writes"


def tools_table(
    tools: Sequence[Tool[Any, Any]] = OPENPHONE_TOOLS, chatgpt_tools: Collection[str] = CHATGPT_TOOLS
) -> str:
    """A Markdown table: one row per tool, in `tools/list` order.

    App-only helpers are marked as such: hosts hide them from the model, and ChatGPT's views reach them.
    """
    rows = [
        "| tool | what it does | OAuth scope | hints | view | ChatGPT |",
        "|---|---|---|---|---|---|",
    ]
    for tool in tools:
        description = tool.description.replace("|", "\\|")
        chatgpt = "yes" if tool.name in chatgpt_tools or tool.is_app_only else "no"
        rows.append(
            f"| `{tool.name}` | {description} | `{tool.scope}` | {_hints(tool)} | {_view(tool)} | {chatgpt} |"
        )
    return "\n".join(rows)


def _view(tool: Tool[Any, Any]) -> str:
    if tool.view is None:
        return "—"
    if tool.is_app_only:
        return f"app-only helper of {tool.view.title}"
    return tool.view.title
