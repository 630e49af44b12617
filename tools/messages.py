"""Message tools: send one text, read a message, read a thread or an inbox, list conversations.

OpenPhone's list-messages needs an inbox id and the participants (openphone-api-notes.md §2.2), and
there is no "recent messages" endpoint, so `fetch-messages` without a participant reads the inbox's
most recent conversations and their latest messages, with a bounded fan-out, merged newest first.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Final, Literal

import anyio
from pydantic import AfterValidator, BaseModel, Field

from tools.api import OpenPhoneAPI
from tools.arguments import Arguments, Instant, OpaqueId, PageToken, UserId, iso
from tools.budget import Budget, Trimmable, fit_page, page_fit, shown_head, size_note
from tools.errors import OpenPhoneError
from tools.phone import InboxRef, PhoneNumber
from tools.registry import READ_ONLY, Tool, ToolAnnotations, ToolContext
from tools.resources import Conversation, Message
from tools.scopes import MESSAGES_READ, MESSAGES_WRITE
from tools.sends import PendingSend
from tools.untrusted import DESCRIPTION_NOTE, ThirdPartyContent, marked
from tools.views import CONVERSATIONS_VIEW, SEND_VIEW, THREAD_VIEW

# Conversations read, and requests in flight, when fetch-messages reads a whole inbox.
INBOX_FANOUT: Final = 10
FANOUT_CONCURRENCY: Final = 4
CONTENT_MAX: Final = 1600


def _not_blank(content: str) -> str:
    # openapi-v1.json: content has `pattern: ".*\\S.*"`, so whitespace-only is refused.
    if not content.strip():
        raise ValueError("must contain a non-whitespace character")
    return content


Content = Annotated[
    str,
    Field(
        min_length=1,
        max_length=CONTENT_MAX,
        description="The text to send, 1-1600 characters, not only whitespace.",
    ),
    AfterValidator(_not_blank),
]


# send-message --------------------------------------------------------------------------------------


class SendMessageArgs(Arguments):
    from_: InboxRef = Field(alias="from")
    to: PhoneNumber = Field(description="The recipient, E.164 such as +14155550123.")
    content: Content
    user_id: UserId | None = Field(
        default=None, description="Send as this user (US…); defaults to the number's owner."
    )
    set_inbox_status: Literal["done"] | None = Field(
        default=None, description='"done" moves the conversation to Done after sending.'
    )


class SentMessage(Message):
    audit_id: str = Field(description="Names this send in the gateway's audit trail.")


async def send_message(args: SendMessageArgs, context: ToolContext) -> BaseModel:
    """Check the send against the grant, apply its send rule, then deliver it."""
    pending = await context.sends.prepare(
        context.openphone,
        "send-message",
        args.from_,
        [args.to],
        args.content,
        user_id=args.user_id,
        set_inbox_status=args.set_inbox_status,
    )
    held = await context.sends.authorize(pending)
    return held if held is not None else await deliver_message(pending, context)


async def deliver_message(pending: PendingSend, context: ToolContext) -> SentMessage:
    """Send one checked message: counted first, refunded when OpenPhone refuses it."""
    ticket = await context.sends.reserve(pending)
    try:
        message = await context.openphone.send_message(
            pending.sender, pending.recipients[0], pending.content, pending.user_id, pending.set_inbox_status
        )
    except OpenPhoneError as exc:
        if not exc.may_have_happened:
            ticket.refund(0)
        await ticket.close(sent=0)
        raise
    await ticket.close(sent=1)
    return SentMessage.model_validate({**message.model_dump(), "audit_id": pending.audit_id})


SEND_MESSAGE: Tool[SendMessageArgs, BaseModel] = Tool(
    name="send-message",
    title="Send a text message",
    description=(
        "Send one SMS from one of your OpenPhone numbers to one recipient. `from` is your number "
        "(E.164 or its PN… id); `to` is the recipient. The connection's grant decides whether it sends "
        "at once (within a daily allowance), waits for a person to confirm, or is refused; a sent text "
        "cannot be undone. The result is the queued message with its id and an audit id. For several "
        "recipients use bulk-messages."
    ),
    input_model=SendMessageArgs,
    output_model=SentMessage,
    handler=send_message,
    annotations=ToolAnnotations(read_only=False, destructive=False, idempotent=False, open_world=True),
    scope=MESSAGES_WRITE,
    view=SEND_VIEW,
)


# get-message ---------------------------------------------------------------------------------------


class GetMessageArgs(Arguments):
    id: OpaqueId = Field(description="The message id (AC…).")


class ReadMessage(Message):
    third_party_content: ThirdPartyContent = marked("text")


async def get_message(args: GetMessageArgs, context: ToolContext) -> ReadMessage:
    message = await context.openphone.get_message(args.id)
    context.sends.check_inbox_of(message.phone_number_id, "This message")
    return ReadMessage.model_validate(message.model_dump())


GET_MESSAGE = Tool(
    name="get-message",
    title="Get a message",
    description=(
        "Get one message by its id (AC…): text, direction, status, sender, recipients and times."
        + DESCRIPTION_NOTE
    ),
    input_model=GetMessageArgs,
    output_model=ReadMessage,
    handler=get_message,
    annotations=READ_ONLY,
    scope=MESSAGES_READ,
)


# fetch-messages ------------------------------------------------------------------------------------


class FetchMessagesArgs(Arguments):
    inbox: InboxRef
    participant: PhoneNumber | None = Field(
        default=None,
        description="The other party. With it: that thread. Without it: the inbox's recent conversations.",
    )
    created_after: Instant | None = None
    created_before: Instant | None = None
    max_results: int = Field(default=20, ge=1, le=100, description="At most this many messages (1-100).")
    page_token: PageToken | None = None


class FetchMessagesResult(Trimmable):
    third_party_content: ThirdPartyContent = marked("messages[].text")
    inbox_id: str
    messages: list[Message] = Field(description="Newest first.")
    conversations_read: int = Field(description="How many conversations the messages were read from.")
    next_page_token: str | None = Field(
        description="Pass as pageToken for more: older messages of the thread, or older conversations."
    )


async def fetch_messages(args: FetchMessagesArgs, context: ToolContext) -> FetchMessagesResult:
    api = context.openphone
    inbox = await context.sends.inbox_id(api, args.inbox)
    after, before = iso(args.created_after), iso(args.created_before)
    if args.participant is not None:
        page = await api.list_messages(
            inbox,
            [args.participant],
            max_results=args.max_results,
            created_after=after,
            created_before=before,
            page_token=args.page_token,
        )
        messages = sorted(page.data, key=lambda message: message.created_at, reverse=True)
        return FetchMessagesResult(
            inbox_id=inbox, messages=messages, conversations_read=1, next_page_token=page.next_page_token
        )
    conversations = await api.list_conversations(
        [inbox], max_results=INBOX_FANOUT, updated_after=after, page_token=args.page_token
    )
    threads = await _latest_messages(api, inbox, conversations.data, args, after, before)
    merged = sorted(
        (message for thread in threads for message in thread), key=lambda m: m.created_at, reverse=True
    )
    return FetchMessagesResult(
        inbox_id=inbox,
        messages=merged[: args.max_results],
        conversations_read=len(conversations.data),
        next_page_token=conversations.next_page_token,
    )


async def _latest_messages(
    api: OpenPhoneAPI,
    inbox: str,
    conversations: list[Conversation],
    args: FetchMessagesArgs,
    after: str | None,
    before: str | None,
) -> list[list[Message]]:
    """Each conversation's latest messages, at most FANOUT_CONCURRENCY requests at a time."""
    threads: list[list[Message]] = [[] for _ in conversations]
    gate = anyio.Semaphore(FANOUT_CONCURRENCY)

    async def read(index: int, conversation: Conversation) -> None:
        if not conversation.participants:
            return
        async with gate:
            page = await api.list_messages(
                inbox,
                conversation.participants,
                max_results=args.max_results,
                created_after=after,
                created_before=before,
            )
        threads[index] = page.data

    async with anyio.create_task_group() as group:
        for index, conversation in enumerate(conversations):
            group.start_soon(read, index, conversation)
    return threads


