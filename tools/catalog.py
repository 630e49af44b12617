"""The explicit list of tools the gateway serves, in `tools/list` order.

The OpenPhone tools are declared in their own modules and listed here; nothing registers itself.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Final

from tools.bulk import BULK_MESSAGES
from tools.call_detail import GET_CALL
from tools.call_media import GET_CALL_RECORDINGS, GET_VOICEMAIL
from tools.calls import FETCH_CALL_TRANSCRIPTS, GET_CALL_SUMMARY, LIST_CALLS
from tools.confirm_send import CONFIRM_SEND
from tools.contact_undo import UNDO_CONTACT_CHANGE
from tools.contacts import (
    CREATE_CONTACT,
    DELETE_CONTACT,
    GET_CONTACT,
    LIST_CONTACT_CUSTOM_FIELDS,
    LIST_CONTACTS,
    UPDATE_CONTACT,
)
from tools.messages import FETCH_MESSAGES, GET_MESSAGE, LIST_CONVERSATIONS, READ_THREAD, SEND_MESSAGE
from tools.phone_numbers import GET_PHONE_NUMBER, LIST_PHONE_NUMBERS
from tools.registry import Tool, ToolRegistry
from tools.schemas import published_schemas
from tools.users import GET_USER, LIST_USERS

OPENPHONE_TOOLS: Final[tuple[Tool[Any, Any], ...]] = (
    SEND_MESSAGE,
    BULK_MESSAGES,
    FETCH_MESSAGES,
    FETCH_CALL_TRANSCRIPTS,
    CREATE_CONTACT,
    LIST_PHONE_NUMBERS,
    LIST_CONVERSATIONS,
    GET_MESSAGE,
    GET_CALL_SUMMARY,
    LIST_CONTACTS,
    GET_CONTACT,
    UPDATE_CONTACT,
    DELETE_CONTACT,
    UNDO_CONTACT_CHANGE,
    LIST_CONTACT_CUSTOM_FIELDS,
    LIST_CALLS,
    GET_CALL,
    GET_CALL_RECORDINGS,
    GET_VOICEMAIL,
    LIST_USERS,
    GET_USER,
    GET_PHONE_NUMBER,
    READ_THREAD,
    CONFIRM_SEND,
)
TOOL_NAMES: Final = tuple(tool.name for tool in OPENPHONE_TOOLS)
# What ChatGPT sees by default (the `CHATGPT_TOOLS` setting): the tasks its connectors are used for.
CHATGPT_TOOLS: Final = (
    "list-phone-numbers",
    "fetch-messages",
    "fetch-call-transcripts",
    "send-message",
    "create-contact",
)


def build_registry(chatgpt_tools: Collection[str] = CHATGPT_TOOLS) -> ToolRegistry:
    """The registry of every tool this gateway serves, with the schemas published for them."""
    return ToolRegistry(OPENPHONE_TOOLS, chatgpt_tools=chatgpt_tools, schemas=published_schemas())
