#!/usr/bin/env bash
# The setup screen's tests in a real browser: headless Chromium (Debian's `chromium`) driven
# by playwright-core, against `hookmap serve` (debug build) on free ports with a temp data dir.
# Screenshots of each main view go to tests/ui/screenshots/ (git-ignored).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
command -v node >/dev/null 2>&1 || { echo "run.sh needs node (20 or later) and npm" >&2; exit 2; }

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$root" && cargo build --locked)

data="$(mktemp -d)"
log="$data/serve.log"
server=""
stop() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap stop EXIT

# The module cache `cargo test` fills (tests/it), so the server does not compile the sandbox again.
export HOOKMAP_CACHE_DIR="${HOOKMAP_CACHE_DIR:-$root/target/tmp/hookmap-module-cache}"
export HOOKMAP_ADMIN_TOKEN="ui-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
# Port 0: the system picks free ports; the server prints the ones it got.
"$root/target/debug/hookmap" serve --data-dir "$data/hookmap-data" \
  --ingest-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 >"$log" 2>"$data/serve.err" &
server=$!
for _ in $(seq 1 600); do
  grep -q '^ingest: ' "$log" && break
  kill -0 "$server" 2>/dev/null || { cat "$data/serve.err" >&2; exit 1; }
  sleep 0.1
done
line="$(grep '^ingest: ' "$log")" || { echo "hookmap serve did not start" >&2; cat "$data/serve.err" >&2; exit 1; }
HOOKMAP_INGEST_URL="$(echo "$line" | sed -E 's/^ingest: (http:[^ ]+).*/\1/')"
HOOKMAP_ADMIN_URL="$(echo "$line" | sed -E 's/.*admin: (http:[^ ]+)$/\1/')"
export HOOKMAP_INGEST_URL HOOKMAP_ADMIN_URL
echo "hookmap serve: ingest $HOOKMAP_INGEST_URL, admin $HOOKMAP_ADMIN_URL"

cd "$here"
node --test --test-concurrency=1 --test-reporter=spec ./*.test.js
