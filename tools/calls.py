"""Call tools: the calls with one participant, with or without transcripts, and one call's AI summary.

Transcripts and summaries exist only for answered calls on plans that include them (Business and
Scale), and only once processing is done (openphone-api-notes.md §2.7-2.8). Each call says which:
transcript attached, not transcribed, still processing, failed, or not on this plan.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import anyio
from pydantic import Field

from tools.api import OpenPhoneAPI
from tools.arguments import Arguments, Instant, OpaqueId, PageToken, iso
from tools.errors import OpenPhoneError
from tools.phone import InboxRef, PhoneNumber
from tools.registry import READ_ONLY, Tool, ToolContext
from tools.resources import Call, CallSummary, DialogueLine, Page, Wire
from tools.scopes import CALLS_READ
from tools.untrusted import DESCRIPTION_NOTE, ThirdPartyContent, marked
from tools.views import CALL_VIEW

TRANSCRIPT_CONCURRENCY: Final = 4

Availability = Literal["completed", "absent", "processing", "failed", "not-on-plan", "not-answered"]

_NOTES: Final[dict[Availability, str]] = {
    "completed": "Transcript attached.",
    "absent": "This call was not transcribed (transcription was off or the call was too short).",
    "processing": "The transcript is still being processed; try again in a few minutes.",
    "failed": "OpenPhone could not transcribe this call.",
    "not-on-plan": "Call transcripts need an OpenPhone Business or Scale plan.",
    "not-answered": "The call was not answered, so there is nothing to transcribe.",
}
_SUMMARY_NOTES: Final[dict[Availability, str]] = {
    "completed": "Summary attached.",
    "absent": "This call has no summary (summaries were off or the call was too short).",
    "processing": "The summary is still being processed; try again in a few minutes.",
    "failed": "OpenPhone could not summarise this call.",
    "not-on-plan": "Call summaries need an OpenPhone Business or Scale plan.",
    "not-answered": "The call was not answered, so there is nothing to summarise.",
}
# OpenPhone's transcript and summary `status` (openapi-v1.json), in this module's words.
_FROM_STATUS: Final[dict[str, Availability]] = {
    "completed": "completed",
    "absent": "absent",
    "in-progress": "processing",
    "failed": "failed",
}


class ListCallsArgs(Arguments):
    inbox: InboxRef
    participant: PhoneNumber = Field(description="The other party of the calls, E.164.")
    created_after: Instant | None = None
    created_before: Instant | None = None
    max_results: int = Field(default=10, ge=1, le=100, description="At most this many calls (1-100).")
    page_token: PageToken | None = None


class FetchTranscriptsArgs(ListCallsArgs):
    max_results: int = Field(default=10, ge=1, le=50, description="At most this many calls (1-50).")


Dialogue = Annotated[
    list[DialogueLine] | None, Field(description="Who said what; `identifier` is the speaker's number.")
]


class TranscriptPart(Wire):
    availability: Availability
    note: str
    dialogue: Dialogue = None


class CallTranscript(TranscriptPart):
    call: Call


class FetchTranscriptsResult(Wire):
    third_party_content: ThirdPartyContent = marked("calls[].dialogue[].content")
    inbox_id: str
    calls: list[CallTranscript] = Field(description="Newest first.")
    next_page_token: str | None


def was_answered(call: Call) -> bool:
    """Whether anyone took the call; only answered calls have transcripts, summaries and recordings."""
    return call.answered_at is not None or call.status == "completed"


async def transcript_part(api: OpenPhoneAPI, call: Call) -> TranscriptPart:
    """The call's transcript, or why there is none (no request for an unanswered call)."""
    if not was_answered(call):
        return TranscriptPart(availability="not-answered", note=_NOTES["not-answered"])
    try:
        transcript = await api.get_transcript(call.id)
    except OpenPhoneError as exc:
        if exc.status == 403:
            return TranscriptPart(availability="not-on-plan", note=_NOTES["not-on-plan"])
        if exc.status == 404:
            return TranscriptPart(availability="absent", note=_NOTES["absent"])
        raise
    availability = _FROM_STATUS[transcript.status]
    dialogue = transcript.dialogue if availability == "completed" else None
    return TranscriptPart(availability=availability, note=_NOTES[availability], dialogue=dialogue)


async def _call_page(context: ToolContext, args: ListCallsArgs) -> tuple[str, Page[Call]]:
    """The inbox's id (refused outside the grant) and one page of its calls with the participant."""
    api = context.openphone
    inbox = await context.sends.inbox_id(api, args.inbox)
    page = await api.list_calls(
        inbox,
        args.participant,
        max_results=args.max_results,
        created_after=iso(args.created_after),
        created_before=iso(args.created_before),
        page_token=args.page_token,
    )
    calls = sorted(page.data, key=lambda call: call.created_at, reverse=True)
    return inbox, Page[Call](data=calls, next_page_token=page.next_page_token)


