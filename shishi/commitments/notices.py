"""The notifications of commitments: each a kind with its text, filled when the reader reads it
(``notifications.services``), so each reader sees it in their own language."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from shishi.notifications.services import Notice

from .models import Adjustment


def _adjustment(params: dict) -> dict:
    """The adjustment's kind and state by their codes, shown by their labels."""
    out = dict(params)
    if params.get("kind") in Adjustment.Kind.values:
        out["kind"] = Adjustment.Kind(params["kind"]).label
    if params.get("state") in Adjustment.State.values:
        out["state"] = Adjustment.State(params["state"]).label
    numbers = params.get("numbers") or []
    out["about"] = (
        " " + _("(No. %(numbers)s)") % {"numbers": ", ".join(str(n) for n in numbers)}
        if numbers
        else ""
    )
    return out


REPORT_SUBMITTED = "commitments.report_submitted"
REPORT_ACCEPTED = "commitments.report_accepted"
REPORT_RETURNED = "commitments.report_returned"
ADJUSTMENT_PROPOSED = "commitments.adjustment_proposed"
ADJUSTMENT_FIRST_APPROVED = "commitments.adjustment_first_approved"
ADJUSTMENT_DECIDED = "commitments.adjustment_decided"
DUE_SOON = "commitments.due_soon"
OVERDUE = "commitments.overdue"

# The kinds that may come in floods (a unit reporting on all its commitments at once, the daily
# reminders of a unit with many deadlines) gather into one digest per reader while it is unread
# (notifications.services.notify), linking to the page that lists them all.
NOTICES = {
    REPORT_SUBMITTED: Notice(
        _("Progress on commitment %(n)s to review: %(title)s"),
        many=ngettext_lazy(
            "%(count)d progress report to review; the latest on commitment %(n)s: %(title)s",
            "%(count)d progress reports to review; the latest on commitment %(n)s: %(title)s",
            "count",
        ),
        many_url="commitments:home",
    ),
    REPORT_ACCEPTED: Notice(
        _("Your progress report on commitment %(n)s was accepted."),
        many=ngettext_lazy(
            "%(count)d of your progress reports was accepted; the latest on commitment %(n)s.",
            "%(count)d of your progress reports were accepted; the latest on commitment %(n)s.",
            "count",
        ),
        many_url="commitments:home",
    ),
    REPORT_RETURNED: Notice(
        _("Your progress report on commitment %(n)s was returned: %(reason)s"),
        many=ngettext_lazy(
            "%(count)d of your progress reports was returned; the latest on commitment %(n)s: "
            "%(reason)s",
            "%(count)d of your progress reports were returned; the latest on commitment %(n)s: "
            "%(reason)s",
            "count",
        ),
        many_url="commitments:home",
    ),
    ADJUSTMENT_PROPOSED: Notice(
        _("An adjustment to approve: %(kind)s%(about)s"),
        _adjustment,
        many=ngettext_lazy(
            "%(count)d adjustment to approve; the latest: %(kind)s%(about)s",
            "%(count)d adjustments to approve; the latest: %(kind)s%(about)s",
            "count",
        ),
        many_url="commitments:adjustments",
    ),
    ADJUSTMENT_FIRST_APPROVED: Notice(
        _("An adjustment awaits your final approval: %(kind)s%(about)s"),
        _adjustment,
    ),
    ADJUSTMENT_DECIDED: Notice(
        _("Your adjustment (%(kind)s%(about)s) is now: %(state)s"), _adjustment
    ),
    DUE_SOON: Notice(
        _("Commitment %(n)s is due on %(d)s: %(title)s"),
        many=ngettext_lazy(
            "%(count)d commitment due soon; the latest: commitment %(n)s, due on %(d)s",
            "%(count)d commitments due soon; the latest: commitment %(n)s, due on %(d)s",
            "count",
        ),
        many_url="commitments:home",
    ),
    OVERDUE: Notice(
        _("Commitment %(n)s is overdue since %(d)s: %(title)s"),
        many=ngettext_lazy(
            "%(count)d commitment overdue; the latest: commitment %(n)s, due on %(d)s",
            "%(count)d commitments overdue; the latest: commitment %(n)s, due on %(d)s",
            "count",
        ),
        many_url="commitments:home",
    ),
}
