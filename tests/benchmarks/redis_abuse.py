"""Scenario `redis-abuse` (run only when named): what a stranger on Redis, or one caller, can do to
two machines' memory and to the messages they accepted (security review 2026-12-07, #2 and #4).

* forged revocations: FORGED_REVOCATIONS messages `f:<made-up> <year 5138>` PUBLISHed on
  `oauth:revocations` by EVALs, and each gateway's RSS before and after (the review saw +22 MiB
  per 200,000 on each machine);
* one flooding session: a made-up key POSTs 1 MiB bodies to its own legacy session on machine A from
  FLOOD_CONNECTIONS connections, while a victim's session on A gets a ping through B every 50 ms;
* many sessions: the same flood spread over FLOOD_CONNECTIONS sessions of 250 KiB bodies, each
  within its own budget: the case the per-session budget does not cover.

For each flood: the POSTs' statuses, how many of the victim's 202'd pings were answered and lost,
and how many times Redis dropped a subscriber connection (a gateway's subscriber id changing in
`CLIENT LIST TYPE pubsub`). Redis keeps its default `client-output-buffer-limit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import orjson

from tests.benchmarks.processes import Cores, Server
from tests.benchmarks.shared_state import machines, redis
from tests.benchmarks.targets import upstream
from tests.redis_server import RedisServer
from tests.sse import EventReader, open_stream
from tools.sandbox import SANDBOX_API_KEY

FORGED_REVOCATIONS: Final = 200_000
# Published by one EVAL each: a script blocks Redis, and the client's socket timeout is 5 s.
FORGE_BATCH: Final = 10_000
FLOOD_CONNECTIONS: Final = 16
FLOOD_POSTS_PER_CONNECTION: Final = 25
PING_INTERVAL_SECONDS: Final = 0.05
SETTLE_SECONDS: Final = 2.0
QUIET_SECONDS: Final = 30.0
MIB: Final = 1024 * 1024
_FORGE: Final = """
for i = tonumber(ARGV[1]) + 1, tonumber(ARGV[1]) + tonumber(ARGV[2]) do
  redis.call('PUBLISH', 'oauth:revocations', 'f:forged-family-' .. i .. ' 99999999999999')
end
return 1
"""


def measure(cores: Cores) -> dict[str, Any]:
    """The three figures, as the report prints them."""
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(upstream(cores))
        store = stack.enter_context(redis(cores))
        pair = stack.enter_context(machines(fake.url, cores, store.url, 2))
        forged = _forged_revocations(store, pair)
        one = asyncio.run(_flood(store, pair, sessions=1, body_bytes=1_040_000))
        many = asyncio.run(_flood(store, pair, sessions=FLOOD_CONNECTIONS, body_bytes=250_000))
    return {"forged_revocations": forged, "one_session_flood": one, "many_sessions_flood": many}


def _rss_mib(server: Server) -> float:
    return float(server.info.memory_info().rss) / MIB


def _forged_revocations(store: RedisServer, pair: list[Server]) -> dict[str, Any]:
    before = [_rss_mib(server) for server in pair]
    client = store.client()
    for batch in range(FORGED_REVOCATIONS // FORGE_BATCH):
        client.eval(_FORGE, 0, batch * FORGE_BATCH, FORGE_BATCH)
    time.sleep(SETTLE_SECONDS)
    after = [_rss_mib(server) for server in pair]
    return {
        "messages": FORGED_REVOCATIONS,
        "rss_before_mib": [round(value, 1) for value in before],
        "rss_after_mib": [round(value, 1) for value in after],
    }


@contextlib.contextmanager
def _subscriber_ids(store: RedisServer) -> Iterator[set[int]]:
    """Every subscriber connection id seen while the block runs (polled every 20 ms)."""
    seen: set[int] = set()
    done = threading.Event()
    client = store.client()

    def poll() -> None:
        while not done.is_set():
            seen.update(int(entry["id"]) for entry in client.client_list(_type="pubsub"))
            done.wait(0.02)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        done.set()
        thread.join(timeout=5)


async def _flood(store: RedisServer, pair: list[Server], *, sessions: int, body_bytes: int) -> dict[str, Any]:
    host = {"host": urlsplit(pair[0].url).netloc}
    pad = orjson.dumps({"jsonrpc": "2.0", "method": "notifications/x", "params": {"pad": "x" * body_bytes}})
    made_up = {"content-type": "application/json", "x-openphone-api-key": "made-up-key-0123456789"}
    keyed = {"content-type": "application/json", "x-openphone-api-key": SANDBOX_API_KEY}
    flood_statuses: Counter[int] = Counter()
    ping_statuses: Counter[int] = Counter()
    accepted: list[int] = []
    before = {int(entry["id"]) for entry in store.client().client_list(_type="pubsub")}
    async with (
        httpx.AsyncClient(base_url=pair[0].url, headers=host, timeout=300) as a,
        httpx.AsyncClient(base_url=pair[1].url, headers=host, timeout=300) as b,
        contextlib.AsyncExitStack() as streams,
    ):
        attacks = [
            (await streams.enter_async_context(open_stream(a, api_key="made-up-key-0123456789")))[1]
            for _ in range(sessions)
        ]
        reader, endpoint = await streams.enter_async_context(open_stream(a, api_key=SANDBOX_API_KEY))
        flooding = True

        async def flood(index: int) -> None:
            for _ in range(FLOOD_POSTS_PER_CONNECTION):
                posted = await a.post(attacks[index % sessions], content=pad, headers=made_up)
                flood_statuses[posted.status_code] += 1

        async def pings() -> None:
            request_id = 0
            while flooding:
                request_id += 1
                ping = orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ping"})
                posted = await b.post(endpoint, content=ping, headers=keyed)
                ping_statuses[posted.status_code] += 1
                if posted.status_code == 202:
                    accepted.append(request_id)
                await asyncio.sleep(PING_INTERVAL_SECONDS)

        with _subscriber_ids(store) as seen:
            pinging = asyncio.ensure_future(pings())
            await asyncio.gather(*(flood(index) for index in range(FLOOD_CONNECTIONS)))
            flooding = False
            await pinging
        answered = await _answered(reader, set(accepted))
    return {
        "sessions": sessions,
        "body_bytes": body_bytes,
        "flood_statuses": dict(flood_statuses),
        "ping_statuses": dict(ping_statuses),
        "pings_accepted": len(accepted),
        "accepted_answered": len(set(accepted) & answered),
        "accepted_lost": len(set(accepted) - answered),
        "subscriber_drops": len(seen - before),
    }


async def _answered(reader: EventReader, accepted: set[int]) -> set[int]:
    """The ids answered on the victim's stream: until every accepted one is, or it has been quiet for
    QUIET_SECONDS (a machine still busy with the flood answers late; late is not lost)."""
    answered: set[int] = set()
    while not accepted <= answered:
        try:
            message = await reader.next_message(within=QUIET_SECONDS)
        except (AssertionError, TimeoutError):
            break
        answered.add(int(message["id"]))
    return answered
