"""Seeds for the sandbox that make each tool's answer as large as OpenPhone lets it be.

Each function adds records in the wire shape of openapi-v1.json to a `SandboxState`: long threads,
busy inboxes, hour-long transcripts, contacts with every field full, large workspaces. Texts are at
their longest and made of what costs most to serialise: quotes, backslashes, newlines and emoji.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from tools.sandbox import SandboxState
from tools.sandbox import data as seed
from tools.sandbox.data import Record, timestamp

MESSAGE_CHARS: Final = 1600
_PIECE: Final = 'He said "call me back" \\ twice\n🙂 '
_START: Final = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
BULKY_INBOX_ID: Final = seed.MAIN_LINE_ID


def long_text(chars: int) -> str:
    """`chars` code points of text that escapes to more than its length."""
    return (_PIECE * (chars // len(_PIECE) + 1))[:chars]


def participant(n: int) -> str:
    return f"+1646555{n:04d}"


def _at(minutes: int) -> str:
    return timestamp(_START + timedelta(minutes=minutes))


def thread(
    state: SandboxState, number: str, count: int, *, tag: str, start: int = 0, step: int = 1
) -> list[str]:
    """A conversation of the main line with `number` holding `count` messages of the longest text,
    `step` minutes apart from `start`; their ids, newest first."""
    ours = seed.MAIN_LINE_NUMBER
    for n in range(count):
        outgoing = n % 2 == 1
        state.messages[f"ACbulky{tag}{n:04d}"] = {
            "id": f"ACbulky{tag}{n:04d}",
            "to": [number] if outgoing else [ours],
            "from": ours if outgoing else number,
            "text": long_text(MESSAGE_CHARS),
            "phoneNumberId": BULKY_INBOX_ID,
            "direction": "outgoing" if outgoing else "incoming",
            "userId": seed.OWNER_USER_ID,
            "status": "delivered",
            "createdAt": _at(start + n * step),
            "updatedAt": _at(start + n * step),
        }
    last = _at(start + (count - 1) * step)
    state.conversations[f"CNbulky{tag}"] = {
        "assignedTo": None, "createdAt": _at(start), "deletedAt": None, "id": f"CNbulky{tag}",
        "lastActivityAt": last, "lastActivityId": f"ACbulky{tag}{count - 1:04d}", "mutedUntil": None,
        "name": long_text(40), "participants": [number], "phoneNumberId": BULKY_INBOX_ID,
        "snoozedUntil": None, "updatedAt": last,
    }  # fmt: skip
    return [f"ACbulky{tag}{n:04d}" for n in reversed(range(count))]


def busy_inbox(state: SandboxState, conversations: int = 10, messages: int = 100) -> None:
    """`conversations` threads on the main line, each of `messages` long messages, all more recent
    than the seeded ones; the messages of all threads interleave in time, none at the same minute."""
    for n in range(conversations):
        thread(state, participant(n), messages, tag=f"I{n:02d}", start=100_000 + n, step=conversations)


def calls_with_transcripts(state: SandboxState, number: str, count: int, lines: int) -> list[str]:
    """`count` answered calls of the main line with `number`, each transcribed in `lines` long lines;
    their ids, newest first."""
    ids = []
    for n in range(count):
        call_id = f"ACbulkyCall{n:04d}"
        at = _START + timedelta(hours=n)
        state.calls[call_id] = {
            "answeredAt": timestamp(at + timedelta(seconds=5)), "answeredBy": seed.OWNER_USER_ID,
            "initiatedBy": None, "direction": "incoming", "status": "completed",
            "completedAt": timestamp(at + timedelta(hours=1)), "createdAt": timestamp(at),
            "duration": 3600, "forwardedFrom": None, "forwardedTo": None, "id": call_id,
            "phoneNumberId": BULKY_INBOX_ID, "participants": [number],
            "updatedAt": timestamp(at + timedelta(hours=1)), "userId": seed.OWNER_USER_ID,
        }  # fmt: skip
        state.transcripts[call_id] = {
            "callId": call_id,
            "createdAt": timestamp(at + timedelta(hours=1)),
            "dialogue": [_line(n, number) for n in range(lines)],
            "duration": 3600,
            "status": "completed",
        }
        state.summaries[call_id] = {
            "callId": call_id,
            "nextSteps": [long_text(300) for _ in range(10)],
            "status": "completed",
            "summary": [long_text(300) for _ in range(10)],
        }
        ids.append(call_id)
    return list(reversed(ids))


def _line(n: int, number: str) -> Record:
    speaker, user = (number, None) if n % 2 else (seed.MAIN_LINE_NUMBER, seed.OWNER_USER_ID)
    return {
        "content": long_text(150),
        "start": n * 10.0,
        "end": n * 10.0 + 9.5,
        "identifier": speaker,
        "userId": user,
    }


def full_contact(n: int) -> Record:
    """A contact with every field at the most the create-contact tool accepts."""
    at = _at(n)
    return {
        "id": f"6740eeee{n:016x}",
        "externalId": f"bulky-{n:05d}".ljust(75, "x"),
        "source": "public-api",
        "sourceUrl": None,
        "defaultFields": {
            "company": long_text(200),
            "emails": [{"name": long_text(200), "value": f"{n}.{k}@{'e' * 200}.test"} for k in range(20)],
            "firstName": long_text(200),
            "lastName": long_text(200),
            "phoneNumbers": [{"name": long_text(200), "value": participant(k)} for k in range(20)],
            "role": long_text(200),
        },
        "customFields": [seed.custom_field_value("account-tier", long_text(200)) for _ in range(50)],
        "createdAt": at,
        "updatedAt": at,
        "createdByUserId": seed.OWNER_USER_ID,
    }


def many_contacts(state: SandboxState, count: int) -> list[str]:
    """`count` full contacts, newer than the seeded ones; their ids, newest first."""
    contacts = [full_contact(n) for n in range(count)]
    for contact in contacts:
        state.contacts[contact["id"]] = contact
    return [contact["id"] for contact in reversed(contacts)]


def big_workspace(state: SandboxState, numbers: int, users: int) -> list[str]:
    """`users` members, all on each of `numbers` phone numbers besides the seeded ones; the user ids."""
    members: list[Record] = [
        {
            "email": f"member{n:04d}@{'w' * 60}.test", "firstName": long_text(40), "lastName": long_text(40),
            "groupId": "GRsandbox", "id": f"USbulky{n:04d}", "role": "member", "pictureUrl": None,
            "createdAt": _at(n), "updatedAt": _at(n),
        }
        for n in range(users)
    ]  # fmt: skip
    state.users.extend(members)
    for n in range(numbers):
        number = f"+1628555{n:04d}"
        state.phone_numbers.append(
            {
                "id": f"PNbulky{n:04d}", "groupId": "GRsandbox", "createdAt": _at(n), "updatedAt": _at(n),
                "name": long_text(40), "number": number,
                "formattedNumber": f"({number[2:5]}) {number[5:8]}-{number[8:]}", "forward": None,
                "portRequestId": None, "portingStatus": None, "symbol": "🏠", "users": list(members),
                "restrictions": {
                    "messaging": {"CA": "unrestricted", "US": "unrestricted", "Intl": "restricted"},
                    "calling": {"CA": "unrestricted", "US": "unrestricted", "Intl": "restricted"},
                },
            }
        )  # fmt: skip
    return [str(member["id"]) for member in members]
