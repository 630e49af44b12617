"""A person at the gateway's confirmation page, through a real HTTP client (no browser needed)."""

from __future__ import annotations

import re
from typing import Final

import httpx

from tools.sandbox import SANDBOX_API_KEY

_CSRF: Final = re.compile(r'<input type="hidden" name="csrf" value="([^"]*)">')
LINK: Final = re.compile(r"https?://\S+/confirm/[A-Za-z0-9_-]+")


def link_in(text: str) -> str:
    """The confirmation page's link in a held send's answer."""
    found = LINK.search(text)
    assert found is not None, text
    return found.group(0)


async def decide_on_page(
    link: str, action: str = "send", api_key: str | None = SANDBOX_API_KEY
) -> httpx.Response:
    """Open the page, then press Send (or Cancel) with the key typed again; the page's answer."""
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(link)
        assert page.status_code == 200, page.text
        form = {"csrf": csrf_of(page.text), "action": action}
        if api_key is not None:
            form["api_key"] = api_key
        return await browser.post(link, data=form)


def csrf_of(html: str) -> str:
    """The CSRF token a confirmation page's form carries."""
    found = _CSRF.search(html)
    assert found is not None
    return found.group(1)
