"""The tools package's exception tree.

ToolsError
├── ToolDeclarationError   a tool declaration breaks the registry's rules (raised at start-up)
└── ToolError              a handler could not do what was asked; becomes an `isError` result
    ├── OpenPhoneError     OpenPhone failed or refused a request (any status, timeout or transport failure)
    ├── SendCounterUnavailable  the shared send allowance cannot be reached, so nothing was sent
    └── UndoRefused        an undo token cannot be used (its `code` says why); nothing was changed
"""

from __future__ import annotations


class ToolsError(Exception):
    """Base of every error the tools package raises on purpose."""


class ToolDeclarationError(ToolsError):
    """Raised when a tool declaration is invalid or two tools share a name."""


class ToolError(ToolsError):
    """Raised by a handler for a failure the model should see and can act on; the message is shown as is."""


class OpenPhoneError(ToolError):
    """One upstream failure, whatever its cause; `str()` is a sentence a person can act on.

    `status` is the HTTP status (None when no response arrived), `code` OpenPhone's 7-digit error code,
    `trace` its trace id. `may_have_happened` is True when a write may have taken effect even though it
    failed (a 5xx or a timeout after the request was sent), so the caller must check before repeating it.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        trace: str | None = None,
        retry_after: float | None = None,
        may_have_happened: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.trace = trace
        self.retry_after = retry_after
        self.may_have_happened = may_have_happened


class SendCounterUnavailable(ToolError):
    """Raised when a send must be counted but the shared count (Redis) cannot be reached: retry later."""

    def __init__(self) -> None:
        super().__init__(
            "Nothing was sent: the daily send count cannot be reached right now, and no text is sent "
            "uncounted. This is temporary; try again in a few seconds."
        )


class UndoRefused(ToolError):
    """Raised when an undo token cannot be used; nothing was changed. `code` says why (UndoCode)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{message} Nothing was changed. (code: {code})")
        self.code = code
