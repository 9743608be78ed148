#!/usr/bin/env bash
# Peak memory of `npm start`, as README.md reports it: the node server's VmHWM (peak resident set)
# from /proc after startup and a few requests, for a first start on a fresh DATA_DIR, a restart on
# that DATA_DIR, and a start on the PostgreSQL server named by $1 (in a schema of its own, dropped after).
# Linux only. Usage: scripts/measure-memory.sh [postgres://user@host:5432/db]
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

measure() { # label, then environment assignments
  local label=$1; shift
  env "$@" PORT="$port" HOST=127.0.0.1 LOG_LEVEL=info npm start >"$work/out" 2>"$work/err" &
  local npm=$!
  for _ in $(seq 1 300); do grep -q '"server started"' "$work/out" && break; sleep 0.5; done
  local node; node=$(pgrep -P "$npm")
  for path in /healthz /readyz /s.js /v1/campaigns /c/nope; do curl -s -o /dev/null "http://127.0.0.1:$port$path"; done
  local hwm rss npm_hwm
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$node/status")
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$node/status")
  npm_hwm=$(awk '/VmHWM/ {print $2}' "/proc/$npm/status")
  kill -TERM "$npm"; wait "$npm" || true
  printf '%-40s node peak %5d MB (now %4d MB); npm itself %3d MB\n' "$label" $((hwm / 1024)) $((rss / 1024)) $((npm_hwm / 1024))
}

measure 'first start, fresh DATA_DIR' DATA_DIR="$work/data"
measure 'restart, existing DATA_DIR' DATA_DIR="$work/data"
if [ -n "${1:-}" ]; then
  schema="memory_$(date +%s)"
  psql -q "$1" -c "create schema $schema"
  measure 'PostgreSQL server (DATABASE_URL)' DATABASE_URL="$1?options=-c%20search_path%3D$schema"
  PGOPTIONS="-c client_min_messages=warning" psql -q "$1" -c "drop schema $schema cascade"
fi
