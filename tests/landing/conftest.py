"""A real gateway in sandbox mode for the browser tests (the browser itself: tests/browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import free_port, make_settings, serve

SCREENSHOTS: Final = Path(__file__).resolve().parents[2] / "results" / "screenshots"


@dataclass
class Gateway:
    """The gateway under test: its base URL and settings."""

    url: str
    settings: Settings


@pytest.fixture(scope="session")
def gateway() -> Iterator[Gateway]:
    """One sandbox gateway for every browser test (rate limits raised: the tests sign in often)."""
    settings = make_settings(free_port(), sandbox=True, oauth_rate_limit=10_000)
    for url in serve(create_app(settings), settings.port):
        yield Gateway(url, settings)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the tests leave their screenshots (`results/` is ignored by git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
