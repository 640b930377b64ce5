#!/usr/bin/env bash
# Pipeline: latency from the upload of a one-day SWAPI L0 file to its L1A products being queryable (target < 2 s),
# and throughput with 100 days of L0 uploaded at once (jobs per minute, server CPU use).
# Env: SDC_BIN (release build), SDC_SHARED, BENCH_DAYS (default 100), BENCH_PACKETS (SWAPI packets per container
# and day, default 3600).
set -euo pipefail
source scripts/lib/provision.sh
source scripts/lib/bench.sh
days=${BENCH_DAYS:-100}
packets=${BENCH_PACKETS:-3600}
work=$(mktemp -d /tmp/sdc-bench-pipeline.XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

.venv/bin/python "$SDC_SHARED/testdata/tools/gen_packets.py" --xtce "$SDC_SHARED/testdata/xtce/swapi_packet_definition.xml" \
  --container SWP_HK --container SWP_SCI -n "$packets" --seed 1 --out "$work/swapi" > /dev/null
start_bench_server "$work" --log-level warning

.venv/bin/python - "$url" "$key" "$work/swapi.pkts" "$days" "$server_pid" <<'PY'
import json, os, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

url, key, packets, days, pid = sys.argv[1], sys.argv[2], open(sys.argv[3], "rb").read(), int(sys.argv[4]), int(sys.argv[5])
hz = os.sysconf("SC_CLK_TCK")

def call(method, path, data=None):
    request = urllib.request.Request(path if path.startswith("http") else url + path, data=data, method=method, headers={"x-api-key": key})
    with urllib.request.urlopen(request) as response:
        return response.read()

def upload(day):
    name = f"imap_swapi_l0_raw_{day}_v001.0000.pkts"
    put = json.loads(call("GET", f"/api-key/upload/{name}"))
    call("PUT", put, packets)

def products(query):
    return json.loads(call("GET", f"/api-key/query?instrument=swapi&data_level=l1a&{query}"))

def cpu_seconds():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / hz

start = time.monotonic()
upload("20250101")
while len(products("start_date=20250101&end_date=20250101")) < 2:
    time.sleep(0.01)
latency = time.monotonic() - start
print(json.dumps({"one_day_l0_bytes": len(packets), "upload_to_l1a_queryable_s": round(latency, 3), "target_s": 2}))

dates = [time.strftime("%Y%m%d", time.gmtime(time.mktime((2025, 2, 1, 12, 0, 0, 0, 0, 0)) + 86400 * i)) for i in range(days)]
cpu_before, start = cpu_seconds(), time.monotonic()
with ThreadPoolExecutor(8) as pool:
    list(pool.map(upload, dates))
uploaded = time.monotonic() - start
while len(products(f"start_date={dates[0]}&end_date={dates[-1]}")) < 2 * days:
    time.sleep(0.2)
elapsed = time.monotonic() - start
cpu = cpu_seconds() - cpu_before
print(json.dumps({"days": days, "uploads_s": round(uploaded, 2), "all_l1a_s": round(elapsed, 2),
                  "jobs_per_minute": round(days / elapsed * 60), "server_cpu_cores_busy": round(cpu / elapsed, 2),
                  "cores": os.cpu_count()}))
PY
