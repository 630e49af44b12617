"""The consent page's second step: what the assistant may do with the key (issue 23, item 1).

After the key is checked, the page lists the workspace's numbers (read with that key) and asks which
inboxes the assistant may use, how it may send, and whether it may text numbers never in touch. The
answers become a `Grant`, sealed in the authorization code and every token after it. The key rides
from the first step to the second only inside the sealed consent request (a hidden form field that
is an encrypted token), never as a plain field and never in a URL.

`parse_choices` is pure: it turns the submitted fields into a Grant or a `ChoiceError` whose message
the page shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from pydantic import ValidationError

from tools.grant import (
    DEFAULT_DAILY_LIMIT,
    INBOXES_SENTENCE,
    MAX_DAILY_LIMIT,
    MAX_GRANT_INBOXES,
    NEW_NUMBERS_SENTENCE,
    SEND_SENTENCES,
    Grant,
    SendRule,
)
from tools.resources import PhoneNumber

CHOICE_FIELDS: Final = ("inboxes", "send", "daily_limit", "new_numbers")


class ChoiceError(ValueError):
    """Raised when the submitted choices cannot make a grant; the message is shown on the page."""


@dataclass(frozen=True, slots=True)
class InboxOption:
    id: str
    number: str
    name: str | None


@dataclass(frozen=True, slots=True)
class SendOption:
    rule: str
    label: str
    sentence: str


SEND_LABELS: Final = {
    SendRule.CONFIRM: "Ask me before each send",
    SendRule.ALLOWANCE: "Send up to N texts a day without asking",
    SendRule.DENY: "Never send",
}
SEND_OPTIONS: Final = tuple(SendOption(rule, SEND_LABELS[rule], SEND_SENTENCES[rule]) for rule in SendRule)


@dataclass(frozen=True, slots=True)
class ChoicesView:
    """What the choices step renders: the workspace's inboxes and every choice with its sentence."""

    inboxes: tuple[InboxOption, ...]
    inboxes_sentence: str = INBOXES_SENTENCE
    send_options: tuple[SendOption, ...] = SEND_OPTIONS
    new_numbers_sentence: str = NEW_NUMBERS_SENTENCE
    default_limit: int = DEFAULT_DAILY_LIMIT
    max_limit: int = MAX_DAILY_LIMIT
    max_inboxes: int = MAX_GRANT_INBOXES


def choices_view(numbers: Sequence[PhoneNumber]) -> ChoicesView:
    return ChoicesView(tuple(InboxOption(number.id, number.number, number.name) for number in numbers))


def parse_choices(pairs: Sequence[tuple[str, str]], workspace: Sequence[str]) -> Grant:
    """The grant the person chose; `workspace` holds the ids of the key's numbers, read again now."""
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in CHOICE_FIELDS:
            if name in fields:
                raise ChoiceError("The choices were not submitted as sent. Choose again.")
            fields[name] = value
    chosen = [value for name, value in pairs if name == "inbox"]
    inboxes: tuple[str, ...] | None = None
    if fields.get("inboxes", "all") == "chosen":
        if not chosen:
            raise ChoiceError("Choose at least one inbox, or allow every inbox.")
        if unknown := set(chosen) - set(workspace):
            raise ChoiceError(
                f"{len(unknown)} chosen inbox(es) are not numbers of this workspace. Choose again."
            )
        if len(set(chosen)) > MAX_GRANT_INBOXES:
            raise ChoiceError(f"Choose at most {MAX_GRANT_INBOXES} inboxes one by one, or allow every inbox.")
        inboxes = tuple(chosen)
    elif fields.get("inboxes", "all") != "all":
        raise ChoiceError("Choose every inbox or the ones you tick.")
    try:
        send = SendRule(fields.get("send", SendRule.CONFIRM))
    except ValueError:
        raise ChoiceError("Choose how the assistant may send.") from None
    limit = DEFAULT_DAILY_LIMIT
    if send is SendRule.ALLOWANCE:
        text = fields.get("daily_limit", "").strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 4 and 1 <= int(text) <= MAX_DAILY_LIMIT):
            raise ChoiceError(
                f"The number of texts a day must be a whole number from 1 to {MAX_DAILY_LIMIT:,}."
            )
        limit = int(text)
    try:
        return Grant(
            inboxes=inboxes, send=send, daily_limit=limit, new_numbers=fields.get("new_numbers") == "yes"
        )
    except ValidationError:
        raise ChoiceError("These choices cannot be granted. Choose again.") from None
