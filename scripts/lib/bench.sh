# Shared steps of the benchmark scripts. Source it from the repository root after provision.sh.

# Starts `sdc serve` on a free port over "$1/root" with the remaining arguments, waits until it listens, and sets
# server_pid, url and key (a write key). The caller's EXIT trap kills "$server_pid".
start_bench_server() {
  local work=$1
  shift
  "$SDC_BIN" serve --root "$work/root" --port 0 "$@" > "$work/server.out" 2> "$work/server.log" &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q "listening" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
  url=$(head -1 "$work/server.out" | sed 's/^sdc listening on //')
  key=$("$SDC_BIN" keys create --root "$work/root" --scope write --name bench)
}

# Makes "$work", a scratch folder named after $1, and an EXIT trap that stops every server whose pid the script adds
# to the pids array and removes the folder. Call it before start_postgres and start_moto (their traps run first).
bench_scratch() {
  work=$(mktemp -d "/tmp/sdc-bench-$1.XXXXXX")
  pids=()
  trap _bench_cleanup EXIT
}

_bench_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}

# Starts PostgreSQL and moto with a bucket $1, and exports SDC_DATABASE_URL, SDC_STORE_URL and the AWS credentials so
# that every sdc started afterwards is a replica of one scaled-out data center.
start_scaleout_backends() {
  start_postgres
  start_moto
  curl -sf -X PUT -o /dev/null "$SDC_TEST_S3_ENDPOINT/$1"
  export SDC_DATABASE_URL=$SDC_TEST_DATABASE_URL AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
  export SDC_STORE_URL="s3://$1/archive?endpoint=$SDC_TEST_S3_ENDPOINT&region=us-east-1"
}
