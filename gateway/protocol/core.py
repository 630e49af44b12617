"""The MCP protocol core: one dispatcher for every transport and every revision.

Transports decode a message, decide which revision it speaks, and hand it here with an `Exchange`
(who is calling, in which revision, how to send notifications about it). The core answers with a
JSON-RPC response dict, or None when a cancelled call must go unanswered (2025-11-25
cancellation: the receiver SHOULD NOT send a response for a cancelled request).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from gateway.errors import (
    InternalError,
    InvalidParams,
    InvalidRequest,
    JSONRPCError,
    MethodNotFound,
    ResourceNotFound,
)
from gateway.operations.request_log import annotate_current
from gateway.protocol import jsonrpc
from gateway.protocol.client_features import NO_FEATURES, ClientFeatures
from gateway.protocol.confirmation import Confirmations
from gateway.protocol.held_sends import Deliver, HeldSends
from gateway.protocol.inflight import Canceller, InFlightCalls
from gateway.protocol.principal import Principal
from gateway.protocol.versions import SUPPORTED_REVISIONS, allows_batches, is_modern, negotiate_revision
from tools.allowance import Allowance, MemoryAllowance
from tools.api import OpenPhone
from tools.grant import Grant
from tools.pending import HeldSend, hold_for_a_person
from tools.registry import (
    Audience,
    ProgressReporter,
    ToolContext,
    ToolRegistry,
    error_result,
    no_progress,
)
from tools.scopes import refusal
from tools.sends import SendAudit, Sends
from tools.undo import UndoBook

logger = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], Awaitable[None]]
ModelT = TypeVar("ModelT", bound=BaseModel)

# 2026-07-28 caching (SEP-2549): the catalogue and the view templates only change with a deploy, and
# the catalogue may differ per caller.
CATALOGUE_TTL_MS: Final = 300_000
CATALOGUE_CACHE_SCOPE: Final = "private"
CACHEABLE_METHODS: Final = frozenset(
    {"server/discover", "tools/list", "resources/list", "resources/templates/list", "resources/read"}
)
# 2026-07-28: every result names its server under this key (`mcp_types`' own; test_mcp_types_agreement.py).
SERVER_INFO_META_KEY: Final = "io.modelcontextprotocol/serverInfo"
# One batch is one HTTP request: its items share one body and one answer, so they are few. Bounds the
# upstream calls one request can start (review #1).
MAX_BATCH_ITEMS: Final = 32
# Once a batch's answers hold this many bytes, its later requests are refused rather than run: a
# listing is ~70 KB, and 32 tools/list answered 2.2 MB (second review #9). One answer is never cut.
MAX_BATCH_ANSWER_BYTES: Final = 256 * 1024
# A cancellation naming a longer string id is ignored: it is broadcast to every machine when the call
# does not run here, and a megabyte id would fill their subscriber connections (security review #4).
MAX_CANCELLED_ID_CHARS: Final = 256


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """How the server names itself in `initialize` and `server/discover`."""

    name: str
    version: str
    title: str
    instructions: str

    def implementation(self) -> dict[str, str]:
        """The MCP `Implementation` object."""
        return {"name": self.name, "title": self.title, "version": self.version}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request's context, supplied by the transport.

    `emit` sends a notification related to this request, or is None when the transport cannot
    carry one (a client that accepts only JSON). `namespace` scopes request ids for cancellation.
    `features` is what a handshake-era client declared at `initialize`, where the transport kept it
    (2026-07-28 requests declare theirs in `_meta`).
    """

    principal: Principal
    revision: str
    namespace: str
    emit: Emit | None = None
    audience: Audience = "default"
    features: ClientFeatures = NO_FEATURES


