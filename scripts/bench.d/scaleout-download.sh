#!/usr/bin/env bash
# Scale-out: a BENCH_DOWNLOAD_MB (default 1024) MiB download through a 302 to a presigned moto GET
# (`--download redirect`) against streaming through sdc (`--download stream`): two replicas on one PostgreSQL database
# and one moto bucket, the same object, the same client (curl; -L follows the redirect). The two alternate, best of 3
# each; prints MiB/s of each and redirect over stream.
# Env: SDC_BIN (release build).
set -euo pipefail
source scripts/lib/provision.sh
source scripts/lib/postgres.sh
source scripts/lib/moto.sh
source scripts/lib/bench.sh
download_mb=${BENCH_DOWNLOAD_MB:-1024}
bench_scratch scaleout-download
start_scaleout_backends sdc-bench-download

mkdir -p "$work/stream" "$work/redirect"
start_bench_server "$work/stream" --workers 0 --download stream
pids+=("$server_pid") stream=$url
start_bench_server "$work/redirect" --workers 0 --download redirect
pids+=("$server_pid") redirect=$url

name=imap_mag_l1b_norm-mago_20250101_v001.0000.cdf  # a product that triggers no processing
key_path=imap/mag/l1b/2025/01/$name
head -c "$((download_mb * 1024 * 1024))" /dev/urandom > "$work/$name"
put=$(curl -sf -H "x-api-key: $key" "$stream/api-key/upload/$name" | python3 -c 'import json,sys; print(json.load(sys.stdin))')
curl -sf -X PUT -H "Content-Type:" -T "$work/$name" "$put" > /dev/null
rm "$work/$name"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "x-api-key: $key" "$redirect/api-key/download/$key_path")
[ "$status" = 302 ] || { echo "redirect replica answered $status, not 302" >&2; exit 1; }

echo "-- download: ${download_mb} MiB, 302 to moto vs streamed through sdc, same object, curl, best of 3"
seconds() { # seconds URL: wall time of one download (redirects followed), which must bring the whole object
  local size time
  read -r size time < <(curl -sfL -o /dev/null -w '%{size_download} %{time_total}\n' -H "x-api-key: $key" "$1")
  [ "$size" -eq "$((download_mb * 1024 * 1024))" ] || { echo "download of $1 brought $size bytes" >&2; exit 1; }
  echo "$time"
}
best_stream=1e9 best_redirect=1e9
for _ in 1 2 3; do
  best_redirect=$(python3 -c "print(min($best_redirect, $(seconds "$redirect/api-key/download/$key_path")))")
  best_stream=$(python3 -c "print(min($best_stream, $(seconds "$stream/api-key/download/$key_path")))")
done
python3 - "$best_redirect" "$best_stream" <<PY
import sys
redirect, stream = map(float, sys.argv[1:])
print(f'{{"download_mib": $download_mb, "redirect_mib_s": {$download_mb / redirect:.0f}, "stream_mib_s": {$download_mb / stream:.0f}, "redirect_over_stream": {stream / redirect:.2f}}}')
PY
