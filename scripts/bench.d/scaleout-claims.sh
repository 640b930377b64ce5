#!/usr/bin/env bash
# Scale-out: job claims per second with BENCH_WORKERS (default 8) concurrent claimers in one process on PostgreSQL,
# then on SQLite: BENCH_JOBS (default 4000) queued jobs seeded through JobStore.submit, each claimer claims and
# completes jobs until none is left; counts double claims (must be 0) and checks every job succeeded on its first
# attempt. `sdc-bench scaleout claims` exits non-zero otherwise. Prints claims/s of each and PostgreSQL over SQLite.
# Env: SDC_BENCH_BIN (release build).
set -euo pipefail
source scripts/lib/provision.sh
source scripts/lib/postgres.sh
jobs=${BENCH_JOBS:-4000}
workers=${BENCH_WORKERS:-8}
work=$(mktemp -d /tmp/sdc-bench-scaleout-claims.XXXXXX)
trap 'rm -rf "$work"' EXIT
start_postgres

echo "-- $jobs jobs, $workers concurrent claimers, claim + complete"
postgres=$("$SDC_BENCH_BIN" scaleout claims --database "$SDC_TEST_DATABASE_URL" --jobs "$jobs" --workers "$workers")
echo "$postgres"
sqlite=$("$SDC_BENCH_BIN" scaleout claims --root "$work/sqlite" --jobs "$jobs" --workers "$workers")
echo "$sqlite"
python3 - "$postgres" "$sqlite" <<'PY'
import json, sys
postgres, sqlite = (json.loads(line) for line in sys.argv[1:])
print(json.dumps({"postgres_claims_per_s": float(postgres["claims_per_s"]), "sqlite_claims_per_s": float(sqlite["claims_per_s"]),
                  "postgres_over_sqlite": round(float(postgres["claims_per_s"]) / float(sqlite["claims_per_s"]), 2),
                  "double_claims": postgres["double_claims"] + sqlite["double_claims"]}))
PY
