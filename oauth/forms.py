"""RFC 6749 §3.2 (https://www.rfc-editor.org/rfc/rfc6749#section-3.2): the form bodies the endpoints read.

The token, revocation and consent endpoints, the confirmation page and the connections page all take
application/x-www-form-urlencoded bodies, bounded in bytes (the MCP body limit) and in fields, from a
client counted by IP; anything unreadable is an `InvalidRequest`, which each page renders as its own
error.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl

from starlette.requests import Request

from gateway.errors import HTTPError
from gateway.transports.http import read_body
from oauth.errors import InvalidRequest

FORM: Final = "application/x-www-form-urlencoded"
# The consent choices step posts one field per ticked inbox (at most MAX_GRANT_INBOXES) besides its own.
MAX_FORM_FIELDS: Final = 128


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_form(request: Request) -> list[tuple[str, str]]:
    """An application/x-www-form-urlencoded body (RFC 6749 §3.2), bounded in size and fields."""
    if media_type(request) != FORM:
        raise InvalidRequest("the body must be application/x-www-form-urlencoded")
    try:
        body = await read_body(request.receive, request.headers)
    except HTTPError as exc:
        raise InvalidRequest("the body is too large") from exc
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the body is not a valid form") from None