async def fit_messages(
    args: FetchMessagesArgs, output: FetchMessagesResult, budget: Budget
) -> FetchMessagesResult | None:
    """A thread pages on exactly (`fit_page`). An inbox read has no cursor into its conversations'
    older messages, so it keeps the newest that fit and names the createdBefore that reads on."""
    if args.participant is not None:
        return await fit_page(args, output, budget, "messages", "messages")
    merged = output.messages

    def shown(count: int) -> FetchMessagesResult:
        oldest = merged[count - 1].created_at if count else ""
        note = (
            f"{size_note(budget)}: the newest {count} of the {len(merged)} messages read. For the older "
            "ones of these conversations, call fetch-messages again with the same arguments and "
            f"createdBefore={oldest}; nextPageToken moves on to older conversations instead."
        )
        return shown_head(output, "messages", count, note)

    count = budget.longest(len(merged), shown)
    # createdBefore is exclusive: a message as old as the last one shown must not be left out.
    while 0 < count < len(merged) and merged[count - 1].created_at == merged[count].created_at:
        count -= 1
    return shown(count) if count else None


FETCH_MESSAGES = Tool(
    name="fetch-messages",
    title="Fetch messages",
    description=(
        "Read text messages of one of your OpenPhone numbers (`inbox`, E.164 or PN… id). With "
        "`participant`: the thread with that number. Without: the latest messages across the inbox's "
        f"{INBOX_FANOUT} most recently active conversations. Newest first; optional time window."
        + DESCRIPTION_NOTE
    ),
    input_model=FetchMessagesArgs,
    output_model=FetchMessagesResult,
    handler=fetch_messages,
    annotations=READ_ONLY,
    scope=MESSAGES_READ,
    view=THREAD_VIEW,
    fit=fit_messages,
)
# The thread and conversation views page back ("Older") and open a thread through this helper, which
# only views may call: the model already has fetch-messages, and the helper cannot write.
READ_THREAD = dataclasses.replace(
    FETCH_MESSAGES,
    name="read-thread",
    title="Read a thread (for views)",
    description=(
        "fetch-messages for the thread and conversation views, which page and open threads with it."
        + DESCRIPTION_NOTE
    ),
    is_app_only=True,
)


