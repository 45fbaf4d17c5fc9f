#!/usr/bin/env bash
# Load benchmark of `hookmap serve` on loopback with wrk, next to a baseline measured in the
# same run: a bare hyper server answering 202 (examples/baseline.rs). hookmap runs as one node
# on SQLite, then as one node and as two nodes on one PostgreSQL (tests/pg/start.sh, fsync on;
# two nodes share the connections, one wrk each).
#
# hookmap runs the whole pipeline per request: a live trigger with a Stripe-style signature
# scheme (HMAC-SHA256 over "t.body"), the 6-field structured Stripe mapping, schema
# validation, and a durable append (SQLite WAL, synchronous=FULL, group commit) before 202.
# wrk cannot sign each request, so every request carries the same body and a signature
# computed once, and the scheme used here has a very large toleranceSeconds.
#
# Target: hookmap ≥ 50% of the baseline's req/s. Installs wrk from Debian when missing.
# Knobs: DURATION (10s), CONNECTIONS (64), THREADS (2), PORT_BASE (18090; ports up to +6).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PORT_BASE=${PORT_BASE:-18090}
BASE_ADDR=127.0.0.1:$PORT_BASE
INGEST_ADDR=127.0.0.1:$((PORT_BASE + 1))
ADMIN_ADDR=127.0.0.1:$((PORT_BASE + 2))
NODE_A=(127.0.0.1:$((PORT_BASE + 3)) 127.0.0.1:$((PORT_BASE + 4)))
NODE_B=(127.0.0.1:$((PORT_BASE + 5)) 127.0.0.1:$((PORT_BASE + 6)))
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
cargo build --release --quiet --bin hookmap --example baseline
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work" <<'PY'
import hashlib, hmac, json, sys, time
work = sys.argv[1]
sample = json.load(open("benches/data/stripe-payment-intent-succeeded.json"))
body = json.dumps(sample, separators=(",", ":")).encode()
open(f"{work}/body.json", "wb").write(body)
secret, ts = "whsec_bench", str(int(time.time()))
sig = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
open(f"{work}/signature", "w").write(f"t={ts},v1={sig}")
scheme = json.load(open("presets/security/stripe.json"))
scheme["toleranceSeconds"] = 10**9
trigger = {
    "name": "load",
    "mapping": {"kind": "structured", "source": json.load(open("benches/data/stripe-mapping.json"))},
    "sample": sample,
    "security": {"signature": {"scheme": scheme}, "secrets": [secret]},
}
open(f"{work}/trigger.json", "w").write(json.dumps(trigger))
PY

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
local f = assert(io.open(os.getenv("BODY_FILE"), "rb")); wrk.body = f:read("*a"); f:close()
local s = assert(io.open(os.getenv("SIG_FILE"), "rb")); local sig = s:read("*a"); s:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Stripe-Signature"] = sig
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %.0f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad, summary.requests))
end
LUA

