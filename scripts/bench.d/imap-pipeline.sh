#!/usr/bin/env bash
# The real imap_cli (imap-processing 1.0.40) under sdc with the `--pipeline imap` edges.
#  1. One SWAPI day, from the L0 upload to the last L2 product: the total time, and per step (L1 hk, L1 sci, L2) the
#     time in imap_cli and sdc's own overhead printed apart: scheduling (its input ingested -> imap_cli started:
#     trigger, settling delay, planning, claim, dependency file, fresh folder) and completion (imap_cli exited -> job
#     recorded succeeded). Target: under 1 s of overhead per step. imap_cli's own downloads and uploads go through
#     sdc's API while it runs, so they count in the imap_cli time (they are HTTP calls on localhost).
#  2. BENCH_DAYS (default 30) SWAPI days with two workers: jobs per minute, and CPU seconds in sdc (the server
#     process) against in imap_cli (the server's waited-for children).
# imap_cli runs from $SDC_IMAP_PROCESSING_VENV (scripts/lib/imap_processing.sh) through a wrapper that records its
# start, end and exit on one line per run; the pipeline folder is the built-in imap profile's edges with that command.
# Env: SDC_BIN (release build), SDC_SHARED, BENCH_DAYS, BENCH_SWEEPS (complete SWAPI sweeps per day, default 300).
set -euo pipefail
source scripts/lib/provision.sh
source scripts/lib/bench.sh
source scripts/lib/imap_processing.sh
ensure_imap_processing
days=${BENCH_DAYS:-30}
sweeps=${BENCH_SWEEPS:-300}
bench_scratch imap-pipeline

# The profile's SWAPI edges, every step running the timing wrapper around the venv's imap_cli.
mkdir -p "$work/pipeline"
profile=Sources/SDCPipeline/Resources/pipeline/imap
grep -E '^(swapi|leapseconds|spacecraft_clock|#|$)' "$profile/dependencies.csv" | grep -v ', mag\|, glows' > "$work/pipeline/dependencies.csv"
cat > "$work/timed_imap_cli.sh" <<EOF
#!/usr/bin/env bash
start=\$(date +%s.%N)
"$SDC_IMAP_PROCESSING_VENV/bin/imap_cli" "\$@"
status=\$?
echo "\$start \$(date +%s.%N) \$status \$*" >> "$work/imap_cli.times"
exit \$status
EOF
chmod +x "$work/timed_imap_cli.sh"
entry() {  # product level, descriptor, makes
  printf '  - product: {instrument: swapi, level: %s, descriptor: %s}\n    name: imap-processing\n    version: "1.0.40"\n' "$1" "$2"
  printf '    command: [%s]\n    makes: [%s]\n    timeout_seconds: 900\n' "$work/timed_imap_cli.sh" "$3"
}
{ echo "algorithms:"; entry l1 hk "l1a hk, l1b hk"; entry l1 sci "l1 sci"; entry l2 sci "l2 sci"; } > "$work/pipeline/algorithms.yaml"

start_bench_server "$work" --log-level warning --pipeline "$work/pipeline" --workers 2
pids+=("$server_pid")

.venv/bin/python - "$url" "$key" "$work" "$days" "$sweeps" "$server_pid" "$SDC_SHARED" "$SDC_IMAP_PROCESSING_VENV" <<'PY'
import datetime, glob, json, os, sys, time, urllib.error, urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

url, key, work, days, sweeps, pid, shared, venv = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), Path(sys.argv[7]), Path(sys.argv[8])
sys.path.insert(0, "Tests/interop")
import imap_l0

hz = os.sysconf("SC_CLK_TCK")


def call(method, path, data=None):
    request = urllib.request.Request(path if path.startswith("http") else url + path, data=data, method=method, headers={"x-api-key": key})
    with urllib.request.urlopen(request) as response:
        return response.read()


def upload(name, data):
    call("PUT", json.loads(call("GET", f"/api-key/upload/{name}")), data)


def query(**params):
    return json.loads(call("GET", "/api-key/query?" + "&".join(f"{k}={v}" for k, v in params.items())))


def jobs():
    return json.loads(call("GET", "/api-key/processing-jobs?limit=1000"))


