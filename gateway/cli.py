"""The `openphone-mcp` command: `serve` runs the gateway, `tools` prints the tool table, `keygen` a key."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Final

import uvicorn
from starlette.types import ASGIApp

from gateway.app import create_app
from gateway.edge.client_address import ClientAddress
from gateway.edge.http_limits import BoundedHttpToolsProtocol
from gateway.errors import SettingsError
from gateway.keys import generate_secret_key
from gateway.operations.drain import Drain
from gateway.operations.logs import configure_logging
from gateway.operations.tuning import raise_open_file_limit, tune_garbage_collector
from gateway.settings import Settings, load_settings
from tools.docs import tools_table

logger = logging.getLogger(__name__)

# Seconds uvicorn waits for open requests and streams after SIGTERM before closing them.
GRACEFUL_SHUTDOWN_SECONDS: Final = 25


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openphone-mcp",
        description="An MCP gateway and OAuth 2.1 authorization server for the OpenPhone (Quo) API.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the gateway",
        description="Serve MCP over Streamable HTTP (/mcp) and legacy SSE (/sse) under uvicorn. "
        "Settings come from the environment; see the README for the table.",
    )
    serve.add_argument("--host", help="interface to bind (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default: PORT or 8000)")
    serve.add_argument(
        "--sandbox",
        action="store_true",
        help="answer OpenPhone calls from the built-in sandbox: no account and no configuration needed",
    )
    commands.add_parser(
        "tools",
        help="print the tool table (Markdown)",
        description="Print every tool with its description, OAuth scope and hints, as the README shows it.",
    )
    commands.add_parser(
        "keygen",
        help="print a fresh secret key for SECRET_KEYS",
        description="Print 32 random bytes, base64url-encoded: one entry for SECRET_KEYS.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    args = _parser().parse_args(argv)
    if args.command == "keygen":
        print(generate_secret_key())
        return 0
    if args.command == "tools":
        print(tools_table())
        return 0
    try:
        settings = load_settings(host=args.host, port=args.port, sandbox=args.sandbox or None)
    except SettingsError as exc:
        print(f"openphone-mcp: {exc}", file=sys.stderr)
        return 2
    serve(settings)
    return 0


def serve(settings: Settings) -> None:
    """Run the gateway until SIGINT/SIGTERM, then shut down gracefully."""
    configure_logging(settings.log_level)
    if settings.env_api_key is not None:
        logger.warning(
            "ALLOW_ENV_API_KEY is on: anyone who can reach this server acts with the "
            "OPENPHONE_API_KEY account"
        )
    if settings.is_production and settings.redis_url is None:
        logger.warning(
            "REDIS_URL is not set: codes, refresh rotation, revocation, legacy SSE sessions and pacing "
            "are kept per process; run one Machine only, or set REDIS_URL"
        )
    drain = Drain()
    app: ASGIApp = create_app(settings, drain=drain)
    if settings.client_ip_header:
        app = ClientAddress(app, header=settings.client_ip_header, trusted=settings.forwarded_allow_ips)
    tune_garbage_collector()
    logger.info("open files: up to %d connections and streams", raise_open_file_limit())
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        server_header=False,
        http=BoundedHttpToolsProtocol,
        # No route speaks WebSocket: an upgrade request is answered as plain HTTP, and the
        # websockets library is never loaded (9 ms and 0.6 MiB of every start).
        ws="none",
        # With CLIENT_IP_HEADER the proxy's own header names the client (ClientAddress), not X-Forwarded-For.
        proxy_headers=not settings.client_ip_header,
        forwarded_allow_ips=list(settings.forwarded_allow_ips),
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,
    )
    logger.info("serving MCP at %s/mcp (legacy SSE at %s/sse)", settings.public_url, settings.public_url)
    if settings.sandbox:
        from tools.sandbox import SANDBOX_API_KEY  # only with --sandbox: a production start never loads it

        # The demo key is public (README); it opens nothing but the simulated workspace. Phrased so the
        # log redactor, which blanks credential headers, leaves it readable.
        logger.info("sandbox: OpenPhone is simulated; its public demo API key is %s", SANDBOX_API_KEY)
    DrainingServer(config, drain).run()


class DrainingServer(uvicorn.Server):
    """uvicorn, plus: the first SIGTERM/SIGINT also starts the drain, so SSE streams end cleanly."""

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self._drain = drain

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._drain.begin()
        super().handle_exit(sig, frame)
