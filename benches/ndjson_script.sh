#!/usr/bin/env bash
# End to end: `hookmap map --input` over 20,000 NDJSON Stripe events with the Stripe script preset
# (sandboxed JavaScript), next to its anchors in the same run: the same preset over the same events
# in an isolated-vm isolate (V8, 32 MB heap limit, 50 ms timeout per event) and in node's `vm`
# (50 ms timeout), both one warm isolate or context on one thread, and the 6-field structured
# mapping. hookmap runs on both cores (its default) and pinned to one (`taskset -c 0`, one worker),
# the anchors' comparison. The runs are alternated ROUNDS times; each figure is the median.
#
# A fresh sandbox per event: hookmap with `--isolation fresh` (one core) against a new isolated-vm
# isolate per event, over the first FRESH_EVENTS events (a fresh isolate costs milliseconds).
#
# PREVIOUS=path/to/an/older/hookmap adds that binary's runs, alternated with the others, to
# measure a change against the code before it.
#
# The anchors run under the node and isolated-vm of benches/node/package.json, installed from the
# npm registry into target/node-bench (never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-20000}
ROUNDS=${ROUNDS:-3}
FRESH_EVENTS=${FRESH_EVENTS:-2000}
cargo build --release --quiet
anchors=target/node-bench
mkdir -p "$anchors"
cp benches/node/package.json benches/node/package-lock.json benches/node/anchors.mjs "$anchors/"
if [ ! -x "$anchors/node_modules/.bin/node" ] || [ ! -d "$anchors/node_modules/isolated-vm" ]; then
  (cd "$anchors" && npm ci --no-audit --no-fund --loglevel=error)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/stripe_events.py "$EVENTS" > "$work/events.ndjson"
head -n "$FRESH_EVENTS" "$work/events.ndjson" > "$work/fresh.ndjson"
target/release/hookmap presets show stripe > "$work/stripe.js"
for binary in target/release/hookmap ${PREVIOUS:-}; do # warm the module cache
  "$binary" map --mapping "$work/stripe.js" --sample benches/data/stripe-payment-intent-succeeded.json > /dev/null
done
python3 - "$EVENTS" "$ROUNDS" "$work" "$anchors" "${PREVIOUS:-}" "$FRESH_EVENTS" <<'PY'
import os, resource, statistics, subprocess, sys, time
n, rounds, work, anchors, previous = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
fresh_n = int(sys.argv[6])
events, script, fresh_events = f"{work}/events.ndjson", f"{work}/stripe.js", f"{work}/fresh.ndjson"
hookmap = "target/release/hookmap"
node = [f"{anchors}/node_modules/.bin/node", f"{anchors}/anchors.mjs"]
runs = {
    "hookmap, 2 cores": [hookmap, "map", "--mapping", script, "--input", events],
    "hookmap, 1 core": ["taskset", "-c", "0", hookmap, "map", "--mapping", script, "--input", events],
    "isolated-vm": node + ["isolated-vm", script, events, f"{work}/out"],
    "node vm": node + ["vm", script, events, f"{work}/out"],
    "structured, 2 cores": [hookmap, "map", "--mapping", "benches/data/stripe-mapping.json", "--input", events],
    "fresh hookmap, 1 core": ["taskset", "-c", "0", hookmap, "map", "--isolation", "fresh", "--mapping", script,
                              "--input", fresh_events],
    "fresh isolated-vm": node + ["isolated-vm-fresh", script, fresh_events, f"{work}/out"],
}
count = lambda name: fresh_n if name.startswith("fresh") else n
if previous:
    runs["previous, 2 cores"] = [previous, "map", "--mapping", script, "--input", events]
    runs["previous, 1 core"] = ["taskset", "-c", "0", previous, "map", "--mapping", script, "--input", events]
def run(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(f"{work}/out", "wb") as out:
        subprocess.run(argv, stdout=out)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(f"{work}/out", "rb") as out:
        failed = sum(1 for line in out if line.startswith(b'{"error"'))
    return wall, cpu, failed
results = {name: [] for name in runs}
for _ in range(rounds):
    for name, argv in runs.items():
        results[name].append(run(argv))
us = lambda s, name: s / count(name) * 1e6
median = {name: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs), max(r[2] for r in rs))
          for name, rs in results.items()}
load = os.getloadavg()[0]
print(f"{n} Stripe events, the Stripe script preset; median of {rounds} alternated runs (load average {load:.1f})")
print(f"{'':22} {'wall':>8} {'us/event':>9} {'CPU us/event':>13} {'failed':>7}")
for name, (wall, cpu, failed) in median.items():
    print(f"{name:22} {wall:7.3f}s {us(wall, name):9.1f} {us(cpu, name):13.1f} {failed:7}")
ivm_wall, ivm_cpu = median["isolated-vm"][0], median["isolated-vm"][1]
vm_wall = median["node vm"][0]
fresh_wall = median["fresh hookmap, 1 core"][0]
print(f"fresh hookmap, 1 core: {median['fresh isolated-vm'][0] / fresh_wall:.2f}x the speed of a fresh "
      f"isolated-vm isolate per event (wall; {fresh_n} events)")
for name in [name for name in runs if name.startswith(("hookmap", "previous"))]:
    wall, cpu, _ = median[name]
    print(f"{name}: {ivm_wall / wall:.2f}x the speed of isolated-vm (wall), {ivm_cpu / cpu:.2f}x (CPU); "
          f"{vm_wall / wall:.2f}x node vm (wall)")
print(f"script / structured mapping time (2 cores): {median['hookmap, 2 cores'][0] / median['structured, 2 cores'][0]:.1f}x")
PY
