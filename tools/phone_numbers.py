"""`list-phone-numbers`: the workspace's OpenPhone numbers (inboxes), the starting point of most tasks."""

from __future__ import annotations

from pydantic import Field

from tools.arguments import NoArguments
from tools.registry import Tool, ToolAnnotations, ToolContext
from tools.resources import PhoneNumber, Wire
from tools.scopes import MESSAGES_READ


class PhoneNumberList(Wire):
    phone_numbers: list[PhoneNumber] = Field(
        description="Each number's id (PN…), E.164 number, name, users and messaging/calling restrictions."
    )


async def list_phone_numbers(args: NoArguments, context: ToolContext) -> PhoneNumberList:
    return PhoneNumberList(phone_numbers=await context.openphone.list_phone_numbers())


LIST_PHONE_NUMBERS = Tool(
    name="list-phone-numbers",
    title="List phone numbers",
    description=(
        "List your workspace's OpenPhone numbers (inboxes) with their ids (PN…), names and users. "
        "Use one as `from` or `inbox` in the other tools."
    ),
    input_model=NoArguments,
    output_model=PhoneNumberList,
    handler=list_phone_numbers,
    annotations=ToolAnnotations(read_only=True, destructive=False, idempotent=True, open_world=False),
    scope=MESSAGES_READ,
)
