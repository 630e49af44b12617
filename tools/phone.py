"""Phone numbers: validated and normalised to E.164 with `phonenumbers`, and inbox references.

OpenPhone takes E.164 (`^\\+[1-9]\\d{1,14}$`) for `to` and `participants`, and either a `PN…` id or
E.164 for an inbox (openphone-api-notes.md §3.6). A person types numbers as they read them, so
national formats are read in a default region (the `DEFAULT_PHONE_REGION` setting, passed to
validation as pydantic context) and every number is checked against the numbering plan before it
reaches OpenPhone: a typo is caught here rather than sent to a stranger.

`phonenumbers` is imported by the first number checked, not at start-up: its import (every region's
numbering plan) took 15-20 ms of every start, and a start, `/healthz` and most requests check none.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from pydantic import AfterValidator, Field, ValidationInfo

DEFAULT_REGION: Final = "US"
# OpenPhone's own patterns: phone-number ids are `^PN(.*)$` (openapi-v1.json).
_INBOX_ID: Final = re.compile(r"PN[A-Za-z0-9]+")
E164: Final = re.compile(r"\+[1-9]\d{1,14}")
_MAX_INPUT: Final = 40


def is_known_region(region: str) -> bool:
    """Whether `region` is a region code `phonenumbers` has a numbering plan for."""
    import phonenumbers

    return region in phonenumbers.SUPPORTED_REGIONS


def to_e164(text: str, region: str = DEFAULT_REGION) -> str:
    """`text` as an E.164 number, or ValueError saying what is wrong (without repeating the input)."""
    if len(text) > _MAX_INPUT:
        raise ValueError("is too long to be a phone number")
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError(
            f"is not a phone number; use E.164 such as +14155550123 (national numbers are read as {region})"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number for its country (check the digits and country code)")
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not E164.fullmatch(formatted):
        raise ValueError("is longer than the 15 digits E.164 allows")
    return formatted


def _region(info: ValidationInfo) -> str:
    context: Any = info.context
    if isinstance(context, dict):
        region = context.get("region")
        if isinstance(region, str):
            return region
    return DEFAULT_REGION


def _phone(value: str, info: ValidationInfo) -> str:
    return to_e164(value.strip(), _region(info))


def _inbox(value: str, info: ValidationInfo) -> str:
    value = value.strip()
    if _INBOX_ID.fullmatch(value):
        return value
    return to_e164(value, _region(info))


def is_inbox_id(inbox: str) -> bool:
    """Whether a normalised inbox reference is a `PN…` id rather than an E.164 number."""
    return _INBOX_ID.fullmatch(inbox) is not None


PhoneNumber = Annotated[
    str,
    Field(
        min_length=2,
        max_length=_MAX_INPUT,
        description="A phone number, ideally E.164 such as +14155550123.",
    ),
    AfterValidator(_phone),
]
InboxRef = Annotated[
    str,
    Field(
        min_length=2,
        max_length=_MAX_INPUT,
        description="One of your OpenPhone numbers: its id (PN…) or the number itself, e.g. +14155550100.",
    ),
    AfterValidator(_inbox),
]
