"""What the person who connected an assistant let it do: the grant sealed in its tokens (claim `grd`).

Pure values, no I/O. A grant names the inboxes the assistant may use, how it may send (ask before
each send, a daily allowance counted in recipients, or never), and whether it may text numbers the
workspace has never been in touch with. It is chosen at consent and sealed in the authorization
code, then copied unchanged into every access and refresh token of that sign-in, so it needs no
server state and a refresh can never widen it. A direct key (key header, environment key) gets the
grant the operator configured (`SEND_POLICY`, `SEND_DAILY_LIMIT`).
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Final

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator


class SendRule(StrEnum):
    """How an assistant may send."""

    CONFIRM = "confirm"  # "ask me before each send" (the default)
    ALLOWANCE = "allowance"  # "send up to N texts a day without asking", N counted in recipients
    DENY = "deny"  # "never send"


DEFAULT_DAILY_LIMIT: Final = 20  # recipients per window
MAX_DAILY_LIMIT: Final = 1000  # recipients per window; also bounds the counter's entries per grant
# Inboxes a grant may name one by one (more: grant every inbox); bounds the sealed tokens' size.
MAX_GRANT_INBOXES: Final = 50
_INBOX_ID_CHARS: Final = 32  # OpenPhone ids are "PN" and 8 characters
_DIGEST_CHARS: Final = 16  # hex characters of the grant digest in access lines (64 bits)

# Each choice in one sentence, as the consent page and the landing page explain it.
INBOXES_SENTENCE: Final = (
    "The assistant sees and uses only the inboxes you pick here; every other number stays invisible to it."
)
SEND_SENTENCES: Final = {
    SendRule.CONFIRM: "Each text waits until you confirm it yourself, seeing the text and every recipient.",
    SendRule.ALLOWANCE: (
        "The assistant may text up to this many recipients in any 24 hours without asking; past that, "
        "nothing is sent."
    ),
    SendRule.DENY: "The assistant can read but can never send a text.",
}
NEW_NUMBERS_SENTENCE: Final = (
    "Unless you allow it, the assistant can text only numbers your inbox has already exchanged messages "
    "with, so a message it reads cannot make it text strangers."
)


class Grant(BaseModel):
    """One sign-in's choices. `inboxes` None means every inbox of the workspace."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    inboxes: tuple[str, ...] | None = Field(default=None, max_length=MAX_GRANT_INBOXES)
    send: SendRule = SendRule.CONFIRM
    daily_limit: int = Field(default=DEFAULT_DAILY_LIMIT, ge=1, le=MAX_DAILY_LIMIT)
    new_numbers: bool = False

    @field_validator("inboxes")
    @classmethod
    def _some_inbox(cls, inboxes: tuple[str, ...] | None) -> tuple[str, ...] | None:
        # Issue 23, "Bad input": a grant with no inbox is refused rather than silently useless.
        if inboxes is not None and not inboxes:
            raise ValueError("a grant must name at least one inbox")
        if inboxes is not None and any(not 0 < len(inbox) <= _INBOX_ID_CHARS for inbox in inboxes):
            raise ValueError(f"an inbox id has 1 to {_INBOX_ID_CHARS} characters")
        return None if inboxes is None else tuple(sorted(set(inboxes)))

    def allows_inbox(self, inbox_id: str) -> bool:
        """Whether the assistant may use the inbox (phone number id `PN…`)."""
        return self.inboxes is None or inbox_id in self.inboxes

    def describe_inboxes(self) -> str:
        """What was granted, for tool errors: 'every inbox' or the ids."""
        return "every inbox" if self.inboxes is None else ", ".join(self.inboxes)

    def digest(self) -> str:
        """A short, stable digest of the grant for access lines: equal grants, equal digests."""
        canonical = orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(canonical).hexdigest()[:_DIGEST_CHARS]


# Tokens sealed before grants existed: every inbox, ask before each send, no new numbers.
LEGACY_GRANT: Final = Grant()
