# The real IMAP processing code (PyPI `imap-processing`, entry point `imap_cli`) for the interoperability tests.
# Source it from the repository root (after provision.sh) and call ensure_imap_processing.
#
# ensure_imap_processing builds .venv-imap-processing with the pinned version (about 1 minute and 480 MB the first
# time), rebuilding only when the pin changes (a stamp holds the SHA-256 of the pin), and exports:
#   SDC_IMAP_PROCESSING_VENV       the venv folder; its bin/imap_cli is the command to configure
#   SDC_IMAP_PROCESSING_WHEELHOUSE wheels of the pin and all its dependencies (.cache/wheelhouse/imap-processing-<v>),
#                                  so that an environment can be built again offline:
#                                  pip install --no-index --find-links "$SDC_IMAP_PROCESSING_WHEELHOUSE" imap-processing==<v>

SDC_IMAP_PROCESSING_PIN=imap-processing==1.0.40

ensure_imap_processing() {
  local venv=$PWD/.venv-imap-processing wheelhouse=$PWD/.cache/wheelhouse/${SDC_IMAP_PROCESSING_PIN/==/-}
  local stamp=$venv/.pin.sha256 want
  want=$(printf '%s' "$SDC_IMAP_PROCESSING_PIN" | sha256sum | cut -d' ' -f1)
  if [ ! -x "$venv/bin/imap_cli" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== building $venv with $SDC_IMAP_PROCESSING_PIN"
    rm -rf "$venv"
    mkdir -p "$wheelhouse"
    python3 -m venv "$venv"
    # The wheelhouse first (sdists built into wheels, so that it installs without an index), then the venv from it.
    "$venv/bin/pip" wheel -q --disable-pip-version-check -w "$wheelhouse" "$SDC_IMAP_PROCESSING_PIN"
    "$venv/bin/pip" install -q --disable-pip-version-check --no-index --find-links "$wheelhouse" "$SDC_IMAP_PROCESSING_PIN"
    echo "$want" > "$stamp"
  fi
  export SDC_IMAP_PROCESSING_VENV=$venv SDC_IMAP_PROCESSING_WHEELHOUSE=$wheelhouse
}
