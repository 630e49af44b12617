"""The sandbox's seed: one small, fixed OpenPhone workspace that tests and `--sandbox` demos rely on.

Every object has the wire shape of openapi-v1.json (all required keys, enums respected, nullable
fields null where nothing is known); tests validate them against the spec. Nothing here is random,
and timestamps are fixed October 2026 dates, so every `SandboxState()` starts identical. Treat the
constants as read-only: `SandboxState` deep-copies them.

Users: `USsandboxOwner` (Avery Park, owner) and `USsandboxAgent` (Sam Lee, member), both on inboxes,
and `USsandboxAdmin` (Riley Kim, admin), on none.

Inboxes (phone numbers):
- `PNsandboxMain` +14155550100 "Main line": both users.
- `PNsandboxSupport` +14155550199 "Support": the owner only.

Custom contact fields: `inbound-lead` (boolean), `lifecycle-stage` (multi-select), `deal-size`
(number), `renewal-date` (date), `account-tier` (string).

Contacts (24-hex ids, no prefix, notes §2.10):
- `6740a1c2e3f4051627384901` Jordan Rivera +14155550123, externalId `crm-1001`, source `public-api`
- `6740a1c2e3f4051627384902` Priya Shah +12125550147, externalId `crm-1002`, source `public-api`
- `6740a1c2e3f4051627384903` Marcus Chen +13105550188, externalId `hs-301`, source `hubspot`
- `6740a1c2e3f4051627384904` Elena Novak +16175550134, made in the app (no externalId or source)

Conversations, each with messages both ways and calls (newest activity first):
- `CNsandboxCharlie` Support <-> +13105550188: 3 messages; calls `ACsandboxCallCharlie1` (transcript
  and summary still `in-progress`) and `ACsandboxCallCharlie2` (transcript and summary `failed`).
- `CNsandboxDelta` Support <-> +16175550134: 2 messages; call `ACsandboxCallDelta1`, whose transcript
  and summary answer 403 (not on an eligible plan).
- `CNsandboxAlpha` Main <-> +14155550123: 25 messages (three pages of 10) `ACsandboxMsgAlpha01`..25;
  calls `ACsandboxCallAlpha1` (completed transcript and summary) and `ACsandboxCallAlpha2` (missed,
  transcript and summary `absent`).
- `CNsandboxBravo` Main <-> +12125550147: 4 messages; call `ACsandboxCallBravo1` (completed
  transcript, completed summary with jobs).
- `CNsandboxEcho` Main <-> +15035550111 (no contact): 3 messages, the last one hostile markup
  (`HOSTILE_TEXT`, which views must show as text); call `ACsandboxCallEcho1`, not answered, so this
  participant has no transcript at all. The conversation is done (inactive).

Calls, recordings and voicemail (the endpoints newer than openapi-v1.json, notes §2.5, §2.9):
- `ACsandboxCallAlpha2`, Jordan's missed call, left a completed voicemail `VMsandboxAlpha2`.
- `ACsandboxCallFoxtrot1`: a missed call to Support from +17735550142 minutes before the sandbox clock
  starts; its voicemail `VMsandboxFoxtrot1` is still processing. The caller never texted, and no
  conversation is seeded for it.
- `ACsandboxCallBravo1` has two recording segments (recording was paused in between).
- `ACsandboxCallDelta1` stands for a plan without recordings either: its recordings answer 403.
- Incoming calls to Support came through its phone menu (`callRoute` `phone-menu`); other incoming
  calls dialled the number directly; outgoing calls have no route; no call was handled by AI.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

Record = dict[str, Any]

SANDBOX_EPOCH: Final = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
"""The sandbox clock's first reading; every write is stamped one second after the previous one."""

OWNER_USER_ID: Final = "USsandboxOwner"
AGENT_USER_ID: Final = "USsandboxAgent"
MAIN_LINE_ID: Final = "PNsandboxMain"
MAIN_LINE_NUMBER: Final = "+14155550100"
SUPPORT_LINE_ID: Final = "PNsandboxSupport"
SUPPORT_LINE_NUMBER: Final = "+14155550199"