async def fetch_call_transcripts(args: FetchTranscriptsArgs, context: ToolContext) -> FetchTranscriptsResult:
    api = context.openphone
    inbox, page = await _call_page(context, args)
    results: list[CallTranscript | None] = [None] * len(page.data)
    gate = anyio.Semaphore(TRANSCRIPT_CONCURRENCY)

    async def fetch(index: int, call: Call) -> None:
        async with gate:
            part = await transcript_part(api, call)
            results[index] = CallTranscript(call=call, **dict(part))

    async with anyio.create_task_group() as group:
        for index, call in enumerate(page.data):
            group.start_soon(fetch, index, call)
    return FetchTranscriptsResult(
        inbox_id=inbox,
        calls=[result for result in results if result is not None],
        next_page_token=page.next_page_token,
    )


FETCH_CALL_TRANSCRIPTS = Tool(
    name="fetch-call-transcripts",
    title="Fetch call transcripts",
    description=(
        "Read the calls between one of your numbers (`inbox`) and one `participant`, newest first, each "
        "with its transcript (who said what) or the reason there is none: not answered, not transcribed, "
        "still processing, failed, or not included in the OpenPhone plan. Optional time window."
        + DESCRIPTION_NOTE
    ),
    input_model=FetchTranscriptsArgs,
    output_model=FetchTranscriptsResult,
    handler=fetch_call_transcripts,
    annotations=READ_ONLY,
    scope=CALLS_READ,
    view=CALL_VIEW,
)


class CallList(Wire):
    inbox_id: str
    calls: list[Call] = Field(description="Newest first.")
    next_page_token: str | None
    note: str


_LIST_NOTE: Final = (
    "A call list does not say whether a call has a recording, voicemail, summary or transcript; "
    "get-call reads the summary, transcript and voicemail of one call, get-call-recordings its audio."
)


async def list_calls(args: ListCallsArgs, context: ToolContext) -> CallList:
    inbox, page = await _call_page(context, args)
    return CallList(inbox_id=inbox, calls=page.data, next_page_token=page.next_page_token, note=_LIST_NOTE)


LIST_CALLS = Tool(
    name="list-calls",
    title="List calls",
    description=(
        "List the calls between one of your numbers (`inbox`) and one `participant`, newest first: "
        "direction, status, who answered, duration and times, a page at a time, with an optional time "
        "window. Cheaper than fetch-call-transcripts; use get-call for one call's summary, transcript "
        "and voicemail."
    ),
    input_model=ListCallsArgs,
    output_model=CallList,
    handler=list_calls,
    annotations=READ_ONLY,
    scope=CALLS_READ,
)


class GetCallSummaryArgs(Arguments):
    call_id: OpaqueId = Field(description="The call id (AC…), e.g. from fetch-call-transcripts.")


class CallSummaryResult(Wire):
    third_party_content: ThirdPartyContent = marked("summary")
    summary: CallSummary | None
    availability: Availability
    note: str


def not_answered_summary() -> CallSummaryResult:
    """The part for a call nobody answered; made when needed, so the model is built on first use."""
    return CallSummaryResult(summary=None, availability="not-answered", note=_SUMMARY_NOTES["not-answered"])


async def summary_part(api: OpenPhoneAPI, call_id: str) -> CallSummaryResult:
    """The call's summary, or why there is none."""
    try:
        summary = await api.get_summary(call_id)
    except OpenPhoneError as exc:
        if exc.status != 403:
            raise
        return CallSummaryResult(summary=None, availability="not-on-plan", note=_SUMMARY_NOTES["not-on-plan"])
    availability = _FROM_STATUS[summary.status]
    return CallSummaryResult(summary=summary, availability=availability, note=_SUMMARY_NOTES[availability])


async def get_call_summary(args: GetCallSummaryArgs, context: ToolContext) -> CallSummaryResult:
    await context.sends.check_call(context.openphone, args.call_id)
    return await summary_part(context.openphone, args.call_id)


GET_CALL_SUMMARY = Tool(
    name="get-call-summary",
    title="Get a call summary",
    description=(
        "Get OpenPhone's AI summary of one call (AC… id): the summary points and next steps, or why "
        "there is none yet (still processing, not summarised, failed, or not on the plan)." + DESCRIPTION_NOTE
    ),
    input_model=GetCallSummaryArgs,
    output_model=CallSummaryResult,
    handler=get_call_summary,
    annotations=READ_ONLY,
    scope=CALLS_READ,
    view=CALL_VIEW,
)
