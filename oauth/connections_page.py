"""The "Connected apps" page (`/connections`, issue 25): see and disconnect the sign-ins of a key.

The person proves they hold the key as on the consent page: pasted in a form (POST only, never in a
URL or a log), with the same CSRF protection (cookie, form field and sealed form, all equal), the same
throttle bucket and the same messages for a wrong key. Once the key is proven, each page carries a
sealed form naming only the key's index digest (never the key), renewed on every page, so the key is
typed once. A disconnect revokes the family in the token store, exactly as `/revoke` of its refresh
token does: every machine refuses its tokens within a second, and its legacy streams close.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.edge.auth import bearer_credential
from gateway.keys import ServerKeys
from gateway.transports.http import client_ip
from oauth.activity import ActivityLog, Entry
from oauth.authorization import single_values
from oauth.connections import Connection, ConnectionIndex, key_digest
from oauth.consent import ConsentPages, check_key, csrf_matches, new_csrf_token
from oauth.endpoints import Endpoints
from oauth.errors import InvalidToken, ProtocolError
from oauth.forms import read_form
from oauth.sealing import Claims, Sealer, TokenType
from oauth.store import Store, StoreUnavailable
from oauth.throttle import Throttle
from oauth.tokens import Lifetimes, unavailable_headers
from tools.allowance import Allowance
from tools.api import OpenPhone
from tools.errors import SendCounterUnavailable
from tools.grant import Grant, SendRule
from tools.scopes import SCOPES

PAGE_PATH: Final = "/connections"
COOKIE: Final = "openphone_mcp_connections"
# The sealed form's `state`: a consent form (state from the client) never opens this page.
PAGE_STATE: Final = "connected-apps"
FIELDS: Final = ("form", "csrf", "api_key", "action", "family")
UNLISTABLE: Final = "The connected apps cannot be listed right now. Wait a moment and try again."
UNDISCONNECTABLE: Final = (
    "Nothing could be disconnected right now: the sign-in still works. Wait a moment and try again."
)


@dataclass(frozen=True, slots=True)
class Row:
    """One sign-in as the page shows it (times in UTC, to the minute)."""

    family: str
    client_name: str
    redirect_host: str
    scopes: tuple[str, ...]
    granted: str
    last_used: str
    inboxes: str
    sending: str


@dataclass(frozen=True, slots=True)
class ConnectionsDeps:
    """What the page works with, all built once by `create_app`."""

    sealer: Sealer
    endpoints: Endpoints
    keys: ServerKeys
    store: Store
    index: ConnectionIndex
    activity: ActivityLog
    allowance: Allowance
    openphone: OpenPhone
    throttle: Throttle
    lifetimes: Lifetimes
    pages: ConsentPages
    public_path: str
    secure_cookies: bool


class ConnectionsPage:
    """GET shows the key form; POST proves the key, lists, confirms and disconnects."""

    def __init__(self, deps: ConnectionsDeps) -> None:
        self._deps = deps
        self._path = f"{deps.public_path}{PAGE_PATH}"

    def routes(self) -> list[BaseRoute]:
        return [
            Route(self._path, self.show, methods=["GET"]),
            Route(self._path, self.act, methods=["POST"]),
        ]

    async def show(self, request: Request) -> Response:
        return self._page("connections.html", digest="")

    async def act(self, request: Request) -> Response:
        deps = self._deps
        try:
            await deps.throttle.check("consent", client_ip(request))
            fields = single_values(await read_form(request), FIELDS)
        except ProtocolError as exc:
            page = deps.pages.error(exc.description, status_code=exc.status)
            page.headers.update(exc.headers)
            return page
        try:
            claims = deps.sealer.open(fields.get("form", ""), TokenType.CONSENT, deps.endpoints.resource)
        except InvalidToken:
            return self._page("connections.html", digest="", error="This page expired. Paste your key again.")
        if claims.state != PAGE_STATE or not csrf_matches(
            request.cookies.get(COOKIE), fields.get("csrf"), claims.jti
        ):
            return deps.pages.error(
                "This form was not submitted from the page this server showed. Open the page again.",
                status_code=403,
            )
        if not claims.sub:
            return await self._unlock(fields.get("api_key", "").strip())
        return await self._act(claims, fields.get("action", ""), fields.get("family", ""))

    async def _unlock(self, api_key: str) -> Response:
        problem = await check_key(self._deps.openphone, self._deps.keys, api_key)
        if problem is not None:
            return self._page("connections.html", digest="", error=problem, status_code=400)
        return await self._listing(key_digest(self._deps.keys, api_key))

    async def _act(self, claims: Claims, action: str, family: str) -> Response:
        digest = claims.sub
        if action not in ("disconnect", "disconnect-all", "confirm", "confirm-all"):
            return await self._listing(digest)
        try:
            live = await self._live(digest)
        except StoreUnavailable:
            return self._unavailable(digest, UNDISCONNECTABLE)
        chosen = [row for row in live if action.endswith("-all") or row.family == family]
        if not chosen:
            return await self._listing(digest, notice="That app was already disconnected.")
        if action in ("disconnect", "disconnect-all"):
            return self._page(
                "connections.html",
                digest=digest,
                confirm=_rows(chosen),
                everything=action == "disconnect-all",
            )
        try:
            for connection in chosen:
                await self._deps.store.revoke_family(connection.family, ttl=self._deps.lifetimes.family)
                await self._deps.index.remove(digest, connection.family)
        except StoreUnavailable:
            return self._unavailable(digest, UNDISCONNECTABLE)
        names = ", ".join(dict.fromkeys(connection.client_name for connection in chosen))
        return await self._listing(digest, notice=f"Disconnected {names}. Its tokens no longer work.")

    async def _listing(self, digest: str, notice: str | None = None) -> Response:
        try:
            live = await self._live(digest)
            writes = await self._deps.activity.recent(digest)
        except StoreUnavailable:
            return self._unavailable(digest, UNLISTABLE)
        try:
            rows = [await self._row(connection) for connection in live]
        except SendCounterUnavailable:
            return self._unavailable(digest, UNLISTABLE)
        return self._page(
            "connections.html", digest=digest, rows=rows, activity=_activity(writes, live), notice=notice
        )

    async def _row(self, connection: Connection) -> Row:
        """The sign-in as listed, with its sends in the last 24 hours when it has an allowance."""
        grant = connection.grant
        sent = None
        if grant is not None and grant.send is SendRule.ALLOWANCE:
            sent = await self._deps.allowance.used(connection.family)
        return _row(connection, sent)

    async def _live(self, digest: str) -> list[Connection]:
        """The key's sign-ins that the token store has not revoked, newest first."""
        listed = await self._deps.index.list(digest)
        return [connection for connection in listed if not self._deps.store.is_revoked("", connection.family)]

    def _unavailable(self, digest: str, message: str) -> Response:
        page = self._page("connections.html", digest=digest, error=message, status_code=503)
        page.headers.update(unavailable_headers())
        return page

    def _page(self, template: str, *, digest: str, status_code: int = 200, **context: object) -> Response:
        """A page whose forms carry a fresh CSRF token and a sealed form naming `digest` ("": no key yet)."""
        deps = self._deps
        csrf = new_csrf_token()
        claims = deps.sealer.new_claims(
            TokenType.CONSENT,
            aud=deps.endpoints.resource,
            sub=digest,
            cid="",
            scope=(),
            key="",
            lifetime=deps.lifetimes.consent,
            state=PAGE_STATE,
        )
        form = deps.sealer.seal(claims.model_copy(update={"jti": csrf}))
        page = deps.pages.render(
            template,
            status_code,
            action=self._path,
            form=form,
            csrf=csrf,
            unlocked=bool(digest),
            scope_names=SCOPES,
            **context,
        )
        page.set_cookie(
            COOKIE,
            csrf,
            max_age=int(deps.lifetimes.consent),
            path=self._path,
            secure=deps.secure_cookies,
            httponly=True,
            samesite="strict",
        )
        return page


