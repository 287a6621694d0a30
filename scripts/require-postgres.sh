#!/usr/bin/env bash
# Is the PostgreSQL in $1 (a postgres:// URL) answering? Starts the machine's cluster if it can.
# Exit 0: ready. Exit 3: not there, and SHISHI_STRICT is not 1, so the caller skips it.
# Exit 1: not there and SHISHI_STRICT=1 (CI), so the caller fails.
url="${1:-postgres://postgres@127.0.0.1:5432/shishi}"
hostport="${url#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=5432
ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }
if ! ready && command -v pg_ctlcluster >/dev/null && [ "$(id -u)" = 0 ]; then
  for v in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null 2>&1 || true
  done
  for _ in 1 2 3 4 5 6 7 8 9 10; do ready && break; sleep 1; done
fi
if ready; then exit 0; fi
if [ "${SHISHI_STRICT:-0}" = 1 ]; then
  echo "FAIL: PostgreSQL is not answering at $host:$port, and SHISHI_STRICT=1 requires it." >&2
  exit 1
fi
echo "SKIPPED: PostgreSQL is not answering at $host:$port; its suite did not run (SHISHI_STRICT=1 makes this a failure)." >&2
exit 3
