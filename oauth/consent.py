"""The consent page: who is asking, for what, the user's API key, then what the assistant may do.

The page is the only place a user's OpenPhone key is typed. It is never cached, never framed, has no
CORS, runs only this server's own script (the theme toggle it shares with the landing page, from
`landing/`), and its form may post only here and be redirected only to the client's verified
redirect URI (`form-action`, which browsers also apply to the redirect after the post).

CSRF: a random token is set as a SameSite=Strict, HttpOnly cookie, repeated in the form, and sealed
into the signed request as its `jti`; a submission must carry all three, equal (constant time).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse

from gateway.edge.auth import MAX_API_KEY_CHARS, is_api_key_shaped
from gateway.keys import ServerKeys
from landing.templating import Templates, static_url
from oauth.choices import ChoicesView
from oauth.registration import RegisteredClient
from tools.api import OpenPhone
from tools.errors import OpenPhoneError
from tools.resources import PhoneNumber
from tools.scopes import OPTIONAL_SCOPES, SCOPES

CSRF_COOKIE: Final = "openphone_mcp_consent"
CONSENT_SECONDS: Final = 600
_TEMPLATES: Final = Templates(Path(__file__).parent / "templates")


@dataclass(frozen=True, slots=True)
class ScopeChoice:
    name: str
    description: str
    optional: bool


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(cookie: str | None, form: str | None, sealed: str) -> bool:
    """All three copies of the token are present and equal (compared in constant time)."""
    if not cookie or not form:
        return False
    return hmac.compare_digest(cookie, form) & hmac.compare_digest(form, sealed)


class KeyProblem(Exception):
    """The pasted key cannot be used; the message tells the person what to do."""


async def read_numbers(openphone: OpenPhone, keys: ServerKeys, api_key: str) -> list[PhoneNumber]:
    """The key's numbers (GET /v1/phone-numbers), which also checks the key. Raises KeyProblem.

    The consent page and the connections page (issue 25) ask for the key the same way, and answer a
    wrong one with the same words."""
    if not is_api_key_shaped(api_key):
        raise KeyProblem("Paste your OpenPhone API key (OpenPhone: Settings > API).")
    api = openphone.for_key(api_key, keys.fingerprint(api_key))
    try:
        return await api.list_phone_numbers()
    except OpenPhoneError as exc:
        if exc.status in (401, 403):
            raise KeyProblem("OpenPhone rejected this API key. Check it and paste it again.") from None
        raise KeyProblem(
            "OpenPhone could not be reached to check the key. Wait a moment and try again."
        ) from None


async def check_key(openphone: OpenPhone, keys: ServerKeys, api_key: str) -> str | None:
    """None when OpenPhone accepts the key, else what to tell the person (`read_numbers`)."""
    try:
        await read_numbers(openphone, keys, api_key)
    except KeyProblem as problem:
        return str(problem)
    return None


def scope_choices(scopes: tuple[str, ...]) -> list[ScopeChoice]:
    """Most read scopes are part of connecting; the user may untick those in OPTIONAL_SCOPES."""
    return [ScopeChoice(name, SCOPES[name], optional=name in OPTIONAL_SCOPES) for name in scopes]


def page_headers(nonce: str, redirect_uri: str | None) -> dict[str, str]:
    """No caching, no referrer, and a CSP that allows only this server's style and script.

    nosniff and `X-Frame-Options` come with every response from `gateway.edge.security_headers`.
    """
    form_action = "'self'"
    if redirect_uri is not None:
        parts = urlsplit(redirect_uri)
        form_action += f" {parts.scheme}://{parts.netloc}"
    policy = (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' data:; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )
    return {
        "cache-control": "no-store",
        "pragma": "no-cache",
        "content-security-policy": policy,
        "referrer-policy": "no-referrer",
    }


@dataclass(frozen=True, slots=True)
class FormPage:
    """What every step of the consent form carries: where it posts, for whom, and its single-use request."""

    action: str
    client: RegisteredClient
    redirect_uri: str
    request_token: str
    csrf: str
    error: str | None = None
    status_code: int = 200


class ConsentPages:
    """Renders the consent and error pages for a site served under `public_path`."""

    def __init__(self, public_path: str) -> None:
        self._site = {
            "static": static_url(public_path),
            "home": f"{public_path}/",
            "connections_url": f"{public_path}/connections",
        }

    def consent(self, form: FormPage, scopes: tuple[str, ...]) -> HTMLResponse:
        """The first step: who is asking, the scopes, and the key."""
        return self._form("consent.html", form, scopes=scope_choices(scopes), max_key_chars=MAX_API_KEY_CHARS)

    def choices(self, form: FormPage, view: ChoicesView) -> HTMLResponse:
        """The second step: the workspace's inboxes and the send choices (`oauth.choices`)."""
        return self._form("consent_choices.html", form, view=view)

    def _form(self, template: str, form: FormPage, **context: object) -> HTMLResponse:
        return self.render(
            template,
            form.status_code,
            form.redirect_uri,
            action=form.action,
            client_name=form.client.display_name,
            redirect_host=urlsplit(form.redirect_uri).netloc,
            request_token=form.request_token,
            csrf=form.csrf,
            error=form.error,
            **context,
        )

    def render(
        self, template: str, status_code: int = 200, redirect_uri: str | None = None, /, **context: object
    ) -> HTMLResponse:
        """Any page of this family: a fresh nonce, the site's links, and the page headers."""
        nonce = secrets.token_urlsafe(16)
        html = _TEMPLATES.get(template).render(nonce=nonce, **context, **self._site)
        return HTMLResponse(html, status_code=status_code, headers=page_headers(nonce, redirect_uri))

    def error(self, message: str, status_code: int = 400, return_url: str | None = None) -> HTMLResponse:
        """The error page; `return_url` adds a link back to the client, followed only by the user."""
        return self.render(
            "error.html",
            status_code,
            None,
            message=message,
            return_url=return_url,
            return_host=urlsplit(return_url).netloc if return_url else None,
        )
