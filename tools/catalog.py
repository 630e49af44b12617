"""The explicit list of tools the gateway serves, in `tools/list` order.

The OpenPhone tools are declared in their own modules and listed here; nothing registers itself.
"""

from __future__ import annotations

from typing import Any

from tools.registry import Tool, ToolRegistry

OPENPHONE_TOOLS: tuple[Tool[Any, Any], ...] = ()


def build_registry() -> ToolRegistry:
    """The registry of every tool this gateway serves."""
    return ToolRegistry(OPENPHONE_TOOLS)
