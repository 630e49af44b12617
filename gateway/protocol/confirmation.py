"""Held sends and their confirmation: the answer a held send gets, and settling it (issue 23, item 3).

A held send becomes a `HeldSend` and is answered in the strongest way the client declared:
- 2026-07-28 with URL elicitation: `InputRequiredResult` asking the person to open the confirmation
  page, and a signed `requestState`; the retry reports what the person did there;
- 2026-07-28 with form elicitation only: `InputRequiredResult` with a yes/no form; an accepting
  retry sends, once, whichever machine it reaches (the pending send is settled in the shared state);
- 2025-11-25 with URL elicitation: error -32042 naming the page; a retry reports what happened;
- otherwise a result (marked `isError`: nothing was done) with a preview and the page's link, plus,
  for clients that render MCP Apps, the view's token in `_meta`, never in `content` or
  `structuredContent`.

The link carries only the pending send's id: the page sends only for a person who shows they hold the
grant (a cookie set at consent, or the key typed again). Tokens and request states are signed per
purpose with `SECRET_KEYS` and expire with the pending send; the model never receives a token.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from gateway.errors import InvalidParams, URLElicitationRequired
from gateway.keys import ServerKeys
from gateway.protocol.client_features import ClientFeatures
from gateway.protocol.principal import Principal
from gateway.protocol.versions import is_modern
from tools.pending import (
    PENDING_TTL_SECONDS,
    REFUSALS,
    Decision,
    HeldSend,
    NotPending,
    PendingStore,
    SendHeld,
    Status,
    new_pending_id,
)
from tools.registry import error_result

CONFIRM_PATH: Final = "/confirm"
CONFIRMATION_META_KEY: Final = "openphone/confirmation"
INPUT_KEY: Final = "confirm"
# 2025-11-25 client/elicitation, URL mode: the handshake revision that has -32042.
URL_ERROR_REVISION: Final = "2025-11-25"

Deliver = Callable[[HeldSend], Awaitable[dict[str, Any]]]


def arguments_digest(tool: str, arguments: dict[str, Any]) -> str:
    """SHA-256 of the tool name and its canonical arguments: what a request state is bound to."""
    return hashlib.sha256(orjson.dumps([tool, arguments], option=orjson.OPT_SORT_KEYS)).hexdigest()


class Confirmations:
    """Holds sends in the shared `store` and settles them; `public_url` is where the page is served."""

    def __init__(
        self, store: PendingStore, keys: ServerKeys, public_url: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._clock = clock
        self._public_url = public_url
        # itsdangerous signs with the last key and verifies with all of them.
        ring = list(reversed(keys.derive("send-confirmation")))
        self._tokens = URLSafeTimedSerializer(ring, salt="view-token")
        self._states = URLSafeTimedSerializer(ring, salt="request-state")

    @property
    def store(self) -> PendingStore:
        return self._store

    def link(self, pending_id: str) -> str:
        """The confirmation page of a pending send; the id alone lets nobody confirm it."""
        return f"{self._public_url}{CONFIRM_PATH}/{pending_id}"

    async def hold(
        self,
        held: SendHeld,
        principal: Principal,
        tool: str,
        arguments: dict[str, Any],
        revision: str,
        features: ClientFeatures,
    ) -> dict[str, Any]:
        """Record the held send (or find the same one still waiting) and answer for this client.

        Raises `URLElicitationRequired` (2025-11-25 URL clients) and `PendingUnavailable`.
        """
        # 2025-11-25 URL clients retry the very call after the person used the page: only their held
        # sends are findable by (grant, what would be sent); every other call holds a new send.
        is_url_retry = features.url and revision == URL_ERROR_REVISION
        existing = await self._store.find(principal.grant_id, held.request.digest()) if is_url_retry else None
        if existing is not None and existing.status is not Status.PENDING:
            # The outcome is told once; the same send asked for afterwards is a new send, held again.
            await self._store.forget(existing.pending)
            return existing.outcome or error_result(REFUSALS[existing.status])
        if existing is not None and self._clock() < existing.pending.expires_at:
            pending = existing.pending
        else:
            pending = HeldSend(
                id=new_pending_id(),
                grant_id=principal.grant_id,
                grant_digest=principal.grant.digest(),
                fingerprint=principal.fingerprint,
                api_key=principal.api_key,
                credential=principal.credential,
                source=principal.source,
                grant=principal.grant.model_dump(mode="json"),
                tool=tool,
                arguments=arguments,
                request=held.request,
                expires_at=self._clock() + PENDING_TTL_SECONDS,
            )
            await self._store.put(pending, findable=is_url_retry)
        if is_modern(revision) and (features.url or features.form):
            return self._input_required(pending, tool, arguments, features)
        if is_url_retry:
            raise URLElicitationRequired(
                "This send waits for a person's confirmation at a URL.",
                {"elicitations": [self._url_request(pending) | {"elicitationId": pending.id}]},
            )
        return self._preview(pending, features)

    async def resume(
        self,
        state: Any,
        responses: Any,
        principal: Principal,
        tool: str,
        arguments: dict[str, Any],
        deliver: Deliver,
    ) -> dict[str, Any]:
        """A 2026-07-28 retry: check its `requestState`, then act on the person's answer.

        Only a form the server asked for can confirm; after a URL request only the page can. Raises
        `InvalidParams` for a state that is forged, expired, or made for another grant or other
        arguments (2026-07-28 mrtr: state that fails verification MUST be rejected).
        """
        pending_id, mode = self._read_state(state, principal.grant_id, arguments_digest(tool, arguments))
        answer = responses.get(INPUT_KEY) if isinstance(responses, dict) else None
        action = answer.get("action") if isinstance(answer, dict) else None
        content = answer.get("content") if isinstance(answer, dict) else None
        record = await self._store.get(pending_id)
        if record is None:
            return error_result(REFUSALS["expired"])
        if action in ("decline", "cancel"):
            return (await self.settle(pending_id, principal.grant_id, "cancel", deliver, str(action)))[1]
        if record.status is not Status.PENDING:
            # After a URL request the retry learns what the person did on the page; a form's answer
            # given again is a replay, and says so.
            if mode == "url" and record.outcome is not None:
                return record.outcome
            return error_result(REFUSALS[record.status])
        is_yes = action == "accept" and isinstance(content, dict) and content.get(INPUT_KEY) is True
        if mode == "form" and is_yes:
            return (await self.settle(pending_id, principal.grant_id, "confirm", deliver))[1]
        # A URL accepted but not used yet, or a form without a yes: ask again (mrtr: SHOULD re-ask).
        return self._input_required(
            record.pending, tool, arguments, ClientFeatures(url=mode == "url", form=True)
        )

    async def settle(
        self,
        pending_id: str,
        grant_id: str,
        decision: Decision,
        deliver: Deliver,
        declined: str | None = None,
    ) -> tuple[Status | None, dict[str, Any]]:
        """Confirm (deliver) or cancel a pending send, once: the status it left the send in (None when
        it was refused, and nothing changed) and the CallToolResult of what happened.

        A refusal (`NotPending`) becomes an error result saying that nothing was sent.
        """
        try:
            pending = await self._store.settle(pending_id, grant_id, decision)
        except NotPending as exc:
            return None, error_result(str(exc))
        if decision == "cancel":
            said = {"decline": "declined", "cancel": "cancelled"}.get(declined or "", "cancelled")
            outcome = error_result(f"The person {said} this send. Nothing was sent.")
            await self._store.finish(pending_id, Status.CANCELLED, outcome)
            return Status.CANCELLED, outcome
        try:
            outcome = await deliver(pending)
        except BaseException:
            await self._store.finish(pending_id, Status.FAILED, error_result(REFUSALS[Status.FAILED]))
            raise
        status = Status.FAILED if outcome.get("isError") else Status.SENT
        await self._store.finish(pending_id, status, outcome)
        return status, outcome

    def read_view_token(self, token: str, grant_id: str) -> str:
        """The pending send a view's token names, for this grant. Raises `NotPending`."""
        try:
            claims = self._tokens.loads(token, max_age=PENDING_TTL_SECONDS)
        except SignatureExpired:
            raise NotPending("expired") from None
        except BadData:
            raise NotPending("forged") from None
        if not (isinstance(claims, list) and len(claims) == 2 and all(isinstance(c, str) for c in claims)):
            raise NotPending("forged")
        if not hmac.compare_digest(claims[1], grant_id):
            raise NotPending("other-grant")
        return str(claims[0])

    def _preview(self, pending: HeldSend, features: ClientFeatures) -> dict[str, Any]:
        result = error_result(_preview_text(pending, self.link(pending.id)))
        if features.apps:
            token = self._tokens.dumps([pending.id, pending.grant_id])
            result["_meta"] = {
                CONFIRMATION_META_KEY: _facts(pending) | {"token": token, "confirmUrl": self.link(pending.id)}
            }
        return result

    def _url_request(self, pending: HeldSend) -> dict[str, Any]:
        return {
            "mode": "url",
            "message": f"Confirm or cancel the text from {pending.request.sender} to "
            f"{len(pending.request.recipients)} recipient(s) on the gateway's page.",
            "url": self.link(pending.id),
        }

    def _input_required(
        self, pending: HeldSend, tool: str, arguments: dict[str, Any], features: ClientFeatures
    ) -> dict[str, Any]:
        """2026-07-28 `InputRequiredResult`: URL mode when declared (the stronger path), else a form."""
        if features.url:
            params = self._url_request(pending)
        else:
            params = {
                "mode": "form",
                "message": _preview_text(pending, self.link(pending.id)),
                "requestedSchema": {
                    "type": "object",
                    "properties": {INPUT_KEY: {"type": "boolean", "title": "Send this text now"}},
                    "required": [INPUT_KEY],
                },
            }
        mode = "url" if features.url else "form"
        state = self._states.dumps([pending.id, pending.grant_id, arguments_digest(tool, arguments), mode])
        return {
            "resultType": "input_required",
            "inputRequests": {INPUT_KEY: {"method": "elicitation/create", "params": params}},
            "requestState": state,
        }

    def _read_state(self, state: Any, grant_id: str, digest: str) -> tuple[str, str]:
        """The pending send's id and the mode asked, from a genuine state for this grant and call."""
        if not isinstance(state, str):
            raise InvalidParams("requestState must be the string this server returned")
        try:
            claims = self._states.loads(state, max_age=PENDING_TTL_SECONDS)
        except SignatureExpired:
            raise InvalidParams(f"Invalid requestState: {REFUSALS['expired']}") from None
        except BadData:
            raise InvalidParams(f"Invalid requestState: {REFUSALS['forged']}") from None
        if not (isinstance(claims, list) and len(claims) == 4 and all(isinstance(c, str) for c in claims)):
            raise InvalidParams(f"Invalid requestState: {REFUSALS['forged']}")
        if not hmac.compare_digest(claims[1], grant_id):
            raise InvalidParams(f"Invalid requestState: {REFUSALS['other-grant']}")
        if not hmac.compare_digest(claims[2], digest):
            raise InvalidParams(f"Invalid requestState: {REFUSALS['other-send']}")
        return claims[0], claims[3]


def _facts(pending: HeldSend) -> dict[str, Any]:
    """What a person is shown before confirming: sender, every recipient, the text, the expiry."""
    return {
        "sender": pending.request.sender,
        "recipients": list(pending.request.recipients),
        "text": pending.request.text,
        "expiresAt": datetime.fromtimestamp(pending.expires_at, UTC).isoformat(timespec="seconds"),
    }


def _preview_text(pending: HeldSend, link: str) -> str:
    request = pending.request
    return (
        "Not sent yet: sending needs a person's confirmation, and nothing is sent without it.\n"
        f"From: {request.sender}\nTo ({len(request.recipients)}): {', '.join(request.recipients)}\n"
        f"Text: {request.text}\n"
        f"The person can confirm or cancel it within {PENDING_TTL_SECONDS // 60} minutes at {link}"
    )
