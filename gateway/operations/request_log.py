"""Request ids and the access log: one line per HTTP request, at its end (`gateway.edge.entry`).

Every request gets an id: the caller's `x-request-id` when it is a plain token, else 32 fresh
random hex digits. The edge echoes it in the response, keeps it in `scope["state"]["request_id"]`, and
sets `gateway.operations.logs.current_request_id` while the request runs, so every record logged on
the way (tool calls, upstream calls) carries it. The line goes out through `log_fields`: the JSON
line any record gets, without building one. Code deeper in the request (the transports, the
protocol core, the OpenPhone client's observer) adds fields to the line with `annotate_current`.
"""

from __future__ import annotations

import logging
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

from starlette.types import Scope

from gateway.operations.logs import log_fields

REQUEST_ID_HEADER: Final = b"x-request-id"
TRUSTED_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A client's registered name is its own choice: the line keeps this many characters of it.
CLIENT_NAME_CHARS: Final = 64

access_logger = logging.getLogger("gateway.access")


@dataclass(slots=True)
class AccessRecord:
    """The fields of one request's access line that code deeper in the request fills in."""

    request_id: str
    # A fingerprint of the caller, never a credential.
    principal: str | None = None
    tool: str | None = None
    upstream_status: int | None = None
    outcome: str | None = None
    # A send's audit trace (issue 23 item 6): ids, a digest, a count and the outcome, nothing in clear.
    audit_id: str | None = None
    grant: str | None = None
    client: str | None = None
    recipients: int | None = None
    send_outcome: str | None = None


# The running request's record; tasks started inside the request inherit it.
current_access: ContextVar[AccessRecord | None] = ContextVar("current_access", default=None)


def annotate_current(
    *,
    principal: str | None = None,
    tool: str | None = None,
    upstream_status: int | None = None,
    outcome: str | None = None,
    audit_id: str | None = None,
    grant: str | None = None,
    client: str | None = None,
    recipients: int | None = None,
    send_outcome: str | None = None,
) -> None:
    """Add fields to the access line of the request this code runs for, if any.

    Fields left `None` are not touched, and a later call overrides an earlier one.
    """
    record = current_access.get()
    if record is None:
        return
    if audit_id is not None:
        record.audit_id, record.grant, record.recipients = audit_id, grant, recipients
        record.client = None if client is None else client[:CLIENT_NAME_CHARS]
        record.send_outcome = send_outcome
    if principal is not None:
        record.principal = principal
    if tool is not None:
        record.tool = tool
    if upstream_status is not None:
        record.upstream_status = upstream_status
    if outcome is not None:
        record.outcome = outcome


def request_id_for(inbound: bytes | None, trusted: re.Pattern[str] = TRUSTED_REQUEST_ID) -> str:
    """The caller's `x-request-id` when it is a plain token, else a fresh one."""
    if inbound is not None:
        text = inbound.decode("latin-1")
        # fullmatch: a `$` would let a trailing newline through.
        if trusted.fullmatch(text):
            return text
    # 128 random bits as uuid4().hex would give, without building a UUID (a fifth of the cost).
    return os.urandom(16).hex()


def log_access(scope: Scope, record: AccessRecord, status: int, duration_ms: float) -> None:
    """Write the access line of the request in `scope` (status 0: it ended before any response)."""
    client = scope.get("client")
    fields: dict[str, Any] = {
        "request_id": record.request_id,
        "method": scope["method"],
        # The path only: a query string can carry a session id or an OAuth code.
        "path": scope["path"],
        "status": status,
        "duration_ms": duration_ms,
        "client_ip": client[0] if client else None,
        "principal": record.principal,
        "tool": record.tool,
        "upstream_status": record.upstream_status,
        "outcome": record.outcome,
    }
    if record.audit_id is not None:
        fields |= {
            "audit_id": record.audit_id,
            "grant": record.grant,
            "client": record.client,
            "recipients": record.recipients,
            "send_outcome": record.send_outcome,
        }
    log_fields(access_logger, f"{fields['method']} {fields['path']} {status}", fields)
