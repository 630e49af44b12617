"""Undo for contact writes (issue 25): a sealed, single-use token that reverses one change for 5 minutes.

`create-contact`, `update-contact` and `delete-contact` return an `undoToken`: what to restore (the
fields read just before the write, or the whole contact before a delete), the contact's `updatedAt`
after the write, the credential that made it and when it expires, encrypted and authenticated (JWE
`dir` + `A256GCM` under a subkey of `SECRET_KEYS` of its own), so the model sees an opaque string and
nothing it can edit. `undo-contact-change` opens it, checks it in an order that changes nothing on a
refusal, and spends it once through the token store's `spend_once` (on Redis: once across machines).
Messages cannot be unsent: only contact writes have an undo.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, Literal

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from pydantic import BaseModel, ConfigDict, ValidationError

from tools.errors import UndoRefused
from tools.resources import Contact

UNDO_SECONDS: Final = 300
AUDIT_ID_BYTES: Final = 9
_JTI_BYTES: Final = 16
_REGISTRY: Final = jwe.JWERegistry(algorithms=["dir", "A256GCM"])
# Far above the largest contact the tools accept (20 emails, 20 numbers, 50 custom fields).
MAX_UNDO_TOKEN_CHARS: Final = 65_536

Change = Literal["created", "updated", "deleted"]
# Spend a name once for `ttl` seconds; raises UndoRefused(UNAVAILABLE) when the store is unreachable.
SpendOnce = Callable[[str, float], Awaitable[bool]]


class UndoCode(StrEnum):
    """Why an undo was refused; each is a distinct code in the tool error."""

    INVALID = "undo_token_invalid"  # not a token this server sealed, or altered
    EXPIRED = "undo_token_expired"
    FOREIGN = "undo_token_foreign"  # made with another credential
    USED = "undo_token_used"
    CHANGED = "contact_changed_since"
    UNAVAILABLE = "undo_unavailable"  # the store cannot be reached: try again


class UndoRecord(BaseModel):
    """The sealed content of an undo token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    change: Change
    contact_id: str
    restore: dict[str, Any] | None
    updated_at: str | None
    credential: str
    exp: int
    jti: str
    audit_id: str


class UndoReceipt(BaseModel):
    """What a contact write adds to its result."""

    undo_token: str
    undo_expires_at: str
    audit_id: str


def new_audit_id() -> str:
    return "au_" + secrets.token_urlsafe(AUDIT_ID_BYTES)


def restore_changed(before: Contact, update: dict[str, Any], clear_custom: Iterable[str]) -> dict[str, Any]:
    """The update body that puts back only what `update` changed, as `before` had it.

    An update changes only the fields it names, so its undo needs only those: the token stays small
    (it rides in the answer twice, within the size budget clients accept: tools/budget.py).
    """
    whole = restore_body(before, clear_custom=clear_custom)
    body: dict[str, Any] = {key: whole[key] for key in ("customFields", "externalId") if key in update}
    if "defaultFields" in update:
        named = update["defaultFields"]
        body["defaultFields"] = {key: value for key, value in whole["defaultFields"].items() if key in named}
    return body


def restore_body(
    contact: Contact, *, clear_custom: Iterable[str] = (), for_create: bool = False
) -> dict[str, Any]:
    """The create or update body that puts `contact`'s fields back; `clear_custom` keys are emptied."""
    fields = contact.default_fields
    default_fields: dict[str, Any] = {
        "firstName": fields.first_name,
        "lastName": fields.last_name,
        "company": fields.company,
        "role": fields.role,
        "emails": [{"name": item.name, "value": item.value} for item in fields.emails if item.value],
        "phoneNumbers": [
            {"name": item.name, "value": item.value} for item in fields.phone_numbers if item.value
        ],
    }
    custom = [{"key": item.key, "value": item.value} for item in contact.custom_fields if item.key]
    custom += [{"key": key, "value": None} for key in clear_custom]
    body: dict[str, Any] = {"defaultFields": default_fields, "customFields": custom}
    if for_create:
        body["defaultFields"] = {key: value for key, value in default_fields.items() if value is not None}
        body.update({key: value for key, value in (("externalId", contact.external_id),) if value})
    else:
        body["externalId"] = contact.external_id
    return body


class UndoBook:
    """Seals undo tokens for one server and redeems them once."""

    def __init__(
        self, ring: tuple[bytes, ...], spend_once: SpendOnce, clock: Callable[[], float] = time.time
    ) -> None:
        """`ring`: the subkeys (current first) derived for this purpose from `SECRET_KEYS`."""
        self._keys = [OctKey.import_key(raw) for raw in ring]
        self._spend_once = spend_once
        self._clock = clock

    def issue(
        self,
        change: Change,
        contact_id: str,
        restore: dict[str, Any] | None,
        updated_at: str | None,
        credential: str,
    ) -> UndoReceipt:
        """The receipt of a change just made by `credential`."""
        expires = int(self._clock() + UNDO_SECONDS)
        record = UndoRecord(
            change=change,
            contact_id=contact_id,
            restore=restore,
            updated_at=updated_at,
            credential=credential,
            exp=expires,
            jti=secrets.token_urlsafe(_JTI_BYTES),
            audit_id=new_audit_id(),
        )
        header = {"alg": "dir", "enc": "A256GCM"}
        token = jwe.encrypt_compact(header, record.model_dump_json(), self._keys[0], registry=_REGISTRY)
        at = datetime.fromtimestamp(expires, UTC).isoformat().replace("+00:00", "Z")
        return UndoReceipt(undo_token=token, undo_expires_at=at, audit_id=record.audit_id)

    def open(self, token: str, credential: str) -> UndoRecord:
        """The record of a token made by `credential` and not expired; UndoRefused otherwise."""
        record = self._decrypt(token)
        if self._clock() >= record.exp:
            raise UndoRefused(UndoCode.EXPIRED, "This undo token has expired (undo lasts 5 minutes).")
        if not hmac.compare_digest(record.credential.encode(), credential.encode()):
            raise UndoRefused(UndoCode.FOREIGN, "This undo token was made by another connection or key.")
        return record

    async def spend(self, record: UndoRecord) -> None:
        """Mark the token used; UndoRefused(USED) if it already was."""
        if not await self._spend_once(f"undo:{record.jti}", UNDO_SECONDS + 1):
            raise UndoRefused(UndoCode.USED, "This undo token was already used.")

    def _decrypt(self, token: str) -> UndoRecord:
        if len(token) > MAX_UNDO_TOKEN_CHARS:
            raise UndoRefused(UndoCode.INVALID, "This undo token is not valid.")
        for key in self._keys:
            try:
                plaintext = jwe.decrypt_compact(token, key, registry=_REGISTRY).plaintext
                return UndoRecord.model_validate_json(plaintext or b"")
            except (JoseError, ValueError, ValidationError):
                continue
        raise UndoRefused(
            UndoCode.INVALID, "This undo token is not valid (altered, or not from this server)."
        )
