from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
