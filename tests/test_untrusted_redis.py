"""Two gateway processes on a real Redis that a stranger can read and write (security review
2026-12-07, #2 and #4): what that stranger PUBLISHes does nothing, what it reads tells it nothing,
and no caller can make the machines lose a message they accepted."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from gateway.keys import ServerKeys
from gateway.redis.cancellation import CANCEL_CHANNEL
from gateway.redis.scripts import REVOCATION_INDEX, REVOCATIONS_CHANNEL
from gateway.settings import decode_secret_key
from tests.cluster import Cluster, cluster
from tests.conftest import TEST_SECRET_KEY
from tests.oauth.flow import tokens_for
from tests.redis_server import RedisServer
from tests.sse import EventReader, open_stream
from tests.test_scale_out import JSON, opened_claims, refused_everywhere, rpc, tools_list
from tests.toolkit import eventually
from tools.sandbox import SANDBOX_API_KEY

pytestmark = pytest.mark.anyio

KEYED = {**JSON, "x-openphone-api-key": SANDBOX_API_KEY}
MADE_UP_KEYED = {**JSON, "x-openphone-api-key": "made-up-key-0123456789"}
SECRET_TEXT = "my secret text 1234"
STALL_SECONDS = 2.0


@pytest.fixture(scope="module")
def machines(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    redis_server.ensure_running()
    with cluster(redis_server.url, tmp_path_factory.mktemp("untrusted"), machines=2) as running:
        yield running


@pytest.fixture
async def web(machines: Cluster) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with machines.clients(request_seconds=30) as clients:
        yield clients


class Sniffer:
    """`PSUBSCRIBE *` on a thread: everything published on the Redis while it runs."""

    def __init__(self, redis_server: RedisServer) -> None:
        self._pubsub = redis_server.client().pubsub()
        self._pubsub.psubscribe("*")
        self._stop = threading.Event()
        self.seen: list[tuple[bytes, bytes]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            message = self._pubsub.get_message(timeout=0.1)
            if message is not None and message["type"] == "pmessage":
                self.seen.append((message["channel"], message["data"]))

    def __enter__(self) -> Sniffer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pubsub.close()

    def on(self, channel: str) -> list[bytes]:
        return [data for seen, data in self.seen if seen == channel.encode()]


def only_stream_channel(redis_server: RedisServer) -> bytes:
    channels = redis_server.client().pubsub_channels("sse:*")
    assert len(channels) == 1
    channel: bytes | str = channels[0]
    return channel if isinstance(channel, bytes) else channel.encode()


async def next_id(reader: EventReader) -> int:
    return int((await reader.next_message())["id"])


def padded(size: int) -> bytes:
    """A notification of about `size` bytes."""
    return orjson.dumps({"jsonrpc": "2.0", "method": "notifications/x", "params": {"pad": "x" * size}})


class TestForgedPublish:
    async def test_a_request_published_on_a_streams_channel_is_not_run(
        self, machines: Cluster, web: list[httpx.AsyncClient], redis_server: RedisServer
    ) -> None:
        injected = rpc("tools/call", 777, name="create-contact", arguments={"firstName": "Injected"})
        async with open_stream(web[0], api_key=SANDBOX_API_KEY) as (reader, endpoint):
            assert redis_server.client().publish(only_stream_channel(redis_server), injected) == 1
            assert (await web[1].post(endpoint, content=rpc("ping", 5), headers=KEYED)).status_code == 202
            assert await next_id(reader) == 5
        assert [path for path, _ in machines.upstream.arrivals if path == "/v1/contacts"] == []

    async def test_a_forged_cancellation_does_not_stop_a_call(
        self, machines: Cluster, web: list[httpx.AsyncClient], redis_server: RedisServer
    ) -> None:
        """The review computed the namespace digest from the fingerprint in the access log."""
        keys = ServerKeys((decode_secret_key(TEST_SECRET_KEY),))
        namespace = f"header:{keys.fingerprint(SANDBOX_API_KEY)}"
        digest = hashlib.blake2b(namespace.encode(), digest_size=16).hexdigest()
        forged = orjson.dumps({"ns": digest, "id": 29})
        response = await self._call_while(machines, web[0], 29, lambda: _publish(redis_server, forged))
        assert response.status_code == 200

    async def test_a_replayed_cancellation_does_not_stop_a_later_call(
        self, machines: Cluster, web: list[httpx.AsyncClient], redis_server: RedisServer
    ) -> None:
        cancelled = orjson.dumps(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 30}}
        )
        headers = {**KEYED, "mcp-protocol-version": "2025-06-18"}
        with Sniffer(redis_server) as sniffer:
            assert (await web[1].post("/mcp", content=cancelled, headers=headers)).status_code == 202
            await eventually(lambda: _true(bool(sniffer.on(CANCEL_CHANNEL))), 5)
        captured = sniffer.on(CANCEL_CHANNEL)[0]
        response = await self._call_while(machines, web[0], 30, lambda: _publish(redis_server, captured))
        assert response.status_code == 200

    @staticmethod
    async def _call_while(
        machines: Cluster, client: httpx.AsyncClient, request_id: int, publish: Callable[[], None]
    ) -> httpx.Response:
        """A stalled call of `request_id`, and `publish()` once the upstream has it."""
        path = f"/v1/messages/AC0stall{request_id}"
        machines.upstream.stalled[path] = STALL_SECONDS
        headers = {**KEYED, "mcp-protocol-version": "2025-06-18"}
        call = asyncio.ensure_future(
            client.post(
                "/mcp",
                content=rpc("tools/call", request_id, name="get-message", arguments={"id": path[13:]}),
                headers=headers,
            )
        )
        await eventually(lambda: _true(any(seen == path for seen, _ in machines.upstream.arrivals)), 10)
        publish()
        return await call

    async def test_a_forged_revocation_does_not_lock_a_user_out(
        self, machines: Cluster, web: list[httpx.AsyncClient], redis_server: RedisServer
    ) -> None:
        _, victim = await tokens_for(web[0])
        _, witness = await tokens_for(web[0])
        family = opened_claims(machines, victim["access_token"]).fam
        redis = redis_server.client()
        redis.publish(REVOCATIONS_CHANNEL, f"f:{family} 99999999999999")
        redis.zadd(REVOCATION_INDEX, {f"f:{family}": 99999999999999})
        redis.client_kill_filter(_type="pubsub")  # every machine reads the index again
        # A genuine revocation, published after the forged one, marks when the machines have read it.
        witness_client = opened_claims(machines, witness["access_token"]).cid
        revoked = await web[1].post(
            "/revoke", data={"token": witness["refresh_token"], "client_id": witness_client}
        )
        assert revoked.status_code == 200
        await refused_everywhere(web, witness["access_token"])
        assert [await tools_list(machine, victim["access_token"]) for machine in web] == [200, 200]


class TestWhatRedisHolds:
    async def test_a_reader_of_redis_sees_no_legacy_body_and_no_key(
        self, web: list[httpx.AsyncClient], redis_server: RedisServer
    ) -> None:
        arguments = {"from": "+14155550100", "to": "+14155550123", "content": SECRET_TEXT}
        with Sniffer(redis_server) as sniffer:
            async with open_stream(web[0], api_key=SANDBOX_API_KEY) as (reader, endpoint):
                call = rpc("tools/call", 8, name="send-message", arguments=arguments)
                assert (await web[1].post(endpoint, content=call, headers=KEYED)).status_code == 202
                assert await next_id(reader) == 8
        published = [data for channel, data in sniffer.seen if channel.startswith(b"sse:")]
        assert len(published) == 1
        assert SECRET_TEXT.encode() not in published[0]
        assert b"send-message" not in published[0]
        stored = redis_server.client()
        assert [
            key for key in stored.scan_iter() if SANDBOX_API_KEY.encode() in (stored.dump(key) or b"")
        ] == []


class TestSubscriberOverflow:
    async def test_a_legacy_post_over_the_bound_is_refused_with_413(
        self, web: list[httpx.AsyncClient]
    ) -> None:
        pad = padded(300_000)
        async with open_stream(web[0], api_key="made-up-key-0123456789") as (_, endpoint):
            posted = await web[1].post(endpoint, content=pad, headers=MADE_UP_KEYED)
        assert (posted.status_code, posted.json()["error"]) == (413, "payload_too_large")

    async def test_a_session_posting_too_fast_is_told_to_retry_later(
        self, web: list[httpx.AsyncClient]
    ) -> None:
        pad = padded(250_000)
        async with open_stream(web[0], api_key="made-up-key-0123456789") as (_, endpoint):
            answers = [await web[1].post(endpoint, content=pad, headers=MADE_UP_KEYED) for _ in range(8)]
        statuses = [answer.status_code for answer in answers]
        assert statuses[:4] == [202] * 4
        refused = next(answer for answer in answers if answer.status_code == 429)
        assert (refused.json()["error"], refused.headers["retry-after"]) == ("too_many_requests", "1")

    async def test_a_cancellation_naming_an_overlong_id_is_not_broadcast(
        self, web: list[httpx.AsyncClient], redis_server: RedisServer
    ) -> None:
        """The review's second vector: a 1 MiB requestId, broadcast to every machine's subscriber."""
        headers = {**MADE_UP_KEYED, "accept": "application/json", "mcp-protocol-version": "2025-06-18"}
        overlong = {"requestId": "x" * 257}
        fitting = {"requestId": "x" * 256}
        with Sniffer(redis_server) as sniffer:
            for params in (overlong, fitting):
                cancelled = orjson.dumps(
                    {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params}
                )
                assert (await web[1].post("/mcp", content=cancelled, headers=headers)).status_code == 202
            await eventually(lambda: _true(bool(sniffer.on(CANCEL_CHANNEL))), 5)
        assert len(sniffer.on(CANCEL_CHANNEL)) == 1

    async def test_a_flooding_session_does_not_make_another_lose_an_accepted_message(
        self, web: list[httpx.AsyncClient], redis_server: RedisServer
    ) -> None:
        """The review's reproduction, with Redis's subscriber limit lowered to 4 MiB (a machine that
        falls behind sooner): a made-up key floods its own session with 1 MiB bodies while the victim
        pings; every ping that got 202 is answered."""
        redis = redis_server.client()
        redis.config_set("client-output-buffer-limit", "pubsub 4mb 2mb 10")
        pad = padded(1_040_000)
        accepted: list[int] = []
        try:
            async with (
                open_stream(web[0], api_key="made-up-key-0123456789") as (_, attack),
                open_stream(web[0], api_key=SANDBOX_API_KEY) as (reader, endpoint),
            ):

                async def flood() -> None:
                    for _ in range(6):
                        await web[0].post(attack, content=pad, headers=MADE_UP_KEYED)

                async def ping() -> None:
                    for request_id in range(40):
                        posted = await web[1].post(endpoint, content=rpc("ping", request_id), headers=KEYED)
                        if posted.status_code == 202:
                            accepted.append(request_id)

                await asyncio.gather(ping(), *(flood() for _ in range(12)))
                answered = [await next_id(reader) for _ in accepted]
        finally:
            redis.config_set("client-output-buffer-limit", "pubsub 32mb 8mb 60")
        assert sorted(answered) == accepted == list(range(40))


async def test_a_replaced_subscriber_connection_is_logged_as_a_warning(
    redis_url: str, tmp_path: Path, redis_server: RedisServer
) -> None:
    with cluster(redis_url, tmp_path, machines=1) as single:
        redis_server.client().client_kill_filter(_type="pubsub")
        async with httpx.AsyncClient(base_url=single[0].url, headers=single.host) as client:

            async def warned() -> bool:
                return "redis-py replaced it" in single[0].log.read_text()

            await eventually(warned, 10)
            assert (await client.get("/readyz")).status_code == 200
    warnings = [line for line in single[0].log.read_text().splitlines() if "redis-py replaced it" in line]
    assert sorted((orjson.loads(line)["level"], orjson.loads(line)["msg"]) for line in warnings) == [
        (
            "WARNING",
            "Redis dropped the control subscriber connection and redis-py replaced it: its channels are "
            "subscribed again, and messages published meanwhile were lost",
        ),
        (
            "WARNING",
            "Redis dropped the legacy-session subscriber connection and redis-py replaced it: its "
            "channels are subscribed again, and messages published meanwhile were lost",
        ),
    ]


def _publish(redis_server: RedisServer, data: bytes) -> None:
    redis_server.client().publish(CANCEL_CHANNEL, data)


async def _true(value: bool) -> bool:
    return value
