#!/usr/bin/env bash
# Web portal: server time of the search page and the file page on a 1,000,000-file catalog (target: p99 < 50 ms);
# the quicklook of a one-day 1 Hz product, first render and cached (target: cached < 50 ms); the operations dashboard
# over 24 h, 7 d and 30 d on the same catalog (target: p99 < 200 ms, from the catalog's aggregates).
# A signed-in browser session (the synthetic files are unreleased) requests, over one keep-alive connection:
#   search:    instrument + level + 30-day start-date range, first page of 50 sorted by name
#   search-latest: the same with versions=latest (a window function picks each series' newest version)
#   search-all: no filter, a random page (1-200) of 50 among every file, sorted by name
#   file:      the file page of a random file from those results (metadata, lineage, jobs)
# Prints p50/p90/p99 of the server's own per-request duration (its request log) and of the client round trip.
# No peer tool serves these pages, so the number is compared with the 50 ms target.
# Quicklook: a CDF written with cdflib, 86,400 records (one day at 1 Hz) of 12 housekeeping series, 4 CCSDS header
# fields, 2 data series and a 32-bin spectrogram, uploaded with imap-data-access; the first view decodes and renders it,
# later views come from the cache.
# Env: SDC_BIN, SDC_BENCH_BIN (release builds), BENCH_FILES (default 1000000), BENCH_REQUESTS (default 1000 per page),
# BENCH_SEARCH=0 to skip the search and file pages.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
files=${BENCH_FILES:-1000000}
requests=${BENCH_REQUESTS:-1000}
work=$(mktemp -d /tmp/sdc-bench-portal.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "-- catalog: $files science files"
"$SDC_BENCH_BIN" catalog --root "$work/root" --files "$files" --queries 1 > /dev/null

"$SDC_BIN" serve --root "$work/root" --port 0 --workers 0 --log-level info > "$work/server.out" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 1 300); do grep -q "listening" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
url=$(head -1 "$work/server.out" | sed 's/^sdc listening on //')
key=$("$SDC_BIN" keys create --root "$work/root" --scope read --name bench)
write_key=$("$SDC_BIN" keys create --root "$work/root" --scope write --name bench-upload)

if [ "${BENCH_SEARCH:-1}" != 0 ]; then
"$PYTHON" - "$url" "$key" "$requests" "$work/server.log" <<'PY'
import http.client, json, random, re, sys, time
from datetime import date, timedelta
from urllib.parse import urlsplit, urlencode

url, key, count, log_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
host = urlsplit(url)
connection = http.client.HTTPConnection(host.hostname, host.port, timeout=60)

def request(method, path, body=None, headers=None):
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()

response, _ = request("POST", "/portal/sign-in", body=f"api_key={key}", headers={"Content-Type": "application/x-www-form-urlencoded"})
assert response.status == 303, response.status
cookie = {"Cookie": response.getheader("Set-Cookie").split(";")[0]}
random.seed(2025)
instruments = ["codice", "glows", "hi", "hit", "idex", "lo", "mag", "swapi", "swe", "ultra"]
levels = ["l1a", "l1b", "l2"]
first = date(2025, 1, 1)
days = 10_000

def search_path():
    start = first + timedelta(days=random.randrange(days - 30))
    return "/portal/search?" + urlencode({"instrument": random.choice(instruments), "data_level": random.choice(levels),
                                          "start_date": start.strftime("%Y%m%d"), "end_date": (start + timedelta(days=29)).strftime("%Y%m%d")})

def search_latest_path():
    return search_path() + "&versions=latest"

def search_all_path():
    return f"/portal/search?page={random.randrange(1, 200)}"

file_paths = []
def file_path():
    return random.choice(file_paths)

def percentiles(values):
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    return {"p50": round(pick(0.50), 2), "p90": round(pick(0.90), 2), "p99": round(pick(0.99), 2), "max": round(values[-1], 2)}

# Warm up and collect file pages to visit.
for _ in range(50):
    response, body = request("GET", search_path(), headers=cookie)
    assert response.status == 200
    file_paths += re.findall(r'href="(/portal/files/[^"]+)"', body.decode())
assert file_paths, "no files in search results"

results = {}
for name, make in (("search", search_path), ("search-latest", search_latest_path), ("search-all", search_all_path), ("file", file_path)):
    with open(log_path) as log:
        log.seek(0, 2)
        offset = log.tell()
    client = []
    for _ in range(count):
        path = make()
        start = time.perf_counter()
        response, body = request("GET", path, headers=cookie)
        client.append((time.perf_counter() - start) * 1000)
        assert response.status == 200, (path, response.status)
    time.sleep(0.5)
    with open(log_path) as log:
        log.seek(offset)
        server = [float(m) for m in re.findall(r"duration_ms=([0-9.]+)", log.read())]
    results[name] = {"requests": count, "server_ms": percentiles(server), "client_ms": percentiles(client)}
    p99 = results[name]["server_ms"]["p99"]
    print(f"{name:13s} server p50 {results[name]['server_ms']['p50']:7.2f} ms  p99 {p99:7.2f} ms  "
          f"(client p99 {results[name]['client_ms']['p99']:7.2f} ms)  target 50 ms: {'met' if p99 < 50 else 'MISSED'} "
          f"(ratio to target {p99 / 50:.2f})")
print(json.dumps(results))
PY
fi

echo "-- quicklook of a one-day 1 Hz product and the dashboard"
"$PYTHON" - "$work/qlbench" <<'PY'
import sys
from pathlib import Path
import numpy as np
from cdflib.cdfwrite import CDF

