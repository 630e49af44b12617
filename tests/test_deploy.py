"""The deployment files (Dockerfile, .dockerignore, fly.toml) against each other and the gateway.

No Docker engine runs here, so the image is not built: the Dockerfile is read as text, one list of
instructions per stage, and fly.toml with tomllib.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.cli import GRACEFUL_SHUTDOWN_SECONDS
from gateway.settings import Settings
from tests.conftest import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent
VENV = "/opt/venv"
APP_UID = "10001"
# A container must listen on every interface for Fly Proxy (or Docker's port mapping) to reach it.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104
# Fly Proxy's side of a Machine: private IPv4 (172.16.0.0/12) and the 6PN network (fdaa::/16).
FLY_PROXY_NETWORKS = ["172.16.0.0/12", "fdaa::/16"]
# Fly's ceiling for kill_timeout (https://fly.io/docs/reference/configuration/#kill_timeout-option).
FLY_MAX_KILL_TIMEOUT_SECONDS = 300
SECRET_SETTINGS = {"SECRET_KEYS", "OPENPHONE_API_KEY", "METRICS_TOKEN"} | {
    name.upper() for name, info in Settings.model_fields.items() if "SecretStr" in str(info.annotation)
}
PACKAGE_MANAGER = re.compile(r"\b(apt-get|apt|aptitude|apk|dnf|yum|pip3?|uv|gcc|cc|make|build-essential)\b")


@dataclass
class Stage:
    """One `FROM` of a Dockerfile and the instructions after it, as (INSTRUCTION, arguments)."""

    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]

    def env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for token in (token for args in self.args("ENV") for token in shlex.split(args)):
            key, _, value = token.partition("=")
            env[key] = value
        return env


def parse_dockerfile(text: str) -> list[Stage]:
    """Split a Dockerfile into stages; joins `\\` continuations and drops comments."""
    stages: list[Stage] = []
    logical = re.sub(r"\\\n(\s*#.*\n)*", " ", text)
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        instruction, args = instruction.upper(), args.strip()
        if instruction == "FROM":
            image, *name = re.split(r"\s+as\s+", re.sub(r"--\S+\s+", "", args), flags=re.IGNORECASE)
            stages.append(Stage(image, name[0] if name else None))
        else:
            stages[-1].instructions.append((instruction, args))
    return stages


def copy_sources(args: str) -> tuple[dict[str, str], list[str]]:
    """A COPY's `--flag=value` options and its sources (the last word is the destination)."""
    words = shlex.split(args)
    flags: dict[str, str] = {}
    for word in (word for word in words if word.startswith("--")):
        key, _, value = word[2:].partition("=")
        flags[key] = value
    paths = [word for word in words if not word.startswith("--")]
    return flags, paths[:-1]


def seconds(value: int | str) -> float:
    """A fly.toml top-level duration: an int is seconds, a string carries its unit ("35s", "1m")."""
    if isinstance(value, int):
        return float(value)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", value)
    if match is None:
        raise ValueError(f"not a duration: {value!r}")
    return float(match[1]) * {"ms": 0.001, "s": 1.0, "m": 60.0}[match[2]]


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def final(stages: list[Stage]) -> Stage:
    return stages[-1]


@pytest.fixture(scope="module")
def builder(stages: list[Stage]) -> Stage:
    return stages[0]


@pytest.fixture(scope="module")
def fly() -> dict[str, Any]:
    with (ROOT / "fly.toml").open("rb") as file:
        return tomllib.load(file)


# --- Dockerfile -------------------------------------------------------------------------------


def test_every_stage_builds_on_python_slim(stages: list[Stage]) -> None:
    assert len(stages) == 2
    for stage in stages:
        assert re.fullmatch(r"python:3\.1[1-9]-slim(@sha256:[0-9a-f]{64})?", stage.image), stage.image


def test_builder_installs_the_locked_set_with_hashes_then_the_project_unresolved(builder: Stage) -> None:
    """The image is the tested set: the lock with --require-hashes, and nothing resolved again."""
    runs = builder.args("RUN")
    assert f"python -m venv {VENV}" in runs
    installs = [run for run in runs if "pip install" in run]
    assert installs == [
        "pip install --require-hashes --no-deps -r requirements/runtime.txt",
        "/usr/local/bin/pip install --require-hashes --no-deps -r requirements/build.txt",
        "pip install --no-deps /wheels/*.whl && pip check",
    ]
    assert "/usr/local/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels ." in runs
    assert builder.env()["PATH"].startswith(f"{VENV}/bin:")


