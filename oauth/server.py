"""The authorization server's HTTP endpoints: thin handlers over the RFC modules beside this one.

Discovery, registration, token and revocation answer any origin (browser-based OAuth clients need
CORS; none of them uses cookies). The consent page answers none. Bodies are bounded, JSON errors
follow RFC 6749 §5.2, and nothing a client sends is echoed into a page or an error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.keys import ServerKeys
from gateway.transports.http import client_ip, read_body
from oauth.activity import ActivityLog
from oauth.authorization import (
    AuthorizationRequest,
    ClientPageError,
    RedirectError,
    redirect_location,
    single_values,
    validate,
)
from oauth.choices import ChoiceError, choices_view, parse_choices
from oauth.client_metadata import is_metadata_url
from oauth.clients import ClientDirectory
from oauth.confirm_page import HolderCookie
from oauth.connections import ConnectionIndex
from oauth.connections_page import ConnectionsDeps, ConnectionsPage
from oauth.consent import (
    CSRF_COOKIE,
    ConsentPages,
    FormPage,
    KeyProblem,
    csrf_matches,
    new_csrf_token,
    read_numbers,
)
from oauth.endpoints import Endpoints
from oauth.errors import AccessDenied, InvalidRequest, InvalidToken, ProtocolError, TemporarilyUnavailable
from oauth.forms import media_type, read_form
from oauth.metadata import authorization_server_metadata, metadata_paths
from oauth.registration import Registrar, registration_response
from oauth.resource_metadata import resource_metadata, resource_metadata_paths
from oauth.revocation import RevocationEndpoint
from oauth.sealing import Claims, Sealer, TokenType
from oauth.store import Store, StoreUnavailable
from oauth.throttle import Throttle
from oauth.tokens import Lifetimes, TokenEndpoint, unavailable_headers
from tools.allowance import Allowance
from tools.api import OpenPhone
from tools.resources import PhoneNumber
from tools.scopes import OPTIONAL_SCOPES

# The client's name as sealed for audit lines.
CLIENT_NAME_CHARS: Final = 64
OPEN_CORS: Final = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "authorization, content-type, mcp-protocol-version",
    "access-control-max-age": "600",
}
NO_STORE: Final = {"cache-control": "no-store", "pragma": "no-cache"}
CONSENT_FIELDS: Final = ("request", "csrf", "api_key", "action")

Handler = Callable[[Request], Any]


class AuthorizationServer:
    """Every OAuth endpoint, wired from the pieces `create_app` builds once."""

    def __init__(
        self,
        *,
        endpoints: Endpoints,
        keys: ServerKeys,
        store: Store,
        clients: ClientDirectory,
        openphone: OpenPhone,
        lifetimes: Lifetimes,
        public_path: str,
        secure_cookies: bool,
        throttle: Throttle,
        holder: HolderCookie,
        connections: ConnectionIndex,
        activity: ActivityLog,
        allowance: Allowance,
    ) -> None:
        self._holder = holder
        self._endpoints = endpoints
        self._keys = keys
        self._sealer = Sealer(keys, endpoints.issuer)
        self._clients = clients
        self._openphone = openphone
        self._lifetimes = lifetimes
        self._public_path = public_path
        self._pages = ConsentPages(public_path)
        self._secure_cookies = secure_cookies
        self._throttle = throttle
        self._store = store
        self._registrar: Registrar = clients.registrar
        self._tokens = TokenEndpoint(self._sealer, store, clients, endpoints, lifetimes, (connections, keys))
        self._revocation = RevocationEndpoint(
            self._sealer, store, clients, lifetimes.family, (connections, keys)
        )
        self._connections_page = ConnectionsPage(
            ConnectionsDeps(
                sealer=self._sealer,
                endpoints=endpoints,
                keys=keys,
                store=store,
                index=connections,
                activity=activity,
                allowance=allowance,
                openphone=openphone,
                throttle=throttle,
                lifetimes=lifetimes,
                pages=self._pages,
                public_path=public_path,
                secure_cookies=secure_cookies,
            )
        )
        self.sealer = self._sealer

    def routes(self) -> list[BaseRoute]:
        """Well-known documents at the origin root; the endpoints under PUBLIC_URL's path."""
        metadata = authorization_server_metadata(self._endpoints).model_dump()
        routes: list[BaseRoute] = [
            Route(path, _document(metadata), methods=["GET", "OPTIONS"])
            for path in metadata_paths(self._public_path)
        ]
        for path, resource_path in resource_metadata_paths(self._public_path).items():
            document = resource_metadata(self._endpoints, resource_path).model_dump()
            routes.append(Route(path, _document(document), methods=["GET", "OPTIONS"]))
        prefix = self._public_path
        routes += [
            Route(f"{prefix}/register", self.register, methods=["POST", "OPTIONS"]),
            Route(f"{prefix}/authorize", self.authorize, methods=["GET"]),
            Route(f"{prefix}/authorize", self.consent, methods=["POST"]),
            Route(f"{prefix}/token", self.token, methods=["POST", "OPTIONS"]),
            Route(f"{prefix}/revoke", self.revoke, methods=["POST", "OPTIONS"]),
            *self._connections_page.routes(),
        ]
        return routes

    # RFC 7591 ----------------------------------------------------------------------------------

    async def register(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=OPEN_CORS)
        try:
            await self._throttle.check("register", client_ip(request))
            if media_type(request) != "application/json":
                raise InvalidRequest("the registration body must be application/json")
            try:
                payload = orjson.loads(await read_body(request.receive, request.headers))
            except orjson.JSONDecodeError:
                raise InvalidRequest("the registration body is not JSON") from None
            client, secret = self._registrar.register(payload)
        except ProtocolError as exc:
            return _oauth_error(exc)
        return JSONResponse(
            registration_response(client, secret), status_code=201, headers={**OPEN_CORS, **NO_STORE}
        )

    # RFC 6749 §4.1.1: the authorization request and the consent page ----------------------------

    async def authorize(self, request: Request) -> Response:
        if is_metadata_url(request.query_params.get("client_id", "")):
            # A metadata-document client is fetched from a URL a stranger chose: it costs what a
            # registration costs, so it counts in the same window (review #8).
            try:
                await self._throttle.check("register", client_ip(request))
            except ProtocolError as exc:
                return self._protocol_error_page(exc)
        try:
            authorization = await validate(
                list(request.query_params.multi_items()), self._clients, self._endpoints
            )
        except ClientPageError as exc:
            return self._pages.error(exc.message)
        except RedirectError as exc:
            # RFC 9700 §4.11.1: every client here registered itself (or is a CIMD URL), so none is a
            # trusted redirect target; before the user acts, the error is a page, and its link returns.
            return self._pages.error(
                f"The application's request was refused ({exc.error.error}: {exc.error.description}).",
                return_url=self._error_location(exc.redirect_uri, exc.error, exc.state),
            )
        csrf = new_csrf_token()
        token = self._seal_consent(authorization, csrf)
        form = FormPage(
            self._endpoints.authorization, authorization.client, authorization.redirect_uri, token, csrf
        )
        response = self._pages.consent(form, authorization.scope)
        self._set_csrf_cookie(response, csrf)
        return response

    async def consent(self, request: Request) -> Response:
        try:
            await self._throttle.check("consent", client_ip(request))
            pairs = await read_form(request)
        except ProtocolError as exc:
            return self._protocol_error_page(exc)
        try:
            fields = single_values(pairs, CONSENT_FIELDS)
        except ProtocolError:
            return self._pages.error("The consent form was not submitted as sent. Start again from your app.")
        try:
            claims = self._sealer.open(
                fields.get("request", ""), TokenType.CONSENT, audience=self._endpoints.resource
            )
        except InvalidToken as exc:
            if exc.reason == "expired":
                return self._pages.error(
                    "This consent page has expired. Start connecting again from your app."
                )
            return self._pages.error("This consent form is not valid. Start connecting again from your app.")
        if not csrf_matches(request.cookies.get(CSRF_COOKIE), fields.get("csrf"), claims.jti):
            return self._pages.error(
                "This consent form was not submitted from the page this server showed. "
                "Start again from your app.",
                status_code=403,
            )
        # One submission per form: posting it again must not mint a second code (review #13).
        try:
            first = await self._store.spend_once(f"consent:{claims.jti}", ttl=self._lifetimes.consent)
        except StoreUnavailable:
            return self._protocol_error_page(
                TemporarilyUnavailable(
                    "Signing in is briefly unavailable. Wait a moment and start again from your app.",
                    unavailable_headers(),
                )
            )
        if not first:
            return self._pages.error(
                "This consent form was already used. Start connecting again from your app."
            )
        redirect_uri = claims.redirect_uri or ""
        if fields.get("action") != "allow":
            return self._redirect_error(redirect_uri, AccessDenied("the user denied access"), claims.state)
        if claims.key:
            # The second step: the key was checked on the first and rides sealed in this request.
            return await self._choose(claims, pairs)
        granted = _granted(claims.scope, [value for name, value in pairs if name == "scope"])
        api_key = fields.get("api_key", "").strip()
        try:
            numbers = await read_numbers(self._openphone, self._keys, api_key)
        except KeyProblem as problem:
            error = str(problem)
            return await self._step(
                claims,
                lambda form: self._pages.consent(replace(form, error=error, status_code=400), claims.scope),
            )
        checked = claims.model_copy(
            update={"key": api_key, "sub": self._keys.fingerprint(api_key), "scope": granted}
        )
        return await self._choices_page(checked, numbers)

    async def _choices_page(
        self, claims: Claims, numbers: list[PhoneNumber], error: str | None = None, status_code: int = 200
    ) -> Response:
        """The choices step, whose single-use request seals the checked key."""
        view = choices_view(numbers)
        return await self._step(
            claims,
            lambda form: self._pages.choices(replace(form, error=error, status_code=status_code), view),
        )

    async def _step(self, claims: Claims, render: Callable[[FormPage], HTMLResponse]) -> Response:
        """A consent form page under a fresh single-use request (new CSRF token, new expiry)."""
        client = await self._clients.find(claims.cid)
        csrf = new_csrf_token()
        step = claims.model_copy(update={"jti": csrf, "exp": int(time.time() + self._lifetimes.consent)})
        form = FormPage(
            self._endpoints.authorization, client, claims.redirect_uri or "", self._sealer.seal(step), csrf
        )
        page = render(form)
        self._set_csrf_cookie(page, csrf)
        return page

    async def _choose(self, claims: Claims, pairs: list[tuple[str, str]]) -> Response:
        """The grant the person chose, sealed into the authorization code; or the page again, saying why."""
        try:
            numbers = await read_numbers(self._openphone, self._keys, claims.key)
        except KeyProblem as problem:
            return self._pages.error(f"{problem} Start connecting again from your app.")
        try:
            grant = parse_choices(pairs, [number.id for number in numbers])
        except ChoiceError as exc:
            return await self._choices_page(claims, numbers, str(exc), status_code=400)
        client = await self._clients.find(claims.cid)
        redirect_uri = claims.redirect_uri or ""
        code = self._sealer.new_claims(
            TokenType.CODE,
            aud=claims.aud,
            sub=claims.sub,
            cid=claims.cid,
            scope=claims.scope,
            key=claims.key,
            lifetime=self._lifetimes.code,
            redirect_uri=redirect_uri,
            code_challenge=claims.code_challenge,
            grd=grant,
            cnm=client.display_name[:CLIENT_NAME_CHARS],
        )
        location = redirect_location(
            redirect_uri,
            {"code": self._sealer.seal(code), "state": claims.state, "iss": self._endpoints.issuer},
        )
        response = RedirectResponse(location, status_code=303, headers=NO_STORE)
        response.delete_cookie(CSRF_COOKIE, path=self._endpoints_path("/authorize"))
        # Issue 23: this browser's person holds the key, so its confirmation pages need not ask for it.
        self._holder.set(response, self._keys.fingerprint(claims.key))
        return response

    # RFC 6749 §3.2 and RFC 7009 -----------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=OPEN_CORS)
        try:
            await self._throttle.check("token", client_ip(request))
            body = await self._tokens.exchange(await read_form(request), request.headers)
        except ProtocolError as exc:
            return _oauth_error(exc)
        return JSONResponse(body, headers={**OPEN_CORS, **NO_STORE})

    async def revoke(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=OPEN_CORS)
        try:
            await self._throttle.check("token", client_ip(request))
            await self._revocation.revoke(await read_form(request), request.headers)
        except ProtocolError as exc:
            return _oauth_error(exc)
        return Response(status_code=200, headers={**OPEN_CORS, **NO_STORE})

    # helpers --------------------------------------------------------------------------------------

    def _seal_consent(self, authorization: AuthorizationRequest, csrf: str) -> str:
        claims = self._sealer.new_claims(
            TokenType.CONSENT,
            aud=authorization.resource,
            sub="",
            cid=authorization.client.client_id,
            scope=authorization.scope,
            key="",
            lifetime=self._lifetimes.consent,
            redirect_uri=authorization.redirect_uri,
            code_challenge=authorization.code_challenge,
            state=authorization.state,
        )
        return self._sealer.seal(claims.model_copy(update={"jti": csrf}))

    def _protocol_error_page(self, exc: ProtocolError) -> Response:
        """The error page for a refusal, with its status and headers (a 429 keeps its Retry-After)."""
        page = self._pages.error(exc.description, status_code=exc.status)
        page.headers.update(exc.headers)
        return page

    def _set_csrf_cookie(self, response: Response, csrf: str) -> None:
        response.set_cookie(
            CSRF_COOKIE,
            csrf,
            max_age=int(self._lifetimes.consent),
            path=self._endpoints_path("/authorize"),
            secure=self._secure_cookies,
            httponly=True,
            samesite="strict",
        )

    def _endpoints_path(self, path: str) -> str:
        return f"{self._public_path}{path}"

    def _error_location(self, redirect_uri: str, error: ProtocolError, state: str | None) -> str:
        """RFC 6749 §4.1.2.1 with RFC 9207 §2: the verified redirect URI carrying the error."""
        params = {
            "error": error.error,
            "error_description": error.description,
            "state": state,
            "iss": self._endpoints.issuer,
        }
        return redirect_location(redirect_uri, params)

    def _redirect_error(self, redirect_uri: str, error: ProtocolError, state: str | None) -> Response:
        """The error sent back once the user has acted on the consent page."""
        location = self._error_location(redirect_uri, error, state)
        return RedirectResponse(location, status_code=303, headers=NO_STORE)


def _document(body: dict[str, Any]) -> Handler:
    encoded = orjson.dumps(body)

    async def serve(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=OPEN_CORS)
        return Response(
            encoded, media_type="application/json", headers={**OPEN_CORS, "cache-control": "max-age=300"}
        )

    return serve


def _oauth_error(exc: ProtocolError) -> Response:
    """RFC 6749 §5.2: a JSON error body, never cached."""
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers={**OPEN_CORS, **NO_STORE, **exc.headers},
    )


def _granted(requested: tuple[str, ...], ticked: list[str]) -> tuple[str, ...]:
    """What the user allowed: every requested scope that cannot be unticked, and the optional ones left
    ticked (the write scopes and the team directory)."""
    return tuple(scope for scope in requested if scope not in OPTIONAL_SCOPES or scope in ticked)
