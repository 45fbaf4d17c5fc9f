#!/usr/bin/env bash
# Load benchmark of `hookmap serve` on loopback with wrk, next to a baseline measured in the
# same run: a bare hyper server answering 202 (examples/baseline.rs).
#
# hookmap runs the whole pipeline per request: a live trigger with a Stripe-style signature
# scheme (HMAC-SHA256 over "t.body"), the 6-field structured Stripe mapping, schema
# validation, and a durable append (SQLite WAL, synchronous=FULL, group commit) before 202.
# wrk cannot sign each request, so every request carries the same body and a signature
# computed once, and the scheme used here has a very large toleranceSeconds.
#
# Target: hookmap ≥ 50% of the baseline's req/s. Installs wrk from Debian when missing.
# Knobs: DURATION (10s), CONNECTIONS (64), THREADS (2), PORT_BASE (18090).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PORT_BASE=${PORT_BASE:-18090}
BASE_ADDR=127.0.0.1:$PORT_BASE
INGEST_ADDR=127.0.0.1:$((PORT_BASE + 1))
ADMIN_ADDR=127.0.0.1:$((PORT_BASE + 2))
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
load() { # URL PID → "req/s p50 p99 errors requests cpu-µs-per-request"
  local before after result
  before=$(ticks "$2")
  result=$(BODY_FILE=$work/body.json SIG_FILE=$work/signature \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$work/post.lua" "$1" | awk '/^RESULT/ {print $2, $3, $4, $5, $6}')
  after=$(ticks "$2")
  echo "$result $(python3 -c "import os,sys; print(round(($after - $before) * 1e6 / os.sysconf('SC_CLK_TCK') / max(int(sys.argv[1]), 1), 1))" "$(echo "$result" | awk '{print $5}')")"
}

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
# Baseline: bare hyper, 202.
target/release/examples/baseline "$BASE_ADDR" >/dev/null &
pids+=($!)
wait_up "http://$BASE_ADDR/" -X POST -d '{}'
read -r b_rps b_p50 b_p99 b_err b_n b_cpu <<<"$(load "http://$BASE_ADDR/hooks/x" "${pids[0]}")"
kill "${pids[0]}"

# hookmap: live trigger, signature, mapping, durable commit.
HOOKMAP_ADMIN_TOKEN=bench HOOKMAP_LOG=warn target/release/hookmap serve --data-dir "$work/data" \
  --ingest-addr "$INGEST_ADDR" --admin-addr "$ADMIN_ADDR" >/dev/null &
pids+=($!)
wait_up "http://$ADMIN_ADDR/healthz"
auth=(-H "Authorization: Bearer bench" -H "Content-Type: application/json")
created=$(curl -fs "${auth[@]}" -d @"$work/trigger.json" "http://$ADMIN_ADDR/api/triggers")
id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$created")
token=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' <<<"$created")
curl -fs -o /dev/null "${auth[@]}" -X POST "http://$ADMIN_ADDR/api/triggers/$id/activate"
check=$(curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: application/json" \
  -H "Stripe-Signature: $(cat "$work/signature")" --data-binary @"$work/body.json" "http://$INGEST_ADDR/hooks/$token")
[ "$check" = 202 ] || { echo "a signed request was answered $check, not 202" >&2; exit 1; }
read -r h_rps h_p50 h_p99 h_err h_n h_cpu <<<"$(load "http://$INGEST_ADDR/hooks/$token" "${pids[1]}")"
metrics=$(curl -fs "http://$ADMIN_ADDR/metrics")
commits=$(awk '$1 == "hookmap_commits_total" {print $2}' <<<"$metrics")
jobs=$(awk '$1 == "hookmap_committed_jobs_total" {print $2}' <<<"$metrics")

echo
echo "load average before the run: $LOADAVG (2 cores; other builds may share them)"
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, one 2.1 KB signed Stripe event per request, loopback"
printf '| %-62s | %8s | %7s | %7s | %6s | %12s |\n' server "req/s" "p50 ms" "p99 ms" errors "CPU µs/req"
printf '| %-62s | %8s | %7s | %7s | %6s | %12s |\n' "baseline: bare hyper answering 202" "$b_rps" "$b_p50" "$b_p99" "$b_err" "$b_cpu"
printf '| %-62s | %8s | %7s | %7s | %6s | %12s |\n' "hookmap: signature + mapping + durable group commit, then 202" "$h_rps" "$h_p50" "$h_p99" "$h_err" "$h_cpu"
python3 - "$b_rps" "$h_rps" "$commits" "$jobs" <<'PY'
import sys
b, h, commits, jobs = (float(x) for x in sys.argv[1:])
print(f"hookmap / baseline: {h / b:.0%} of the baseline's req/s (target >= 50%)")
print(f"group commit: {jobs:.0f} writes in {commits:.0f} transactions ({jobs / max(commits, 1):.1f} writes per fsync)")
PY
