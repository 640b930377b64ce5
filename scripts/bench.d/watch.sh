#!/usr/bin/env bash
# Watcher benchmark: `sdc watch` against a plain loop of `imap-data-access upload`, both into one live `sdc serve`.
#
#   sdc watch:  FILES small files (1 KiB, L1A CDF names, as imap-data-access refuses vXXX science names) land in the
#               watched folder at once (written to hidden names, renamed in); timed from the first landing to the
#               moment all of them are queryable (GET /query counts them).
#   imap loop:  `imap-data-access upload FILE` once per file, sequentially, over SAMPLE files of the same kind
#               (it starts a Python interpreter per file, so a sample gives its per-file rate).
#
# Prints files/s of each and the ratio. Usage: scripts/bench.d/watch.sh [FILES] [SAMPLE] [CONCURRENCY]
# Environment: SDC_BIN (skip the release build), SDC_PYTHON (default: <repo>/.venv/bin/python).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
source scripts/lib/bench.sh
files="${1:-10000}"
sample="${2:-300}"
concurrency="${3:-8}"
python="${SDC_PYTHON:-$repo/.venv/bin/python}"
if [[ -z "${SDC_BIN:-}" ]]; then
    swift build -c release --product sdc >&2
    SDC_BIN="$(swift build -c release --show-bin-path)/sdc"
fi
export SDC_BIN

bench_scratch watch
start_bench_server "$work" --host 127.0.0.1
pids+=("$server_pid")
mkdir -p "$work/incoming" "$work/imap"

"$SDC_BIN" watch "$work/incoming" --url "$url" --api-key "$key" --concurrency "$concurrency" --settle 0.2 \
    --progress-interval 5 --log-level notice 2> "$work/watch.log" &
watch_pid=$!
pids+=("$watch_pid")
for _ in $(seq 1 100); do grep -q "watching" "$work/watch.log" 2>/dev/null && break; sleep 0.1; done

"$python" - "$url" "$key" "$work" "$files" "$sample" "$concurrency" <<'PY'
import os, subprocess, sys, time, urllib.request, json

url, key, work, files, sample, concurrency = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]

def name(kind, number):
    return f"imap_codice_l1a_{kind}{number:06d}_20250101_v001.0000.cdf"

def queryable(kind):
    request = urllib.request.Request(f"{url}/api-key/query?table=science&instrument=codice&data_level=l1a&start_date=20250101&end_date=20250101",
                                     headers={"x-api-key": key})
    with urllib.request.urlopen(request, timeout=60) as response:
        return sum(1 for row in json.load(response) if f"_{kind}" in row["file_path"])

payload = os.urandom(1024)
incoming = os.path.join(work, "incoming")
start = time.perf_counter()
for number in range(files):
    hidden = os.path.join(incoming, f".{number}.tmp")
    with open(hidden, "wb") as handle:
        handle.write(payload + number.to_bytes(4, "big"))
    os.rename(hidden, os.path.join(incoming, name("w", number)))
landed = time.perf_counter() - start
while queryable("w") < files:
    time.sleep(0.2)
watch_seconds = time.perf_counter() - start
watch_rate = files / watch_seconds

outbox = os.path.join(work, "outbox")
os.makedirs(outbox)
paths = []
for number in range(sample):
    path = os.path.join(outbox, name("i", number))
    with open(path, "wb") as handle:
        handle.write(payload + number.to_bytes(4, "big"))
    paths.append(path)
env = {k: v for k, v in os.environ.items() if not k.startswith("IMAP_")}
env.update(IMAP_DATA_ACCESS_URL=url, IMAP_API_KEY=key, IMAP_DATA_DIR=os.path.join(work, "imap"))
imap = [sys.executable, "-c", "from imap_data_access.cli import main; main()"]
start = time.perf_counter()
for path in paths:
    subprocess.run(imap + ["upload", path], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
loop_seconds = time.perf_counter() - start
assert queryable("i") == sample
loop_rate = sample / loop_seconds

print(f"sdc watch (concurrency {concurrency}): {files} files of 1 KiB landed in {landed:.1f} s, all queryable after {watch_seconds:.1f} s: {watch_rate:.0f} files/s")
print(f"imap-data-access upload loop: {sample} files in {loop_seconds:.1f} s: {loop_rate:.1f} files/s ({1000 * loop_seconds / sample:.0f} ms per file)")
print(f"ratio: sdc watch is {watch_rate / loop_rate:.1f}x the upload loop")
PY
grep -E "progress|stopped" "$work/watch.log" | tail -1