JORDAN_NUMBER: Final = "+14155550123"
PRIYA_NUMBER: Final = "+12125550147"
MARCUS_NUMBER: Final = "+13105550188"
ELENA_NUMBER: Final = "+16175550134"
UNKNOWN_CALLER_NUMBER: Final = "+15035550111"

CONTACT_JORDAN_ID: Final = "6740a1c2e3f4051627384901"
CONTACT_PRIYA_ID: Final = "6740a1c2e3f4051627384902"
CONTACT_MARCUS_ID: Final = "6740a1c2e3f4051627384903"
CONTACT_ELENA_ID: Final = "6740a1c2e3f4051627384904"

CONVERSATION_ALPHA_ID: Final = "CNsandboxAlpha"
CONVERSATION_BRAVO_ID: Final = "CNsandboxBravo"
CONVERSATION_CHARLIE_ID: Final = "CNsandboxCharlie"
CONVERSATION_DELTA_ID: Final = "CNsandboxDelta"
CONVERSATION_ECHO_ID: Final = "CNsandboxEcho"

CALL_TRANSCRIBED_ID: Final = "ACsandboxCallAlpha1"
CALL_WITH_JOBS_ID: Final = "ACsandboxCallBravo1"
CALL_NOT_TRANSCRIBED_ID: Final = "ACsandboxCallAlpha2"
CALL_PROCESSING_ID: Final = "ACsandboxCallCharlie1"
CALL_FAILED_ID: Final = "ACsandboxCallCharlie2"
CALL_PLAN_INELIGIBLE_ID: Final = "ACsandboxCallDelta1"
CALL_UNANSWERED_ID: Final = "ACsandboxCallEcho1"
CALL_VOICEMAIL_ID: Final = CALL_NOT_TRANSCRIBED_ID
CALL_VOICEMAIL_PROCESSING_ID: Final = "ACsandboxCallFoxtrot1"
CALL_TWO_RECORDINGS_ID: Final = CALL_WITH_JOBS_ID
ADMIN_USER_ID: Final = "USsandboxAdmin"
NEW_CALLER_NUMBER: Final = "+17735550142"


def timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds, as the API (JavaScript's `toISOString`) writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _october(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


def _user(user_id: str, first: str, last: str, role: str) -> Record:
    email = f"{first.lower()}@sandbox.test"
    return {
        "email": email,
        "firstName": first,
        "lastName": last,
        "groupId": "GRsandbox",
        "id": user_id,
        "role": role,
    }


USERS: Final = (
    _user(OWNER_USER_ID, "Avery", "Park", "owner"),
    _user(AGENT_USER_ID, "Sam", "Lee", "member"),
)


def _phone_number(number_id: str, number: str, name: str, symbol: str, users: tuple[Record, ...]) -> Record:
    open_us = {"CA": "unrestricted", "US": "unrestricted", "Intl": "restricted"}
    return {
        "id": number_id,
        "groupId": f"GR{number_id[2:]}",
        "createdAt": timestamp(_october(1, 9)),
        "updatedAt": timestamp(_october(1, 9)),
        "name": name,
        "number": number,
        "formattedNumber": f"({number[2:5]}) {number[5:8]}-{number[8:]}",
        "forward": None,
        "portRequestId": None,
        "portingStatus": None,
        "symbol": symbol,
        "users": list(users),
        "restrictions": {"messaging": dict(open_us), "calling": dict(open_us)},
    }


PHONE_NUMBERS: Final = (
    _phone_number(MAIN_LINE_ID, MAIN_LINE_NUMBER, "Main line", "🏠", USERS),
    _phone_number(SUPPORT_LINE_ID, SUPPORT_LINE_NUMBER, "Support", "🛟", USERS[:1]),
)
INBOX_NUMBERS: Final = {MAIN_LINE_ID: MAIN_LINE_NUMBER, SUPPORT_LINE_ID: SUPPORT_LINE_NUMBER}

CUSTOM_FIELDS: Final = (
    {"name": "Inbound Lead", "key": "inbound-lead", "type": "boolean"},
    {"name": "Lifecycle Stage", "key": "lifecycle-stage", "type": "multi-select"},
    {"name": "Deal Size", "key": "deal-size", "type": "number"},
    {"name": "Renewal Date", "key": "renewal-date", "type": "date"},
    {"name": "Account Tier", "key": "account-tier", "type": "string"},
)
CUSTOM_FIELD_IDS: Final = {
    field["key"]: f"6740cf00000000000000000{n}" for n, field in enumerate(CUSTOM_FIELDS)
}


def custom_field_value(key: str, value: Any) -> Record:
    """A contact's value for the custom field `key`, in the Contact object's shape."""
    field = next(field for field in CUSTOM_FIELDS if field["key"] == key)
    return {
        "name": field["name"],
        "key": key,
        "id": CUSTOM_FIELD_IDS[key],
        "type": field["type"],
        "value": value,
    }


def _contact(
    contact_id: str,
    name: str,
    phone: str,
    created: datetime,
    *,
    company: str | None = None,
    role: str | None = None,
    external_id: str | None = None,
    source: str | None = None,
    custom: Record | None = None,
) -> Record:
    first, last = name.split()
    source_url = f"https://crm.sandbox.test/contacts/{external_id}" if source == "public-api" else None
    return {
        "id": contact_id,
        "externalId": external_id,
        "source": source,
        "sourceUrl": source_url,
        "defaultFields": {
            "company": company,
            "emails": [{"name": "work", "value": f"{first.lower()}@{last.lower()}.test"}],
            "firstName": first,
            "lastName": last,
            "phoneNumbers": [{"name": "mobile", "value": phone}],
            "role": role,
        },
        "customFields": [custom_field_value(key, value) for key, value in (custom or {}).items()],
        "createdAt": timestamp(created),
        "updatedAt": timestamp(created),
        "createdByUserId": OWNER_USER_ID,
    }


CONTACTS: Final = (
    _contact(
        CONTACT_JORDAN_ID, "Jordan Rivera", JORDAN_NUMBER, _october(2, 10), company="Rivera Plumbing",
        role="Owner", external_id="crm-1001", source="public-api",
        custom={"inbound-lead": True, "lifecycle-stage": ["customer"], "deal-size": 4200},
    ),
    _contact(
        CONTACT_PRIYA_ID, "Priya Shah", PRIYA_NUMBER, _october(3, 10), company="Shah Dental",
        role="Office Manager", external_id="crm-1002", source="public-api",
        custom={"renewal-date": "2027-01-15T00:00:00.000Z", "account-tier": "gold"},
    ),
    _contact(
        CONTACT_MARCUS_ID, "Marcus Chen", MARCUS_NUMBER, _october(4, 10), external_id="hs-301",
        source="hubspot", custom={"inbound-lead": False},
    ),
    _contact(CONTACT_ELENA_ID, "Elena Novak", ELENA_NUMBER, _october(5, 10), company="Novak Studio"),
)  # fmt: skip

Line = tuple[str, str]  # (who: "in" for the participant or "out" for the workspace, text)


def _messages(
    thread: str, inbox: str, participant: str, start: datetime, step_minutes: int, lines: tuple[Line, ...]
) -> tuple[Record, ...]:
    """One thread's messages, `step_minutes` apart from `start`; incoming ones carry the inbox owner's id,
    because the spec types `userId` as a string although it says incoming messages have none."""
    ours = INBOX_NUMBERS[inbox]
    messages = []
    for n, (who, text) in enumerate(lines, start=1):
        at = timestamp(start + timedelta(minutes=step_minutes * (n - 1)))
        outgoing = who == "out"
        messages.append(
            {
                "id": f"ACsandboxMsg{thread}{n:02d}",
                "to": [participant] if outgoing else [ours],
                "from": ours if outgoing else participant,
                "text": text,
                "phoneNumberId": inbox,
                "direction": "outgoing" if outgoing else "incoming",
                "userId": OWNER_USER_ID,
                "status": "delivered",
                "createdAt": at,
                "updatedAt": at,
            }
        )
    return tuple(messages)


ALPHA_MESSAGES: Final = _messages("Alpha", MAIN_LINE_ID, JORDAN_NUMBER, _october(20, 9), 30, (
    ("in", "Hi, this is Jordan Rivera. Is anyone free to look at a leaking water heater this week?"),
    ("out", "Hi Jordan, thanks for reaching out. We can come Thursday morning or Friday afternoon."),
    ("in", "Thursday morning works. What time?"),
    ("out", "We have 9:00 or 10:30 open."),
    ("in", "Let's do 9:00."),
    ("out", "Booked: Thursday at 9:00. The technician will text when on the way."),
    ("in", "Great. Do I need to turn the water off?"),
    ("out", "Only if the leak gets worse. The shut-off valve is usually above the heater."),
    ("in", "Found it, thanks."),
    ("out", "Reminder: your visit is tomorrow at 9:00."),
    ("in", "See you then."),
    ("out", "Your technician, Sam, is on the way. ETA 15 minutes."),
    ("in", "The gate is open, come around the back."),
    ("out", "Sam has arrived."),
    ("in", "The heater is in the garage."),
    ("out", "Sam found a failed pressure valve. Replacing it today is $180. Shall we go ahead?"),
    ("in", "Yes, please go ahead."),
    ("out", "Done. The valve is replaced and the leak has stopped."),
    ("in", "Thank you! How do I pay?"),
    ("out", "We just emailed the invoice. You can pay by card from the link."),
    ("in", "Paid."),
    ("out", "Payment received, thanks Jordan."),
    ("in", "Could you also quote a new heater for next year?"),
    ("out", "Sure. We will send a quote by Monday."),
    ("in", "Perfect, talk soon."),
))  # fmt: skip
BRAVO_MESSAGES: Final = _messages("Bravo", MAIN_LINE_ID, PRIYA_NUMBER, _october(18, 15), 20, (
    ("out", "Hi Priya, following up on the maintenance plan we discussed."),
    ("in", "Thanks. Can you send the plan details?"),
    ("out", "Sent to your email. Happy to walk through it on a call."),
    ("in", "Call me tomorrow at 11."),
))  # fmt: skip
CHARLIE_MESSAGES: Final = _messages("Charlie", SUPPORT_LINE_ID, MARCUS_NUMBER, _october(24, 8), 5, (
    ("in", "My app login keeps failing."),
    ("out", "Sorry about that, Marcus. Can you try resetting your password from the sign-in page?"),
    ("in", "That worked, thanks."),
))  # fmt: skip
DELTA_MESSAGES: Final = _messages("Delta", SUPPORT_LINE_ID, ELENA_NUMBER, _october(26, 13), 10, (
    ("in", "Do you have availability for a site visit next week?"),
    ("out", "Yes, Tuesday or Wednesday. Which suits you?"),
))  # fmt: skip
HOSTILE_TEXT: Final = 'Quote please <img src=x onerror="alert(1)"></script><script>alert(2)</script>'
"""A stranger's message that is markup: a view that parsed it would run script (XSS fixture)."""
ECHO_MESSAGES: Final = _messages("Echo", MAIN_LINE_ID, UNKNOWN_CALLER_NUMBER, _october(5, 16), 3, (
    ("in", "Is this the right number for quotes?"),
    ("out", "Yes it is! What can we help with?"),
    ("in", HOSTILE_TEXT),
))  # fmt: skip
MESSAGES: Final = ALPHA_MESSAGES + BRAVO_MESSAGES + CHARLIE_MESSAGES + DELTA_MESSAGES + ECHO_MESSAGES


def _call(
    call_id: str,
    inbox: str,
    participant: str,
    at: datetime,
    direction: str,
    status: str = "completed",
    duration: int = 0,
    user: str = OWNER_USER_ID,
) -> Record:
    answered_at = at + timedelta(seconds=6) if status == "completed" else None
    ended = answered_at + timedelta(seconds=duration) if answered_at else at + timedelta(seconds=30)
    return {
        "answeredAt": timestamp(answered_at) if answered_at else None,
        "answeredBy": user if answered_at and direction == "incoming" else None,
        "initiatedBy": user if direction == "outgoing" else None,
        "direction": direction,
        "status": status,
        "completedAt": timestamp(ended),
        "createdAt": timestamp(at),
        "duration": duration,
        "forwardedFrom": None,
        "forwardedTo": None,
        "id": call_id,
        "phoneNumberId": inbox,
        "participants": [participant],
        "updatedAt": timestamp(ended),
        "userId": user,
    }


CALLS: Final = (
    _call(CALL_TRANSCRIBED_ID, MAIN_LINE_ID, JORDAN_NUMBER, _october(21, 10), "incoming", duration=312),
    _call(CALL_NOT_TRANSCRIBED_ID, MAIN_LINE_ID, JORDAN_NUMBER, _october(22, 16, 30), "incoming", "missed"),
    _call(
        CALL_WITH_JOBS_ID, MAIN_LINE_ID, PRIYA_NUMBER, _october(19, 11), "outgoing", duration=185,
        user=AGENT_USER_ID,
    ),
    _call(CALL_FAILED_ID, SUPPORT_LINE_ID, MARCUS_NUMBER, _october(25, 9, 10), "incoming", duration=240),
    _call(CALL_PROCESSING_ID, SUPPORT_LINE_ID, MARCUS_NUMBER, _october(31, 17, 45), "incoming", duration=420),
    _call(CALL_PLAN_INELIGIBLE_ID, SUPPORT_LINE_ID, ELENA_NUMBER, _october(27, 14), "incoming", duration=150),
    _call(
        CALL_UNANSWERED_ID, MAIN_LINE_ID, UNKNOWN_CALLER_NUMBER, _october(6, 10, 15), "outgoing", "no-answer"
    ),
    _call(
        CALL_VOICEMAIL_PROCESSING_ID, SUPPORT_LINE_ID, NEW_CALLER_NUMBER,
        datetime(2026, 11, 1, 11, 52, tzinfo=UTC), "incoming", "missed",
    ),
)  # fmt: skip
PLAN_INELIGIBLE_CALL_IDS: Final = frozenset({CALL_PLAN_INELIGIBLE_ID})
"""Calls whose transcript and summary answer 403: their workspace plan does not include them."""


def _call_by_id(call_id: str) -> Record:
    return next(call for call in CALLS if call["id"] == call_id)


def _transcript(call_id: str, status: str, lines: tuple[Line, ...] = ()) -> Record:
    """A transcript; the speakers alternate as `lines` say, each line timed by its length in words."""
    call = _call_by_id(call_id)
    ours, theirs = INBOX_NUMBERS[call["phoneNumberId"]], call["participants"][0]
    dialogue, start = [], 0.0
    for who, text in lines:
        end = round(start + 0.4 * len(text.split()) + 0.5, 1)
        speaker, user = (ours, call["userId"]) if who == "out" else (theirs, None)
        dialogue.append({"content": text, "start": start, "end": end, "identifier": speaker, "userId": user})
        start = round(end + 0.3, 1)
    return {
        "callId": call_id,
        "createdAt": call["completedAt"],
        "dialogue": dialogue if status == "completed" else None,
        "duration": call["duration"],
        "status": status,
    }


TRANSCRIPTS: Final[dict[str, Record]] = {
    CALL_TRANSCRIBED_ID: _transcript(CALL_TRANSCRIBED_ID, "completed", (
        ("in", "Hi, it's Jordan. The technician just left and everything looks good."),
        ("out", "Glad to hear it. Any questions about the repair?"),
        ("in", "How long should the new valve last?"),
        ("out", "Usually eight to ten years. We will note it on your account."),
        ("in", "Great. And the quote for a new heater?"),
        ("out", "You will have it by Monday."),
    )),
    CALL_WITH_JOBS_ID: _transcript(CALL_WITH_JOBS_ID, "completed", (
        ("out", "Hi Priya, it's Sam from the service team, calling about the maintenance plan."),
        ("in", "Yes, thanks. We have twelve chairs and want quarterly visits."),
        ("out", "The quarterly plan fits. It comes to five thousand a year."),
        ("in", "That works. I can sign this week."),
    )),
    CALL_PROCESSING_ID: _transcript(CALL_PROCESSING_ID, "in-progress"),
    CALL_FAILED_ID: _transcript(CALL_FAILED_ID, "failed"),
}  # fmt: skip
"""Transcripts by call id; a call that is not here and is eligible answers status `absent`."""

SUMMARIES: Final[dict[str, Record]] = {
    CALL_TRANSCRIBED_ID: {
        "callId": CALL_TRANSCRIBED_ID,
        "nextSteps": ["Send Jordan a water-heater quote by Monday."],
        "status": "completed",
        "summary": [
            "Jordan confirmed the pressure-valve repair stopped the leak.",
            "Jordan asked for a quote on a new water heater.",
        ],
    },
    CALL_WITH_JOBS_ID: {
        "callId": CALL_WITH_JOBS_ID,
        "nextSteps": ["Email Priya the quarterly plan contract.", "Schedule the first visit."],
        "status": "completed",
        "summary": ["Priya wants quarterly maintenance for twelve chairs and will sign this week."],
        "jobs": [
            {
                "icon": "📋",
                "name": "Lead qualification",
                "result": {
                    "data": [
                        {"name": "Budget", "value": "$5,000 a year"},
                        {"name": "Decision maker", "value": True},
                        {"name": "Seats", "value": 12},
                    ]
                },
            }
        ],
    },
    CALL_PROCESSING_ID: {
        "callId": CALL_PROCESSING_ID,
        "nextSteps": None,
        "status": "in-progress",
        "summary": None,
    },
    CALL_FAILED_ID: {"callId": CALL_FAILED_ID, "nextSteps": None, "status": "failed", "summary": None},
}
"""Summaries by call id; a call that is not here and is eligible answers status `absent`."""


def _recording(call: Record, part: str = "", offset_seconds: int = 0, duration: int | None = None) -> Record:
    """One recording segment of an answered call, starting `offset_seconds` after it was answered."""
    answered = datetime.fromisoformat(str(call["answeredAt"]))
    return {
        "duration": call["duration"] if duration is None else duration,
        "id": f"CR{call['id'][2:]}{part}",
        "startTime": timestamp(answered + timedelta(seconds=offset_seconds)),
        "status": "completed",
        "type": "audio/mpeg",
        "url": f"https://recordings.sandbox.invalid/{call['id']}{part and '-'}{part}.mp3",
    }


RECORDINGS: Final[dict[str, list[Record]]] = {
    call["id"]: [_recording(call)] for call in CALLS if call["answeredAt"] is not None
} | {
    CALL_TWO_RECORDINGS_ID: [
        _recording(_call_by_id(CALL_TWO_RECORDINGS_ID), "a", 0, 95),
        _recording(_call_by_id(CALL_TWO_RECORDINGS_ID), "b", 115, 64),
    ]
}
"""Recordings by call id, oldest segment first; unanswered calls have none, and the call with jobs was
paused once, so it has two segments."""
RECORDING_INELIGIBLE_CALL_IDS: Final = frozenset({CALL_PLAN_INELIGIBLE_ID})
"""Calls whose recordings answer 403: their workspace plan does not include call recording."""

VOICEMAILS: Final[dict[str, Record]] = {
    CALL_VOICEMAIL_ID: {
        "duration": 17,
        "id": "VMsandboxAlpha2",
        "transcript": "Hi, it's Jordan Rivera. The water heater is dripping again; please call me back.",
        "recordingUrl": "https://recordings.sandbox.invalid/VMsandboxAlpha2.mp3",
        "status": "completed",
    },
    CALL_VOICEMAIL_PROCESSING_ID: {
        "duration": None,
        "id": "VMsandboxFoxtrot1",
        "transcript": None,
        "recordingUrl": None,
        "status": "in-progress",
    },
}
"""Voicemails by call id (notes §2.9): every field but `id` and `status` is null while processing."""


def call_route(call: Record) -> str | None:
    """How an incoming call reached its inbox (notes §2.4 `callRoute`); outgoing calls have none."""
    if call["direction"] == "outgoing":
        return None
    return "phone-menu" if call["phoneNumberId"] == SUPPORT_LINE_ID else "phone-number"


def _workspace_user(user_id: str, first: str, last: str, role: str, picture: bool, day: int) -> Record:
    """A member as `GET /v1/users` lists them (notes §2.13)."""
    return {
        "id": user_id,
        "email": f"{first.lower()}@sandbox.test",
        "firstName": first,
        "lastName": last,
        "pictureUrl": f"https://pictures.sandbox.invalid/{first.lower()}.png" if picture else None,
        "role": role,
        "createdAt": timestamp(_october(1, 8 + day)),
        "updatedAt": timestamp(_october(1, 8 + day)),
    }


WORKSPACE_USERS: Final = (
    _workspace_user(OWNER_USER_ID, "Avery", "Park", "owner", True, 0),
    _workspace_user(AGENT_USER_ID, "Sam", "Lee", "member", False, 1),
    _workspace_user(ADMIN_USER_ID, "Riley", "Kim", "admin", False, 2),
)
"""The workspace's members, oldest first; Riley (admin) is a user of no inbox."""


def _involves(activity: Record, inbox: str, participant: str) -> bool:
    parties = activity.get("participants") or [activity["from"], *activity["to"]]
    return bool(activity["phoneNumberId"] == inbox and participant in parties)


def _conversation(
    conversation_id: str, inbox: str, participant: str, name: str | None, assigned_to: str | None = None
) -> Record:
    """A conversation whose dates and last activity follow its seeded messages and calls."""
    activities = sorted(
        (activity for activity in (*MESSAGES, *CALLS) if _involves(activity, inbox, participant)),
        key=lambda activity: str(activity["createdAt"]),
    )
    return {
        "assignedTo": assigned_to,
        "createdAt": activities[0]["createdAt"],
        "deletedAt": None,
        "id": conversation_id,
        "lastActivityAt": activities[-1]["createdAt"],
        "lastActivityId": activities[-1]["id"],
        "mutedUntil": None,
        "name": name,
        "participants": [participant],
        "phoneNumberId": inbox,
        "snoozedUntil": None,
        "updatedAt": activities[-1]["createdAt"],
    }


CONVERSATIONS: Final = (
    _conversation(CONVERSATION_ALPHA_ID, MAIN_LINE_ID, JORDAN_NUMBER, "Jordan Rivera", OWNER_USER_ID),
    _conversation(CONVERSATION_BRAVO_ID, MAIN_LINE_ID, PRIYA_NUMBER, "Priya Shah", AGENT_USER_ID),
    _conversation(CONVERSATION_CHARLIE_ID, SUPPORT_LINE_ID, MARCUS_NUMBER, "Marcus Chen"),
    _conversation(CONVERSATION_DELTA_ID, SUPPORT_LINE_ID, ELENA_NUMBER, "Elena Novak"),
    _conversation(CONVERSATION_ECHO_ID, MAIN_LINE_ID, UNKNOWN_CALLER_NUMBER, None),
)
DONE_CONVERSATION_IDS: Final = frozenset({CONVERSATION_ECHO_ID})
"""Conversations marked done, which `excludeInactive=true` leaves out (our reading; the spec does not
define "inactive")."""
