"""The daily reminders of commitments due soon or overdue."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from shishi.lib import drill
from shishi.lib.workdays import Light
from shishi.notifications.services import notify
from shishi.orgs.access import holders

from .. import access as caccess
from .. import notices
from ..lights import light_of, light_q
from ..models import OPEN, Commitment, Programme


def send_reminders(today: dt.date | None = None) -> int:
    """Notify those who hear of a unit's deadlines (``REMINDED`` on the unit: its officers) of
    commitments due soon or overdue, once per commitment, light and deadline (idempotent: safe
    to run every day, or twice). The database picks the commitments by their light."""
    today = today or timezone.localdate()
    sent = 0
    qs = (
        Commitment.objects.filter(status__in=OPEN, programme__status=Programme.Status.PUBLISHED)
        .filter(light_q(Light.DUE_SOON, today) | light_q(Light.OVERDUE, today))
        .select_related("responsible_unit")
        .order_by("pk")
    )
    for commitment in qs.iterator(chunk_size=500):
        state = light_of(commitment, today)
        if state not in (Light.DUE_SOON, Light.OVERDUE):
            continue
        kind = notices.DUE_SOON if state == Light.DUE_SOON else notices.OVERDUE
        for user in holders(caccess.REMINDED, commitment.responsible_unit):
            note = notify(
                user,
                kind,
                {
                    "n": commitment.number,
                    "d": commitment.deadline.isoformat(),
                    "title": commitment.title,
                },
                about=commitment,
                url=reverse("commitments:commitment", args=[commitment.pk]),
                key=f"c{commitment.pk}:{state}:{commitment.deadline}",
            )
            sent += note is not None
        # Fault drills stop here, some reminders sent (each commits on its own) and some not.
        drill.pause("reminders.sending")
    return sent
