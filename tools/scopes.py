"""The OAuth scopes a tool can need; the authorization server offers exactly these.

Each tool names one (tools/registry.py publishes it as the tool's `securitySchemes`). Reading the
workspace's phone numbers counts as reading messages: the numbers are the inboxes. The team directory
(members, roles, emails) has a scope of its own, which a person may untick on the consent page like
the write scopes, so that connecting messaging does not have to expose it.
"""

from __future__ import annotations

from typing import Final

MESSAGES_READ: Final = "messages:read"
MESSAGES_WRITE: Final = "messages:write"
CONTACTS_READ: Final = "contacts:read"
CONTACTS_WRITE: Final = "contacts:write"
CALLS_READ: Final = "calls:read"
USERS_READ: Final = "users:read"

SCOPES: Final = {
    MESSAGES_READ: "Read your OpenPhone numbers, conversations and text messages",
    MESSAGES_WRITE: "Send text messages from your OpenPhone numbers",
    CONTACTS_READ: "Read your contacts and their custom fields",
    CONTACTS_WRITE: "Create, update and delete contacts",
    CALLS_READ: "Read your calls, their transcripts, AI summaries, recordings and voicemails",
    USERS_READ: "Read your workspace's members, their roles and emails",
}
OPTIONAL_SCOPES: Final = frozenset({MESSAGES_WRITE, CONTACTS_WRITE, USERS_READ})
"""The scopes a person may untick when connecting; the other reads are part of connecting."""


def refusal(scope: str) -> str:
    """What a caller whose grant lacks `scope` is told."""
    return f"This connection was not granted the {scope} scope this tool needs; reconnect and allow it."
