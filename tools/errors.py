"""The tools package's exception tree.

ToolsError
├── ToolDeclarationError   a tool declaration breaks the registry's rules (raised at start-up)
└── ToolError              a handler could not do what was asked; becomes an `isError` result
"""

from __future__ import annotations


class ToolsError(Exception):
    """Base of every error the tools package raises on purpose."""


class ToolDeclarationError(ToolsError):
    """Raised when a tool declaration is invalid or two tools share a name."""


class ToolError(ToolsError):
    """Raised by a handler for a failure the model should see and can act on; the message is shown as is."""