def cpu():
    """(sdc's own CPU seconds, CPU seconds of its waited-for children: the imap_cli runs)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / hz, (int(fields[13]) + int(fields[14])) / hz


def runs():
    """Per imap_cli run: (start, end, exit status, level/descriptor, date)."""
    out = []
    path = work / "imap_cli.times"
    for line in (path.read_text().splitlines() if path.exists() else []):
        fields = line.split()
        arguments = dict(zip(fields[3::2], fields[4::2]))
        out.append((float(fields[0]), float(fields[1]), int(fields[2]), f"{arguments['--data-level']} {arguments['--descriptor']}",
                    arguments["--start-date"]))
    return out


def day_l0(date):
    met = int((datetime.datetime.strptime(date, "%Y%m%d") - datetime.datetime(2010, 1, 1)).total_seconds()) + 3600
    return imap_l0.swapi_l0(shared, work / f"gen-{date}", met, sweeps).read_bytes()


site = next(venv.glob("lib/python3*/site-packages/imap_processing"))
for kernel in ("naif0012.tls", "imap_sclk_0000.tsc"):
    upload(kernel, (site / "ultra" / "l1c" / "sim_spice_kernels" / kernel).read_bytes())
for name, write in (("imap_swapi_esa-unit-conversion_20240101_v001.csv", imap_l0.swapi_esa_unit_conversion),
                    ("imap_swapi_lut-notes_20240101_v001.csv", imap_l0.swapi_lut_notes)):
    upload(name, write(work / name).read_bytes())

# 1. One day: upload, then poll every 20 ms for each product and for the jobs' completion.
date = "20240924"
l0 = day_l0(date)
seen, finished = {}, {}
cpu_before = cpu()
start = time.time()
upload(f"imap_swapi_l0_raw_{date}_v001.pkts", l0)
ingested = time.time()
wanted = {"l1a hk": ("l1a", "hk"), "l1 sci": ("l1", "sci"), "l2 sci": ("l2", "sci")}
while len(seen) < 3 or len(finished) < 3:
    for label, (level, descriptor) in wanted.items():
        if label not in seen and query(instrument="swapi", data_level=level, descriptor=descriptor, start_date=date, end_date=date):
            seen[label] = time.time()
    for job in jobs():
        label = f"{job['data_level']} {job['descriptor']}"
        if job["status"] == "FAILED":
            sys.exit(f"job {job['id']} ({label}) failed: {job.get('error')}")
        if job["status"] == "SUCCEEDED" and label not in finished:
            finished[label] = time.time()
    if time.time() - start > 600:
        sys.exit(f"timed out: seen {sorted(seen)}, finished {sorted(finished)}")
    time.sleep(0.02)
total = seen["l2 sci"] - start
by_step = {r[3]: r for r in runs()}
# Each step's trigger: L1 hk the L0; L1 sci the L1A hk; L2 the L1 sci.
inputs = {"l1 hk": ingested, "l1 sci": seen["l1a hk"], "l2 sci": seen["l1 sci"]}
done = {"l1 hk": finished["l1 hk"], "l1 sci": finished["l1 sci"], "l2 sci": finished["l2 sci"]}
steps = []
for step in ("l1 hk", "l1 sci", "l2 sci"):
    run_start, run_end = by_step[step][0], by_step[step][1]
    scheduling, completion = run_start - inputs[step], done[step] - run_end
    steps.append({"step": step, "imap_cli_s": round(run_end - run_start, 3), "sdc_scheduling_s": round(scheduling, 3),
                  "sdc_completion_s": round(completion, 3), "sdc_overhead_s": round(scheduling + completion, 3)})
cpu_after = cpu()
print(json.dumps({"one_swapi_day": {"l0_bytes": len(l0), "upload_s": round(ingested - start, 3), "upload_to_last_l2_s": round(total, 3),
                                    "steps": steps, "sdc_cpu_s": round(cpu_after[0] - cpu_before[0], 2),
                                    "imap_cli_cpu_s": round(cpu_after[1] - cpu_before[1], 2), "target_overhead_per_step_s": 1}}))

# 2. Many days with two workers.
base = datetime.date(2024, 10, 1)
dates = [(base + datetime.timedelta(days=i)).strftime("%Y%m%d") for i in range(days)]
with ThreadPoolExecutor(4) as pool:
    files = dict(zip(dates, pool.map(day_l0, dates)))
before_jobs = len(jobs())
cpu_before = cpu()
start = time.time()
with ThreadPoolExecutor(4) as pool:
    list(pool.map(lambda d: upload(f"imap_swapi_l0_raw_{d}_v001.pkts", files[d]), dates))
while True:
    listed = jobs()
    failed = [j for j in listed if j["status"] == "FAILED"]
    if failed:
        sys.exit(f"{len(failed)} jobs failed, e.g. {failed[0].get('error')}")
    if len([j for j in listed if j["status"] == "SUCCEEDED"]) - before_jobs >= 3 * days:
        break
    if time.time() - start > 3600:
        sys.exit("timed out")
    time.sleep(0.5)
elapsed = time.time() - start
cpu_after = cpu()
print(json.dumps({"days": days, "workers": 2, "jobs": 3 * days, "elapsed_s": round(elapsed, 1), "jobs_per_minute": round(3 * days / elapsed * 60, 1),
                  "sdc_cpu_s": round(cpu_after[0] - cpu_before[0], 1), "imap_cli_cpu_s": round(cpu_after[1] - cpu_before[1], 1),
                  "sdc_cpu_share": round((cpu_after[0] - cpu_before[0]) / ((cpu_after[0] - cpu_before[0]) + (cpu_after[1] - cpu_before[1])), 4),
                  "cores": os.cpu_count()}))
PY
