# swxsoc (PyPI), the SWxSOC library whose file-name rules HERMES and PADRE use, for the interoperability tests of
# sdc's mission grammars (Tests/interop/test_missions.py). It has its own venv because it pulls sunpy, astropy and
# their dependencies, which the main .venv does not need. Source it from the repository root (after provision.sh)
# and call ensure_swxsoc.
#
# ensure_swxsoc builds .venv-swxsoc with the pinned version (about a minute the first time), rebuilding only when
# the pin changes (a stamp holds the SHA-256 of the pin), and exports SDC_SWXSOC_VENV (the venv folder).

SDC_SWXSOC_PIN=swxsoc==0.2.3

ensure_swxsoc() {
  local venv=$PWD/.venv-swxsoc
  local stamp=$venv/.pin.sha256 want
  want=$(printf '%s' "$SDC_SWXSOC_PIN" | sha256sum | cut -d' ' -f1)
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== building $venv with $SDC_SWXSOC_PIN"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$SDC_SWXSOC_PIN"
    echo "$want" > "$stamp"
  fi
  export SDC_SWXSOC_VENV=$venv
}
