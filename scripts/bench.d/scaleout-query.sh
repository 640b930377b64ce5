#!/usr/bin/env bash
# Scale-out: /query latency on a 1,000,000-file catalog, PostgreSQL against SQLite, over HTTP to two release
# `sdc serve` processes (one with --database), the same seeded queries sent to both in turn: instrument + level +
# 30-day range, instrument + descriptor + range, instrument + level + descriptor + range with version=latest, and one
# file_path. Both catalogs hold the records an upload makes (ScienceFileName -> IMAPFileName.parse -> CatalogRecord),
# from `sdc-bench scaleout fill`: SQLite's through FileCatalog.insert, PostgreSQL's as COPY of the columns and values
# of the catalog's own INSERT (CatalogSchema.insertion), into tables made by sdc's migrations; PostgreSQL is then
# ANALYZEd, as its autovacuum would after a bulk load. Prints p50/p99 per kind and PostgreSQL's p99 over SQLite's. Target: p99 < 10 ms.
# Env: SDC_BIN, SDC_BENCH_BIN (release builds), BENCH_FILES (default 1000000), BENCH_QUERIES (per kind, default 500).
set -euo pipefail
source scripts/lib/provision.sh
source scripts/lib/postgres.sh
source scripts/lib/bench.sh
files=${BENCH_FILES:-1000000}
queries=${BENCH_QUERIES:-500}
bench_scratch scaleout-query
start_postgres

echo "-- fill: $files science files in each catalog (FileCatalog.insert)"
"$SDC_BENCH_BIN" scaleout fill --root "$work/sqlite/root" --files "$files"
"$SDC_BENCH_BIN" scaleout fill --database "$SDC_TEST_DATABASE_URL" --files 0  # sdc's migrations
start=$SECONDS
"$SDC_BENCH_BIN" scaleout fill --copy --files "$files" | psql -q -v ON_ERROR_STOP=1 "$SDC_TEST_DATABASE_URL"
psql -q "$SDC_TEST_DATABASE_URL" -c "ANALYZE"
echo "{\"backend\": \"postgres\", \"files\": $(psql -tA "$SDC_TEST_DATABASE_URL" -c "SELECT COUNT(*) FROM science_files"), \"copy_and_analyze_s\": $((SECONDS - start))}"
mkdir -p "$work/postgres"

start_bench_server "$work/sqlite" --workers 0
pids+=("$server_pid") sqlite="sqlite=$url=$key"
SDC_DATABASE_URL=$SDC_TEST_DATABASE_URL start_bench_server "$work/postgres" --workers 0
pids+=("$server_pid") postgres="postgres=$url=$key"

echo "-- HTTP /query: $queries timed queries of each kind on each server, alternating (after 50 untimed)"
"$SDC_BENCH_BIN" scaleout queries --target "$sqlite" --target "$postgres" --files "$files" --queries "$queries"
