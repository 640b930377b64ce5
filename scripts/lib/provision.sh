# Shared provisioning for scripts/test and scripts/bench: Debian packages and the pinned Python venv.
# Source it from the repository root.

# Installs the Debian packages given (only those missing).
ensure_debian_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Creates .venv with Tests/interop/requirements.txt, again whenever the pins change.
ensure_venv() {
  local requirements=Tests/interop/requirements.txt stamp=.venv/.requirements.sha256 want
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || ensure_debian_packages python3-venv
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== creating .venv from $requirements"
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r "$requirements"
    echo "$want" > "$stamp"
  fi
}

# The shared reference folder, absolute: $SDC_SHARED or ../shared.
shared_folder() {
  local shared=${SDC_SHARED:-$PWD/../shared}
  [ -d "$shared/testdata" ] || { echo "shared test data not found at $shared (set SDC_SHARED)" >&2; return 2; }
  (cd "$shared" && pwd)
}
