#!/usr/bin/env bash
# Scale-out: small uploads per second (4-64 KiB, the two-step GET /upload + PUT of imap-data-access) with one replica
# against two replicas behind a round-robin client, both on one PostgreSQL database and one moto bucket
# (--store s3://...), the same BENCH_CLIENTS (default 16) clients in all, BENCH_SECONDS (default 15) per run. The two
# set-ups alternate, twice each, so that a change in the machine's load hits both; prints each run, the means and
# two replicas over one.
# Env: SDC_BIN, SDC_BENCH_BIN (release builds).
set -euo pipefail
source scripts/lib/provision.sh
source scripts/lib/postgres.sh
source scripts/lib/moto.sh
source scripts/lib/bench.sh
clients=${BENCH_CLIENTS:-16}
seconds=${BENCH_SECONDS:-15}
bench_scratch scaleout-uploads
start_scaleout_backends sdc-bench-uploads

mkdir -p "$work/a" "$work/b"
start_bench_server "$work/a" --workers 0
pids+=("$server_pid") first=$url
start_bench_server "$work/b" --workers 0
pids+=("$server_pid") second=$url

echo "-- $clients clients, ${seconds} s per run: one replica, then two (round robin), twice"
results=()
for _ in 1 2; do
  for urls in "--url $first" "--url $first --url $second"; do
    # shellcheck disable=SC2086  # two words per URL
    result=$("$SDC_BENCH_BIN" scaleout uploads $urls --api-key "$key" --clients "$clients" --seconds "$seconds")
    echo "$result"
    results+=("$result")
  done
done
python3 - "${results[@]}" <<'PY'
import json, sys
runs = [json.loads(line) for line in sys.argv[1:]]
mean = lambda n: sum(r["files_per_s"] for r in runs if r["replicas"] == n) / sum(1 for r in runs if r["replicas"] == n)
one, two = mean(1), mean(2)
print(json.dumps({"one_replica_files_per_s": round(one, 1), "two_replicas_files_per_s": round(two, 1), "two_over_one": round(two / one, 2)}))
PY
