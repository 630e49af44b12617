"""Settings built from the environment, and their one-line errors (`gateway/settings.py`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from gateway.errors import SettingsError
from gateway.settings import Settings, load_settings
from tools.grant import Grant, SendRule

# base64url of bytes 0..31 and 32..63: valid SECRET_KEYS entries.
KEY_A = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
KEY_B = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"
SHORT_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg"  # 31 bytes
BAD_BASE64 = (
    "invalid setting SECRET_KEYS: each key must be base64url text as printed by `openphone-mcp keygen`"
)
TOO_SHORT = (
    "invalid setting SECRET_KEYS: each key must decode to at least 32 bytes; run `openphone-mcp keygen`"
)
NEEDS_SECRET_KEYS = (
    "invalid configuration: SECRET_KEYS is required in production; "
    "set it to the output of `openphone-mcp keygen`"
)


def settings_error(**overrides: object) -> str:
    """The SettingsError line `load_settings(**overrides)` stops with."""
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    return str(caught.value)


def test_defaults() -> None:
    settings = Settings()
    assert (settings.port, settings.host, settings.public_url, settings.gateway_env, settings.log_level) == (
        8000,
        "127.0.0.1",
        "http://127.0.0.1:8000",
        "development",
        "INFO",
    )


def test_default_public_url_follows_the_port() -> None:
    assert Settings(port=9123).public_url == "http://127.0.0.1:9123"


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("PUBLIC_URL", "https://mcp.example.test")
    settings = load_settings()
    assert (settings.port, settings.public_url) == (9001, "https://mcp.example.test")


def test_variable_names_are_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("Port", "9003")
    assert load_settings().port == 9003


def test_settings_built_directly_read_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only `load_settings` reads the environment: a `Settings(...)` is exactly what it was given."""
    monkeypatch.setenv("PORT", "9001")
    assert Settings().port == 8000


def test_cli_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9001")
    assert load_settings(port=9002).port == 9002


def test_cli_overrides_left_as_none_keep_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9001")
    assert load_settings(port=None, host=None).port == 9001


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


def test_secret_keys_is_a_comma_list_current_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEYS", f" {KEY_A} , {KEY_B},")
    assert load_settings().secret_key_bytes() == (bytes(range(32)), bytes(range(32, 64)))


