"""The consent page's choices (oauth/choices.py): submitted fields to a grant, or a message for the page."""

from __future__ import annotations

import pytest

from oauth.choices import ChoiceError, parse_choices
from tools.grant import LEGACY_GRANT, Grant, SendRule

WORKSPACE = ["PNmain", "PNsupport"]


def test_the_defaults_are_every_inbox_and_ask_me() -> None:
    assert parse_choices([("inboxes", "all"), ("send", "confirm")], WORKSPACE) == LEGACY_GRANT


def test_chosen_inboxes_an_allowance_and_new_numbers_make_the_grant() -> None:
    fields = [
        ("inboxes", "chosen"),
        ("inbox", "PNsupport"),
        ("send", "allowance"),
        ("daily_limit", "250"),
        ("new_numbers", "yes"),
    ]
    assert parse_choices(fields, WORKSPACE) == Grant(
        inboxes=("PNsupport",), send=SendRule.ALLOWANCE, daily_limit=250, new_numbers=True
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([("inboxes", "chosen")], "Choose at least one inbox, or allow every inbox."),
        (
            [("inboxes", "chosen"), ("inbox", "PNelsewhere")],
            "1 chosen inbox(es) are not numbers of this workspace. Choose again.",
        ),
        ([("inboxes", "some")], "Choose every inbox or the ones you tick."),
        ([("send", "often")], "Choose how the assistant may send."),
        (
            [("send", "allowance"), ("daily_limit", "1001")],
            "The number of texts a day must be a whole number from 1 to 1,000.",
        ),
        (
            [("send", "allowance"), ("daily_limit", "9" * 5000)],
            "The number of texts a day must be a whole number from 1 to 1,000.",
        ),
        ([("send", "deny"), ("send", "allowance")], "The choices were not submitted as sent. Choose again."),
    ],
    ids=["no-inbox", "unknown-inbox", "bad-inboxes", "bad-rule", "limit-past-1000", "huge-limit", "repeated"],
)
def test_bad_choices_are_refused_with_a_message_for_the_page(
    fields: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ChoiceError) as caught:
        parse_choices(fields, WORKSPACE)
    assert str(caught.value) == message
