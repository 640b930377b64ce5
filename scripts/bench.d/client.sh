#!/usr/bin/env bash
# Client benchmark: the imap-data-access 1.3.0 CLI vs `sdc` (query/upload/download) against one live `sdc serve`.
#
#   upload:   one FILE_MIB MiB science file (each client uploads its own copy under another version)
#   download: that file into an empty data directory (streamed mode)
#   query:    table output of ROWS science rows (the catalog is filled with `sdc upload` first)
#
# Prints wall time (best of 3; the transfers once each) and peak RSS of each client, and the time ratio.
# Usage: scripts/bench.d/client.sh [FILE_MIB] [ROWS]
# Environment: SDC_BIN (skip the release build), SDC_PYTHON (default: <repo>/.venv/bin/python).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
file_mib="${1:-256}"
rows="${2:-300}"
python="${SDC_PYTHON:-$repo/.venv/bin/python}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if [[ -n "${SDC_BIN:-}" ]]; then
    sdc="$SDC_BIN"
else
    (cd "$repo" && swift build -c release --product sdc >&2)
    sdc="$(cd "$repo" && swift build -c release --show-bin-path)/sdc"
fi

mkdir -p "$work/root" "$work/outbox"
"$sdc" serve --root "$work/root" --host 127.0.0.1 --port 0 --download stream > "$work/server.out" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 1 600); do
    grep -q "^sdc listening on " "$work/server.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { echo "client bench: sdc serve exited: $(cat "$work/server.log")" >&2; exit 1; }
    sleep 0.1
done
url="$(sed -n 's/^sdc listening on //p' "$work/server.out" | head -n 1)"
[[ -n "$url" ]] || { echo "client bench: sdc serve did not report its address" >&2; exit 1; }
key="$("$sdc" keys create --root "$work/root" --scope write --name bench)"

"$python" - "$sdc" "$url" "$key" "$work" "$file_mib" "$rows" <<'PY'
import os, subprocess, sys, time

sdc, url, key, work, file_mib, rows = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
imap = [sys.executable, "-c", "from imap_data_access.cli import main; main()"]
env = {k: v for k, v in os.environ.items() if not k.startswith("IMAP_")}
env.update(IMAP_DATA_ACCESS_URL=url, IMAP_API_KEY=key)

def run(command, data_dir):
    """Wall time (s) and peak RSS (MiB) of one command, which must succeed."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env={**env, "IMAP_DATA_DIR": data_dir},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    error = process.stderr.read().decode()
    process.stderr.close()
    if status != 0:
        sys.exit(f"client bench: {' '.join(command)} failed: {error}")
    return elapsed, usage.ru_maxrss / 1024

def fresh_dir(name):
    path = os.path.join(work, name)
    os.makedirs(path, exist_ok=True)
    return path

# Catalog rows for the query benchmark.
small = os.path.join(work, "outbox", "small")
os.makedirs(small)
for index in range(rows):
    day = 1 + index % 28
    month = 1 + (index // 28) % 12
    year = 2024 + index // (28 * 12)
    name = f"imap_swe_l1a_sci_{year}{month:02}{day:02}_v001.{index % 10:04}.cdf"
    path = os.path.join(small, name)
    with open(path, "wb") as f:
        f.write(name.encode())
    run([sdc, "upload", path], fresh_dir("upload-small"))

# One large file per client.
chunk = os.urandom(1 << 20)
big = {}
for client, minor in (("python", 1), ("sdc", 2)):
    path = os.path.join(work, "outbox", f"imap_mag_l1a_norm-mago_20250101_v001.{minor:04}.cdf")
    with open(path, "wb") as f:
        for _ in range(file_mib):
            f.write(chunk)
    big[client] = path

results = []
def compare(label, python_command, sdc_command, data_dirs, repeats):
    timings = {}
    for client, command in (("python", python_command), ("sdc", sdc_command)):
        best = None
        for attempt in range(repeats):
            measured = run(command(attempt), data_dirs(client, attempt))
            best = measured if best is None or measured[0] < best[0] else best
        timings[client] = best
    (pt, pm), (st, sm) = timings["python"], timings["sdc"]
    results.append((label, pt, pm, st, sm))

compare(f"upload {file_mib} MiB",
        lambda _: [*imap, "upload", big["python"]], lambda _: [sdc, "upload", big["sdc"]],
        lambda client, _: fresh_dir(f"up-{client}"), 1)
compare(f"download {file_mib} MiB",
        lambda _: [*imap, "download", os.path.basename(big["python"])],
        lambda _: [sdc, "download", os.path.basename(big["python"])],
        lambda client, attempt: fresh_dir(f"down-{client}-{attempt}"), 1)
query = ["query", "--instrument", "swe", "--data-level", "l1a", "--descriptor", "sci"]
compare(f"query table ({rows} rows)",
        lambda _: [*imap, *query], lambda _: [sdc, *query],
        lambda client, _: fresh_dir(f"query-{client}"), 3)
compare(f"query json ({rows} rows)",
        lambda _: [*imap, *query, "--output-format", "json"], lambda _: [sdc, *query, "--output-format", "json"],
        lambda client, _: fresh_dir(f"query-{client}"), 3)

print(f"{'operation':<26} {'imap-data-access':>22} {'sdc':>22} {'speed-up':>9}")
for label, pt, pm, st, sm in results:
    print(f"{label:<26} {pt:9.3f} s {pm:7.1f} MiB {st:9.3f} s {sm:7.1f} MiB {pt / st:8.1f}x")
PY
