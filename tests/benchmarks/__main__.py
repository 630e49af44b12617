"""`python -m tests.benchmarks`: every benchmark side by side on this machine, as a table and JSON.

Scenarios (`--only` picks some): `throughput` (tools/call over Streamable HTTP: the gateway, the SDK's
stateless JSON server, a bare Starlette ceiling, the in-process sandbox), `sse` (legacy SSE round trip
against the SDK's SSE app), `capacity` (idle SSE streams in one process), `micro` (sealing; process
start to first 200), `clients` (the upstream HTTP client candidates), `redis` (the state on Redis:
tools/call against memory, the legacy round trip across two machines, revocation propagation), and,
only when named, `profile` (py-spy samples the gateway under the
tools/call load: a flame graph and the top frames), `soak` (a long mixed load on one gateway,
watched for memory and descriptor growth; soak.py) and `redis-abuse` (forged revocations and
subscriber floods against two machines; redis_abuse.py).
The server under test runs on one CPU; wrk, the fake OpenPhone and this process share the other.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.benchmarks import (
    bounds,
    clients,
    micro,
    profile,
    redis_abuse,
    report,
    shared_state,
    soak,
    sse,
    throughput,
)
from tests.benchmarks.processes import REPO, Cores

SCENARIOS = ("throughput", "sse", "capacity", "micro", "clients", "redis", "bounds")
# Run only when asked for: where the time goes, and what a long run does to memory (10 minutes each).
TOOLS = ("profile", "soak", "redis-abuse")
DURATION_SECONDS = 10.0
SOAK_SECONDS = 600.0


def _positive(kind: type[int] | type[float]) -> Callable[[str], Any]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be above 0")
        return value

    return parse


def _levels(text: str) -> tuple[int, ...]:
    parse = _positive(int)
    return tuple(sorted(parse(part.strip()) for part in text.split(",")))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help="comma-separated scenarios (default: all but profile and soak)",
    )
    parser.add_argument(
        "--rounds", type=_positive(int), default=3, help="alternating rounds per comparison (3)"
    )
    parser.add_argument(
        "--duration",
        type=_positive(float),
        default=None,
        help=f"measured seconds per run ({DURATION_SECONDS:g}; soak: per variant, {SOAK_SECONDS:g})",
    )
    parser.add_argument(
        "--warmup", type=_positive(float), default=3.0, help="discarded seconds before each run (3)"
    )
    parser.add_argument("--connections", type=_positive(int), default=32, help="wrk connections (32)")
    parser.add_argument(
        "--sessions", type=_positive(int), default=32, help="concurrent legacy SSE sessions (32)"
    )
    parser.add_argument(
        "--levels", type=_levels, default=(2000, 5000, 10000), help="idle SSE streams per level"
    )
    parser.add_argument(
        "--idle", type=_positive(float), default=30.0, help="idle seconds per level, at least 2 keep-alives"
    )
    parser.add_argument("--json", type=Path, default=REPO / "results" / "benchmarks.json", help="JSON output")
    return parser


def _loads(results: dict[str, list[Any]]) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [asdict(result) | {"rps": result.rps} for result in rounds] for name, rounds in results.items()
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - {*SCENARIOS, *TOOLS}
    if unknown:
        print(
            f"unknown scenario(s): {', '.join(sorted(unknown))}; "
            f"choose from {', '.join((*SCENARIOS, *TOOLS))}",
            file=sys.stderr,
        )
        return 2
    # Thousands of streams need thousands of descriptors, here and in the servers started from here.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # SIGTERM unwinds like Ctrl-C, so every server started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    machine = report.machine()
    cores = Cores.split()
    cores.pin_self_to_load()
    duration = args.duration or DURATION_SECONDS
    load = {"rounds": args.rounds, "warmup": args.warmup, "duration": duration}
    data: dict[str, Any] = {
        "machine": machine,
        "settings": {
            **load,
            "connections": args.connections,
            "sessions": args.sessions,
            "cores": asdict(cores),
        },
    }
    lines: list[str] = []
    if "throughput" in chosen:
        print("tools/call over Streamable HTTP", flush=True)
        results = throughput.measure(cores, connections=args.connections, **load)
        rows = report.ratio_rows(results)
        data["throughput"], data["throughput_ratios"] = _loads(results), rows
        lines += report.load_table(f"tools/call list-phone-numbers, wrk -c{args.connections}", results)
        lines += ["", *report.ratio_table(rows), ""]
    if "sse" in chosen:
        print("legacy SSE round trip", flush=True)
        results = sse.measure_round_trips(cores, sessions=args.sessions, **load)
        data["sse_round_trip"] = _loads(results)
        lines += [
            *report.load_table(f"legacy SSE tools/call round trip, {args.sessions} sessions", results),
            "",
        ]
    if "capacity" in chosen:
        print("idle SSE capacity", flush=True)
        capacity = sse.measure_capacity(cores, levels=args.levels, idle_seconds=args.idle)
        data["sse_capacity"] = [level.as_dict() for level in capacity]
        lines += [*report.capacity_table(capacity), ""]
    if "micro" in chosen:
        print("micro", flush=True)
        data["micro"] = {"sealing": micro.sealing(), **micro.start_and_floor(cores)}
        sealing, start = data["micro"]["sealing"], data["micro"]["start_to_first_200"]
        floor = data["micro"]["import_floor"]
        lines += [
            "Micro",
            f"- seal an access token: {sealing['seal_us']:.1f} µs; open it: "
            f"{sealing['open_first_us']:.1f} µs the first time, {sealing['open_again_us']:.2f} µs after",
            f"- process start to first 200 on /healthz: {start['median_s'] * 1000:.0f} ms median "
            f"({start['min_s'] * 1000:.0f}-{start['max_s'] * 1000:.0f} ms over {start['runs']} runs)",
            f"- process start to first answered Bearer tools/call: {start['first_call_median_s'] * 1000:.0f} "
            f"ms median ({start['first_call_min_s'] * 1000:.0f}-{start['first_call_max_s'] * 1000:.0f} ms), "
            f"idle RSS after it {start['idle_rss_mib']:.1f} MiB",
            f"- import floor (uvicorn, Starlette, pydantic, aiohttp): {floor['median_s'] * 1000:.0f} ms "
            f"median, peak RSS {floor['peak_rss_mib']:.1f} MiB; /healthz start is "
            f"{start['median_s'] / floor['median_s']:.2f}x it, first tools/call "
            f"{start['first_call_median_s'] / floor['median_s']:.2f}x, idle RSS "
            f"{start['idle_rss_mib'] / floor['peak_rss_mib']:.2f}x its peak",
            "",
        ]
    if "clients" in chosen:
        print("upstream HTTP clients", flush=True)
        results = clients.measure_clients(cores, connections=args.connections, **load)
        data["clients"] = _loads(results)
        lines += [*report.load_table("bare endpoint by upstream client", results), ""]
    if "redis" in chosen:
        print("state on Redis", flush=True)
        shared = shared_state.measure(cores, connections=args.connections, sessions=args.sessions, **load)
        revocation = shared["revocation"]
        data["redis"] = {
            "calls": _loads(shared["calls"]),
            "sse": _loads(shared["sse"]),
            "revocation": revocation,
        }
        lines += [
            *report.load_table(
                f"state in memory vs on Redis: tools/call, wrk -c{args.connections}", shared["calls"]
            ),
            "",
            *report.load_table(f"legacy SSE round trip, {args.sessions} sessions", shared["sse"]),
            "",
            f"Revocation on machine A refused on machine B after {revocation['p50_ms']:.1f} ms (p50), "
            f"{revocation['p99_ms']:.1f} ms (p99), {revocation['max_ms']:.1f} ms (max) over "
            f"{revocation['revocations']} sign-ins",
            "",
        ]
    if "bounds" in chosen:
        print("memory under the review's reproductions", flush=True)
        data["bounds"] = bounds.measure(cores)
        lines += [*bounds.table(data["bounds"]), ""]
    if "profile" in chosen:
        print("profile", flush=True)
        svg = args.json.parent / "gateway-profile.svg"
        svg.parent.mkdir(parents=True, exist_ok=True)
        figures = {"warmup": args.warmup, "duration": duration, "connections": args.connections}
        lines += [*profile.profile(cores, svg=svg, **figures), ""]
    if "soak" in chosen:
        print("soak", flush=True)
        soaked = soak.measure_soak(cores, seconds=args.duration or SOAK_SECONDS)
        data["soak"] = [result.as_dict() for result in soaked]
        lines += [*report.soak_tables(soaked), ""]
    if "redis-abuse" in chosen:
        print("redis abuse", flush=True)
        data["redis_abuse"] = redis_abuse.measure(cores)
        lines += ["Redis abuse (security review 2026-12-07 #2, #4)", json.dumps(data["redis_abuse"]), ""]
    print()
    print(
        f"{machine['date']} · {machine['cpu']} · {machine['usable_cpus']} CPUs · Linux {machine['kernel']} · "
        f"Python {machine['python']} · {machine['wrk']}"
    )
    print()
    print("\n".join([*lines, *report.targets(data)]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    print(f"\nJSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
