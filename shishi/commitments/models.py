"""The public list of livelihood commitments (民生实事清单), its adjustments and its progress."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shishi.evidence.models import EvidenceFile
from shishi.orgs.models import Org


class Category(models.Model):
    """A configurable category; the defaults come from the interview."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=80)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["order", "code"]

    def __str__(self):
        return self.name

    def label(self, language: str) -> str:
        return self.name_en if language == "en" else self.name


class Programme(models.Model):
    """One county's list for one year (实事项目年度计划)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        CLOSED = "closed", _("closed")

    county = models.ForeignKey(
        Org, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    # One level: the county office approves adjustments. Two: a county leader approves after it.
    approval_levels = models.PositiveSmallIntegerField(
        _("approval levels"), default=1, choices=[(1, "1"), (2, "2")]
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["-year", "county_id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "year"], name="programme_one_per_county_year")
        ]

    def __str__(self):
        return self.title


class Status(models.TextChoices):
    PLANNED = "planned", _("planned")
    IN_PROGRESS = "in_progress", _("in progress")
    DELIVERED = "delivered", _("delivered")
    ACCEPTED = "accepted", _("accepted")
    DEFERRED = "deferred", _("deferred")
    CANCELLED = "cancelled", _("cancelled")
    MERGED = "merged", _("merged")


# States in which a commitment still counts toward the list and carries a light.
OPEN = {Status.PLANNED, Status.IN_PROGRESS, Status.DEFERRED}
DONE = {Status.DELIVERED, Status.ACCEPTED}
# Gone from the list by an adjustment; kept, with the adjustment that removed them.
REMOVED = {Status.CANCELLED, Status.MERGED}


class Commitment(models.Model):
    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="commitments"
    )
    # The county the row belongs to: the future distribution key.
    county = models.ForeignKey(
        Org, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+"
    )
    lead_official = models.CharField(
        _("lead official"), max_length=100, blank=True, help_text=_("The post, e.g. 副县长")
    )
    responsible_unit = models.ForeignKey(
        Org,
        verbose_name=_("responsible unit"),
        on_delete=models.PROTECT,
        related_name="commitments",
    )
    co_units = models.ManyToManyField(
        Org, verbose_name=_("co-operating units"), blank=True, related_name="co_commitments"
    )
    budget_planned = models.DecimalField(
        _("budget planned (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    budget_spent = models.DecimalField(
        _("budget spent (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    start_date = models.DateField(_("start date"))
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    percent_complete = models.PositiveSmallIntegerField(_("percent complete"), default=0)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["programme_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "number"], name="commitment_unique_number"
            ),
            models.CheckConstraint(
                condition=models.Q(deadline__gte=models.F("start_date")),
                name="commitment_deadline_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(percent_complete__lte=100), name="commitment_percent_max_100"
            ),
        ]
        indexes = [
            # The public list filtered by status, in number order.
            models.Index(fields=["programme", "status", "number"], name="commitment_prog_status"),
            # "My unit's commitments" and the workspace's due-soon list.
            models.Index(fields=["responsible_unit", "deadline"], name="commitment_unit_deadline"),
            models.Index(fields=["county", "deadline"], name="commitment_county_deadline"),
        ]

    def __str__(self):
        return f"{self.number}. {self.title}"


class Target(models.Model):
    """A measurable target: 新增高中学位 535 个 (name, unit, baseline, target, actual)."""

    commitment = models.ForeignKey(
        Commitment, verbose_name=_("commitment"), on_delete=models.CASCADE, related_name="targets"
    )
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("unit of measure"), max_length=20)
    baseline = models.DecimalField(_("baseline"), max_digits=16, decimal_places=2, default=0)
    target_value = models.DecimalField(_("target"), max_digits=16, decimal_places=2)
    actual_value = models.DecimalField(_("actual"), max_digits=16, decimal_places=2, default=0)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["commitment_id", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(target_value__gte=0), name="target_value_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(actual_value__gte=0), name="target_actual_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.name} {self.target_value}{self.unit}"

    @property
    def percent(self) -> int:
        span = self.target_value - self.baseline
        if span <= 0:
            return 100 if self.actual_value >= self.target_value else 0
        return max(0, min(100, int((self.actual_value - self.baseline) * 100 / span)))


class Milestone(models.Model):
    commitment = models.ForeignKey(
        Commitment,
        verbose_name=_("commitment"),
        on_delete=models.CASCADE,
        related_name="milestones",
    )
    title = models.CharField(_("title"), max_length=200)
    planned_date = models.DateField(_("planned date"))
    done_date = models.DateField(_("done date"), null=True, blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["commitment_id", "planned_date", "id"]

    def __str__(self):
        return self.title


class ProgressReport(models.Model):
    """Progress reported by the responsible unit; only an accepted report changes the public page."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("awaiting review")
        ACCEPTED = "accepted", _("accepted")
        RETURNED = "returned", _("returned")

    commitment = models.ForeignKey(
        Commitment, verbose_name=_("commitment"), on_delete=models.PROTECT, related_name="reports"
    )
    county = models.ForeignKey(
        Org, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("progress"))
    percent_complete = models.PositiveSmallIntegerField(_("percent complete"))
    # {target id: new actual value as a string}
    target_values = models.JSONField(_("target values"), default=dict, blank=True)
    mark_delivered = models.BooleanField(_("delivered"), default=False)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.SUBMITTED
    )
    # None: recorded by the system (the demo, a historical ledger), as in the audit log.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    return_reason = models.TextField(_("reason for returning"), blank=True)

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percent_complete__lte=100), name="report_percent_max_100"
            ),
        ]
        indexes = [
            # The review queue of a county, oldest first.
            models.Index(fields=["county", "state", "submitted_at"], name="report_county_state"),
            # The timeline of one commitment.
            models.Index(
                fields=["commitment", "state", "submitted_at"], name="report_commitment_state"
            ),
            # "Awaiting my review" on the desk and the review page, whatever the reviewer's scope:
            # the few reports awaiting review, oldest first, each then checked against the scope
            # (commitments.access.reports_for), instead of every report of the province.
            models.Index(
                fields=["submitted_at", "id"],
                condition=models.Q(state="submitted"),
                name="report_awaiting_review",
            ),
        ]

    def __str__(self):
        return f"{self.commitment_id}: {self.percent_complete}%"


