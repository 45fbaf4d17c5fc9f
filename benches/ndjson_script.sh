#!/usr/bin/env bash
# End to end: `hookmap map --input` over 10,000 NDJSON Stripe events with the Stripe script preset
# (sandboxed JavaScript), next to the 6-field structured mapping on the same file in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-10000}
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/stripe_events.py "$EVENTS" > "$work/events.ndjson"
target/release/hookmap presets show stripe > "$work/stripe.js"
seconds() { local start end; start=$(date +%s.%N); "$@" > "$work/out"; end=$(date +%s.%N); python3 -c "print($end - $start)"; }
target/release/hookmap map --mapping "$work/stripe.js" --sample benches/data/stripe-payment-intent-succeeded.json > /dev/null # warm the module cache
script_s=$(seconds target/release/hookmap map --mapping "$work/stripe.js" --input "$work/events.ndjson")
failed=$(grep -c '"error"' "$work/out" || true)
structured_s=$(seconds target/release/hookmap map --mapping benches/data/stripe-mapping.json --input "$work/events.ndjson")
python3 - "$EVENTS" "$script_s" "$structured_s" "$failed" <<'PY'
import sys
n, s, t, failed = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"script mapping (stripe preset): {s:.3f} s ({n / s:,.0f} events/s, {s / n * 1e6:.0f} us/event, {failed} failed)")
print(f"structured 6-field mapping:     {t:.3f} s ({n / t:,.0f} events/s)")
print(f"script / structured time: {s / t:.1f}x")
PY
