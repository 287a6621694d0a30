"""Every change to programmes, commitments, progress and adjustments goes through a function here.

Each function checks permission, validates, writes in one transaction, appends to the audit log
and notifies. ``actor=None`` is the system (demo, imports run by an operator).

The published list changes only by an approved adjustment (``decide_adjustment`` applies it) and
by accepted progress (``review_progress``); each such change writes a ``Snapshot`` of the
commitment's public fields, from which the list on any date and the diff between dates come.

The functions live in modules by subject and are all named here, so callers write
``services.submit_progress``:

* ``validation``: one validator for forms, imports, the API and adjustments;
* ``programmes``: programmes, the draft list, publishing, the public fields and snapshots;
* ``progress``: progress reports, their review and evidence, acceptance of delivery;
* ``adjustments``: proposing, deciding and withdrawing adjustments;
* ``history``: the list on a date and between dates;
* ``figures``: the headline figures and their formulas;
* ``reminders``: the daily reminders.
"""

from .adjustments import decide_adjustment, propose_adjustment, withdraw_adjustment
from .figures import FIGURES, FORMULAS, figures, summaries, summary
from .history import list_diff, list_on
from .programmes import (
    DEFAULT_CATEGORIES,
    WRITE_CHUNK,
    add_commitment,
    add_commitments,
    create_programme,
    ensure_categories,
    public_face,
    public_fields,
    publish_programme,
    snapshot_row,
    update_commitment,
    with_details,
)
from .progress import accept_delivery, review_progress, set_evidence_public, submit_progress
from .reminders import send_reminders
from .validation import FIELDS, REQUIRED, clean_commitment

__all__ = [
    "DEFAULT_CATEGORIES",
    "FIELDS",
    "FIGURES",
    "FORMULAS",
    "REQUIRED",
    "WRITE_CHUNK",
    "accept_delivery",
    "add_commitment",
    "add_commitments",
    "clean_commitment",
    "create_programme",
    "decide_adjustment",
    "ensure_categories",
    "figures",
    "list_diff",
    "list_on",
    "propose_adjustment",
    "public_face",
    "public_fields",
    "publish_programme",
    "review_progress",
    "send_reminders",
    "set_evidence_public",
    "snapshot_row",
    "submit_progress",
    "summaries",
    "summary",
    "update_commitment",
    "with_details",
    "withdraw_adjustment",
]
