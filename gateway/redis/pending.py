"""`tools.pending.PendingStore` on Redis: a pending send made on one machine is settled on any, once.

Each pending send is one hash, `pending:{id}`: its grant id, status, expiry (ms, Redis's clock
decides) and outcome in clear, and the record itself encrypted (JWE "dir" + "A256GCM" under a key
derived from `SECRET_KEYS`), because it carries the OpenPhone key the confirmation page sends with.
Settling is one Lua script (`scripts/settle_pending.lua`). When Redis cannot be reached every method
raises `PendingUnavailable`: a send that must be confirmed is then refused, never sent unconfirmed.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

import orjson
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from redis.asyncio import Redis

from gateway.redis.connection import UNAVAILABLE
from gateway.redis.scripts import Scripts
from tools.pending import (
    OUTCOME_KEPT_SECONDS,
    Decision,
    HeldSend,
    NotPending,
    PendingUnavailable,
    Settled,
    Status,
)

_REGISTRY: Final = jwe.JWERegistry(algorithms=["dir", "A256GCM"])
_KID_HEX_CHARS: Final = 8


def _record_key(pending_id: str) -> str:
    return f"pending:{{{pending_id}}}"


def _index_key(grant_id: str, digest: str) -> str:
    return f"pending:ix:{grant_id}:{digest}"


class RedisPendingStore:
    """The shared pending sends; `ring` is the derived key ring, current key first."""

    def __init__(self, client: Redis, scripts: Scripts, ring: tuple[bytes, ...]) -> None:
        self._client = client
        self._scripts = scripts
        self._keys = {
            hashlib.sha256(raw).hexdigest()[:_KID_HEX_CHARS]: OctKey.import_key(raw) for raw in ring
        }
        self._current = next(iter(self._keys))

    async def put(self, pending: HeldSend, findable: bool = False) -> None:
        key = _record_key(pending.id)
        expires_ms = int(pending.expires_at * 1000)
        kept_ms = expires_ms + OUTCOME_KEPT_SECONDS * 1000
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hset(
                    key,
                    mapping={
                        "grant": pending.grant_id,
                        "status": Status.PENDING.value,
                        "exp": expires_ms,
                        "blob": self._seal(pending),
                    },
                )
                pipe.pexpireat(key, kept_ms)
                if findable:
                    pipe.set(_index_key(pending.grant_id, pending.digest), pending.id, pxat=kept_ms)
                await pipe.execute()
        except UNAVAILABLE as exc:
            raise PendingUnavailable("Redis is unreachable") from exc

    async def find(self, grant_id: str, digest: str) -> Settled | None:
        try:
            pending_id = await self._client.get(_index_key(grant_id, digest))
        except UNAVAILABLE as exc:
            raise PendingUnavailable("Redis is unreachable") from exc
        return await self.get(_text(pending_id)) if pending_id is not None else None

    async def get(self, pending_id: str) -> Settled | None:
        try:
            values = await self._client.hmget(_record_key(pending_id), ["status", "blob", "outcome"])
        except UNAVAILABLE as exc:
            raise PendingUnavailable("Redis is unreachable") from exc
        status, blob, outcome = values
        if status is None or blob is None:
            return None
        pending = self._open(_text(blob))
        if pending is None:
            return None
        return Settled(
            pending=pending,
            status=Status(_text(status)),
            outcome=orjson.loads(outcome) if outcome is not None else None,
        )

    async def forget(self, pending: HeldSend) -> None:
        try:
            await self._scripts.delete_if(_index_key(pending.grant_id, pending.digest), pending.id)
        except UNAVAILABLE as exc:
            raise PendingUnavailable("Redis is unreachable") from exc

    async def settle(self, pending_id: str, grant_id: str, decision: Decision) -> HeldSend:
        status = Status.CONFIRMING if decision == "confirm" else Status.CANCELLED
        try:
            reason, blob = await self._scripts.settle_pending(_record_key(pending_id), grant_id, status.value)
        except UNAVAILABLE as exc:
            raise PendingUnavailable("Redis is unreachable") from exc
        pending = self._open(_text(blob)) if reason == "ok" and blob is not None else None
        if pending is None:
            raise NotPending(reason if reason != "ok" else "missing")
        return pending

    async def finish(self, pending_id: str, status: Status, outcome: dict[str, Any]) -> None:
        try:
            await self._client.hset(
                _record_key(pending_id), mapping={"status": status.value, "outcome": orjson.dumps(outcome)}
            )
        except UNAVAILABLE as exc:
            raise PendingUnavailable("Redis is unreachable") from exc

    def _seal(self, pending: HeldSend) -> str:
        header = {"alg": "dir", "enc": "A256GCM", "kid": self._current}
        return jwe.encrypt_compact(
            header, pending.model_dump_json(), self._keys[self._current], registry=_REGISTRY
        )

    def _open(self, text: str) -> HeldSend | None:
        """The record, or None when no key of the ring opens it (a rotated-out key, a tampered hash)."""
        for key in self._keys.values():
            try:
                plaintext = jwe.decrypt_compact(text, key, registry=_REGISTRY).plaintext
            except (JoseError, ValueError):
                continue
            return HeldSend.model_validate_json(plaintext or b"")
        return None


def _text(value: bytes | str) -> str:
    """A reply as text (this client answers bytes)."""
    return value.decode() if isinstance(value, bytes) else value
