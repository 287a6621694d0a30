"""The notifications of commitments: each a kind with its text, filled when the reader reads it
(``notifications.services``), so each reader sees it in their own language."""

from django.utils.translation import gettext_lazy as _

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

NOTICES = {
    REPORT_SUBMITTED: Notice(_("Progress on commitment %(n)s to review: %(title)s")),
    REPORT_ACCEPTED: Notice(_("Your progress report on commitment %(n)s was accepted.")),
    REPORT_RETURNED: Notice(_("Your progress report on commitment %(n)s was returned: %(reason)s")),
    ADJUSTMENT_PROPOSED: Notice(_("An adjustment to approve: %(kind)s%(about)s"), _adjustment),
    ADJUSTMENT_FIRST_APPROVED: Notice(
        _("An adjustment awaits your final approval: %(kind)s%(about)s"),
        _adjustment,
    ),
    ADJUSTMENT_DECIDED: Notice(
        _("Your adjustment (%(kind)s%(about)s) is now: %(state)s"), _adjustment
    ),
    DUE_SOON: Notice(_("Commitment %(n)s is due on %(d)s: %(title)s")),
    OVERDUE: Notice(_("Commitment %(n)s is overdue since %(d)s: %(title)s")),
}
