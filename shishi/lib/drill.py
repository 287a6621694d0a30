"""Fault drills: named points where a drill stops a process, so that a test can kill it, or cut
its database connection, at a known moment rather than after a guessed delay (docs/security.md,
"Backups and fault drills").

Inert unless the environment says ``SHISHI_DRILL=<point>:<directory>``. Then the first time the
process reaches ``pause(<point>)`` it writes its process id to the FIFO ``<directory>/reached``
(opening it waits for the drill to listen) and waits for a line from the FIFO ``<directory>/go``.
The drill does what it means to do to the process in between. Each point pauses once per process.
"""

from __future__ import annotations

import os
from pathlib import Path

_paused: set[str] = set()


def pause(point: str) -> None:
    spec = os.environ.get("SHISHI_DRILL")
    if not spec:
        return
    name, _sep, where = spec.partition(":")
    if name != point or point in _paused:
        return
    _paused.add(point)
    directory = Path(where)
    with open(directory / "reached", "w") as reached:
        reached.write(f"{os.getpid()}\n")
    with open(directory / "go") as go:
        go.readline()
