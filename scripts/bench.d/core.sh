#!/usr/bin/env bash
# Core data center: query latency on a 1,000,000-file catalog (in-process and over HTTP), small-file uploads per
# second, and download throughput of a large file, sdc against nginx serving the same file to the same client (curl).
# Env: SDC_BIN, SDC_BENCH_BIN (release builds), BENCH_FILES (default 1000000), BENCH_DOWNLOAD_MB (default 1024),
# BENCH_LARGE_GB (default 5: server memory during a download of that size).
set -euo pipefail
source scripts/lib/provision.sh
ensure_debian_packages nginx curl
files=${BENCH_FILES:-1000000}
download_mb=${BENCH_DOWNLOAD_MB:-1024}
large_gb=${BENCH_LARGE_GB:-5}
work=$(mktemp -d /tmp/sdc-bench-core.XXXXXX)
server_pid="" nginx_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "-- catalog: $files science files, instrument + level + 30-day range"
"$SDC_BENCH_BIN" catalog --root "$work/root" --files "$files" --queries 2000

"$SDC_BIN" serve --root "$work/root" --port 0 > "$work/server.out" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
url=$(head -1 "$work/server.out" | sed 's/^sdc listening on //')
key=$("$SDC_BIN" keys create --root "$work/root" --scope write --name bench)

echo "-- HTTP: /query latency on the same catalog, small uploads (4 KiB, 8 concurrent)"
"$SDC_BENCH_BIN" api --url "$url" --api-key "$key" --queries 2000 --uploads 2000

upload() { # upload NAME FILE
  local put
  put=$(curl -sf -H "x-api-key: $key" "$url/api-key/upload/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin))')
  curl -sf -X PUT -H "Content-Type:" -T "$2" "$put" > /dev/null
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status"; }

echo "-- download: ${download_mb} MiB, sdc vs nginx, both with sendfile, same file, same client (curl), best of 3"
name=imap_mag_l1b_norm-mago_20250101_v001.0000.cdf  # a product that triggers no processing
head -c "$((download_mb * 1024 * 1024))" /dev/urandom > "$work/$name"
upload "$name" "$work/$name"
key_path=imap/mag/l1b/2025/01/$name
cat > "$work/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $work/nginx-tmp;
  proxy_temp_path $work/nginx-tmp;
  fastcgi_temp_path $work/nginx-tmp;
  uwsgi_temp_path $work/nginx-tmp;
  scgi_temp_path $work/nginx-tmp;
  server { listen 127.0.0.1:18731; root $work/root/objects; }
}
NGINX
mkdir -p "$work/nginx-tmp"
chmod -R a+rX "$work"  # nginx workers run unprivileged
nginx -c "$work/nginx.conf" &
nginx_pid=$!
sleep 0.5
speed() { # speed URL [header]: bytes/s of one download
  curl -sf -o /dev/null -w '%{speed_download}' ${2:+-H "$2"} "$1"
}
# Alternate the two servers, so that a change in the machine's load hits both alike; keep each one's best.
sdc_speed=0 nginx_speed=0
for _ in 1 2 3; do
  sdc_speed=$(python3 -c "print(max($sdc_speed, $(speed "$url/api-key/download/$key_path" "x-api-key: $key")))")
  nginx_speed=$(python3 -c "print(max($nginx_speed, $(speed "http://127.0.0.1:18731/$key_path")))")
done
python3 - "$sdc_speed" "$nginx_speed" <<PY
import sys
sdc, nginx = map(float, sys.argv[1:])
print(f'{{"download_mib": $download_mb, "sdc_mb_s": {sdc/1e6:.0f}, "nginx_mb_s": {nginx/1e6:.0f}, "sdc_over_nginx": {sdc/nginx:.2f}}}')
PY

echo "-- server memory while sending a ${large_gb} GB download"
large=imap_mag_l1b_norm-mago_20250102_v001.0000.cdf
head -c "$((large_gb * 1000 * 1000 * 1000))" /dev/zero > "$work/$large"
upload "$large" "$work/$large"
rm "$work/$large"
before=$(rss_kb)
curl -sf -o /dev/null -H "x-api-key: $key" "$url/api-key/download/imap/mag/l1b/2025/01/$large" &
curl_pid=$!
peak=$before
while kill -0 "$curl_pid" 2>/dev/null; do
  now=$(rss_kb); [ "$now" -gt "$peak" ] && peak=$now
  sleep 0.05
done
wait "$curl_pid"
echo "{\"download_gb\": $large_gb, \"server_rss_before_mb\": $((before / 1024)), \"server_rss_peak_mb\": $((peak / 1024))}"
