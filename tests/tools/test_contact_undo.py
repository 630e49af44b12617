"""Undo of contact writes over the official SDK client (issue 25): once, by the credential that made
the change, within 5 minutes, and only while the contact is as the change left it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import httpx
import pytest

from gateway.app import create_app
from tests.conftest import LiveServer, free_port, make_settings, serve
from tests.oauth.flow import tokens_for
from tests.redis_server import RedisServer
from tests.spec_check import SpecCheck
from tests.toolkit import Probe
from tests.tools.test_tools_over_mcp import call, failed, ok
from tools.sandbox import SandboxState
from tools.sandbox import data as seed
from tools.undo import UNDO_SECONDS, UndoCode

pytestmark = pytest.mark.anyio

STREAMABLE: Final = ("streamable", "legacy")
WRITES: Final = ("created", "updated", "deleted")


class Clock:
    """The undo clock of the server under test, moved by the expiry test."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        import time

        return time.time() + self.offset


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def undo_server(spec: SpecCheck, clock: Clock) -> Iterator[LiveServer]:
    settings = make_settings(free_port(), sandbox=True, oauth_rate_limit=10_000)
    for _ in serve(create_app(settings, upstream=spec, clock=clock), settings.port):
        yield LiveServer(settings.public_url, Probe(), settings)


async def _write(server: LiveServer, change: str) -> dict[str, Any]:
    """Make one contact change of kind `change` on the seeded contact (or a new one)."""
    if change == "created":
        return ok(
            await call(server, STREAMABLE, "create-contact", {"firstName": "Undo", "company": "New Co"})
        )
    if change == "updated":
        arguments = {"id": seed.CONTACT_PRIYA_ID, "company": "After Co", "role": "Owner"}
        return ok(await call(server, STREAMABLE, "update-contact", arguments))
    return ok(await call(server, STREAMABLE, "delete-contact", {"id": seed.CONTACT_PRIYA_ID}))


async def _undo(server: LiveServer, token: str, **headers: str) -> Any:
    return await call(server, STREAMABLE, "undo-contact-change", {"undoToken": token}, **headers)


def _code(message: str) -> str:
    return message.rsplit("(code: ", 1)[1].rstrip(")")


def _contacts(sandbox: SandboxState) -> dict[str, Any]:
    return {contact_id: dict(contact["defaultFields"]) for contact_id, contact in sandbox.contacts.items()}


@pytest.mark.parametrize("change", WRITES)
async def test_a_write_returns_an_undo_that_expires_in_five_minutes(
    undo_server: LiveServer, sandbox: SandboxState, change: str
) -> None:
    result = await _write(undo_server, change)
    assert (result["undoToken"][:3], result["auditId"][:3], result["undoExpiresAt"][-1]) == (
        "eyJ",
        "au_",
        "Z",
    )


async def test_undoing_a_creation_deletes_the_contact(undo_server: LiveServer, sandbox: SandboxState) -> None:
    created = await _write(undo_server, "created")
    undone = ok(await _undo(undo_server, created["undoToken"]))
    assert (undone["contactId"], created["id"] in sandbox.contacts) == (None, False)


async def test_undoing_an_update_restores_the_fields_read_before_it(
    undo_server: LiveServer, sandbox: SandboxState
) -> None:
    before = dict(sandbox.contacts[seed.CONTACT_PRIYA_ID]["defaultFields"])
    updated = await _write(undo_server, "updated")
    ok(await _undo(undo_server, updated["undoToken"]))
    assert sandbox.contacts[seed.CONTACT_PRIYA_ID]["defaultFields"] == before


async def test_undoing_a_delete_creates_the_contact_again_under_a_new_id(
    undo_server: LiveServer, sandbox: SandboxState
) -> None:
    before = sandbox.contacts[seed.CONTACT_PRIYA_ID]["defaultFields"]
    names = (before["firstName"], before["lastName"], before["company"])
    deleted = await _write(undo_server, "deleted")
    undone = ok(await _undo(undo_server, deleted["undoToken"]))
    again = sandbox.contacts[undone["contactId"]]["defaultFields"]
    assert (
        undone["contactId"] != seed.CONTACT_PRIYA_ID,
        (again["firstName"], again["lastName"], again["company"]),
    ) == (
        True,
        names,
    )


@pytest.mark.parametrize("change", WRITES)
async def test_a_second_undo_with_the_same_token_is_refused(
    undo_server: LiveServer, sandbox: SandboxState, change: str
) -> None:
    token = (await _write(undo_server, change))["undoToken"]
    ok(await _undo(undo_server, token))
    after_first = _contacts(sandbox)
    message = failed(await _undo(undo_server, token))
    assert (_code(message), _contacts(sandbox)) == (UndoCode.USED, after_first)


@pytest.mark.parametrize("change", WRITES)
async def test_an_undo_by_another_credential_is_refused(
    undo_server: LiveServer, sandbox: SandboxState, change: str
) -> None:
    token = (await _write(undo_server, change))["undoToken"]
    async with httpx.AsyncClient(base_url=undo_server.url, timeout=10) as web:
        _, tokens = await tokens_for(web)
    before = _contacts(sandbox)
    message = failed(await _undo(undo_server, token, authorization=f"Bearer {tokens['access_token']}"))
    assert (_code(message), _contacts(sandbox)) == (UndoCode.FOREIGN, before)


@pytest.mark.parametrize("change", WRITES)
async def test_a_tampered_undo_token_is_refused(
    undo_server: LiveServer, sandbox: SandboxState, change: str
) -> None:
    token = (await _write(undo_server, change))["undoToken"]
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    before = _contacts(sandbox)
    message = failed(await _undo(undo_server, tampered))
    assert (_code(message), _contacts(sandbox)) == (UndoCode.INVALID, before)


@pytest.mark.parametrize("change", WRITES)
async def test_an_expired_undo_token_is_refused(
    undo_server: LiveServer, sandbox: SandboxState, clock: Clock, change: str
) -> None:
    token = (await _write(undo_server, change))["undoToken"]
    before = _contacts(sandbox)
    clock.offset = UNDO_SECONDS + 1
    try:
        message = failed(await _undo(undo_server, token))
    finally:
        clock.offset = 0.0
    assert (_code(message), _contacts(sandbox)) == (UndoCode.EXPIRED, before)


@pytest.mark.parametrize("change", ["created", "updated"])
async def test_an_undo_after_the_contact_changed_again_is_refused(
    undo_server: LiveServer, sandbox: SandboxState, change: str
) -> None:
    result = await _write(undo_server, change)
    ok(await call(undo_server, STREAMABLE, "update-contact", {"id": result["id"], "role": "Changed since"}))
    before = _contacts(sandbox)
    message = failed(await _undo(undo_server, result["undoToken"]))
    assert (_code(message), _contacts(sandbox)) == (UndoCode.CHANGED, before)


async def test_an_undo_while_the_store_is_unreachable_is_refused_as_retryable(
    spec: SpecCheck, sandbox: SandboxState, redis_url: str, redis_server: RedisServer
) -> None:
    settings = make_settings(free_port(), sandbox=True, redis_url=redis_url)
    for _ in serve(create_app(settings, upstream=spec), settings.port):
        server = LiveServer(settings.public_url, Probe(), settings)
        created = await _write(server, "created")
        redis_server.stop()
        message = failed(await _undo(server, created["undoToken"]))
        assert (_code(message), created["id"] in sandbox.contacts) == (UndoCode.UNAVAILABLE, True)
