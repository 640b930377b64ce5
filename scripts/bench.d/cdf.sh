#!/usr/bin/env bash
# CDF benchmark: cdflib 1.3.16 and sdc write and read the same data in one run.
#   epoch_f64: 1,000,000 records of a TT2000 Epoch plus a float64 variable
#   f32x32:    1,000,000 records of 32 float32 values
# each uncompressed and with GZIP level 6. Prints both tools' times (best of 3) and the ratios.
# Usage: scripts/bench.d/cdf.sh [RECORDS]   (run from anywhere; builds sdc-bench in release mode)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RECORDS="${1:-1000000}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [[ -z "${SDC_BENCH_BIN:-}" ]]; then
  (cd "$ROOT" && swift build -c release --product sdc-bench >&2)
  SDC_BENCH_BIN="$(cd "$ROOT" && swift build -c release --show-bin-path)/sdc-bench"
fi

"$PYTHON" - "$WORK" "$RECORDS" > "$WORK/cdflib.json" <<'PY'
import json, sys, time
import numpy as np
import cdflib
from cdflib.cdfwrite import CDF

work, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(2025)
epoch = 797947269184000000 + np.arange(n, dtype=np.int64) * 1_000_000_000
value = rng.normal(size=n)
matrix = rng.normal(size=(n, 32)).astype(np.float32)
epoch.tofile(f"{work}/epoch.i64"); value.tofile(f"{work}/value.f64"); matrix.tofile(f"{work}/matrix.f32")

def best(fn, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter(); fn(); times.append(time.perf_counter() - start)
    return min(times)

results = {}
for level, suffix in ((0, "plain"), (6, "gzip")):
    p1, p2 = f"{work}/cdflib_epoch_f64_{suffix}.cdf", f"{work}/cdflib_f32x32_{suffix}.cdf"
    def write_epoch():
        w = CDF(p1, cdf_spec={"Encoding": "IBMPC_ENCODING"}, delete=True)
        w.write_var({"Variable": "Epoch", "Data_Type": 33, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [], "Compress": level}, var_data=epoch)
        w.write_var({"Variable": "value", "Data_Type": 22, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [], "Compress": level}, var_data=value)
        w.close()
    def read_epoch():
        c = cdflib.CDF(p1); assert c.varget("Epoch").size == n and c.varget("value").size == n
    def write_matrix():
        w = CDF(p2, cdf_spec={"Encoding": "IBMPC_ENCODING"}, delete=True)
        w.write_var({"Variable": "matrix", "Data_Type": 21, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [32], "Compress": level}, var_data=matrix)
        w.close()
    def read_matrix():
        c = cdflib.CDF(p2); assert c.varget("matrix").size == n * 32
    import os
    results[f"epoch_f64_{suffix}"] = {"write_s": best(write_epoch), "read_s": best(read_epoch), "bytes": os.path.getsize(p1)}
    results[f"f32x32_{suffix}"] = {"write_s": best(write_matrix), "read_s": best(read_matrix), "bytes": os.path.getsize(p2)}
print(json.dumps(results))
PY

"$SDC_BENCH_BIN" cdf --records "$RECORDS" --data "$WORK" --output "$WORK" > "$WORK/sdc.json"

"$PYTHON" - "$WORK/cdflib.json" "$WORK/sdc.json" "$RECORDS" <<'PY'
import json, sys
cdflib_r, sdc_r, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
print(f"CDF benchmark, {n:,} records (best of 3; ratio = cdflib time / sdc time, >1 means sdc is faster)")
print(f"{'case':<18}{'op':<7}{'cdflib s':>10}{'sdc s':>10}{'ratio':>8}{'cdflib MB':>11}{'sdc MB':>9}")
for case in cdflib_r:
    for op in ("write", "read"):
        c, s = cdflib_r[case][f"{op}_s"], sdc_r[case][f"{op}_s"]
        print(f"{case:<18}{op:<7}{c:>10.4f}{s:>10.4f}{c / s:>8.2f}{cdflib_r[case]['bytes'] / 1e6:>11.2f}{sdc_r[case]['bytes'] / 1e6:>9.2f}")
PY
