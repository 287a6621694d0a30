"""Progress reports: the unit reports, the county office reviews; only accepted progress reaches
the public page. The reviewer publishes or withdraws each evidence file. And the county office's
acceptance (验收) of a delivered commitment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shishi.audit.services import diff, record
from shishi.evidence import services as evidence_files
from shishi.lib.parse import whole_number
from shishi.notifications.services import handled
from shishi.orgs.access import holders

from .. import access as caccess
from .. import notices
from ..models import (
    DONE,
    REMOVED,
    Commitment,
    Evidence,
    Programme,
    ProgressReport,
    Snapshot,
    Status,
)
from .common import deny, now_or, require, require_county, tell
from .programmes import public_fields, snapshot
from .validation import clean_decimal


@transaction.atomic
@evidence_files.removed_on_error()
def submit_progress(
    actor,
    commitment: Commitment,
    *,
    text: str,
    percent_complete: int,
    target_values: dict | None = None,
    delivered: bool = False,
    files: list | None = None,
    at: dt.datetime | None = None,
) -> ProgressReport:
    commitment = Commitment.objects.select_related("county", "responsible_unit", "programme").get(
        pk=commitment.pk
    )
    require(actor, caccess.REPORT_PROGRESS, commitment)
    if commitment.programme.status != Programme.Status.PUBLISHED:
        raise ValidationError(_("Progress is reported on a published list."))
    if commitment.status in REMOVED:
        raise ValidationError(
            _("Commitment %(n)s is no longer on the list.") % {"n": commitment.number}
        )
    errors: dict = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = _("Say what has been done.")
    try:
        percent = int(percent_complete)
        if not 0 <= percent <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["percent_complete"] = _("The percentage is a whole number from 0 to 100.")
        percent = 0
    targets = {t.pk: t for t in commitment.targets.all()}
    values = {}
    for key, value in (target_values or {}).items():
        if value in (None, ""):
            continue
        pk = whole_number(key)
        target = targets.get(pk) if pk is not None else None
        if target is None:
            errors["target_values"] = _("Unknown target.")
            continue
        number = clean_decimal(value, f"target_{key}", errors)
        if number is not None:
            values[str(target.pk)] = str(number)
    # Every file is checked before anything is written: one refused file stores none.
    cleaned_files = []
    for upload in files or []:
        try:
            cleaned_files.append(evidence_files.clean(upload))
        except ValidationError as exc:
            errors.setdefault("files", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    report = ProgressReport.objects.create(
        commitment=commitment,
        county=commitment.county,
        text=text,
        percent_complete=percent,
        target_values=values,
        mark_delivered=bool(delivered),
        submitted_by=actor,
        submitted_at=now_or(actor, at),
    )
    for cleaned in cleaned_files:
        # Photos public (once the report is accepted), PDFs internal until a reviewer publishes
        # them (set_evidence_public): the shared rule of shishi.evidence.
        evidence_files.store(Evidence(report=report), cleaned)
    record(
        actor,
        "commitments.report.submitted",
        report,
        changes={
            "percent_complete": [None, percent],
            "targets": [None, values],
            "delivered": [None, bool(delivered)],
        },
        data={"commitment": commitment.pk, "files": len(cleaned_files)},
        # Public only once accepted.
        public=False,
    )
    tell(
        at,
        holders(caccess.REVIEW_PROGRESS, commitment.county),
        notices.REPORT_SUBMITTED,
        {"n": commitment.number, "title": commitment.title},
        about=report,
        url=reverse("commitments:review", args=[report.pk]),
        actor=actor,
    )
    return report


@transaction.atomic
def review_progress(
    actor,
    report: ProgressReport,
    *,
    accept: bool,
    reason: str = "",
    at: dt.datetime | None = None,
) -> ProgressReport:
    """Accept a report (its figures become public at once) or return it with a reason."""
    report = (
        ProgressReport.objects.select_for_update()
        .select_related("commitment__county", "commitment__responsible_unit")
        .get(pk=report.pk)
    )
    commitment = Commitment.objects.select_for_update().get(pk=report.commitment_id)
    require_county(actor, caccess.REVIEW_PROGRESS, report.commitment.county)
    if report.state != ProgressReport.State.SUBMITTED:
        raise ValidationError(_("This report has already been reviewed."), code="conflict")
    if accept and commitment.status in REMOVED:
        raise ValidationError(
            _("Commitment %(n)s is no longer on the list.") % {"n": commitment.number}
        )
    if actor is not None and actor.pk == report.submitted_by_id:
        raise deny(_("A report is reviewed by someone other than its author."))
    now = now_or(actor, at)
    report.reviewed_by = actor if getattr(actor, "is_authenticated", False) else None
    report.reviewed_at = now
    url = reverse("commitments:commitment", args=[commitment.pk])
    if not accept:
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": _("Say why the report is returned.")})
        report.state = ProgressReport.State.RETURNED
        report.return_reason = reason
        report.save()
        record(
            actor,
            "commitments.report.returned",
            report,
            changes={"state": ["submitted", "returned"]},
            data={"reason": reason},
            public=False,
        )
        handled(report, [notices.REPORT_SUBMITTED])
        tell(
            at,
            [report.submitted_by],
            notices.REPORT_RETURNED,
            {"n": commitment.number, "reason": reason},
            about=report,
            url=url,
        )
        return report
    before = public_fields(commitment)
    for target in commitment.targets.all():
        if str(target.pk) in report.target_values:
            target.actual_value = Decimal(report.target_values[str(target.pk)])
            target.save(update_fields=["actual_value"])
    commitment.percent_complete = max(commitment.percent_complete, report.percent_complete)
    if report.mark_delivered and commitment.status not in DONE:
        commitment.status = Status.DELIVERED
        commitment.percent_complete = 100
        commitment.delivered_on = timezone.localdate(report.submitted_at)
        # Delivering the commitment completes the milestones still open.
        commitment.milestones.filter(done_date__isnull=True).update(
            done_date=commitment.delivered_on
        )
    elif commitment.status == Status.PLANNED:
        commitment.status = Status.IN_PROGRESS
    commitment.version += 1
    commitment.save()
    report.state = ProgressReport.State.ACCEPTED
    report.save()
    snapshot(commitment, Snapshot.Cause.PROGRESS, now)
    record(
        actor, "commitments.report.accepted", report, changes={"state": ["submitted", "accepted"]}
    )
    record(
        actor,
        "commitments.commitment.progressed",
        commitment,
        changes=diff(before, public_fields(commitment)),
        data={"report": report.pk},
    )
    handled(report, [notices.REPORT_SUBMITTED])
    tell(
        at,
        [report.submitted_by],
        notices.REPORT_ACCEPTED,
        {"n": commitment.number},
        about=report,
        url=url,
    )
    return report


@transaction.atomic
def accept_delivery(
    actor, commitment: Commitment, *, note: str = "", at: dt.datetime | None = None
) -> Commitment:
    """The county office's acceptance (验收) of a delivered commitment."""
    commitment = (
        Commitment.objects.select_for_update().select_related("county").get(pk=commitment.pk)
    )
    require_county(actor, caccess.REVIEW_PROGRESS, commitment.county)
    if commitment.status != Status.DELIVERED:
        raise ValidationError(_("Only a delivered commitment can be accepted."))
    before = public_fields(commitment)
    commitment.status = Status.ACCEPTED
    commitment.version += 1
    commitment.save()
    snapshot(commitment, Snapshot.Cause.PROGRESS, now_or(actor, at))
    record(
        actor,
        "commitments.commitment.accepted",
        commitment,
        changes=diff(before, public_fields(commitment)),
        data={"note": (note or "").strip()},
    )
    return commitment


