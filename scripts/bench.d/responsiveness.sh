#!/usr/bin/env bash
# Responsiveness under processing load: /query latency (p50, p90, p99 over sequential requests) on an idle server, then
# while 8 SWAPI L0 -> L1A jobs run at once (decoding and CDF writing, with their parallel loops, run on the processing
# pool: one thread per core, niced 10 below the threads that serve requests). Prints both, the ratio (loaded / idle;
# near 1 means flat), how long the 8 jobs took (throughput) and the load average before and after. A control row runs
# the same queries beside one busy loop per core at the pool's nice value instead of jobs: the floor that the kernel's
# scheduling of any niced CPU-bound work sets (loaded / control near or below 1: sdc adds nothing to it).
# Env: SDC_BIN (release build), SDC_SHARED, BENCH_PACKETS (SWAPI packets per container and day, default 40000), and
# SDC_PROCESSING_THREADS / SDC_PROCESSING_NICE, passed to the server, to compare pool settings.
set -euo pipefail
source scripts/lib/provision.sh
source scripts/lib/bench.sh
packets=${BENCH_PACKETS:-40000}
work=$(mktemp -d /tmp/sdc-bench-responsiveness.XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

.venv/bin/python "$SDC_SHARED/testdata/tools/gen_packets.py" --xtce "$SDC_SHARED/testdata/xtce/swapi_packet_definition.xml" \
  --container SWP_HK --container SWP_SCI -n "$packets" --seed 2 --out "$work/swapi" > /dev/null
start_bench_server "$work" --workers 8 --log-level warning
echo "processing pool: SDC_PROCESSING_THREADS=${SDC_PROCESSING_THREADS:-default} SDC_PROCESSING_NICE=${SDC_PROCESSING_NICE:-default}"
echo "load before: $(uptime | sed 's/.*load average: //')"

.venv/bin/python - "$url" "$key" "$work/swapi.pkts" <<'PY'
import json, os, statistics, subprocess, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

url, key, packets = sys.argv[1], sys.argv[2], open(sys.argv[3], "rb").read()

def call(method, path, data=None):
    request = urllib.request.Request(path if path.startswith("http") else url + path, data=data, method=method, headers={"x-api-key": key})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()

def upload(day):
    name = f"imap_swapi_l0_raw_{day}_v001.0000.pkts"
    call("PUT", json.loads(call("GET", f"/api-key/upload/{name}")), packets)

def products():
    return json.loads(call("GET", "/api-key/query?instrument=swapi&data_level=l1a"))

def latencies(count=None, until=None):
    samples = []
    while (count is not None and len(samples) < count) or (until is not None and not until(len(samples))):
        start = time.perf_counter()
        call("GET", "/api-key/query?instrument=swapi&data_level=l1a&start_date=20250101&end_date=20250131")
        samples.append((time.perf_counter() - start) * 1000)
    return samples

def summary(samples):
    ordered = sorted(samples)
    def percentile(fraction):
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * fraction))], 2)
    return {"requests": len(ordered), "p50_ms": round(statistics.median(ordered), 2), "p90_ms": percentile(0.9),
            "p99_ms": percentile(0.99)}

idle = summary(latencies(count=1000))
days = [f"202501{day:02d}" for day in range(1, 9)]
start = time.monotonic()
with ThreadPoolExecutor(8) as pool:
    list(pool.map(upload, days))
# Sample while the jobs run: until every L1A product is queryable (checked every 50 requests).
loaded_samples = latencies(until=lambda n: n >= 50 and n % 50 == 0 and len(products()) >= 2 * len(days))
elapsed = time.monotonic() - start
loaded = summary(loaded_samples)
# Control: the same queries beside one busy loop per core at the pool's nice value and no jobs, the latency floor this
# machine's scheduler sets for any niced CPU-bound work.
niceness = os.environ.get("SDC_PROCESSING_NICE") or "10"
hogs = [subprocess.Popen(["nice", "-n", niceness, sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
try:
    control = summary(latencies(count=len(loaded_samples)))
finally:
    for hog in hogs:
        hog.kill()
print(f"/query latency, idle vs during {len(days)} concurrent L1A jobs ({elapsed:.1f} s of processing, L0 {len(packets) / 1e6:.1f} MB/day)")
print(f"{'':<10}{'requests':>10}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}")
for label, row in (("idle", idle), ("loaded", loaded), ("control", control)):
    print(f"{label:<10}{row['requests']:>10}{row['p50_ms']:>10}{row['p90_ms']:>10}{row['p99_ms']:>10}")
print(f"ratio loaded/idle: p50 {loaded['p50_ms'] / idle['p50_ms']:.2f}, p90 {loaded['p90_ms'] / idle['p90_ms']:.2f}, "
      f"p99 {loaded['p99_ms'] / idle['p99_ms']:.2f}")
print(f"ratio loaded/control (busy loops at nice {niceness} instead of jobs): p50 {loaded['p50_ms'] / control['p50_ms']:.2f}, "
      f"p90 {loaded['p90_ms'] / control['p90_ms']:.2f}, p99 {loaded['p99_ms'] / control['p99_ms']:.2f}")
PY
echo "load after: $(uptime | sed 's/.*load average: //')"
