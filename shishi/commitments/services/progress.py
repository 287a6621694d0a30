"""Progress reports: the unit reports, the county office reviews; only accepted progress reaches
the public page. And the county office's acceptance (验收) of a delivered commitment."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shishi.audit.services import diff, record
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

SIGNATURES = [
    (b"\xff\xd8\xff", Evidence.Kind.JPEG),
    (b"\x89PNG\r\n\x1a\n", Evidence.Kind.PNG),
    (b"%PDF-", Evidence.Kind.PDF),
]


def sniff(head: bytes) -> str | None:
    """The evidence type from a file's first bytes, or None when it is not an allowed type."""
    for magic, kind in SIGNATURES:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Evidence.Kind.WEBP
    return None


def clean_evidence(upload) -> tuple[str, bytes]:
    """(content type, bytes to store) for an upload, checked by content; photos are re-encoded
    without their metadata (location, camera) and at most 2,000 pixels on a side."""
    name = getattr(upload, "name", "") or ""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size == 0:
        raise ValidationError(_("%(name)s is empty.") % {"name": name})
    if upload.size > limit:
        raise ValidationError(
            _("%(name)s is larger than %(mb)s MB.") % {"name": name, "mb": limit // (1024 * 1024)}
        )
    data = upload.read()
    kind = sniff(data[:16])
    if kind is None:
        raise ValidationError(
            _("%(name)s is not a photo (JPEG, PNG, WebP) or a PDF.") % {"name": name}
        )
    if kind == Evidence.Kind.PDF:
        if b"%%EOF" not in data[-2048:]:
            raise ValidationError(_("%(name)s is not a complete PDF.") % {"name": name})
        return kind, data
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((2000, 2000))
            out = io.BytesIO()
            if kind == Evidence.Kind.PNG:
                image.save(out, "PNG", optimize=True)
            else:
                image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
                kind = Evidence.Kind.JPEG
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("%(name)s could not be read as a picture.") % {"name": name}
        ) from None
    return kind, out.getvalue()


@transaction.atomic
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
        target = targets.get(int(key)) if str(key).isdigit() else None
        if target is None:
            errors["target_values"] = _("Unknown target.")
            continue
        number = clean_decimal(value, f"target_{key}", errors)
        if number is not None:
            values[str(target.pk)] = str(number)
    cleaned_files = []
    for upload in files or []:
        try:
            cleaned_files.append((upload, *clean_evidence(upload)))
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
    for upload, kind, data in cleaned_files:
        digest = hashlib.sha256(data).hexdigest()
        evidence = Evidence(
            report=report,
            content_type=kind,
            size=len(data),
            sha256=digest,
            original_name=(getattr(upload, "name", "") or "")[:200],
            # PDFs may carry names and ID numbers: kept internal until a reviewer says otherwise.
            is_public=kind != Evidence.Kind.PDF,
        )
        evidence.file.save("evidence", ContentFile(data), save=False)
        evidence.save()
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
