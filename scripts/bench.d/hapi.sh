#!/usr/bin/env bash
# HAPI /hapi/data: one month (31 daily CDFs) of a 1 Hz dataset with 10 double parameters (2,678,400 records), streamed
# as CSV and as binary; rows per second against Python doing the same work (cdflib reading the same CDFs and pandas
# writing the CSV) and hapiclient's own download and parse times. Samples the server's RSS (/proc/PID/status every
# 10 ms) during each request: the peak must not grow with the range (one day vs one month).
# Env: SDC_BIN (release build), BENCH_DAYS (default 31).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
days=${BENCH_DAYS:-31}
work=$(mktemp -d /tmp/sdc-bench-hapi.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$SDC_BIN" serve --root "$work/root" --port 0 --workers 0 --log-level warning > "$work/server.out" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 1 300); do grep -q "listening" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
url=$(head -1 "$work/server.out" | sed 's/^sdc listening on //')
key=$("$SDC_BIN" keys create --root "$work/root" --scope admin --name bench)

"$PYTHON" - "$url" "$key" "$days" "$work" "$server_pid" <<'PY'
import io, os, subprocess, sys, threading, time
from pathlib import Path

import cdflib
import numpy as np
import pandas as pd
import requests
from cdflib.cdfwrite import CDF

url, key, days, work, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5])
dataset = "imap_swapi_l2_bench"
names = [f"p{i}" for i in range(10)]
env = {**{k: v for k, v in os.environ.items() if not k.startswith("IMAP_")}, "IMAP_DATA_ACCESS_URL": url, "IMAP_API_KEY": key}
cli = [sys.executable, "-c", "from imap_data_access.cli import main; main()"]

print(f"-- data: {days} daily CDFs, 86,400 records of epoch + {len(names)} CDF_REAL8 parameters each (cdflib writer), uploaded")
staging = work / "staging"
staging.mkdir()
files = []
rng = np.random.default_rng(13)
for day in range(days):
    midnight = int(cdflib.cdfepoch.compute_tt2000([2025, 1, 1, 0, 0, 0, 0, 0, 0])) + day * 86_400_000_000_000
    date = np.datetime64("2025-01-01") + np.timedelta64(day, "D")
    name = f"{dataset}_{str(date).replace('-', '')}_v001.0000.cdf"
    cdf = CDF(str(staging / name), cdf_spec={"Compressed": False})
    cdf.write_globalattrs({"Logical_source": {0: dataset}})
    cdf.write_var({"Variable": "epoch", "Data_Type": 33, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": []},
                  var_attrs={"CATDESC": "time", "VAR_TYPE": "support_data"},
                  var_data=midnight + np.arange(86_400, dtype=np.int64) * 1_000_000_000)
    for name_ in names:
        cdf.write_var({"Variable": name_, "Data_Type": 45, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": []},
                      var_attrs={"CATDESC": name_, "DEPEND_0": "epoch", "UNITS": "nT", "VAR_TYPE": "data",
                                 "FILLVAL": [np.float64(-1e31), "cdf_double"]},
                      var_data=rng.normal(size=86_400))
    cdf.close()
    done = subprocess.run([*cli, "upload", str(staging / name)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files.append(name)
manifest = staging / "imap_swapi_bench-release_20250101_v001.txt"
manifest.write_text("\n".join(files) + "\n")
subprocess.run([*cli, "upload", str(manifest)], env=env, check=True, capture_output=True)
r = requests.get(f"{url}/api-key/release", params={"release_type": "early-release", "manifest_file": manifest.name},
                 headers={"x-api-key": key}, timeout=120)
assert r.status_code == 200, r.text
stop = (np.datetime64("2025-01-01") + np.timedelta64(days, "D")).astype(str) + "T00:00:00Z"
records = days * 86_400

def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def measured(fetch):
    """Runs fetch() while sampling the server's RSS; returns (seconds, result, baseline MiB, peak MiB)."""
    baseline = rss_kib()
    peak = [baseline]
    done = threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib())
            time.sleep(0.01)
    thread = threading.Thread(target=sample)
    thread.start()
    start = time.perf_counter()
    result = fetch()
    elapsed = time.perf_counter() - start
    done.set()
    thread.join()
    return elapsed, result, baseline / 1024, peak[0] / 1024

def stream(fmt, stop_time):
    def fetch():
        total = 0
        with requests.get(f"{url}/hapi/data", params={"dataset": dataset, "start": "2025-01-01T00:00:00Z", "stop": stop_time,
                                                      "format": fmt}, stream=True, timeout=3600) as response:
            assert response.status_code == 200, response.text
            for chunk in response.iter_content(1 << 20):
                total += len(chunk)
        return total
    return fetch

# Warm-up (page cache, dataset view).
stream("binary", "2025-01-02T00:00:00Z")()
print(f"-- sdc /hapi/data, {records:,} records ({days} days)")
for fmt in ["csv", "binary"]:
    day_elapsed, _, day_base, day_peak = measured(stream(fmt, "2025-01-02T00:00:00Z"))
    elapsed, size, base, peak = measured(stream(fmt, stop))
    print(f"sdc {fmt:6s}: {elapsed:6.2f} s  {records / elapsed:>12,.0f} rows/s  {size / elapsed / 1e6:7.1f} MB/s  "
          f"server RSS {base:.0f} -> peak {peak:.0f} MiB (one day: {day_base:.0f} -> {day_peak:.0f} MiB)")

print("-- Python: cdflib reads the same CDFs (times via cdfepoch.to_datetime), pandas writes the same CSV columns")
objects = work / "root" / "objects"
paths = sorted(objects.rglob(f"{dataset}_*.cdf"))
def python_csv():
    out = open(os.devnull, "w")
    for path in paths:
        cdf = cdflib.CDF(str(path))
        times = np.char.add(np.datetime_as_string(cdflib.cdfepoch.to_datetime(cdf.varget("epoch")), unit="ns"), "Z")
        frame = pd.DataFrame({"time": times,
                              **{n: cdf.varget(n) for n in names}})
        frame.to_csv(out, header=False, index=False)
    out.close()
start = time.perf_counter()
python_csv()
elapsed = time.perf_counter() - start
print(f"python csv: {elapsed:6.2f} s  {records / elapsed:>12,.0f} rows/s")

print("-- hapiclient 0.3.3 (download + parse into NumPy, no cache)")
from hapiclient import hapi
for fmt in ["csv", "binary"]:
    data, meta = hapi(url + "/hapi", dataset, "", "2025-01-01T00:00:00Z", stop,
                      logging=False, usecache=False, cache=False, cachedir=str(work / "hapi-cache"), format=fmt)
    assert len(data) == records
    print(f"hapiclient {fmt:6s}: total {meta['x_totalTime']:6.2f} s  (download {meta['x_downloadTime']:.2f} s, "
          f"parse {meta['x_readTime']:.2f} s)  {records / meta['x_totalTime']:>12,.0f} rows/s end to end, "
          f"{records / meta['x_readTime']:>12,.0f} rows/s parse")
PY
