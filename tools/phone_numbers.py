"""The workspace's OpenPhone numbers (inboxes), the starting point of most tasks: all, or one."""

from __future__ import annotations

from pydantic import Field

from tools.arguments import Arguments, NoArguments
from tools.phone import InboxRef, is_inbox_id
from tools.registry import READ_ONLY, Tool, ToolContext
from tools.resources import PhoneNumber, Wire
from tools.scopes import MESSAGES_READ


class PhoneNumberList(Wire):
    phone_numbers: list[PhoneNumber] = Field(
        description="Each number's id (PN…), E.164 number, name, users and messaging/calling restrictions."
    )


async def list_phone_numbers(args: NoArguments, context: ToolContext) -> PhoneNumberList:
    numbers = await context.openphone.list_phone_numbers()
    return PhoneNumberList(phone_numbers=context.sends.granted(numbers, lambda number: number.id))


LIST_PHONE_NUMBERS = Tool(
    name="list-phone-numbers",
    title="List phone numbers",
    description=(
        "List your workspace's OpenPhone numbers (inboxes) this connection may use, with their ids "
        "(PN…), names and users. Use one as `from` or `inbox` in the other tools."
    ),
    input_model=NoArguments,
    output_model=PhoneNumberList,
    handler=list_phone_numbers,
    annotations=READ_ONLY,
    scope=MESSAGES_READ,
)


class GetPhoneNumberArgs(Arguments):
    inbox: InboxRef


async def get_phone_number(args: GetPhoneNumberArgs, context: ToolContext) -> PhoneNumber:
    """By id, OpenPhone's get-by-id; by number, the workspace's list (naming its numbers if none match)."""
    api = context.openphone
    if is_inbox_id(args.inbox):
        await context.sends.inbox_id(api, args.inbox)
        return await api.get_phone_number(args.inbox)
    number = await api.resolve_inbox(args.inbox)
    context.sends.check_inbox_of(number.id, f"The number {args.inbox}")
    return number


GET_PHONE_NUMBER = Tool(
    name="get-phone-number",
    title="Get a phone number",
    description=(
        "Get one of your workspace's OpenPhone numbers (inboxes) by its id (PN…) or the number itself: "
        "name, users, and messaging and calling restrictions."
    ),
    input_model=GetPhoneNumberArgs,
    output_model=PhoneNumber,
    handler=get_phone_number,
    annotations=READ_ONLY,
    scope=MESSAGES_READ,
)
