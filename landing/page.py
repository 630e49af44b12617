"""`GET {public_path}/`: the developer landing page, and `{public_path}/static` for its CSS and JS.

The page is rendered per request only to carry a fresh CSP nonce (for the small inline script that
sets the theme before first paint); its content is computed once, for the first page, and
`landing.content` loads with it: a start (and every request that is not a page) does without both.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from typing import TYPE_CHECKING, Final

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.settings import Settings
from landing.templating import STATIC_DIR, Templates, static_url
from tools.registry import ToolRegistry

if TYPE_CHECKING:
    from landing.content import LandingContent

NONCE_BYTES: Final = 16
_TEMPLATES: Final = Templates()


def page_headers(nonce: str) -> dict[str, str]:
    """Scripts and styles only from this origin or with this response's nonce; nothing else loads.

    `no-cache` (not `no-store`): the page holds no secret, but each copy carries its own nonce, so
    a browser must revalidate rather than reuse one.
    """
    policy = (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    return {"content-security-policy": policy, "cache-control": "no-cache"}


class LandingPage:
    """The landing page of one gateway: content fixed once made, a nonce per response."""

    def __init__(self, settings: Settings, registry: ToolRegistry) -> None:
        self._settings = settings
        self._registry = registry
        self._static = static_url(settings.public_path)
        self._home = f"{settings.public_path}/"

    @cached_property
    def _content(self) -> LandingContent:
        from landing.content import landing_content

        return landing_content(self._settings, self._registry)

    async def respond(self, request: Request) -> HTMLResponse:
        nonce = secrets.token_urlsafe(NONCE_BYTES)
        html = _TEMPLATES.get("landing.html").render(
            nonce=nonce, static=self._static, home=self._home, page=self._content
        )
        return HTMLResponse(html, headers=page_headers(nonce))


def landing_routes(settings: Settings, registry: ToolRegistry) -> list[BaseRoute]:
    """The landing page and its static files, under PUBLIC_URL's path."""
    page = LandingPage(settings, registry)
    prefix = settings.public_path
    return [
        Route(f"{prefix}/", page.respond, methods=["GET"]),
        Mount(static_url(prefix), app=StaticFiles(directory=STATIC_DIR), name="landing-static"),
    ]