def test_builder_copies_the_lock_before_the_source(builder: Stage) -> None:
    """The dependency layer is rebuilt only when the lock changes, not on every source change."""
    copies = [copy_sources(args)[1] for args in builder.args("COPY")]
    assert copies[0] == ["requirements/runtime.txt", "requirements/build.txt"]


def test_builder_copies_every_package_the_distribution_includes(builder: Stage) -> None:
    """pyproject's package list and the files it reads (its readme) must all reach the build."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)
    copied = {source for args in builder.args("COPY") for source in copy_sources(args)[1]}
    includes = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in includes}
    lock = {"requirements/runtime.txt", "requirements/build.txt"}
    assert packages | lock | {"pyproject.toml", project["project"]["readme"]} == copied


def test_dockerignore_admits_exactly_what_the_builder_copies(builder: Stage) -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    admitted = {pattern.removeprefix("!") for pattern in patterns if pattern.startswith("!")}
    copied = {source for args in builder.args("COPY") for source in copy_sources(args)[1]}
    assert patterns[0] == "*"
    assert admitted == copied


def test_final_stage_copies_only_the_venv_from_the_builder(final: Stage, builder: Stage) -> None:
    assert final.args("ADD") == []
    copies = [copy_sources(args) for args in final.args("COPY")]
    assert builder.name == "builder"
    assert copies == [({"from": "builder"}, [VENV])]


def test_final_stage_installs_no_packages_or_build_tools(final: Stage) -> None:
    runs = final.args("RUN")
    assert runs, "the final stage creates its user"
    for run in runs:
        assert PACKAGE_MANAGER.search(run) is None, run


def test_final_stage_runs_as_the_unprivileged_user_it_creates(final: Stage) -> None:
    created = " ".join(final.args("RUN"))
    assert re.search(rf"useradd\b.*--uid {APP_UID}\b", created)
    assert final.args("USER")[-1].split(":")[0] == APP_UID


def test_cmd_execs_the_gateway_on_all_interfaces_port_8080(final: Stage) -> None:
    """Exec (JSON) form, so uvicorn itself receives SIGTERM rather than a shell that drops it."""
    command = json.loads(final.args("CMD")[-1])
    assert command == ["openphone-mcp", "serve", "--host", ALL_INTERFACES, "--port", "8080"]


def test_image_environment_is_production_on_8080(final: Stage) -> None:
    env = final.env()
    assert env["PATH"] == f"{VENV}/bin:$PATH"
    assert (env["PYTHONUNBUFFERED"], env["PYTHONDONTWRITEBYTECODE"]) == ("1", "1")
    assert (env["HOST"], env["PORT"], env["GATEWAY_ENV"]) == (ALL_INTERFACES, "8080", "production")


def test_image_stops_with_sigterm(final: Stage) -> None:
    assert final.args("STOPSIGNAL") == ["SIGTERM"]


def test_one_port_everywhere(final: Stage, fly: dict[str, Any]) -> None:
    """EXPOSE, the image's PORT, CMD's --port, fly's [env] PORT and internal_port agree."""
    command = json.loads(final.args("CMD")[-1])
    cmd_port = command[command.index("--port") + 1]
    ports = {final.args("EXPOSE")[-1], final.env()["PORT"], cmd_port, fly["env"]["PORT"]}
    assert ports == {str(fly["http_service"]["internal_port"])}


# --- Trusted proxies --------------------------------------------------------------------------


def test_the_image_trusts_no_forwarding_headers_of_its_own(final: Stage) -> None:
    """Review #15: the image trusted 172.16/12 without CLIENT_IP_HEADER, so with a plain `docker run`
    any peer on a Docker bridge or pod network chose its client IP through X-Forwarded-For. The
    default (127.0.0.1) stays; fly.toml trusts Fly's proxy, with Fly-Client-IP."""
    assert "FORWARDED_ALLOW_IPS" not in final.env()


