#!/usr/bin/env python3
"""Time to the first result of a script mapping with an empty module cache.

Runs `hookmap map --mapping presets/scripts/default.js --sample ...` RUNS times (default 5), each
with a new, empty HOOKMAP_CACHE_DIR, and reports when the mapped JSON reached stdout and when the
process exited; then the same with the cache that a run left behind (the warm case), in the same
run. Build first: `cargo build --release`.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "hookmap")
ARGS = [
    "map",
    "--mapping",
    "presets/scripts/default.js",
    "--sample",
    "presets/scripts/default.sample.json",
    "--request",
    "presets/scripts/default.request.json",
]


def one_run(cache_dir):
    """Seconds to the first byte of stdout and to the exit of one `hookmap map`."""
    env = dict(os.environ, HOOKMAP_CACHE_DIR=cache_dir)
    start = time.monotonic()
    process = subprocess.Popen([BINARY, *ARGS], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = process.stdout.read(1)
    first_at = time.monotonic() - start
    rest, stderr = process.communicate()
    exit_at = time.monotonic() - start
    if process.returncode != 0 or not first:
        sys.exit(f"hookmap map failed ({process.returncode}): {stderr.decode(errors='replace')}")
    return first_at, exit_at, stderr.decode(errors="replace").strip()


def report(label, runs):
    firsts = [r[0] for r in runs]
    exits = [r[1] for r in runs]
    print(
        f"{label}: first result median {statistics.median(firsts):.2f} s (min {min(firsts):.2f}, max {max(firsts):.2f}); "
        f"exit median {statistics.median(exits):.2f} s"
    )


def main():
    if not os.access(BINARY, os.X_OK):
        sys.exit(f"{BINARY} is missing: run `cargo build --release` first")
    count = int(os.environ.get("RUNS", "5"))
    cold, warm = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(count):
            cache = os.path.join(scratch, f"cold-{index}")
            cold.append(one_run(cache))
            warm.append(one_run(cache))
    print(f"stderr of a cold run: {cold[0][2]!r}")
    report("empty cache", cold)
    report("warm cache ", warm)


if __name__ == "__main__":
    main()
