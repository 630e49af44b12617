"""Every fact several gateway machines share, kept in one Redis (set `REDIS_URL`).

One module per job, each the Redis half of a seam the rest of the gateway already has:

- `connection`   the client, tuned so a stalled Redis fails a request in about a second
- `scripts`      the Lua scripts (`scripts/*.lua`), loaded once and reloaded after `NOSCRIPT`
- `pubsub`       a subscriber connection and its reader task (two per process: control, sessions)
- `seals`        every message is sealed or MACed: Redis is a carrier, never trusted
- `send_budget`  how much each legacy session may publish
- `store`        `oauth.store.Store`: single-use codes, refresh rotation, revocation
- `revocations`  the local copy of revoked families and tokens that answers every Bearer check
- `session_bus`  `gateway.session_bus.SessionBus`: legacy-SSE POSTs reach the stream's machine
- `cancellation` `notifications/cancelled` reaches the machine running the call
- `pacer`        `tools.rate_limit.Pacer`: one OpenPhone key, one pace, across machines

Without `REDIS_URL` none of this is imported and every fact stays in the process.
"""
