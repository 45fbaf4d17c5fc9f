#!/usr/bin/env bash
# End to end: `hookmap map --input` over 20,000 compact NDJSON Stripe events versus
# `jq -c` running the equivalent filter on the same file, in the same run.
# Target: hookmap ≥ 5× jq. Installs jq from Debian when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-20000}
RUNS=${RUNS:-5}
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 benches/stripe_events.py "$EVENTS" > "$work/events.ndjson"

filter='{payload:{target:{usersById:[.data.object.metadata.userId]},
  detail:{event:.type,amount:"\(.data.object.amount) \(.data.object.currency)",status:.data.object.status,
          customer:.data.object.customer,email:.data.object.receipt_email},
  notificationDetail:{},metadata:{eventId:.id}}}'

best() { # best wall time in seconds of RUNS runs of the command
  local best=""
  for _ in $(seq "$RUNS"); do
    local start end
    start=$(date +%s.%N); "$@" > "$work/out" ; end=$(date +%s.%N)
    best=$(python3 -c "t=$end-$start; b='$best'; print(t if not b else min(t, float(b)))")
  done
  echo "$best"
}

hookmap_s=$(best target/release/hookmap map --mapping benches/data/stripe-mapping.json --input "$work/events.ndjson")
cp "$work/out" "$work/hookmap.out"
jq_s=$(best jq -c "$filter" "$work/events.ndjson")
cmp -s <(jq -cS . "$work/hookmap.out") <(jq -cS . "$work/out") || { echo "outputs differ" >&2; exit 1; }
python3 - "$EVENTS" "$hookmap_s" "$jq_s" <<'PY'
import sys
n, h, j = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"hookmap map --input: {h:.3f} s ({n / h:,.0f} events/s)")
print(f"jq -c:               {j:.3f} s ({n / j:,.0f} events/s)")
print(f"hookmap is {j / h:.1f}x jq (target: >= 5x); outputs identical")
PY