def test_secret_keys_default_to_empty() -> None:
    assert Settings().secret_key_bytes() == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("a", BAD_BASE64, id="impossible-length"),
        pytest.param("clé-secrète", BAD_BASE64, id="non-ascii"),
        pytest.param(f"{KEY_A}!!", BAD_BASE64, id="junk-characters"),
        pytest.param(f"{KEY_A[:20]} {KEY_A[20:]}", BAD_BASE64, id="inner-space"),
        pytest.param(SHORT_KEY, TOO_SHORT, id="31-bytes"),
        pytest.param("c2hvcnQ", TOO_SHORT, id="short"),
        pytest.param(f"{KEY_A},c2hvcnQ", TOO_SHORT, id="second-key-short"),
    ],
)
def test_bad_secret_key_names_the_variable_not_the_value(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("SECRET_KEYS", value)
    assert settings_error() == message


@given(st.text(max_size=40).filter(lambda value: any(part.strip() for part in value.split(","))))
def test_a_short_or_malformed_secret_key_never_echoes_it(value: str) -> None:
    """Whatever the bad key, the error is one of two fixed lines: the value never reaches a log."""
    assert settings_error(secret_keys=value) in (BAD_BASE64, TOO_SHORT)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("GATEWAY_ENV", "production", id="gateway-env"),
        pytest.param("FLY_MACHINE_ID", "3d8d9e1f", id="fly-machine"),
    ],
)
def test_production_without_secret_keys_is_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    assert settings_error() == NEEDS_SECRET_KEYS


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("GATEWAY_ENV", "production", id="gateway-env"),
        pytest.param("FLY_MACHINE_ID", "3d8d9e1f", id="fly-machine"),
    ],
)
def test_production_with_secret_keys_is_accepted(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("SECRET_KEYS", KEY_A)
    monkeypatch.setenv("PUBLIC_URL", "https://gateway.example.test")
    assert load_settings().is_production is True


def test_production_without_public_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_ENV", "production")
    monkeypatch.setenv("SECRET_KEYS", KEY_A)
    assert settings_error() == (
        "invalid configuration: PUBLIC_URL is required in production: the https URL clients use"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("PUBLIC_URL", "http://gateway.example.test", id="public-url"),
        pytest.param("OPENPHONE_API_BASE", "http://api.example.test", id="api-base"),
    ],
)
def test_production_refuses_a_plain_http_url_off_loopback(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """Review #16: the key would travel in cleartext, and the consent cookie would lack Secure."""
    monkeypatch.setenv("GATEWAY_ENV", "production")
    monkeypatch.setenv("SECRET_KEYS", KEY_A)
    monkeypatch.setenv("PUBLIC_URL", "https://gateway.example.test")
    monkeypatch.setenv(name, value)
    assert settings_error() == (
        f"invalid configuration: {name} must be an https URL in production (plain http only on loopback)"
    )


def test_production_accepts_plain_http_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A production-mode gateway tried locally, or an upstream stand-in on this machine."""
    monkeypatch.setenv("GATEWAY_ENV", "production")
    monkeypatch.setenv("SECRET_KEYS", KEY_A)
    monkeypatch.setenv("PUBLIC_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("OPENPHONE_API_BASE", "http://localhost:9000")
    assert load_settings().public_url == "http://127.0.0.1:8000"


def test_client_ip_header_is_a_header_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIENT_IP_HEADER", "Fly-Client-IP")
    assert load_settings().client_ip_header == "fly-client-ip"
    monkeypatch.setenv("CLIENT_IP_HEADER", "Fly Client: IP")
    assert settings_error().startswith("invalid setting CLIENT_IP_HEADER:")


def test_forwarded_allow_ips_must_be_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "172.16.0.0/12,fdaa::/16,*")
    assert load_settings().forwarded_allow_ips == ("172.16.0.0/12", "fdaa::/16", "*")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "proxy.internal")
    assert settings_error() == (
        "invalid setting FORWARDED_ALLOW_IPS: each entry must be an address, a network or *"
    )


def test_development_is_not_production() -> None:
    assert Settings().is_production is False


def test_unknown_gateway_env_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_ENV", "staging")
    assert settings_error() == "invalid setting GATEWAY_ENV: Input should be 'development' or 'production'"


def test_allow_env_api_key_without_the_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOW_ENV_API_KEY", "true")
    assert settings_error() == "invalid configuration: ALLOW_ENV_API_KEY=true needs OPENPHONE_API_KEY"


def test_env_api_key_is_served_with_the_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOW_ENV_API_KEY", "true")
    monkeypatch.setenv("OPENPHONE_API_KEY", "op-operator-key")
    assert load_settings().env_api_key == "op-operator-key"


def test_env_api_key_is_withheld_without_the_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENPHONE_API_KEY", "op-operator-key")
    assert load_settings().env_api_key is None


def test_openphone_api_key_is_hidden_in_repr() -> None:
    settings = Settings(openphone_api_key="op-operator-key")
    assert "op-operator-key" not in repr(settings)


def test_allowed_origins_are_split_and_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://App.Example.test, http://localhost:3000/ ,")
    assert load_settings().allowed_origins == ("https://app.example.test", "http://localhost:3000")


def test_allowed_origins_default_to_empty() -> None:
    assert Settings().allowed_origins == ()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("*", id="wildcard"),
        pytest.param("app.example.test", id="no-scheme"),
        pytest.param("https://app.example.test/path", id="path"),
        pytest.param("ftp://app.example.test", id="not-http"),
        pytest.param("https://", id="no-host"),
    ],
)
def test_allowed_origins_reject_non_origins(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", f"https://ok.example.test,{value}")
    assert settings_error() == (
        "invalid setting ALLOWED_ORIGINS: each entry must be an origin like https://app.example.com"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("ftp://mcp.example.test", "must be an absolute http(s) URL", id="not-http"),
        pytest.param("mcp.example.test", "must be an absolute http(s) URL", id="relative"),
        pytest.param("https://", "must be an absolute http(s) URL", id="no-host"),
        pytest.param("https://mcp.example.test/?a=1", "must not carry a query or a fragment", id="query"),
        pytest.param("https://mcp.example.test/#top", "must not carry a query or a fragment", id="fragment"),
    ],
)
def test_public_url_rejects(monkeypatch: pytest.MonkeyPatch, value: str, message: str) -> None:
    monkeypatch.setenv("PUBLIC_URL", value)
    assert settings_error() == f"invalid setting PUBLIC_URL: {message}"


@pytest.mark.parametrize(
    ("value", "public_url", "public_path"),
    [
        pytest.param("https://mcp.example.test", "https://mcp.example.test", "", id="root"),
        pytest.param("https://mcp.example.test/", "https://mcp.example.test", "", id="root-slash"),
        pytest.param(
            "https://mcp.example.test/openphone/",
            "https://mcp.example.test/openphone",
            "/openphone",
            id="prefix",
        ),
        pytest.param("http://127.0.0.1:8000/a/b", "http://127.0.0.1:8000/a/b", "/a/b", id="nested-prefix"),
    ],
)
def test_public_url_and_path(value: str, public_url: str, public_path: str) -> None:
    settings = Settings(public_url=value)
    assert (settings.public_url, settings.public_path) == (public_url, public_path)


def test_public_origin_is_lower_cased() -> None:
    assert (
        Settings(public_url="HTTPS://MCP.Example.test:8443/x").public_origin
        == "https://mcp.example.test:8443"
    )


@pytest.mark.parametrize(
    ("value", "level"),
    [
        pytest.param("debug", "DEBUG", id="lower"),
        pytest.param("Warning", "WARNING", id="mixed"),
        pytest.param("ERROR", "ERROR", id="upper"),
    ],
)
def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch, value: str, level: str) -> None:
    monkeypatch.setenv("LOG_LEVEL", value)
    assert load_settings().log_level == level


def test_unknown_log_level_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "loud")
    assert settings_error() == (
        "invalid setting LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"
    )


def test_malformed_port_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")
    assert settings_error() == (
        "invalid setting PORT: Input should be a valid integer, unable to parse string as an integer"
    )


def test_unknown_setting_is_refused() -> None:
    assert settings_error(bogus=1) == "invalid setting BOGUS: Extra inputs are not permitted"


def test_upstream_rate_limit_defaults_to_openphones_limit() -> None:
    assert Settings().upstream_rate_limit == 10.0


def test_sandbox_turns_the_rate_limit_off_unless_it_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(sandbox=True).upstream_rate_limit == 0.0
    monkeypatch.setenv("OPENPHONE_RATE_LIMIT", "4")
    assert load_settings(sandbox=True).upstream_rate_limit == 4.0


def test_rate_limit_zero_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENPHONE_RATE_LIMIT", "0")
    assert load_settings().upstream_rate_limit == 0.0


def test_negative_rate_limit_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENPHONE_RATE_LIMIT", "-1")
    assert settings_error().startswith("invalid setting OPENPHONE_RATE_LIMIT:")


def test_timeout_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENPHONE_TIMEOUT", "0")
    assert settings_error().startswith("invalid setting OPENPHONE_TIMEOUT:")


def test_default_phone_region_is_checked_and_upper_cased(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_PHONE_REGION", "gb")
    assert load_settings().default_phone_region == "GB"
    monkeypatch.setenv("DEFAULT_PHONE_REGION", "XX")
    assert settings_error() == (
        "invalid setting DEFAULT_PHONE_REGION: must be a two-letter region code such as US, CA or GB"
    )


def test_chatgpt_tools_are_a_comma_list_of_known_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATGPT_TOOLS", "send-message, fetch-messages")
    assert load_settings().chatgpt_tools == ("send-message", "fetch-messages")
    monkeypatch.setenv("CHATGPT_TOOLS", "send-message,make-call")
    assert settings_error() == "invalid setting CHATGPT_TOOLS: unknown tool names: make-call"


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("redis://default:pw@fly-gw.upstash.io:6379", id="redis"),
        pytest.param("rediss://cache.example.test:6380/0", id="rediss"),
        pytest.param("redis://[::1]:6379/0?protocol=2", id="ipv6"),
    ],
)
def test_redis_url_accepts_redis_and_rediss(url: str) -> None:
    settings = Settings(redis_url=url)
    assert settings.redis_url is not None
    assert settings.redis_url.get_secret_value() == url


def test_an_empty_redis_url_means_no_redis() -> None:
    assert Settings(redis_url="").redis_url is None


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://cache.example.test:6379", id="http"),
        pytest.param("unix:///run/redis.sock", id="unix"),
        pytest.param("redis://", id="no-host"),
        pytest.param("cache.example.test:6379", id="no-scheme"),
    ],
)
def test_a_bad_redis_url_names_the_variable_never_the_password(url: str) -> None:
    message = settings_error(redis_url=url.replace("cache", "user:hunter2@cache"))
    assert message == "invalid setting REDIS_URL: must be a redis:// or rediss:// URL with a host"


def test_a_key_asks_a_person_before_each_send_by_default() -> None:
    """Issue 23: the key header is how Claude Code and mcp-remote connect; unlimited sending is unsafe."""
    assert Settings().direct_key_grant == Grant(send=SendRule.CONFIRM, daily_limit=20, new_numbers=False)


def test_send_policy_allow_is_a_daily_allowance_per_key() -> None:
    settings = load_settings(send_policy="ALLOW", send_daily_limit="50", send_new_numbers="true")
    assert settings.direct_key_grant == Grant(send=SendRule.ALLOWANCE, daily_limit=50, new_numbers=True)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"send_policy": "sometimes"},
            "invalid setting SEND_POLICY: Input should be 'allow', 'confirm' or 'deny'",
        ),
        (
            {"send_daily_limit": "0"},
            "invalid setting SEND_DAILY_LIMIT: Input should be greater than or equal to 1",
        ),
        (
            {"send_daily_limit": "1001"},
            "invalid setting SEND_DAILY_LIMIT: Input should be less than or equal to 1000",
        ),
    ],
    ids=["unknown-policy", "zero-limit", "limit-past-1000"],
)
def test_bad_send_settings_are_named(overrides: dict[str, str], expected: str) -> None:
    assert settings_error(**overrides) == expected
