"""Phone numbers normalised to E.164, and inbox references (`tools/phone.py`)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from tools.phone import InboxRef, PhoneNumber, is_inbox_id, is_known_region, to_e164

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
TOO_LONG = "is too long to be a phone number"
NOT_VALID = "is not a valid phone number for its country (check the digits and country code)"
BEYOND_E164 = "is longer than the 15 digits E.164 allows"


def _not_a_number(region: str) -> str:
    return f"is not a phone number; use E.164 such as +14155550123 (national numbers are read as {region})"


class Message(BaseModel):
    to: PhoneNumber
    inbox: InboxRef


def _validate(to: str, inbox: str = "PNlja6rrtI", region: str | None = "GB") -> Message:
    context = None if region is None else {"region": region}
    return Message.model_validate({"to": to, "inbox": inbox}, context=context)


# to_e164


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        pytest.param("(415) 555-0123", "US", "+14155550123", id="us-national-in-us"),
        pytest.param("415.555.0123", "US", "+14155550123", id="us-dotted"),
        pytest.param("1 415 555 0123", "US", "+14155550123", id="us-trunk-prefix"),
        pytest.param("020 7946 0958", "GB", "+442079460958", id="gb-national-in-gb"),
        pytest.param("07911 123456", "GB", "+447911123456", id="gb-mobile-in-gb"),
        pytest.param("+44 20 7946 0958", "US", "+442079460958", id="international-ignores-region"),
        pytest.param("+1 (415) 555-0123", "GB", "+14155550123", id="us-international-in-gb"),
        pytest.param("+14155550123", "US", "+14155550123", id="already-e164"),
        pytest.param("  +14155550123\t", "US", "+14155550123", id="surrounding-whitespace"),
    ],
)
def test_a_number_is_normalised_to_e164(text: str, region: str, expected: str) -> None:
    assert to_e164(text, region) == expected


def test_the_default_region_is_us() -> None:
    assert to_e164("(415) 555-0123") == "+14155550123"


@pytest.mark.parametrize(
    ("text", "region"),
    [
        pytest.param("020 7946 0958", "US", id="gb-national-read-as-us"),
        pytest.param("(415) 555-0123", "GB", id="us-national-read-as-gb"),
        pytest.param("12", "US", id="too-few-digits"),
        pytest.param("+1 415 555 012", "US", id="one-digit-short"),
    ],
)
def test_a_number_outside_the_numbering_plan_is_rejected(text: str, region: str) -> None:
    with pytest.raises(ValueError, match=re.escape(NOT_VALID)):
        to_e164(text, region)


@pytest.mark.parametrize(
    ("text", "region"),
    [
        pytest.param("call me", "US", id="words"),
        pytest.param("", "GB", id="empty"),
        pytest.param("4155550123", "ZZ", id="national-in-unknown-region"),
        pytest.param("+999 1234 5678", "US", id="unassigned-country-code"),
    ],
)
def test_text_that_is_not_a_number_is_rejected_naming_the_region(text: str, region: str) -> None:
    with pytest.raises(ValueError, match=re.escape(_not_a_number(region))):
        to_e164(text, region)


def test_input_longer_than_forty_characters_is_rejected_as_too_long() -> None:
    with pytest.raises(ValueError, match=re.escape(TOO_LONG)):
        to_e164("+1 415 555 0123" + " " * 26)


def _outcome(text: str, region: str) -> tuple[str | None, str | None]:
    """`(e164, None)` when `to_e164` accepts `text`, `(None, message)` when it raises ValueError."""
    try:
        return to_e164(text, region), None
    except ValueError as exc:
        return None, str(exc)


@given(text=st.text(max_size=60), region=st.sampled_from(["US", "GB"]))
def test_to_e164_gives_e164_or_a_fixed_message_that_cannot_repeat_the_input(text: str, region: str) -> None:
    result, message = _outcome(text, region)
    if result is None:
        assert message in {TOO_LONG, NOT_VALID, BEYOND_E164, _not_a_number(region)}
    else:
        assert E164.fullmatch(result)


@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=13), region=st.sampled_from(["US", "GB"]))
def test_national_digits_give_e164_or_a_fixed_message(digits: str, region: str) -> None:
    result, message = _outcome(digits, region)
    if result is None:
        assert message in {NOT_VALID, BEYOND_E164, _not_a_number(region)}
    else:
        assert E164.fullmatch(result)


def test_a_number_longer_than_fifteen_digits_is_rejected() -> None:
    """phonenumbers accepts this 16-digit German number; E.164 (and OpenPhone) allow at most 15."""
    with pytest.raises(ValueError, match=BEYOND_E164):
        to_e164("+49 201 00000000000", "US")


# PhoneNumber and InboxRef in a model


def test_a_national_number_is_read_in_the_region_from_the_validation_context() -> None:
    assert _validate(to="020 7946 0958", region="GB").to == "+442079460958"


def test_the_same_national_number_is_read_differently_in_another_region() -> None:
    assert _validate(to="(415) 555-0123", region="US").to == "+14155550123"


def test_without_a_region_in_context_national_numbers_are_read_as_us() -> None:
    assert _validate(to="(415) 555-0123", region=None).to == "+14155550123"


def test_a_number_invalid_in_the_context_region_fails_validation_with_the_plan_message() -> None:
    with pytest.raises(ValidationError) as caught:
        _validate(to="(415) 555-0123", region="GB")
    assert [(e["loc"], e["msg"]) for e in caught.value.errors()] == [(("to",), f"Value error, {NOT_VALID}")]


def test_surrounding_whitespace_is_stripped_before_validation() -> None:
    assert _validate(to="  020 7946 0958\n", inbox=" PNlja6rrtI ").model_dump() == {
        "to": "+442079460958",
        "inbox": "PNlja6rrtI",
    }


@pytest.mark.parametrize("inbox_id", ["PNlja6rrtI", "PN0123456789abcdefABCDEF", "PNx"])
def test_a_phone_number_id_passes_through_inbox_ref_unchanged(inbox_id: str) -> None:
    assert _validate(to="+14155550123", inbox=inbox_id).inbox == inbox_id


def test_an_inbox_given_as_a_national_number_is_normalised_in_the_context_region() -> None:
    assert _validate(to="+14155550123", inbox="07911 123456", region="GB").inbox == "+447911123456"


@pytest.mark.parametrize("inbox", ["PN", "PN-lja6", "pnlja6rrtI", "inbox"])
def test_an_inbox_that_is_neither_an_id_nor_a_number_fails_validation(inbox: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _validate(to="+14155550123", inbox=inbox)
    assert [e["loc"] for e in caught.value.errors()] == [("inbox",)]


def test_a_phone_number_longer_than_forty_characters_fails_validation_before_parsing() -> None:
    with pytest.raises(ValidationError) as caught:
        _validate(to="1" * 41)
    assert [(e["type"], e["loc"]) for e in caught.value.errors()] == [("string_too_long", ("to",))]


def test_a_one_character_phone_number_fails_validation() -> None:
    with pytest.raises(ValidationError) as caught:
        _validate(to="1")
    assert [(e["type"], e["loc"]) for e in caught.value.errors()] == [("string_too_short", ("to",))]


# helpers


@pytest.mark.parametrize(
    ("inbox", "expected"),
    [("PNlja6rrtI", True), ("+14155550100", False), ("PN", False), ("PN lja6", False)],
)
def test_is_inbox_id_tells_an_id_from_a_number(inbox: str, expected: bool) -> None:
    assert is_inbox_id(inbox) is expected


@pytest.mark.parametrize(("region", "expected"), [("GB", True), ("US", True), ("ZZ", False), ("gb", False)])
def test_is_known_region_accepts_only_numbering_plan_regions(region: str, expected: bool) -> None:
    assert is_known_region(region) is expected
