#!/usr/bin/env bash
# Packet decoding benchmark: space_packet_parser 6.2.0 vs sdc on the same 100,000 SWAPI packets.
#
# Builds sdc-bench in release mode (unless SDC_BENCH_BIN points to a built one), generates the reference input
# with the shared generator (SWP_HK + SWP_SCI, 50,000 each, seed 0; MD5 5c71086962fb2846d3d707dd553fadc2),
# times both decoders in this run and prints packets/s, fields/s, peak memory and the speed ratio.
#
# Environment: SDC_SHARED (default: <repo>/../shared), SDC_PYTHON (default: <repo>/.venv/bin/python),
# SDC_BENCH_BIN (skip the build), PACKETS_BENCH_SPP_LIMIT (time spp on the first N packets only; default: all).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
shared="${SDC_SHARED:-$repo/../shared}"
python="${SDC_PYTHON:-$repo/.venv/bin/python}"
xtce="$shared/testdata/xtce/swapi_packet_definition.xml"
generator="$shared/testdata/tools/gen_packets.py"

for required in "$xtce" "$generator" "$python"; do
    [[ -e "$required" ]] || { echo "packets bench: missing $required" >&2; exit 1; }
done

if [[ -n "${SDC_BENCH_BIN:-}" ]]; then
    bench="$SDC_BENCH_BIN"
else
    (cd "$repo" && swift build -c release --product sdc-bench >&2)
    bench="$(cd "$repo" && swift build -c release --show-bin-path)/sdc-bench"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" "$generator" --xtce "$xtce" --container SWP_HK --container SWP_SCI -n 50000 --seed 0 \
    --out "$work/swapi_100k" >&2
input="$work/swapi_100k.pkts"
checksum="$(md5sum "$input" | cut -d' ' -f1)"
[[ "$checksum" == "5c71086962fb2846d3d707dd553fadc2" ]] \
    || echo "packets bench: warning: input MD5 $checksum differs from the reference file" >&2

echo "packets bench: timing sdc-bench ..." >&2
"$bench" packets "$input" --xtce "$xtce" --memory-only > "$work/sdc_memory.json"
"$bench" packets "$input" --xtce "$xtce" --iterations 5 > "$work/sdc.json"
echo "packets bench: timing space_packet_parser (about 20 s for all packets) ..." >&2
"$python" "$repo/Tests/interop/packets_bench_peer.py" "$input" "$xtce" \
    --limit "${PACKETS_BENCH_SPP_LIMIT:-0}" > "$work/spp.json"

"$python" - "$work/spp.json" "$work/sdc.json" "$work/sdc_memory.json" <<'EOF'
import json
import sys

spp, sdc, memory = (json.load(open(path)) for path in sys.argv[1:4])
mib = 1024 * 1024
print(f"input: {sdc['packets']} SWAPI packets, {sdc['bytes']} bytes, {sdc['fields']} field values")
print(f"{'decoder':<44}{'packets/s':>14}{'fields/s':>16}")
print(f"{spp['tool'] + ' parse_bytes (raw+derived)':<44}{spp['packets_per_s']:>14,.0f}{spp['fields_per_s']:>16,.0f}")
for key, label in [("single_thread", "raw"), ("single_thread_with_derived", "raw+derived"),
                   ("parallel", "raw"), ("parallel_with_derived", "raw+derived")]:
    run = sdc[key]
    name = f"sdc, {run['threads']} thread(s), {label}"
    print(f"{name:<44}{run['packets_per_s']:>14,.0f}{run['fields_per_s']:>16,.0f}")
single = sdc["single_thread_with_derived"]["packets_per_s"]
parallel = sdc["parallel_with_derived"]["packets_per_s"]
print(f"ratio sdc/spp, raw+derived: {single / spp['packets_per_s']:,.0f}x single-threaded, "
      f"{parallel / spp['packets_per_s']:,.0f}x parallel")
print(f"ratio sdc/spp, sdc raw only: {sdc['single_thread']['packets_per_s'] / spp['packets_per_s']:,.0f}x single-threaded")
print(f"parallel scaling ({sdc['parallel']['threads']} threads, raw): "
      f"{sdc['parallel']['packets_per_s'] / sdc['single_thread']['packets_per_s']:.2f}x")
decoded = memory["peak_rss_bytes"] - memory["baseline_rss_bytes"]
print(f"peak memory: spp {spp['peak_rss_bytes'] / mib:.1f} MiB; sdc {memory['peak_rss_bytes'] / mib:.1f} MiB "
      f"(runtime baseline {memory['baseline_rss_bytes'] / mib:.1f} MiB, decode {decoded / mib:.1f} MiB "
      f"= {decoded / memory['decoded_output_bytes']:.2f}x the {memory['decoded_output_bytes'] / mib:.1f} MiB of decoded columns)")
print(json.dumps({"benchmark": "packets", "spp": spp, "sdc": sdc, "sdc_memory": memory}))
EOF
