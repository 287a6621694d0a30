"""The list's history: the list as it stood at any moment, and what changed between two, from the
snapshots the services write at each public change."""

from __future__ import annotations

from shishi.audit.services import diff

from ..models import Programme, Snapshot


def list_on(programme: Programme, when) -> dict[int, dict]:
    """The public list as it stood at ``when``: {commitment id: public fields}. One query."""
    rows = (
        Snapshot.objects.filter(programme=programme, valid_from__lte=when)
        .order_by("commitment_id", "-valid_from", "-id")
        .values_list("commitment_id", "data")
    )
    out: dict[int, dict] = {}
    for commitment_id, data in rows:
        out.setdefault(commitment_id, data)
    return out


def list_diff(programme: Programme, start, end) -> list[dict]:
    """What changed in the list between two moments: per commitment, the fields and both values."""
    before, after = list_on(programme, start), list_on(programme, end)
    changes = []
    for cid in sorted(
        set(before) | set(after), key=lambda c: (after.get(c) or before.get(c))["number"]
    ):
        a, b = before.get(cid), after.get(cid)
        if a == b:
            continue
        fields = diff(a or {}, b or {})
        changes.append(
            {
                "id": cid,
                "number": (b or a)["number"],
                "title": (b or a)["title"],
                "added": a is None,
                "fields": fields,
            }
        )
    return changes
