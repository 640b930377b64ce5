# The PostgreSQL server of the tests: a throwaway cluster of Debian's `postgresql`.
# Source it from the repository root (after provision.sh) and call start_postgres once; the server stops and its
# folder is removed when the sourcing shell exits.
#
# start_postgres installs `postgresql` when it is missing, creates a cluster with initdb (as the `postgres` user when
# run as root, since the server refuses to run as root) in a temporary folder, starts it with pg_ctl on a free
# loopback port with its socket in that folder, creates the database `sdc_test` and exports:
#   SDC_TEST_DATABASE_URL  postgres://USER@127.0.0.1:PORT/sdc_test (trust authentication, loopback only)

_postgres_folder=""
_postgres_bin=""
_postgres_as=()

# Stops the server start_postgres started and removes its folder.
stop_postgres() {
  if [ -n "$_postgres_folder" ] && [ -f "$_postgres_folder/data/postmaster.pid" ]; then
    "${_postgres_as[@]}" "$_postgres_bin/pg_ctl" -D "$_postgres_folder/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -z "$_postgres_folder" ] || rm -rf "$_postgres_folder"
  _postgres_folder=""
}

# A TCP port nobody listens on now (the kernel's choice for port 0).
_postgres_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_postgres() {
  ensure_debian_packages postgresql
  _postgres_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  local user
  if [ "$(id -u)" -eq 0 ]; then
    user=postgres
    _postgres_as=(runuser -u postgres --)
  else
    user=$(id -un)
    _postgres_as=()
  fi
  _postgres_folder=$(mktemp -d /tmp/sdc-postgres.XXXXXX)
  chown "$user" "$_postgres_folder"
  # Run stop_postgres on exit, before whatever the shell already had to do then.
  local previous
  previous=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
  trap "stop_postgres; ${previous}" EXIT

  "${_postgres_as[@]}" "$_postgres_bin/initdb" -D "$_postgres_folder/data" -U "$user" --auth=trust -E UTF8 --no-locale \
    >"$_postgres_folder/initdb.log" 2>&1 || { cat "$_postgres_folder/initdb.log" >&2; return 1; }
  # Another process may take the chosen port before the server binds it: try a few.
  local port attempt started=""
  for attempt in 1 2 3 4 5; do
    port=$(_postgres_free_port)
    if "${_postgres_as[@]}" "$_postgres_bin/pg_ctl" -D "$_postgres_folder/data" -l "$_postgres_folder/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $_postgres_folder -c fsync=off -c max_connections=200" start >/dev/null; then
      started=yes
      break
    fi
  done
  if [ -z "$started" ]; then
    echo "PostgreSQL did not start; its log ($_postgres_folder/server.log):" >&2
    cat "$_postgres_folder/server.log" >&2
    return 1
  fi
  "${_postgres_as[@]}" "$_postgres_bin/createdb" -h 127.0.0.1 -p "$port" -U "$user" sdc_test
  export SDC_TEST_DATABASE_URL="postgres://$user@127.0.0.1:$port/sdc_test"
  echo "== postgres: $SDC_TEST_DATABASE_URL"
}
