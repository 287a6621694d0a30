from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Day(models.Model):
    """A day that differs from the plain week: a public holiday (off) or a weekend day worked in
    exchange (调休, on). Seeded from the chinese-calendar package; editable by an administrator."""

    class Source(models.TextChoices):
        LIBRARY = "library", _("published calendar")
        ADMIN = "admin", _("set by an administrator")

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=50, blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.ADMIN
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {'work' if self.is_workday else 'off'} {self.name}"


class Version(models.Model):
    """One row counting the changes of the calendar and the deadline policies: every process
    compares it with the version it loaded, so an edit is seen everywhere at the next request."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    n = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("calendar version")
        verbose_name_plural = _("calendar version")

    def __str__(self):
        return str(self.n)


class Counting(models.TextChoices):
    WORKDAYS = "workdays", _("working days")
    CALENDAR_DAYS = "calendar_days", pgettext_lazy("counting", "calendar days")


class DeadlinePolicy(models.Model):
    """How one kind of deadline is counted, as an administrator set it. Each mechanism ships its
    defaults (``deadlines`` on its AppConfig); a kind without a row here follows its default."""

    kind = models.CharField(_("kind of deadline"), max_length=60, unique=True)
    counting = models.CharField(
        _("counted in"), max_length=20, choices=Counting.choices, default=Counting.WORKDAYS
    )
    due_soon = models.PositiveSmallIntegerField(
        _("due soon"), help_text=_("The light turns yellow this many days before the deadline.")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")
        ordering = ["kind"]

    def __str__(self):
        return f"{self.kind}: {self.due_soon} {self.counting}"