class _Params(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class _InitializeParams(_Params):
    protocol_version: StrictStr = Field(alias="protocolVersion")
    capabilities: dict[str, Any]
    client_info: dict[str, Any] = Field(alias="clientInfo")


class _CallToolParams(_Params):
    name: StrictStr
    arguments: dict[str, Any] = Field(default_factory=dict)


class _ReadResourceParams(_Params):
    uri: StrictStr


class _CancelledParams(_Params):
    request_id: Annotated[StrictStr, Field(max_length=MAX_CANCELLED_ID_CHARS)] | StrictInt = Field(
        alias="requestId"
    )


Handler = Callable[[dict[str, Any], Exchange, jsonrpc.RequestId], Awaitable[dict[str, Any] | None]]


class ProtocolCore:
    """Answers MCP requests and notifications; stateless apart from the calls it is running."""

    def __init__(
        self,
        registry: ToolRegistry,
        server_info: ServerInfo,
        inflight: InFlightCalls,
        cancel: Canceller,
        openphone: OpenPhone,
        region: str,
        confirmations: Confirmations,
        count_tool_call: Callable[[str, str], None] | None = None,
        allowance: Allowance | None = None,
        undo: UndoBook | None = None,
        record_write: WriteRecorder | None = None,
    ) -> None:
        """`undo` seals the undo tokens of contact writes (None: they offer none); `record_write` is
        told of every finished call of a tool that writes (it never awaits)."""
        self._undo = undo
        self._record_write = record_write
        self._registry = registry
        # None: a core built alone (tests, tools) counts in this process.
        self._allowance = allowance or MemoryAllowance()
        self._held = HeldSends(confirmations, registry, openphone, region, self._allowance, _audit_send)
        self._count_tool_call = count_tool_call or _ignore_outcome
        self._openphone = openphone
        self._region = region
        self._info = server_info
        self._inflight = inflight
        self._cancel = cancel
        self._capabilities: dict[str, Any] = {
            "tools": {"listChanged": False},
            "resources": {"subscribe": False, "listChanged": False},
        }
        shared: dict[str, Handler] = {
            "tools/list": self._list_tools,
            "tools/call": self._call_tool,
            "resources/list": self._list_resources,
            "resources/templates/list": self._list_resource_templates,
            "resources/read": self._read_resource,
        }
        # 2026-07-28 removed initialize and ping, and added server/discover.
        self._handshake_methods: dict[str, Handler] = {
            "initialize": self._initialize,
            "ping": self._ping,
            **shared,
        }
        self._modern_methods: dict[str, Handler] = {"server/discover": self._discover, **shared}

    @property
    def deliver(self) -> Deliver:
        """Sends a held send a person confirmed on the confirmation page, and notes it as the write of
        the sign-in that asked for it (the view and elicitation confirm within a tools/call, which is
        noted as any call is)."""
        return self._deliver_confirmed

    async def _deliver_confirmed(self, held: HeldSend) -> dict[str, Any]:
        result = await self._held.deliver(held)
        if self._record_write is not None:
            asked = Principal(
                api_key=held.api_key,
                fingerprint=held.fingerprint,
                source=held.source,
                credential=held.credential,
                grant=Grant.model_validate(held.grant),
                grant_id=held.grant_id,
            )
            outcome = "error" if result.get("isError") else "ok"
            self._record_write(asked, held.tool, held.arguments, result, outcome)
        return result

    async def handle_request(self, request: jsonrpc.Request, exchange: Exchange) -> dict[str, Any] | None:
        """The JSON-RPC response to `request`, or None when it was cancelled."""
        methods = self._modern_methods if is_modern(exchange.revision) else self._handshake_methods
        handler = methods.get(request.method)
        try:
            if handler is None:
                raise MethodNotFound(f"Method not found: {request.method}")
            result = await handler(request.params or {}, exchange, request.id)
        except JSONRPCError as exc:
            return jsonrpc.failure(request.id, exc)
        if result is None:
            return None
        if is_modern(exchange.revision):
            result.setdefault("resultType", "complete")
            result["_meta"] = {**result.get("_meta", {}), SERVER_INFO_META_KEY: self._info.implementation()}
            if request.method in CACHEABLE_METHODS:
                result["ttlMs"] = CATALOGUE_TTL_MS
                result["cacheScope"] = CATALOGUE_CACHE_SCOPE
        return jsonrpc.success(request.id, result)

    async def handle_batch(self, batch: list[Any], exchange: Exchange) -> list[dict[str, Any]]:
        """The answers to a JSON-RPC batch, in order; notifications and cancelled calls add none.

        Raises `InvalidRequest` when the revision forbids batches, or the batch is empty (JSON-RPC 2.0
        §6: an empty array is answered with a single error) or longer than `MAX_BATCH_ITEMS`. Once the
        answers hold `MAX_BATCH_ANSWER_BYTES`, each later request is answered with an error, unrun.
        """
        if not allows_batches(exchange.revision):
            raise InvalidRequest(f"JSON-RPC batches are not allowed in protocol revision {exchange.revision}")
        if not batch:
            raise InvalidRequest("Invalid request: empty batch")
        if len(batch) > MAX_BATCH_ITEMS:
            raise InvalidRequest(
                f"Invalid request: a batch may hold at most {MAX_BATCH_ITEMS} messages, "
                f"this one has {len(batch)}"
            )
        answers = []
        answered_bytes = 0
        for item in batch:
            answer = await self._answer_member(item, exchange, answered_bytes >= MAX_BATCH_ANSWER_BYTES)
            if answer is not None:
                answers.append(answer)
                answered_bytes += len(jsonrpc.encode(answer))
        return answers

    async def _answer_member(self, item: Any, exchange: Exchange, full: bool) -> dict[str, Any] | None:
        """The answer to one batch member; a request is refused unrun when the batch's answer is `full`."""
        try:
            message = jsonrpc.parse_message(item)
        except InvalidRequest as exc:
            return jsonrpc.failure(jsonrpc.recover_id(item), exc)
        if isinstance(message, jsonrpc.Request):
            if message.method == "initialize":
                # 2025-03-26 lifecycle: the initialize request MUST NOT be part of a JSON-RPC batch.
                return jsonrpc.failure(message.id, InvalidRequest("initialize must not be part of a batch"))
            if full:
                return jsonrpc.failure(message.id, _BATCH_ANSWER_FULL)
            return await self.handle_request(message, exchange)
        if isinstance(message, jsonrpc.Notification):
            await self.handle_notification(message, exchange)
        return None

    def missing_scope(self, request: jsonrpc.Request, exchange: Exchange) -> str | None:
        """The scope a tools/call needs and the caller lacks, or None (also for any other method)."""
        if request.method != "tools/call" or not isinstance(request.params, dict):
            return None
        name = request.params.get("name")
        tool = self._registry.get(name, exchange.audience) if isinstance(name, str) else None
        if tool is None or exchange.principal.may_use(tool.scope):
            return None
        return tool.scope

    async def handle_notification(self, notification: jsonrpc.Notification, exchange: Exchange) -> None:
        """Act on a notification; unknown ones are ignored, as JSON-RPC requires."""
        if notification.method != "notifications/cancelled":
            return
        try:
            params = _CancelledParams.model_validate(notification.params or {})
        except ValidationError:
            return
        await self._cancel(exchange.namespace, params.request_id)

    async def _initialize(
        self, params: dict[str, Any], exchange: Exchange, _: jsonrpc.RequestId
    ) -> dict[str, Any]:
        parsed = _parse(_InitializeParams, params)
        return {
            "protocolVersion": negotiate_revision(parsed.protocol_version),
            "capabilities": self._capabilities,
            "serverInfo": self._info.implementation(),
            "instructions": self._info.instructions,
        }

    async def _discover(
        self, params: dict[str, Any], exchange: Exchange, _: jsonrpc.RequestId
    ) -> dict[str, Any]:
        return {
            "supportedVersions": list(SUPPORTED_REVISIONS),
            "capabilities": self._capabilities,
            "instructions": self._info.instructions,
        }

    async def _ping(self, params: dict[str, Any], exchange: Exchange, _: jsonrpc.RequestId) -> dict[str, Any]:
        return {}

    async def _list_tools(
        self, params: dict[str, Any], exchange: Exchange, _: jsonrpc.RequestId
    ) -> dict[str, Any]:
        return {"tools": self._registry.listing(exchange.audience, exchange.principal.scopes)}

    async def _list_resources(
        self, params: dict[str, Any], exchange: Exchange, _: jsonrpc.RequestId
    ) -> dict[str, Any]:
        return {"resources": [view.resource() for view in self._registry.views]}

    async def _list_resource_templates(
        self, params: dict[str, Any], exchange: Exchange, _: jsonrpc.RequestId
    ) -> dict[str, Any]:
        return {"resourceTemplates": []}

    async def _read_resource(
        self, params: dict[str, Any], exchange: Exchange, _: jsonrpc.RequestId
    ) -> dict[str, Any]:
        uri = _parse(_ReadResourceParams, params).uri
        view = self._registry.view(uri)
        if view is not None:
            return {"contents": [view.contents()]}
        # 2026-07-28 (SEP-2164) reports an unknown resource as invalid params; earlier revisions use -32002.
        if is_modern(exchange.revision):
            raise InvalidParams(f"Resource not found: {uri}", {"uri": uri})
        raise ResourceNotFound(f"Resource not found: {uri}", {"uri": uri})

    def _outcome(self, exchange: Exchange, tool: str, outcome: str) -> None:
        self._count_tool_call(tool, outcome)
        annotate_current(tool=tool, outcome=outcome)

    async def _call_tool(
        self, params: dict[str, Any], exchange: Exchange, request_id: jsonrpc.RequestId
    ) -> dict[str, Any] | None:
        parsed = _parse(_CallToolParams, params)
        tool = self._registry.get(parsed.name, exchange.audience)
        if tool is None:
            raise InvalidParams(f"Unknown tool: {parsed.name}")
        principal = exchange.principal
        if not principal.may_use(tool.scope):
            # Transports that can answer 403 refuse earlier (`missing_scope`); this is the fallback.
            self._outcome(exchange, tool.name, "refused")
            return error_result(refusal(tool.scope))
        if is_modern(exchange.revision) and "requestState" in params:
            # 2026-07-28 mrtr: the retry of a call whose send waited for the person.
            result = await self._held.resume(params, principal, tool.name, parsed.arguments)
            self._outcome(exchange, tool.name, "error" if result.get("isError") else "ok")
            return result
        context = ToolContext(
            openphone=self._openphone.for_key(principal.api_key, principal.fingerprint),
            principal_fingerprint=principal.fingerprint,
            sends=Sends(
                principal.grant,
                principal.grant_id,
                self._allowance,
                hold=hold_for_a_person,
                audit=_audit_send,
                client_name=principal.client_name,
            ),
            report_progress=_progress_reporter(params, exchange),
            region=self._region,
            settle_send=self._held.view_settler(principal),
            credential=principal.credential,
            undo=self._undo,
        )
        with self._inflight.track(exchange.namespace, request_id) as scope:
            try:
                result = await self._held.run(tool, parsed.arguments, context, params, exchange)
            except JSONRPCError:
                self._outcome(exchange, tool.name, "held")
                raise
            except Exception as exc:
                # The request boundary: the caller learns only that the call failed, never why.
                logger.error("tool %s failed with %s", tool.name, type(exc).__name__)
                self._outcome(exchange, tool.name, "failed")
                raise InternalError("Internal error while running the tool") from exc
        if scope.cancelled_caught:
            logger.info("tool %s cancelled by the client", tool.name)
            self._outcome(exchange, tool.name, "cancelled")
            return None
        outcome = "error" if result.get("isError") else "ok"
        self._outcome(exchange, tool.name, outcome)
        if self._record_write is not None and not tool.annotations.read_only:
            self._record_write(principal, tool.name, parsed.arguments, result, outcome)
        return result


_BATCH_ANSWER_FULL: Final = InvalidRequest(
    f"Invalid request: this batch's answer already holds {MAX_BATCH_ANSWER_BYTES // 1024} KiB, "
    "the most one batch answers; send this request again in another batch"
)


def _audit_send(record: SendAudit) -> None:
    """Issue 23 item 6: a send's trace on its access line; never its text or a number in clear."""
    annotate_current(
        audit_id=record.audit_id,
        grant=record.grant_digest,
        client=record.client_name,
        recipients=record.recipients,
        send_outcome=record.outcome,
    )


# (principal, tool name, arguments, CallToolResult, "ok" or "error")
WriteRecorder = Callable[[Principal, str, dict[str, Any], dict[str, Any], str], None]


def _ignore_outcome(tool: str, outcome: str) -> None:
    """The counter used when nobody counts tool calls."""


def _parse(model: type[ModelT], params: dict[str, Any]) -> ModelT:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise InvalidParams(f"Invalid params: {jsonrpc.describe_envelope_error(exc)}") from exc


def _progress_reporter(params: dict[str, Any], exchange: Exchange) -> ProgressReporter:
    """A reporter that sends notifications/progress for the caller's progressToken, strictly increasing."""
    meta = params.get("_meta")
    token = meta.get("progressToken") if isinstance(meta, dict) else None
    emit = exchange.emit
    if emit is None or not (
        isinstance(token, str) or (isinstance(token, int) and not isinstance(token, bool))
    ):
        return no_progress
    last: list[float] = []

    async def report(progress: float, total: float | None, message: str | None) -> None:
        # 2025-03-26 progress: "The progress value MUST increase with each notification".
        if last and progress <= last[0]:
            return
        last[:] = [progress]
        body: dict[str, Any] = {"progressToken": token, "progress": progress}
        if total is not None:
            body["total"] = total
        if message is not None:
            body["message"] = message
        await emit(jsonrpc.notification("notifications/progress", body))

    return report
