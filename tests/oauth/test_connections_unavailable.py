"""The "Connected apps" page when Redis cannot be reached (issue 25): it says so, and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.app import create_app
from tests.conftest import free_port, make_settings, serve
from tests.oauth.connections_flow import family_of, post, status_with, unlock
from tests.oauth.flow import tokens_for
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio


@pytest.fixture
async def web(redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(free_port(), sandbox=True, oauth_rate_limit=10_000, redis_url=redis_url)
    for url in serve(create_app(settings), settings.port):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            yield client


async def test_the_page_answers_503_when_it_cannot_list(
    web: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    await tokens_for(web, client_name="Listed app")
    redis_server.stop()
    page = await unlock(web)
    assert (page.status_code, page.headers["retry-after"]) == (503, "2")
    assert "The connected apps cannot be listed right now. Wait a moment and try again." in page.text


async def test_a_disconnect_fails_closed_when_redis_is_unreachable(
    web: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    _, tokens = await tokens_for(web, client_name="Kept app")
    page = await unlock(web)
    redis_server.stop()
    refused = await post(web, page, action="confirm", family=family_of(page, "Kept app"))
    assert refused.status_code == 503
    assert "Nothing could be disconnected right now: the sign-in still works." in refused.text
    assert await status_with(web, tokens["access_token"]) == 200
