"""The confirmation page: a person sees a held send and sends or cancels it (issue 23, item 3).

Linked from every held send's answer and from URL elicitations, as `/confirm/<id>`. The link carries
no secret: a GET only shows the send, and only a POST acts. A POST sends only when it comes from
this page (CSRF: a random token in a SameSite=Strict, HttpOnly cookie, repeated in the form,
compared in constant time) and from a person shown to hold the grant: by the holder cookie that the
consent page set in this browser, or by the OpenPhone key typed again; either must match the key
the send was held for (by fingerprint, constant time). 2025-11-25 client/elicitation, "Safe URL
Handling": the server MUST verify that the person completing it is the one who started it.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Any, Final

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.edge.auth import MAX_API_KEY_CHARS
from gateway.keys import ServerKeys
from gateway.protocol.confirmation import CONFIRM_PATH, Confirmations, Deliver
from gateway.transports.http import client_ip
from oauth.consent import ConsentPages
from oauth.errors import ProtocolError
from oauth.forms import read_form
from oauth.throttle import Throttle
from tools.pending import Decision, PendingUnavailable, Settled, Status

CSRF_COOKIE: Final = "openphone_mcp_confirm"
HOLDER_COOKIE: Final = "openphone_mcp_holder"
CONFIRM_FIELDS: Final = frozenset({"csrf", "action", "api_key"})
_SETTLED: Final = {
    Status.CONFIRMING: "This text was confirmed and is being sent.",
    Status.SENT: "This text was confirmed and sent.",
    Status.FAILED: "This text was confirmed, and OpenPhone refused to send it.",
    Status.CANCELLED: "This text was cancelled. Nothing was sent.",
}


class HolderCookie:
    """The cookie that shows this browser's person connected an assistant with a key.

    Set by the consent page once the key is checked; it holds the key's fingerprint, signed (never
    the key), and is sent only to the confirmation pages (Path) on top-level navigation (Lax).
    """

    def __init__(self, keys: ServerKeys, public_path: str, max_age_seconds: int, secure: bool) -> None:
        self._signer = URLSafeTimedSerializer(list(reversed(keys.derive("send-holder"))), salt="holder")
        self._path = f"{public_path}{CONFIRM_PATH}"
        self._max_age = max_age_seconds
        self._secure = secure

    def set(self, response: Response, fingerprint: str) -> None:
        response.set_cookie(
            HOLDER_COOKIE,
            self._signer.dumps(fingerprint),
            max_age=self._max_age,
            path=self._path,
            secure=self._secure,
            httponly=True,
            samesite="lax",
        )

    def holds(self, request: Request, fingerprint: str) -> bool:
        """Whether the request carries a genuine holder cookie for the key with `fingerprint`."""
        value = request.cookies.get(HOLDER_COOKIE)
        if not value:
            return False
        try:
            held = self._signer.loads(value, max_age=self._max_age)
        except BadData:
            return False
        return isinstance(held, str) and hmac.compare_digest(held, fingerprint)


class ConfirmPage:
    """GET and POST `/confirm/<id>`."""

    def __init__(
        self,
        confirmations: Confirmations,
        deliver: Deliver,
        keys: ServerKeys,
        holder: HolderCookie,
        throttle: Throttle,
        public_path: str,
        secure_cookies: bool,
    ) -> None:
        self._confirmations = confirmations
        self._deliver = deliver
        self._keys = keys
        self._holder = holder
        self._throttle = throttle
        self._public_path = public_path
        self._secure = secure_cookies
        self._pages = ConsentPages(public_path)

    def routes(self) -> list[BaseRoute]:
        path = f"{self._public_path}{CONFIRM_PATH}/{{pending_id}}"
        return [Route(path, self.show, methods=["GET"]), Route(path, self.act, methods=["POST"])]

    async def show(self, request: Request) -> Response:
        """The send and, while it waits, the form; a GET never acts (models with browsing fetch links)."""
        pending_id = request.path_params["pending_id"]
        try:
            record = await self._confirmations.store.get(pending_id)
        except PendingUnavailable:
            return self._page("Try again in a moment", error=_UNAVAILABLE, status=503)
        if record is None:
            return self._page("Nothing to confirm", error=_UNKNOWN, status=404)
        if record.status is not Status.PENDING:
            return self._page("Already settled", record=record, notice=_SETTLED[record.status])
        needs_key = not self._holder.holds(request, record.pending.fingerprint)
        return self._form(record, request, needs_key)

    async def act(self, request: Request) -> Response:
        """Send or cancel, once, for a person who shows they hold the grant."""
        pending_id = request.path_params["pending_id"]
        try:
            await self._throttle.check("consent", client_ip(request))
            fields = dict(await read_form(request))
            record = await self._confirmations.store.get(pending_id)
        except ProtocolError as exc:
            return self._page(
                "Try again later", error=exc.description, status=exc.status, headers=exc.headers
            )
        except PendingUnavailable:
            return self._page("Try again in a moment", error=_UNAVAILABLE, status=503)
        if record is None:
            return self._page("Nothing to confirm", error=_UNKNOWN, status=404)
        cookie, form = request.cookies.get(CSRF_COOKIE), fields.get("csrf")
        if not (cookie and form and hmac.compare_digest(cookie, form)):
            return self._page("Nothing was sent", record=record, error=_NOT_FROM_PAGE, status=403)
        if not self._holds(request, record, fields.get("api_key", "")):
            return self._form(record, request, needs_key=True, error=_NOT_HOLDER, status=403)
        decision: Decision = "confirm" if fields.get("action") == "send" else "cancel"
        try:
            _, outcome = await self._confirmations.settle(
                pending_id, record.pending.grant_id, decision, self._deliver
            )
        except PendingUnavailable:
            return self._page("Try again in a moment", error=_UNAVAILABLE, status=503)
        if outcome.get("isError"):
            return self._page("Nothing was sent", record=record, error=_text(outcome), status=409)
        return self._page("Sent", record=record, notice="The text was sent.")

    def _holds(self, request: Request, record: Settled, api_key: str) -> bool:
        fingerprint = record.pending.fingerprint
        if self._holder.holds(request, fingerprint):
            return True
        typed = api_key.strip()
        return bool(typed) and hmac.compare_digest(self._keys.fingerprint(typed), fingerprint)

    def _form(
        self, record: Settled, request: Request, needs_key: bool, error: str | None = None, status: int = 200
    ) -> HTMLResponse:
        csrf = secrets.token_urlsafe(32)
        expires = datetime.fromtimestamp(record.pending.expires_at, UTC).strftime("%H:%M UTC")
        form = {
            "action": str(request.url.path),
            "csrf": csrf,
            "needs_key": needs_key,
            "expires": expires,
            "max_key_chars": MAX_API_KEY_CHARS,
        }
        page = self._page("Send this text?", record=record, form=form, error=error, status=status)
        page.set_cookie(
            CSRF_COOKIE,
            csrf,
            max_age=600,
            path=str(request.url.path),
            secure=self._secure,
            httponly=True,
            samesite="strict",
        )
        return page

    def _page(
        self,
        heading: str,
        *,
        record: Settled | None = None,
        form: dict[str, Any] | None = None,
        notice: str | None = None,
        error: str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        request = record.pending.request if record is not None else None
        facts = (
            {"sender": request.sender, "recipients": request.recipients, "text": request.text}
            if request
            else None
        )
        page = self._pages.render(
            "confirm.html", status, heading=heading, facts=facts, form=form, notice=notice, error=error
        )
        page.headers.update(headers or {})
        return page


_UNKNOWN: Final = (
    "This confirmation link is not known: it expired long ago or was never made. Nothing was sent."
)
_UNAVAILABLE: Final = (
    "Confirmations cannot be reached right now. Nothing was sent; reload this page in a moment."
)
_NOT_FROM_PAGE: Final = (
    "This confirmation was not submitted from the page this server showed. Reload the page."
)
_NOT_HOLDER: Final = (
    "Nothing was sent: this browser did not connect the assistant, and no matching OpenPhone key was "
    "typed. Type the OpenPhone API key the assistant was connected with."
)


def _text(result: dict[str, Any]) -> str:
    content = result.get("content") or [{}]
    return str(content[0].get("text", ""))
