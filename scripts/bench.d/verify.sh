#!/usr/bin/env bash
# Integrity benchmark: scrub throughput of `sdc verify` (the code the background scrub runs, without its rate limit)
# against `sha256sum` over the same stored objects, in one run.
#
#   COUNT objects of SIZE_MIB MiB of random bytes are uploaded into an embedded data center (`sdc serve`, `sdc upload`);
#   the server is stopped, the objects read once to warm the page cache, then (best of 3 each):
#     sha256sum:  `sha256sum` over the object files (one process, as the scrub hashes with one thread per core - 1);
#     sdc verify: `sdc verify --all --no-orphans` (reads every cataloged object, hashes it, compares with the catalog).
# Prints MB/s of each (1 MB = 10^6 bytes) and the ratio sdc / sha256sum (target: at least 0.9); for reference also
# `openssl dgst -sha256` (OpenSSL's SHA-NI/AVX2 code; coreutils' sha256sum uses its own portable C) when installed.
# Usage: scripts/bench.d/verify.sh [COUNT] [SIZE_MIB]
# Environment: SDC_BIN (skip the release build).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
count="${1:-16}"
size_mib="${2:-64}"
source scripts/lib/bench.sh
if [[ -z "${SDC_BIN:-}" ]]; then
    swift build -c release --product sdc >&2
    SDC_BIN="$(swift build -c release --show-bin-path)/sdc"
fi
bench_scratch verify
start_bench_server "$work"
pids+=("$server_pid")
mkdir -p "$work/outbox"
for i in $(seq 1 "$count"); do
    name=$(printf "imap_swapi_l1a_sci_202501%02d_v001.0001.cdf" "$i")
    head -c "$((size_mib << 20))" /dev/urandom > "$work/outbox/$name"
    IMAP_DATA_ACCESS_URL="$url" IMAP_API_KEY="$key" "$SDC_BIN" upload "$work/outbox/$name" > /dev/null
    rm "$work/outbox/$name"
done
kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
mapfile -t objects < <(find "$work/root/objects/imap" -type f | sort)
bytes=$(cat "${objects[@]}" | wc -c)
echo "objects: ${#objects[@]} of $size_mib MiB ($bytes bytes), page cache warm; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"

best() {  # best wall time in seconds of 3 runs of "$@" (output discarded)
    local best_time="" start end elapsed
    for _ in 1 2 3; do
        start=$(date +%s.%N)
        "$@" > /dev/null || [[ $? -eq 1 ]]
        end=$(date +%s.%N)
        elapsed=$(echo "$end - $start" | bc -l)
        if [[ -z "$best_time" ]] || (( $(echo "$elapsed < $best_time" | bc -l) )); then best_time=$elapsed; fi
    done
    echo "$best_time"
}
sdc_verify() {
    "$SDC_BIN" verify --root "$work/root" --all --no-orphans --json > "$work/report.json"
}
sha256sum "${objects[@]}" > /dev/null
peer=$(best sha256sum "${objects[@]}")
ours=$(best sdc_verify)
grep -q '"findings": \[\]\|"findings":\[\]' "$work/report.json" || { echo "verify found problems: $(cat "$work/report.json")" >&2; exit 1; }
printf "sha256sum:  %8.1f MB/s  (%.3f s)\n" "$(echo "$bytes / $peer / 1000000" | bc -l)" "$peer"
printf "sdc verify: %8.1f MB/s  (%.3f s)\n" "$(echo "$bytes / $ours / 1000000" | bc -l)" "$ours"
printf "ratio sdc/sha256sum: %.2f (target >= 0.90)\n" "$(echo "$peer / $ours" | bc -l)"
if command -v openssl > /dev/null; then
    ossl=$(best openssl dgst -sha256 "${objects[@]}")
    printf "openssl dgst -sha256: %8.1f MB/s  (%.3f s); ratio sdc/openssl: %.2f\n" "$(echo "$bytes / $ossl / 1000000" | bc -l)" "$ossl" \
        "$(echo "$ossl / $ours" | bc -l)"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
