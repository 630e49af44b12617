"""Workspace directory tools: the members, their roles and emails, and the inboxes each belongs to.

OpenPhone's user objects do not list inboxes; each phone number lists its users (openphone-api-notes.md
§2.12-2.13), so the inboxes come from the phone-number list, read through the per-key inbox cache
(tools/api.py) rather than fetched again for every call.
"""

from __future__ import annotations

from pydantic import Field

from tools.arguments import Arguments, PageOf50, UserId
from tools.registry import READ_ONLY, Tool, ToolContext
from tools.resources import PhoneNumber, User, Wire
from tools.scopes import USERS_READ


class Inbox(Wire):
    id: str
    number: str
    name: str | None = None


class Member(User):
    inboxes: list[Inbox] = Field(description="The OpenPhone numbers (inboxes) this user is a user of.")


def _member(user: User, numbers: list[PhoneNumber], context: ToolContext) -> Member:
    """The user with the inboxes they belong to, of those the grant allows."""
    numbers = context.sends.granted(numbers, lambda number: number.id)
    inboxes = [
        Inbox(id=number.id, number=number.number, name=number.name)
        for number in numbers
        if any(member.id == user.id for member in number.users)
    ]
    return Member(**dict(user), inboxes=inboxes)


class MemberPage(Wire):
    users: list[Member]
    next_page_token: str | None


async def list_users(args: PageOf50, context: ToolContext) -> MemberPage:
    api = context.openphone
    page = await api.list_users(max_results=args.max_results, page_token=args.page_token)
    numbers = await api.phone_numbers()
    return MemberPage(
        users=[_member(user, numbers, context) for user in page.data], next_page_token=page.next_page_token
    )


LIST_USERS = Tool(
    name="list-users",
    title="List users",
    description=(
        "List your workspace's members, a page at a time: name, email, role (owner, admin or member) "
        "and the OpenPhone numbers (inboxes) each one is a user of."
    ),
    input_model=PageOf50,
    output_model=MemberPage,
    handler=list_users,
    annotations=READ_ONLY,
    scope=USERS_READ,
)


class GetUserArgs(Arguments):
    user_id: UserId


async def get_user(args: GetUserArgs, context: ToolContext) -> Member:
    api = context.openphone
    return _member(await api.get_user(args.user_id), await api.phone_numbers(), context)


GET_USER = Tool(
    name="get-user",
    title="Get a user",
    description=(
        "Get one workspace member by id (US…): name, email, role and the OpenPhone numbers (inboxes) "
        "they are a user of."
    ),
    input_model=GetUserArgs,
    output_model=Member,
    handler=get_user,
    annotations=READ_ONLY,
    scope=USERS_READ,
)