def test_fly_trusts_its_proxy_plus_at_most_single_addresses(fly: dict[str, Any]) -> None:
    """Fly's proxy connects from private addresses. An operator may append the app's own Anycast
    addresses (`fly ips list`), but "*" or a public range would let any client forge its address."""
    entries = fly["env"]["FORWARDED_ALLOW_IPS"].split(",")
    assert entries[: len(FLY_PROXY_NETWORKS)] == FLY_PROXY_NETWORKS
    for entry in entries:
        network = ipaddress.ip_network(entry)  # "*" raises here
        assert network.is_private or network.num_addresses == 1, entry


# --- fly.toml ---------------------------------------------------------------------------------


def test_fly_names_an_app_and_a_primary_region(fly: dict[str, Any]) -> None:
    assert fly["app"]
    assert re.fullmatch(r"[a-z]{3}", fly["primary_region"])


def test_fly_stops_machines_with_sigterm(fly: dict[str, Any], final: Stage) -> None:
    assert fly["kill_signal"] == "SIGTERM" == final.args("STOPSIGNAL")[-1]


def test_fly_kill_timeout_outlasts_the_graceful_shutdown(fly: dict[str, Any]) -> None:
    """Fly sends SIGKILL after kill_timeout: it must leave uvicorn's whole drain time."""
    assert GRACEFUL_SHUTDOWN_SECONDS < seconds(fly["kill_timeout"]) <= FLY_MAX_KILL_TIMEOUT_SECONDS


def test_fly_forces_https(fly: dict[str, Any]) -> None:
    assert fly["http_service"]["force_https"] is True


def test_fly_stops_and_starts_machines_on_demand_keeping_one(fly: dict[str, Any]) -> None:
    service = fly["http_service"]
    assert service["auto_stop_machines"] == "stop"
    assert service["auto_start_machines"] is True
    assert service["min_machines_running"] == 1


def test_fly_counts_connections_with_a_hard_limit_above_the_soft(fly: dict[str, Any]) -> None:
    concurrency = fly["http_service"]["concurrency"]
    assert concurrency["type"] == "connections"
    assert 0 < concurrency["soft_limit"] < concurrency["hard_limit"]


def test_fly_checks_healthz_with_explicit_units(fly: dict[str, Any]) -> None:
    """Bare numbers in a check are milliseconds, so every duration is written with its unit."""
    (check,) = fly["http_service"]["checks"]
    assert (check["method"], check["path"]) == ("GET", "/healthz")
    for key in ("grace_period", "interval", "timeout"):
        assert isinstance(check[key], str), key
    assert seconds(check["timeout"]) < seconds(check["interval"])


@pytest.mark.anyio
async def test_fly_check_path_answers_whatever_host_the_checker_sends(fly: dict[str, Any]) -> None:
    """Fly's checker calls the Machine directly, not through PUBLIC_URL's host name."""
    (check,) = fly["http_service"]["checks"]
    settings = Settings(public_url="https://gateway.test", secret_keys=(TEST_SECRET_KEY,))
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://172.19.0.2:8080") as client:
        response = await client.request(check["method"], check["path"])
    assert response.status_code == 200


def test_fly_sizes_its_machines(fly: dict[str, Any]) -> None:
    (vm,) = fly["vm"]
    assert (vm["size"], vm["memory"]) == ("shared-cpu-1x", "512mb")


# --- Settings in [env] and ENV ----------------------------------------------------------------


@pytest.mark.parametrize("source", ["fly", "image"])
def test_no_secret_is_set_in_plain_configuration(source: str, fly: dict[str, Any], final: Stage) -> None:
    env = fly["env"] if source == "fly" else final.env()
    assert set(env) & SECRET_SETTINGS == set()


def test_every_fly_env_name_is_a_gateway_setting(fly: dict[str, Any]) -> None:
    assert {name for name in fly["env"] if name.lower() not in Settings.model_fields} == set()


def test_fly_env_is_a_valid_production_configuration(fly: dict[str, Any]) -> None:
    """With its secret added, [env] builds Settings: a typo in a value fails here, not at deploy."""
    values = {name.lower(): value for name, value in fly["env"].items()}
    settings = Settings(**values, secret_keys=(TEST_SECRET_KEY,))
    assert settings.is_production
    assert (settings.host, settings.port) == (ALL_INTERFACES, 8080)