def _rows(connections: Sequence[Connection]) -> list[Row]:
    """Rows for the confirmation step, which names the sign-ins without counting their sends."""
    return [_row(connection, None) for connection in connections]


def _row(connection: Connection, sent: int | None) -> Row:
    return Row(
        family=connection.family,
        client_name=connection.client_name,
        redirect_host=connection.redirect_host,
        scopes=connection.scopes,
        granted=_minute(connection.granted_at),
        last_used=_minute(connection.last_used) if connection.last_used is not None else "not yet",
        inboxes="not recorded" if connection.grant is None else connection.grant.describe_inboxes(),
        sending=_sending(connection.grant, sent),
    )


def _sending(grant: Grant | None, sent: int | None) -> str:
    """The send rule in words, with the sends of the last 24 hours under an allowance."""
    if grant is None:
        return "not recorded (signed in before send rules)"
    if grant.send is SendRule.ALLOWANCE:
        counted = "" if sent is None else f"; {sent} sent in the last 24 hours"
        return f"up to {grant.daily_limit} recipients a day without asking{counted}"
    if grant.send is SendRule.CONFIRM:
        return "asks you before each send"
    return "never sends"


@dataclass(frozen=True, slots=True)
class WriteRow:
    """One write as the page shows it; never a message's text."""

    when: str
    tool: str
    by: str
    targets: str
    message_ids: tuple[str, ...]
    outcome: str
    audit_id: str


def _activity(writes: Sequence[Entry], live: Sequence[Connection]) -> list[WriteRow]:
    """The writes, each named by the sign-in that made it ("direct" for the key itself)."""
    names = {bearer_credential(held.family, held.scopes): held.client_name for held in live}
    return [
        WriteRow(
            when=_minute(entry.at),
            tool=entry.tool,
            by="direct" if entry.direct else names.get(entry.credential, "a disconnected app"),
            targets=", ".join(entry.recipients) or entry.contact_id or "",
            message_ids=entry.message_ids,
            outcome=entry.outcome,
            audit_id=entry.audit_id,
        )
        for entry in writes
    ]


def _minute(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")
