"""The steps of the "Connected apps" page, scripted over real HTTP against a live gateway."""

from __future__ import annotations

import re
from typing import Final

import httpx

from tools.sandbox import SANDBOX_API_KEY

_HIDDEN: Final = re.compile(r'<input type="hidden" name="(form|csrf|family)" value="([^"]*)">')
_NAMES: Final = re.compile(r'<h2 class="connection-name">([^<]*)</h2>')
_FAMILY: Final = re.compile(
    r'<li class="connection" data-family="([^"]*)">\s*<h2 class="connection-name">([^<]*)</h2>'
)
TOOLS_LIST: Final = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


def hidden(page: httpx.Response) -> dict[str, str]:
    """The sealed form and CSRF token of the page's first form."""
    fields: dict[str, str] = {}
    for name, value in _HIDDEN.findall(page.text):
        fields.setdefault(name, value)
    return fields


def names(page: httpx.Response) -> list[str]:
    """The client names the page lists, in order."""
    return _NAMES.findall(page.text)


def family_of(page: httpx.Response, client_name: str) -> str:
    families: dict[str, str] = {name: family for family, name in _FAMILY.findall(page.text)}
    return families[client_name]


async def post(web: httpx.AsyncClient, page: httpx.Response, **fields: str) -> httpx.Response:
    """Submit a form of `page` (its sealed form and CSRF token) with `fields`."""
    form = hidden(page)
    return await web.post("/connections", data={"form": form["form"], "csrf": form["csrf"], **fields})


async def unlock(web: httpx.AsyncClient, api_key: str = SANDBOX_API_KEY) -> httpx.Response:
    """Open the page and prove the key: the list of sign-ins."""
    return await post(web, await web.get("/connections"), api_key=api_key, action="list")


async def status_with(web: httpx.AsyncClient, access_token: str) -> int:
    headers = {"authorization": f"Bearer {access_token}", "accept": "application/json"}
    return (await web.post("/mcp", json=TOOLS_LIST, headers=headers)).status_code
