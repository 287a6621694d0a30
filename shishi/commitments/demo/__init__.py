"""The demo programme of the demo county, and generated programmes at scale.

``build_programme`` (``story``) tells the interview's story through the services: a list published
early in the year, progress reported with photos and reviewed, adjustments proposed with reasons
and approved, ending at "132 on the list, 71 delivered". The past is recorded as system actions
(``actor=None`` with ``at=``), because only the system may date a change in the past; what is
still open today (reports awaiting review, a proposal awaiting approval, a returned report) comes
from the demo logins, so the workspace has something to show.

``generate_programme`` (``generator``) writes a programme of the same shape with bulk inserts, for
benchmarks at province scale: it simulates the same kinds of events in memory and writes the end
state and the history (snapshots, decisions) in a few queries per table.

Both are deterministic from the seed (``plan``: the specs and the timeline, from ``data``),
relative to today (so that lights mean something on the day the demo is built) and do nothing
when the county already has a programme for this year.
"""

from .generator import generate_programme
from .story import build_programme

__all__ = ["build_programme", "generate_programme"]