def evidence_path(instance, filename):
    # Named by migration 0001 only: files are named by shishi.evidence.models.upload_to.
    return f"evidence/{instance.report.county_id}/{instance.report_id}/{instance.sha256[:16]}.{instance.extension}"


class Evidence(EvidenceFile):
    """A photo or PDF attached to a progress report (the shared ``EvidenceFile``). The public
    sees it once the report is accepted, if it is public: photos are, a PDF once a reviewer
    publishes it (``services.set_evidence_public``)."""

    report = models.ForeignKey(
        ProgressReport,
        verbose_name=_("progress report"),
        on_delete=models.CASCADE,
        related_name="evidence",
    )

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["report_id", "id"]

    def folder(self) -> str:
        return f"evidence/{self.report.county_id}/{self.report_id}"


class Adjustment(models.Model):
    """A proposed change to the published list (动态调整), applied only when approved."""

    class Kind(models.TextChoices):
        ADD = "add", _("add a commitment")
        CHANGE = "change", _("change a commitment")
        MERGE = "merge", _("merge commitments")
        SPLIT = "split", _("split a commitment")
        DEFER = "defer", _("defer to a new deadline")
        CANCEL = "cancel", _("cancel a commitment")

    class State(models.TextChoices):
        PROPOSED = "proposed", _("awaiting approval")
        FIRST_APPROVED = "first_approved", _("awaiting final approval")
        APPROVED = "approved", _("approved and applied")
        REJECTED = "rejected", _("rejected")
        WITHDRAWN = "withdrawn", _("withdrawn")

    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="adjustments"
    )
    county = models.ForeignKey(
        Org, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    commitments = models.ManyToManyField(
        Commitment, verbose_name=_("commitments"), blank=True, related_name="adjustments"
    )
    # What the change does, validated by the service for its kind (see services.propose_adjustment).
    payload = models.JSONField(_("change"), default=dict)
    reason = models.TextField(_("reason"))
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.PROPOSED
    )
    # None: recorded by the system (the demo, a historical ledger), as in the audit log.
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    # The commitments the approval created (add, merge, split).
    results = models.ManyToManyField(
        Commitment, verbose_name=_("resulting commitments"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        ordering = ["-proposed_at", "-id"]
        indexes = [
            # Approval queues and the public change log.
            models.Index(fields=["county", "state", "proposed_at"], name="adjustment_county_state"),
            models.Index(
                fields=["programme", "state", "applied_at"], name="adjustment_prog_applied"
            ),
            # "Awaiting my approval" (desk, adjustments page): the few open proposals, oldest
            # first, each then checked against the approver's scope.
            models.Index(
                fields=["proposed_at", "id"],
                condition=models.Q(state__in=["proposed", "first_approved"]),
                name="adjustment_awaiting",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class Decision(models.Model):
    """One approver's decision on an adjustment, at one level."""

    adjustment = models.ForeignKey(
        Adjustment, verbose_name=_("adjustment"), on_delete=models.CASCADE, related_name="decisions"
    )
    level = models.PositiveSmallIntegerField(_("level"))
    approved = models.BooleanField(_("approved"))
    note = models.TextField(_("note"), blank=True)
    # None: recorded by the system (the demo, a historical ledger), as in the audit log.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), default=timezone.now)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["adjustment_id", "level"]
        constraints = [
            models.UniqueConstraint(fields=["adjustment", "level"], name="decision_one_per_level")
        ]

    def __str__(self):
        return f"{self.adjustment_id}@{self.level}: {self.approved}"


class Snapshot(models.Model):
    """The public face of one commitment from ``valid_from`` on: the list's history.

    Written when the list is published, when an adjustment is applied and when a progress report
    is accepted. The list on a date is, per commitment, its latest snapshot at or before it.
    """

    class Cause(models.TextChoices):
        PUBLISHED = "published", _("published")
        ADJUSTMENT = "adjustment", _("adjustment")
        PROGRESS = "progress", _("progress")

    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="snapshots"
    )
    commitment = models.ForeignKey(
        Commitment, verbose_name=_("commitment"), on_delete=models.PROTECT, related_name="snapshots"
    )
    county = models.ForeignKey(
        Org, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    valid_from = models.DateTimeField(_("valid from"))
    cause = models.CharField(_("cause"), max_length=20, choices=Cause.choices)
    adjustment = models.ForeignKey(
        Adjustment,
        verbose_name=_("adjustment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    data = models.JSONField(_("public fields"))

    class Meta:
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        indexes = [
            # The list on a date: latest snapshot per commitment at or before it.
            models.Index(
                fields=["programme", "commitment", "valid_from"], name="snapshot_prog_commit_from"
            ),
        ]

    def __str__(self):
        return f"{self.commitment_id}@{self.valid_from:%Y-%m-%d}"