@transaction.atomic
def set_evidence_public(actor, evidence: Evidence, public: bool) -> Evidence:
    """Publish an evidence file of a report (the public page shows it once the report is
    accepted) or withdraw it. A PDF starts internal because it may carry names, ID numbers or
    phone numbers: a reviewer of the county reads it and publishes it, and never the report's
    own author (a second pair of eyes); any reviewer may withdraw. Publishing what is already
    public (or withdrawing what is not) changes nothing and records nothing."""
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
    report = ProgressReport.objects.select_related("county").get(pk=evidence.report_id)
    require_county(actor, caccess.REVIEW_PROGRESS, report.county)
    if public and actor is not None and actor.pk == report.submitted_by_id:
        raise deny(_("A document is published by someone other than the report's author."))
    public = bool(public)
    if evidence.is_public == public:
        return evidence
    evidence.is_public = public
    evidence.save(update_fields=["is_public"])
    record(
        actor,
        "commitments.evidence.published" if public else "commitments.evidence.withdrawn",
        evidence,
        changes={"is_public": [not public, public]},
        data={"report": report.pk, "commitment": report.commitment_id},
        county_id=report.county_id,
        # The public page shows the evidence of accepted reports only: before acceptance the
        # change shows nowhere yet, and the county's cached pages stay.
        public=report.state == ProgressReport.State.ACCEPTED,
    )
    return evidence