# list-conversations --------------------------------------------------------------------------------


class ListConversationsArgs(Arguments):
    inboxes: list[InboxRef] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Only these of your numbers (E.164 or PN… ids); all of them when omitted.",
    )
    updated_after: Instant | None = None
    updated_before: Instant | None = None
    max_results: int = Field(default=20, ge=1, le=100, description="Page size (1-100).")
    page_token: PageToken | None = None


class ConversationPage(Trimmable):
    conversations: list[Conversation] = Field(description="Most recent activity first.")
    next_page_token: str | None


async def list_conversations(args: ListConversationsArgs, context: ToolContext) -> ConversationPage:
    sends = context.sends
    if args.inboxes is not None:
        inboxes = [await sends.inbox_id(context.openphone, inbox) for inbox in args.inboxes]
    else:
        inboxes = list(context.grant.inboxes or ())
    page = await context.openphone.list_conversations(
        inboxes,
        max_results=args.max_results,
        updated_after=iso(args.updated_after),
        updated_before=iso(args.updated_before),
        page_token=args.page_token,
    )
    conversations = sends.granted(page.data, lambda conversation: conversation.phone_number_id)
    return ConversationPage(conversations=conversations, next_page_token=page.next_page_token)


LIST_CONVERSATIONS = Tool(
    name="list-conversations",
    title="List conversations",
    description=(
        "List conversations (threads with one or more participants) across your numbers or the given "
        "ones, most recently active first: participants, the inbox (phoneNumberId) and last activity."
    ),
    input_model=ListConversationsArgs,
    output_model=ConversationPage,
    handler=list_conversations,
    annotations=READ_ONLY,
    scope=MESSAGES_READ,
    view=CONVERSATIONS_VIEW,
    fit=page_fit("conversations"),
)