wait_up() { # URL [curl args]
  local url=$1; shift
  for _ in $(seq 200); do curl -fs -o /dev/null "$@" "$url" && return 0; sleep 0.05; done
  echo "not up: $url" >&2; exit 1
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system CPU of a process, in clock ticks
sum_ticks() { local total=0 pid; for pid in "$@"; do total=$((total + $(ticks "$pid"))); done; echo "$total"; }
load() { # "PID…" URL… → "req/s p50 p99 errors requests cpu-µs-per-request": the connections
  # split over the URLs, one wrk each; CPU of the PIDs only.
  local watched=$1 before after url i=0 wrks=()
  shift
  local per=$((CONNECTIONS / $#)) threads=$((THREADS / $# > 0 ? THREADS / $# : 1))
  # shellcheck disable=SC2086
  before=$(sum_ticks $watched)
  for url in "$@"; do
    BODY_FILE=$work/body.json SIG_FILE=$work/signature \
      wrk -t"$threads" -c"$per" -d"$DURATION" -s "$work/post.lua" "$url" >"$work/wrk.$i" &
    wrks+=($!)
    i=$((i + 1))
  done
  for pid in "${wrks[@]}"; do wait "$pid"; done
  # shellcheck disable=SC2086
  after=$(sum_ticks $watched)
  cat "$work"/wrk.* | awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '/^RESULT/ {
      rps += $2; if ($3 > p50) p50 = $3; if ($4 > p99) p99 = $4; bad += $5; n += $6 }
    END { printf "%.0f %.2f %.2f %d %d %.1f\n", rps, p50, p99, bad, n, ticks * 1e6 / hz / (n > 0 ? n : 1) }'
  rm -f "$work"/wrk.*
}
start_node() { # INGEST ADMIN DATA_DIR [serve arguments…] → the node's pid in `pids`
  HOOKMAP_ADMIN_TOKEN=bench HOOKMAP_LOG=warn target/release/hookmap serve --data-dir "$3" \
    --ingest-addr "$1" --admin-addr "$2" "${@:4}" >/dev/null &
  pids+=($!)
  wait_up "http://$2/healthz"
}
auth=(-H "Authorization: Bearer bench" -H "Content-Type: application/json")
live_trigger() { # ADMIN → "ID TOKEN" of a new live trigger
  local created
  created=$(curl -fs "${auth[@]}" -d @"$work/trigger.json" "http://$1/api/triggers")
  read -r id token <<<"$(python3 -c 'import json,sys; t = json.load(sys.stdin); print(t["id"], t["token"])' <<<"$created")"
  curl -fs -o /dev/null "${auth[@]}" -X POST "http://$1/api/triggers/$id/activate"
  echo "$id $token"
}
signed_post() { # INGEST TOKEN → the status of one signed request
  curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: application/json" \
    -H "Stripe-Signature: $(cat "$work/signature")" --data-binary @"$work/body.json" "http://$1/hooks/$2"
}
commits_of() { # ADMIN → "commits writes"
  curl -fs "http://$1/metrics" | awk '$1 == "hookmap_commits_total" {c = $2} $1 == "hookmap_committed_jobs_total" {j = $2} END {print c, j}'
}

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
# Baseline: bare hyper, 202.
target/release/examples/baseline "$BASE_ADDR" >/dev/null &
pids+=($!)
wait_up "http://$BASE_ADDR/" -X POST -d '{}'
read -r b_rps b_p50 b_p99 b_err b_n b_cpu <<<"$(load "${pids[0]}" "http://$BASE_ADDR/hooks/x")"
kill "${pids[0]}"

# hookmap on SQLite: live trigger, signature, mapping, durable commit.
start_node "$INGEST_ADDR" "$ADMIN_ADDR" "$work/data"
read -r _ token <<<"$(live_trigger "$ADMIN_ADDR")"
check=$(signed_post "$INGEST_ADDR" "$token")
[ "$check" = 202 ] || { echo "a signed request was answered $check, not 202" >&2; exit 1; }
read -r h_rps h_p50 h_p99 h_err h_n h_cpu <<<"$(load "${pids[1]}" "http://$INGEST_ADDR/hooks/$token")"
read -r commits jobs <<<"$(commits_of "$ADMIN_ADDR")"
kill "${pids[1]}"

# hookmap on PostgreSQL (fsync on, the server on this machine too): one node, then two.
pg=$(PG_FSYNC=on bash tests/pg/start.sh $$ 2>/dev/null)
psql=$(sed -n 1p <<<"$pg")
pg_url=$(sed -n 2p <<<"$pg")
database() { # NAME → the URL of a new database
  "$psql" "$pg_url" -qc "CREATE DATABASE $1" >/dev/null
  echo "${pg_url%/*}/$1"
}
one=$(database bench_one)
start_node "${NODE_A[0]}" "${NODE_A[1]}" "$work/one" --database "$one"
read -r _ token <<<"$(live_trigger "${NODE_A[1]}")"
[ "$(signed_post "${NODE_A[0]}" "$token")" = 202 ] || { echo "PostgreSQL node: not 202" >&2; exit 1; }
read -r p1_rps p1_p50 p1_p99 p1_err p1_n p1_cpu <<<"$(load "${pids[2]}" "http://${NODE_A[0]}/hooks/$token")"
read -r p1_commits p1_jobs <<<"$(commits_of "${NODE_A[1]}")"
kill "${pids[2]}"
two=$(database bench_two)
start_node "${NODE_A[0]}" "${NODE_A[1]}" "$work/two-a" --database "$two"
start_node "${NODE_B[0]}" "${NODE_B[1]}" "$work/two-b" --database "$two"
read -r _ token <<<"$(live_trigger "${NODE_A[1]}")"
for _ in $(seq 100); do [ "$(signed_post "${NODE_B[0]}" "$token")" = 202 ] && break; sleep 0.02; done
read -r p2_rps p2_p50 p2_p99 p2_err p2_n p2_cpu <<<"$(load "${pids[3]} ${pids[4]}" \
  "http://${NODE_A[0]}/hooks/$token" "http://${NODE_B[0]}/hooks/$token")"
read -r a_commits a_jobs <<<"$(commits_of "${NODE_A[1]}")"
read -r b_commits b_jobs <<<"$(commits_of "${NODE_B[1]}")"

echo
echo "load average before the run: $LOADAVG ($(nproc) cores; other builds may share them)"
echo "wrk -c$CONNECTIONS -d$DURATION in total, one 2.1 KB signed Stripe event per request, loopback"
row() { printf '| %-66s | %8s | %7s | %7s | %6s | %12s |\n' "$@"; }
row server "req/s" "p50 ms" "p99 ms" errors "CPU µs/req"
row "baseline: bare hyper answering 202" "$b_rps" "$b_p50" "$b_p99" "$b_err" "$b_cpu"
row "hookmap, SQLite: signature + mapping + durable group commit, 202" "$h_rps" "$h_p50" "$h_p99" "$h_err" "$h_cpu"
row "hookmap, PostgreSQL, one node" "$p1_rps" "$p1_p50" "$p1_p99" "$p1_err" "$p1_cpu"
row "hookmap, PostgreSQL, two nodes (half the connections each)" "$p2_rps" "$p2_p50" "$p2_p99" "$p2_err" "$p2_cpu"
python3 - "$b_rps" "$h_rps" "$commits" "$jobs" "$p1_commits" "$p1_jobs" "$((a_commits + b_commits))" "$((a_jobs + b_jobs))" <<'PY'
import sys
b, h, commits, jobs, c1, j1, c2, j2 = (float(x) for x in sys.argv[1:])
print(f"hookmap (SQLite) / baseline: {h / b:.0%} of the baseline's req/s (target >= 50%)")
for name, c, j in (("SQLite", commits, jobs), ("PostgreSQL, one node", c1, j1), ("PostgreSQL, two nodes", c2, j2)):
    print(f"group commit, {name}: {j:.0f} writes in {c:.0f} transactions ({j / max(c, 1):.1f} writes per commit)")
PY
