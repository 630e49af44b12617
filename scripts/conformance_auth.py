"""Run the conformance suite's authorization-server scenarios against a live gateway, playing the user.

The suite's `authorization` command acts as an OAuth client: it prints an authorization URL for a
person to open, then waits for the redirect on its own callback server. This script registers a
public client for that callback (RFC 7591), starts the suite, and when the URL appears it does what
the person would: opens the consent page, submits it with the sandbox key, keeps the default
choices, and follows the redirect to the callback. It exits with the suite's status.

Usage: python scripts/conformance_auth.py ISSUER NODE SUITE OUTPUT_DIR [API_KEY]
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

HIDDEN = re.compile(r'<input type="hidden" name="(request|csrf)" value="([^"]*)">')
ACTION = re.compile(r'<form method="post" action="([^"]*)">')
WAIT_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def register(issuer: str, callback: str) -> str:
    body = {
        "redirect_uris": [callback],
        "client_name": "MCP conformance suite",
        "token_endpoint_auth_method": "none",
    }
    response = httpx.post(f"{issuer}/register", json=body, timeout=10)
    response.raise_for_status()
    client_id: str = response.json()["client_id"]
    return client_id


def _form(page: httpx.Response) -> tuple[str, dict[str, str]]:
    """The consent form's action and its hidden request and CSRF fields."""
    hidden = dict(HIDDEN.findall(page.text))
    action = ACTION.search(page.text)
    if action is None or set(hidden) != {"request", "csrf"}:
        raise SystemExit("conformance_auth: the consent page has no form")
    return action.group(1), hidden


def consent(authorization_url: str, api_key: str) -> None:
    """Open the consent page, allow with `api_key` and the default choices (every inbox, ask before
    each send), and deliver the redirect to the suite's callback."""
    with httpx.Client(timeout=10, follow_redirects=False) as browser:
        page = browser.get(authorization_url)
        page.raise_for_status()
        action, hidden = _form(page)
        form = {
            **hidden,
            "api_key": api_key,
            "scope": ["messages:write", "contacts:write"],
            "action": "allow",
        }
        choices = browser.post(action, data=form)
        if choices.status_code != 200:
            raise SystemExit(f"conformance_auth: the key step answered {choices.status_code}, not choices")
        action, hidden = _form(choices)
        answer = browser.post(action, data={**hidden, "action": "allow", "inboxes": "all", "send": "confirm"})
        if answer.status_code != 303:
            raise SystemExit(f"conformance_auth: consent answered {answer.status_code}, not a redirect")
        # The suite prints the URL just before its callback server listens: retry briefly.
        for _ in range(50):
            try:
                browser.get(answer.headers["location"])
                return
            except httpx.ConnectError:
                time.sleep(0.1)
        raise SystemExit("conformance_auth: the suite's callback server never answered")


def main(issuer: str, node: str, suite: str, output_dir: str, api_key: str = "sandbox-demo-key") -> int:
    port = free_port()
    client_id = register(issuer, f"http://127.0.0.1:{port}/callback")
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    command = [
        node, suite, "authorization", "--url", issuer, "--client-id", client_id,
        "--resource", f"{issuer}/mcp", "--port", str(port), "--output-dir", output_dir,
    ]  # fmt: skip
    authorize_prefix = f"{issuer}/authorize?"
    # The command is built from this script's own arguments (paths from conformance.sh).
    with subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as suite_process:
        timer = threading.Timer(WAIT_SECONDS, suite_process.kill)
        timer.start()
        try:
            assert suite_process.stdout is not None
            for line in suite_process.stdout:
                # The authorization URL carries only a client id, a state and a PKCE challenge.
                if line.startswith(authorize_prefix):
                    print(f"conformance_auth: consenting at {urlsplit(line).path}", flush=True)
                    threading.Thread(target=consent, args=(line.strip(), api_key), daemon=True).start()
                else:
                    print(line, end="", flush=True)
        finally:
            timer.cancel()
    return suite_process.returncode


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
