"""A real gateway in sandbox mode, for the authorization server's tests, and a scripted user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gateway.app import create_app
from tests.conftest import LiveServer, free_port, make_settings, serve
from tests.toolkit import Probe


@pytest.fixture(scope="session")
def oauth_server() -> Iterator[LiveServer]:
    settings = make_settings(free_port(), sandbox=True, oauth_rate_limit=10_000)
    for _ in serve(create_app(settings), settings.port):
        yield LiveServer(settings.public_url, Probe(), settings)


@pytest.fixture
async def web(oauth_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client: keeps cookies, does not follow redirects."""
    async with httpx.AsyncClient(base_url=oauth_server.url, timeout=10, follow_redirects=False) as client:
        yield client
