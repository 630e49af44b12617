"""The workspace's OpenPhone numbers (inboxes), the starting point of most tasks: all, or one."""

from __future__ import annotations

from pydantic import Field

from tools.arguments import Arguments, NoArguments
from tools.budget import Budget, Trimmable, fit_list, size_note
from tools.phone import InboxRef, is_inbox_id
from tools.registry import READ_ONLY, Tool, ToolContext
from tools.resources import PhoneNumber
from tools.scopes import MESSAGES_READ


class PhoneNumberList(Trimmable):
    phone_numbers: list[PhoneNumber] = Field(
        description="Each number's id (PN…), E.164 number, name, users and messaging/calling restrictions."
    )


async def list_phone_numbers(args: NoArguments, context: ToolContext) -> PhoneNumberList:
    numbers = await context.openphone.list_phone_numbers()
    return PhoneNumberList(phone_numbers=context.sends.granted(numbers, lambda number: number.id))


async def fit_phone_numbers(
    args: NoArguments, output: PhoneNumberList, budget: Budget
) -> PhoneNumberList | None:
    """Every number without its users, which get-phone-number gives; failing that, the first numbers.

    OpenPhone does not page this list, so numbers left out can only be named: list-users gives every
    member's numbers a page at a time.
    """
    slim = [number.model_copy(update={"users": []}) for number in output.phone_numbers]
    without_users = output.model_copy(
        update={
            "phone_numbers": slim,
            "trimmed": f"{size_note(budget)}: each number's users are left out; get-phone-number "
            "gives one number's users.",
        }
    )
    if budget.fits(without_users):
        return without_users

    def note(shown: int, of: int) -> str:
        return (
            f"{size_note(budget)}: {shown} of the {of} numbers, without their users. This list has no "
            "pages: list-users gives each member's numbers, and get-phone-number reads one number."
        )

    return fit_list(without_users, budget, "phone_numbers", note)


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
    fit=fit_phone_numbers,
)


class GetPhoneNumberArgs(Arguments):
    inbox: InboxRef


class PhoneNumberDetail(PhoneNumber, Trimmable):
    """One number as get-phone-number answers it."""


async def get_phone_number(args: GetPhoneNumberArgs, context: ToolContext) -> PhoneNumberDetail:
    """By id, OpenPhone's get-by-id; by number, the workspace's list (naming its numbers if none match)."""
    api = context.openphone
    if is_inbox_id(args.inbox):
        await context.sends.inbox_id(api, args.inbox)
        number = await api.get_phone_number(args.inbox)
    else:
        number = await api.resolve_inbox(args.inbox)
        context.sends.check_inbox_of(number.id, f"The number {args.inbox}")
    return PhoneNumberDetail(**dict(number))


async def fit_phone_number(
    args: GetPhoneNumberArgs, output: PhoneNumberDetail, budget: Budget
) -> PhoneNumberDetail | None:
    """The number with the first of its users that fit; list-users pages through every member."""

    def note(shown: int, of: int) -> str:
        return f"{size_note(budget)}: {shown} of the number's {of} users; list-users gives every member."

    return fit_list(output, budget, "users", note)


GET_PHONE_NUMBER = Tool(
    name="get-phone-number",
    title="Get a phone number",
    description=(
        "Get one of your workspace's OpenPhone numbers (inboxes) by its id (PN…) or the number itself: "
        "name, users, and messaging and calling restrictions."
    ),
    input_model=GetPhoneNumberArgs,
    output_model=PhoneNumberDetail,
    handler=get_phone_number,
    annotations=READ_ONLY,
    scope=MESSAGES_READ,
    fit=fit_phone_number,
)