folder = Path(sys.argv[1])
folder.mkdir()
path = folder / "imap_swe_l1b_qlbench_20250101_v001.0000.cdf"
records = 86_400
start = 788_961_669_184_000_000  # 2025-01-01T00:00:00 in TT2000
writer = CDF(str(path), cdf_spec={"Compressed": False})
def variable(name, data_type, dims, data, var_type, units, depend_1=None):
    spec = {"Variable": name, "Data_Type": data_type, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": dims, "Compress": 0}
    attributes = {"VAR_TYPE": var_type, "DEPEND_0": "epoch", "UNITS": units, "CATDESC": name, "DISPLAY_TYPE": "time_series"}
    if depend_1:
        attributes.update({"DEPEND_1": depend_1, "DISPLAY_TYPE": "spectrogram"})
    writer.write_var(spec, var_attrs=attributes, var_data=data)
writer.write_var({"Variable": "epoch", "Data_Type": 33, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [], "Compress": 0},
                 var_attrs={"VAR_TYPE": "support_data"}, var_data=start + np.arange(records, dtype=np.int64) * 1_000_000_000)
writer.write_var({"Variable": "energy", "Data_Type": 45, "Num_Elements": 1, "Rec_Vary": False, "Dim_Sizes": [32], "Compress": 0},
                 var_attrs={"VAR_TYPE": "support_data", "UNITS": "eV"}, var_data=np.geomspace(10, 20_000, 32))
t = np.arange(records, dtype=np.float64)
rng = np.random.default_rng(2025)
for number in range(12):
    variable(f"hk_{number:02d}", 45, [], 20 + np.sin(t / (600 + 100 * number)) + rng.normal(0, 0.05, records), "support_data", "degC")
for name, value in (("version", 0), ("type", 0), ("pkt_apid", 1184), ("pkt_len", 1184)):
    variable(name, 12, [], np.full(records, value, dtype=np.uint16), "support_data", " ")
variable("rate", 45, [], 1000 + 300 * np.sin(t / 3600) + rng.normal(0, 20, records), "data", "counts/s")
variable("density", 45, [], 5 + np.cos(t / 7200), "data", "cm^-3")
spectrum = (np.exp(-((np.arange(32)[None, :] - 16 - 8 * np.sin(t[:, None] / 5000)) ** 2) / 20) * 1e4 + 1).astype(np.float32)
variable("spectrum", 44, [32], spectrum, "data", "counts/s", depend_1="energy")
writer.close()
print(path)
PY
IMAP_DATA_ACCESS_URL="$url" IMAP_API_KEY="$write_key" "$PYTHON" -c "from imap_data_access.cli import main; main()" \
  upload "$work/qlbench/imap_swe_l1b_qlbench_20250101_v001.0000.cdf" > /dev/null

"$PYTHON" - "$url" "$key" "${BENCH_REQUESTS:-1000}" "$work/server.log" <<'PY'
import http.client, json, re, sys, time
from urllib.parse import urlsplit

url, key, count, log_path = sys.argv[1], sys.argv[2], min(int(sys.argv[3]), 200), sys.argv[4]
host = urlsplit(url)
connection = http.client.HTTPConnection(host.hostname, host.port, timeout=300)

def request(path, headers=None):
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()

def server_times(offset):
    time.sleep(0.5)
    with open(log_path) as log:
        log.seek(offset)
        return [float(m) for m in re.findall(r"duration_ms=([0-9.]+)", log.read())]

def log_end():
    with open(log_path) as log:
        log.seek(0, 2)
        return log.tell()

def percentiles(values):
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    return {"p50": round(pick(0.50), 2), "p99": round(pick(0.99), 2), "max": round(values[-1], 2)}

connection.request("POST", "/portal/sign-in", body=f"api_key={key}", headers={"Content-Type": "application/x-www-form-urlencoded"})
response = connection.getresponse()
response.read()
cookie = {"Cookie": response.getheader("Set-Cookie").split(";")[0]}
quicklook = "/portal/quicklook/imap/swe/l1b/2025/01/imap_swe_l1b_qlbench_20250101_v001.0000.cdf"
results = {}
for name, path in (("quicklook", quicklook), ("quicklook-stacked", quicklook + "?var=rate&var=hk_00&var=spectrum&from=2025-01-01T06:00:00&to=2025-01-01T18:00:00")):
    offset = log_end()
    start = time.perf_counter()
    response, body = request(path, cookie)
    first_client = (time.perf_counter() - start) * 1000
    assert response.status == 200 and b"<svg" in body, (response.status, body[:300])
    first = server_times(offset)
    offset = log_end()
    for _ in range(count):
        response, body = request(path, cookie)
        assert response.status == 200
    cached = percentiles(server_times(offset))
    results[name] = {"first_server_ms": first[0], "first_client_ms": round(first_client, 1), "cached_server_ms": cached, "bytes": len(body)}
    print(f"{name:17s} first render {first[0]:8.1f} ms   cached p50 {cached['p50']:6.2f} ms  p99 {cached['p99']:6.2f} ms  "
          f"({len(body)} bytes)  target cached < 50 ms: {'met' if cached['p99'] < 50 else 'MISSED'}")
for window in ("24h", "7d", "30d"):
    offset = log_end()
    for _ in range(count):
        response, body = request(f"/portal/dashboard?window={window}")
        assert response.status == 200
    server = percentiles(server_times(offset))
    results[f"dashboard-{window}"] = {"requests": count, "server_ms": server}
    print(f"dashboard {window:4s}    server p50 {server['p50']:6.2f} ms  p99 {server['p99']:6.2f} ms  target 200 ms: "
          f"{'met' if server['p99'] < 200 else 'MISSED'}")
print(json.dumps(results))
PY
