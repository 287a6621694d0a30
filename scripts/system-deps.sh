#!/usr/bin/env bash
# The system packages Shishi needs. On Debian/Ubuntu, installs what is missing (with sudo when not
# root); elsewhere, says exactly what is missing. "demo" needs fewer than "test".
set -euo pipefail
what="${1:-demo}"
pkgs=(gettext nodejs npm)
# A Python without venv/ensurepip (Debian's own python3) needs python3-venv.
python3 -c "import venv, ensurepip" 2>/dev/null || pkgs+=(python3-venv)
cmds=(msgfmt node npm)
if [ "$what" = test ]; then
  # Chromium for the browser tests; libatomic1 for Playwright's driver; a CJK font so that
  # screenshots show Chinese; PostgreSQL's client for pg_isready.
  pkgs+=(chromium libatomic1 fonts-noto-cjk postgresql-client)
  cmds+=(chromium pg_isready)
fi
missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node from elsewhere (nvm, nodesource) is fine: do not ask for Debian's.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
  fi
  missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing system packages: ${missing[*]}"
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  for c in "${cmds[@]}"; do
    command -v "$c" >/dev/null || missing+=("$c")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Shishi needs these commands, which this system lacks: ${missing[*]}" >&2
    echo "Install them with your package manager (gettext for msgfmt, Node.js with npm, Chromium at /usr/bin/chromium)." >&2
    exit 1
  fi
fi
