"""Settings: built once from the environment at start-up and passed down; nothing else reads it.

A missing or malformed value stops start-up with one line naming the variable (`SettingsError`).
`load_settings` reads each field's variable (any case) from the environment as text; the model turns
the text into values, so `Settings(...)` built directly (as tests do) reads no environment.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import os
import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from gateway.errors import SettingsError
from tools.catalog import CHATGPT_TOOLS, TOOL_NAMES
from tools.grant import DEFAULT_DAILY_LIMIT, MAX_DAILY_LIMIT, Grant, SendRule
from tools.phone import DEFAULT_REGION, is_known_region

logger = logging.getLogger(__name__)

SECRET_KEY_BYTES = 32
MIN_METRICS_TOKEN_CHARS = 24
OPENPHONE_API_BASE = "https://api.openphone.com"
# OpenPhone's documented limit: "10 requests per second per API key" (openphone-api-notes.md §3.2).
OPENPHONE_RATE_LIMIT = 10.0

_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,64}")

# Written in the environment as comma-separated text (the `mode="before"` validators split it).
CommaList = tuple[str, ...]


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def decode_secret_key(text: str) -> bytes:
    """A `SECRET_KEYS` entry: 32 random bytes, base64url without padding (what `keygen` prints)."""
    # urlsafe_b64decode silently drops characters outside the alphabet, so check the alphabet first.
    if not _BASE64URL.fullmatch(text):
        raise ValueError("each key must be base64url text as printed by `openphone-mcp keygen`")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("each key must be base64url text as printed by `openphone-mcp keygen`") from exc
    if len(raw) < SECRET_KEY_BYTES:
        raise ValueError(
            f"each key must decode to at least {SECRET_KEY_BYTES} bytes; run `openphone-mcp keygen`"
        )
    return raw


def is_loopback_host(host: str) -> bool:
    """Whether a host name (without port) names this machine's loopback interface."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Settings(BaseModel):
    """Every setting the gateway reads, validated; the instance is frozen."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    port: int = Field(default=8000, ge=0, le=65535)
    host: str = "127.0.0.1"
    public_url: str = ""
    secret_keys: tuple[SecretStr, ...] = ()
    gateway_env: Literal["development", "production"] = "development"
    openphone_api_base: str = OPENPHONE_API_BASE
    openphone_api_key: SecretStr | None = None
    allow_env_api_key: bool = False
    allowed_origins: CommaList = ()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    forwarded_allow_ips: CommaList = ("127.0.0.1",)
    fly_machine_id: str | None = None
    sandbox: bool = False
    openphone_timeout: float = Field(default=30.0, gt=0, le=300)
    openphone_rate_limit: float | None = Field(default=None, ge=0, le=1000)
    default_phone_region: str = DEFAULT_REGION
    chatgpt_tools: CommaList = CHATGPT_TOOLS
    access_token_seconds: int = Field(default=3600, ge=60, le=86400)
    refresh_token_seconds: int = Field(default=30 * 86400, ge=3600, le=365 * 86400)
    auth_code_seconds: int = Field(default=60, ge=10, le=600)
    refresh_grace_seconds: int = Field(default=30, ge=0, le=300)
    oauth_rate_limit: int = Field(default=20, ge=1, le=100_000)
    metrics_token: SecretStr | None = None
    client_ip_header: str = ""
    redis_url: SecretStr | None = None
    # Sending for a caller holding the key (header or environment), as a sign-in's grant chooses it.
    # "confirm" by default: the key header is how Claude Code and mcp-remote connect, and a text
    # read by the assistant must not be able to make it send; a script opts in to "allow".
    send_policy: Literal["allow", "confirm", "deny"] = "confirm"
    send_daily_limit: int = Field(default=DEFAULT_DAILY_LIMIT, ge=1, le=MAX_DAILY_LIMIT)
    send_new_numbers: bool = False

    @field_validator("allowed_origins", "forwarded_allow_ips", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _split_commas(value)

    @field_validator("secret_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        keys = _split_commas(value)
        for key in keys:
            decode_secret_key(key.get_secret_value() if isinstance(key, SecretStr) else key)
        return keys

    @field_validator("client_ip_header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if value and not _HEADER_NAME.fullmatch(value):
            raise ValueError("must be an HTTP header name such as Fly-Client-IP")
        return value.lower()

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError("each entry must be an address, a network or *") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ValueError("must be a redis:// or rediss:// URL with a host")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_METRICS_TOKEN_CHARS:
            raise ValueError(
                f"must be at least {MIN_METRICS_TOKEN_CHARS} characters (try `openphone-mcp keygen`)"
            )
        return value

    @field_validator("chatgpt_tools", mode="before")
    @classmethod
    def _split_tools(cls, value: Any) -> Any:
        return _split_commas(value)

    @field_validator("chatgpt_tools")
    @classmethod
    def _known_tools(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(TOOL_NAMES))
        if unknown:
            raise ValueError(f"unknown tool names: {', '.join(unknown)}")
        return value

    @field_validator("default_phone_region", mode="before")
    @classmethod
    def _region(cls, value: Any) -> Any:
        if isinstance(value, str) and not is_known_region(value.upper()):
            raise ValueError("must be a two-letter region code such as US, CA or GB")
        return value.upper() if isinstance(value, str) else value

    @field_validator("send_policy", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("public_url", "openphone_api_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or a fragment")
        return value.rstrip("/")

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
                raise ValueError("each entry must be an origin like https://app.example.com")
        return tuple(_origin(origin) for origin in value)

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        if self.allow_env_api_key and self.openphone_api_key is None:
            raise ValueError("ALLOW_ENV_API_KEY=true needs OPENPHONE_API_KEY")
        if self.is_production and not self.secret_keys:
            raise ValueError(
                "SECRET_KEYS is required in production; set it to the output of `openphone-mcp keygen`"
            )
        if not self.public_url:
            # The OAuth issuer and the only Host answered: a guess would be wrong behind any proxy.
            if self.is_production:
                raise ValueError("PUBLIC_URL is required in production: the https URL clients use")
            object.__setattr__(self, "public_url", f"http://127.0.0.1:{self.port}")
        if self.is_production:
            # The key travels to both: in cleartext over http, and the consent cookie loses Secure.
            for name, url in (
                ("PUBLIC_URL", self.public_url),
                ("OPENPHONE_API_BASE", self.openphone_api_base),
            ):
                parts = urlsplit(url)
                if parts.scheme != "https" and not is_loopback_host(parts.hostname or ""):
                    raise ValueError(
                        f"{name} must be an https URL in production (plain http only on loopback)"
                    )
        return self

    @property
    def is_production(self) -> bool:
        """Production: GATEWAY_ENV=production, or running on a Fly.io machine."""
        return self.gateway_env == "production" or self.fly_machine_id is not None

    @property
    def public_origin(self) -> str:
        """The scheme://host[:port] of PUBLIC_URL, lower-cased."""
        return _origin(self.public_url)

    @property
    def public_path(self) -> str:
        """The path prefix of PUBLIC_URL ("" when it is served at the root)."""
        return urlsplit(self.public_url).path.rstrip("/")

    @property
    def env_api_key(self) -> str | None:
        """The operator's OpenPhone key, only when they opted in to serving it to every caller."""
        if self.allow_env_api_key and self.openphone_api_key is not None:
            return self.openphone_api_key.get_secret_value()
        return None

    @property
    def direct_key_grant(self) -> Grant:
        """The grant of a caller holding the key: every inbox, sending as SEND_POLICY says."""
        rule = {"allow": SendRule.ALLOWANCE, "confirm": SendRule.CONFIRM, "deny": SendRule.DENY}
        return Grant(
            send=rule[self.send_policy], daily_limit=self.send_daily_limit, new_numbers=self.send_new_numbers
        )

    @property
    def upstream_rate_limit(self) -> float:
        """Requests per second per OpenPhone key (0 = off): 10 by default, off for the sandbox unless set."""
        if self.openphone_rate_limit is not None:
            return self.openphone_rate_limit
        return 0.0 if self.sandbox else OPENPHONE_RATE_LIMIT

    def secret_key_bytes(self) -> tuple[bytes, ...]:
        """The decoded SECRET_KEYS, first one current."""
        return tuple(decode_secret_key(key.get_secret_value()) for key in self.secret_keys)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the process environment, with CLI options (when given) on top.

    Raises `SettingsError` with one line naming the first bad variable, never its value.
    """
    environment = {
        name.lower(): value for name, value in os.environ.items() if name.lower() in Settings.model_fields
    }
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings.model_validate(environment | given)
    except ValidationError as exc:
        raise SettingsError(describe_settings_error(exc)) from None


def describe_settings_error(exc: ValidationError) -> str:
    """One line: the variable's name and what is wrong with it (never its value)."""
    first = exc.errors(include_url=False, include_input=False)[0]
    message = first["msg"].removeprefix("Value error, ")
    if not first["loc"]:
        return f"invalid configuration: {message}"
    return f"invalid setting {str(first['loc'][0]).upper()}: {message}"
