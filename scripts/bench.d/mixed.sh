#!/usr/bin/env bash
# Mixed load on a fresh data center, loopback only: BENCH_CLIENTS (default 64) concurrent clients making the requests
# imap-data-access makes, each on a new connection: two-step uploads of 4-64 KiB (GET /upload, then PUT to the
# presigned URL), queries and downloads, in equal parts, for BENCH_SECONDS (default 20) each. Two load generators:
# wrk (scripts/bench.d/mixed.lua; a C client that leaves the CPU to the server) for requests/s and latency, then
# `sdc-bench mixed` (AsyncHTTPClient, latency per request kind, connection set-up included). Both stop by themselves.
# Prints their JSON lines, the server's CPU time per request and its peak memory.
# Env: SDC_BIN, SDC_BENCH_BIN (release builds).
set -euo pipefail
source scripts/lib/provision.sh
ensure_debian_packages wrk
clients=${BENCH_CLIENTS:-64}
seconds=${BENCH_SECONDS:-20}
work=$(mktemp -d /tmp/sdc-bench-mixed.XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$SDC_BIN" serve --root "$work/root" --port 0 > "$work/server.out" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
url=$(head -1 "$work/server.out" | sed 's/^sdc listening on //')
key=$("$SDC_BIN" keys create --root "$work/root" --scope write --name bench)
cpu_ms() { awk '{print ($14 + $15) * 1000 / 100}' "/proc/$server_pid/stat"; }  # utime + stime, in clock ticks of 1/100 s
per_request() { python3 -c "import json,sys; print(f'{{\"server_cpu_ms_per_request\": {($2 - $1) / json.loads(sys.argv[1])[\"requests\"]:.2f}}}')" "$3"; }

echo "-- mixed load, wrk: $clients connections, a new connection per request, ${seconds} s"
before=$(cpu_ms)
result=$(wrk -t 2 -c "$clients" -d "${seconds}s" --timeout 10s -s scripts/bench.d/mixed.lua "$url" -- "$key" "$RANDOM" | grep '^{')
echo "$result"
per_request "$before" "$(cpu_ms)" "$result"

echo "-- mixed load, sdc-bench mixed: $clients clients (AsyncHTTPClient), a new connection per request, ${seconds} s"
before=$(cpu_ms)
result=$("$SDC_BENCH_BIN" mixed --url "$url" --api-key "$key" --clients "$clients" --seconds "$seconds" --seed-files 64 | grep '^{')
echo "$result"
per_request "$before" "$(cpu_ms)" "$result"
echo "{\"server_rss_peak_mb\": $(( $(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status") / 1024 ))}"
