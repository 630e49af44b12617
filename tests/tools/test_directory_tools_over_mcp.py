"""list-users, get-user and get-phone-number through the official SDK client, every transport, against
the sandbox: the members with their inboxes, one inbox by id or number, and each error path."""

from __future__ import annotations

import pytest

from tests.conftest import LiveServer
from tests.tools.test_tools_over_mcp import call, failed, ok
from tools.sandbox import SandboxState
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

HTTP = ("streamable", "legacy")
MAIN = {"id": seed.MAIN_LINE_ID, "number": seed.MAIN_LINE_NUMBER, "name": "Main line"}
SUPPORT = {"id": seed.SUPPORT_LINE_ID, "number": seed.SUPPORT_LINE_NUMBER, "name": "Support"}


async def test_list_users_with_roles_emails_and_inboxes(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    result = ok(await call(tool_server, transport, "list-users", {}))
    assert [(u["id"], u["email"], u["role"], u["inboxes"]) for u in result["users"]] == [
        (seed.OWNER_USER_ID, "avery@sandbox.test", "owner", [MAIN, SUPPORT]),
        (seed.AGENT_USER_ID, "sam@sandbox.test", "member", [MAIN]),
        (seed.ADMIN_USER_ID, "riley@sandbox.test", "admin", []),
    ]
    assert result["nextPageToken"] is None


async def test_list_users_pages(tool_server: LiveServer, sandbox: SandboxState) -> None:
    first = ok(await call(tool_server, HTTP, "list-users", {"maxResults": 2}))
    rest = ok(
        await call(tool_server, HTTP, "list-users", {"maxResults": 2, "pageToken": first["nextPageToken"]})
    )
    assert [u["id"] for u in first["users"] + rest["users"]] == [
        seed.OWNER_USER_ID,
        seed.AGENT_USER_ID,
        seed.ADMIN_USER_ID,
    ]
    assert rest["nextPageToken"] is None


async def test_get_user_in_full(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    assert ok(await call(tool_server, transport, "get-user", {"userId": seed.AGENT_USER_ID})) == {
        "id": seed.AGENT_USER_ID,
        "email": "sam@sandbox.test",
        "firstName": "Sam",
        "lastName": "Lee",
        "role": "member",
        "pictureUrl": None,
        "createdAt": "2026-10-01T09:00:00.000Z",
        "updatedAt": "2026-10-01T09:00:00.000Z",
        "inboxes": [MAIN],
    }


async def test_the_inboxes_come_from_the_cached_phone_number_list(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    """list-phone-numbers fills the per-key cache; the user tools read it instead of fetching again."""
    ok(await call(tool_server, HTTP, "list-phone-numbers", {}))
    ok(await call(tool_server, HTTP, "list-users", {}))
    ok(await call(tool_server, HTTP, "get-user", {"userId": seed.OWNER_USER_ID}))
    assert sandbox.requests == [
        ("GET", "/v1/phone-numbers"),
        ("GET", "/v1/users"),
        ("GET", f"/v1/users/{seed.OWNER_USER_ID}"),
    ]


async def test_an_unknown_user_is_an_error(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    message = failed(await call(tool_server, transport, "get-user", {"userId": "USnobody"}))
    assert message.startswith("OpenPhone found nothing with that id: User not found.")


async def test_a_user_id_must_look_like_one(tool_server: LiveServer, sandbox: SandboxState) -> None:
    message = failed(await call(tool_server, HTTP, "get-user", {"userId": "sam"}))
    assert message == (
        "Invalid arguments: userId: String should match pattern '^US[A-Za-z0-9_-]+$' "
        "(string_pattern_mismatch)"
    )
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("inbox", "expected"),
    [
        pytest.param(seed.SUPPORT_LINE_ID, seed.SUPPORT_LINE_ID, id="by-id"),
        pytest.param("(415) 555-0199", seed.SUPPORT_LINE_ID, id="by-national-number"),
        pytest.param(seed.MAIN_LINE_NUMBER, seed.MAIN_LINE_ID, id="by-e164"),
    ],
)
async def test_get_phone_number(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState, inbox: str, expected: str
) -> None:
    number = ok(await call(tool_server, transport, "get-phone-number", {"inbox": inbox}))
    assert number["id"] == expected
    assert number["restrictions"]["messaging"] == {
        "CA": "unrestricted",
        "US": "unrestricted",
        "Intl": "restricted",
    }


async def test_get_phone_number_by_id_asks_openphone_for_that_number(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    ok(await call(tool_server, HTTP, "get-phone-number", {"inbox": seed.MAIN_LINE_ID}))
    assert sandbox.requests == [("GET", f"/v1/phone-numbers/{seed.MAIN_LINE_ID}")]


async def test_a_foreign_number_names_the_workspace_numbers(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    assert failed(await call(tool_server, transport, "get-phone-number", {"inbox": "+12025550123"})) == (
        "+12025550123 is not one of this workspace's OpenPhone numbers. Its numbers are: "
        f"{seed.MAIN_LINE_NUMBER} ({seed.MAIN_LINE_ID}), {seed.SUPPORT_LINE_NUMBER} ({seed.SUPPORT_LINE_ID})."
    )


async def test_an_unknown_inbox_id_is_an_error(tool_server: LiveServer, sandbox: SandboxState) -> None:
    message = failed(await call(tool_server, HTTP, "get-phone-number", {"inbox": "PNelsewhere"}))
    assert message.startswith("OpenPhone found nothing with that id: Phone number not found.")
