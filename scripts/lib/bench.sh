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
