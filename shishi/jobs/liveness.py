"""Whether a job worker is alive, from a lock it holds for as long as it runs.

On PostgreSQL, a session advisory lock on a connection of the worker's own (Django's connection
is closed and reopened between jobs, which would let go of it); on SQLite, which is one machine,
an exclusive lock on a file under SHISHI_VAR_DIR. The database or the operating system lets go
of either when the process ends, however it ends (kill -9 included), so a lock that can be
taken belongs to a worker that is gone.
"""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path

from django.conf import settings
from django.db import connection

# The first key of every worker's advisory lock ("SH"); the second is hashtext(worker id).
NAMESPACE = 0x5348


class InUse(Exception):
    """Another live worker holds this worker id."""


def _lock_file(worker_id: str) -> Path:
    folder = Path(settings.VAR_DIR) / "workers"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{hashlib.sha256(worker_id.encode()).hexdigest()[:24]}.lock"


class Liveness:
    """The lock of the worker ``worker_id``, held from ``__enter__`` to ``__exit__``; and, on
    the same connection, the question whether another worker's lock is free (``alive``)."""

    def __init__(self, worker_id: str):
        self.worker_id = worker_id
        self._conn = None
        self._file = None

    def __enter__(self) -> Liveness:
        if connection.vendor == "postgresql":
            self._conn = connection.get_new_connection(connection.get_connection_params())
            self._conn.autocommit = True
            if not self._try(self.worker_id):
                self._conn.close()
                raise InUse(self.worker_id)
        else:
            self._file = open(_lock_file(self.worker_id), "a+")  # noqa: SIM115 - held until __exit__
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._file.close()
                raise InUse(self.worker_id) from None
        return self

    def __exit__(self, *exc) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._file is not None:
            _lock_file(self.worker_id).unlink(missing_ok=True)
            self._file.close()

    def _try(self, worker_id: str) -> bool:
        row = self._conn.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(%s))", [NAMESPACE, worker_id]
        ).fetchone()
        return bool(row[0])

    def alive(self, worker_id: str) -> bool:
        """Whether the worker ``worker_id`` still runs: its lock is held by someone."""
        if worker_id == self.worker_id:
            return True
        if self._conn is not None:
            if self._try(worker_id):
                self._conn.execute(
                    "SELECT pg_advisory_unlock(%s, hashtext(%s))", [NAMESPACE, worker_id]
                )
                return False
            return True
        path = _lock_file(worker_id)
        if not path.exists():
            return False
        with open(path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            path.unlink(missing_ok=True)
            return False
