"""Call audio: a call's recording segments and its voicemail.

Recording and voicemail URLs are sensitive: anyone holding one can play what was said, so the tool
descriptions say so, the client never logs a URL or a body (tools/client.py logs method, path and
status), and no URL is put into an error. Voicemails exist for unanswered incoming calls; OpenPhone
answers 404 when a call has none, and fills a voicemail's fields in only once it is processed
(openphone-api-notes.md §2.9). Recordings need a plan with call recording (403 otherwise, §2.6).
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from tools.api import OpenPhoneAPI
from tools.arguments import Arguments, OpaqueId
from tools.errors import OpenPhoneError
from tools.registry import READ_ONLY, Tool, ToolContext
from tools.resources import Recording, Voicemail, Wire
from tools.scopes import CALLS_READ
from tools.untrusted import DESCRIPTION_NOTE, ThirdPartyContent, marked

_SENSITIVE: Final = (
    "The URLs are private links: anyone holding one can play the audio; never share or post them."
)

RecordingAvailability = Literal["completed", "none", "not-on-plan"]
_RECORDING_NOTES: Final[dict[RecordingAvailability, str]] = {
    "completed": "Recording segments attached, oldest first. " + _SENSITIVE,
    "none": "This call has no recording (it was not answered, or recording was off).",
    "not-on-plan": "OpenPhone refused the recordings: this plan or account does not include call recording.",
}
VoicemailAvailability = Literal["completed", "processing", "none"]
_VOICEMAIL_NOTES: Final[dict[VoicemailAvailability, str]] = {
    "completed": "Voicemail attached. " + _SENSITIVE,
    "processing": "The voicemail is still being processed; try again in a few minutes.",
    "none": "No voicemail was left on this call.",
}


class CallIdArgs(Arguments):
    call_id: OpaqueId = Field(description="The call id (AC…), e.g. from list-calls.")


class RecordingsResult(Wire):
    call_id: str
    availability: RecordingAvailability
    note: str
    recordings: list[Recording] = Field(description="Each segment's status, duration, start and private URL.")


async def get_call_recordings(args: CallIdArgs, context: ToolContext) -> RecordingsResult:
    await context.sends.check_call(context.openphone, args.call_id)
    try:
        recordings = await context.openphone.get_recordings(args.call_id)
    except OpenPhoneError as exc:
        if exc.status != 403:
            raise
        return RecordingsResult(
            call_id=args.call_id,
            availability="not-on-plan",
            note=_RECORDING_NOTES["not-on-plan"],
            recordings=[],
        )
    availability: RecordingAvailability = "completed" if recordings else "none"
    return RecordingsResult(
        call_id=args.call_id,
        availability=availability,
        note=_RECORDING_NOTES[availability],
        recordings=recordings,
    )


GET_CALL_RECORDINGS = Tool(
    name="get-call-recordings",
    title="Get call recordings",
    description=(
        "Get the recording segments of one call (AC… id), oldest first, each with status, duration and "
        "URL, or why there are none. The URLs are sensitive private links to the audio: do not share "
        "or post them."
    ),
    input_model=CallIdArgs,
    output_model=RecordingsResult,
    handler=get_call_recordings,
    annotations=READ_ONLY,
    scope=CALLS_READ,
)


class VoicemailPart(Wire):
    availability: VoicemailAvailability
    note: str
    voicemail: Voicemail | None = Field(
        default=None, description="Transcript, duration, status and the private recording URL."
    )


def no_voicemail() -> VoicemailPart:
    """The part for a call with no voicemail; made when needed, so the model is built on first use."""
    return VoicemailPart(availability="none", note=_VOICEMAIL_NOTES["none"])


async def voicemail_part(api: OpenPhoneAPI, call_id: str) -> VoicemailPart:
    """The call's voicemail, or "none" when OpenPhone has none for it (404)."""
    try:
        voicemail = await api.get_voicemail(call_id)
    except OpenPhoneError as exc:
        if exc.status != 404:
            raise
        return no_voicemail()
    availability: VoicemailAvailability = "processing" if voicemail.status == "in-progress" else "completed"
    return VoicemailPart(availability=availability, note=_VOICEMAIL_NOTES[availability], voicemail=voicemail)


class VoicemailResult(VoicemailPart):
    third_party_content: ThirdPartyContent = marked("voicemail.transcript")
    call_id: str


async def get_voicemail(args: CallIdArgs, context: ToolContext) -> VoicemailResult:
    """A 404 means "no voicemail" only for a call that exists, so that case reads the call too."""
    await context.sends.check_call(context.openphone, args.call_id)
    part = await voicemail_part(context.openphone, args.call_id)
    if part.availability == "none":
        await context.openphone.get_call(args.call_id)
    return VoicemailResult(call_id=args.call_id, **dict(part))


GET_VOICEMAIL = Tool(
    name="get-voicemail",
    title="Get a voicemail",
    description=(
        "Get the voicemail left on one call (AC… id): its transcript, duration, status and recording "
        'URL, or a clear "none" or "still processing". The recording URL is a sensitive private link: '
        "do not share or post it." + DESCRIPTION_NOTE
    ),
    input_model=CallIdArgs,
    output_model=VoicemailResult,
    handler=get_voicemail,
    annotations=READ_ONLY,
    scope=CALLS_READ,
)
