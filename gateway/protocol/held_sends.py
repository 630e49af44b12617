"""Where the protocol core meets held sends: running a tool that may hold one, retries, delivery.

A send tool's hold raises `SendHeld`; `HeldSends.run` answers it through `Confirmations` for what the
client declared. A person's confirmation (view, page, elicitation) delivers the send with `deliver`,
which runs the same tool again, for the key and grant it was held for, with a hold that passes only
the confirmed send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import orjson

from gateway.protocol.client_features import ClientFeatures, read_features
from gateway.protocol.confirmation import Confirmations, Deliver
from gateway.protocol.envelope import CLIENT_CAPABILITIES_META_KEY
from gateway.protocol.principal import Principal
from gateway.protocol.versions import is_modern
from tools.allowance import Allowance
from tools.api import OpenPhone
from tools.grant import Grant
from tools.pending import Decision, HeldSend, NotPending, PendingUnavailable, SendHeld, Status, pass_confirmed
from tools.registry import SettleSend, Tool, ToolContext, ToolRegistry, error_result
from tools.sends import AuditSink, Sends

if TYPE_CHECKING:
    from gateway.protocol.core import Exchange

__all__ = ["Deliver", "HeldSends", "features_of"]

# Issue 23: with the shared state unreachable, a send that must be confirmed is refused, retryably.
UNCONFIRMABLE_NOW: Final = (
    "Nothing was sent: this send needs a person's confirmation, and confirmations cannot be recorded "
    "right now. Try again in a moment."
)


class HeldSends:
    """Runs tools for the core and settles the sends they hold."""

    def __init__(
        self,
        confirmations: Confirmations,
        registry: ToolRegistry,
        openphone: OpenPhone,
        region: str,
        allowance: Allowance,
        audit: AuditSink,
    ) -> None:
        self._confirmations = confirmations
        self._allowance = allowance
        self._audit = audit
        self._registry = registry
        self._openphone = openphone
        self._region = region

    async def run(
        self,
        tool: Tool[Any, Any],
        arguments: dict[str, Any],
        context: ToolContext,
        params: dict[str, Any],
        exchange: Exchange,
    ) -> dict[str, Any]:
        """The tool's result; a send it holds is answered with the ways a person can confirm it.

        Raises `URLElicitationRequired` for a 2025-11-25 client that declared URL elicitation.
        """
        try:
            return await tool.run(arguments, context)
        except SendHeld as held:
            features = features_of(params, exchange)
            try:
                return await self._confirmations.hold(
                    held, exchange.principal, tool.name, arguments, exchange.revision, features
                )
            except PendingUnavailable:
                return error_result(UNCONFIRMABLE_NOW)

    async def resume(
        self, params: dict[str, Any], principal: Principal, tool: str, arguments: dict[str, Any]
    ) -> dict[str, Any]:
        """A 2026-07-28 retry carrying the `requestState` a held send was answered with."""
        try:
            return await self._confirmations.resume(
                params["requestState"], params.get("inputResponses"), principal, tool, arguments, self.deliver
            )
        except PendingUnavailable:
            return error_result(UNCONFIRMABLE_NOW)

    async def deliver(self, held: HeldSend) -> dict[str, Any]:
        """Send a held send a person confirmed: its tool runs again with the key and grant it was held
        for, checks the inbox and recipients again, and its hold passes only the confirmed send."""
        tool = self._registry.get(held.tool)
        if tool is None:
            return error_result("The tool of this send no longer exists. Nothing was sent.")
        grant = Grant.model_validate(held.grant)
        sends = Sends(
            grant, held.grant_id, self._allowance, hold=pass_confirmed(held.digest), audit=self._audit
        )
        context = ToolContext(
            openphone=self._openphone.for_key(held.api_key, held.fingerprint),
            principal_fingerprint=held.fingerprint,
            sends=sends,
            region=self._region,
        )
        result = await tool.run(held.arguments, context)
        # Plain JSON: the outcome is kept in the shared state and may be given again to a retry.
        decoded: dict[str, Any] = orjson.loads(orjson.dumps(result))
        return decoded

    def view_settler(self, principal: Principal) -> SettleSend:
        """How the send view's confirm-send settles the held send its token names, for this caller."""

        async def settle(token: str, decision: Decision) -> tuple[Status | None, dict[str, Any]]:
            try:
                pending_id = self._confirmations.read_view_token(token, principal.grant_id)
                return await self._confirmations.settle(
                    pending_id, principal.grant_id, decision, self.deliver
                )
            except NotPending as exc:
                return None, error_result(str(exc))
            except PendingUnavailable:
                return None, error_result(UNCONFIRMABLE_NOW)

        return settle


def features_of(params: dict[str, Any], exchange: Exchange) -> ClientFeatures:
    """What the caller can show a person: from the request's `_meta` in 2026-07-28, else the session."""
    if not is_modern(exchange.revision):
        return exchange.features
    meta = params.get("_meta")
    return read_features(meta.get(CLIENT_CAPABILITIES_META_KEY) if isinstance(meta, dict) else None)
