"""Forms of the unit's and the reviewer's pages. They parse; the services validate and decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext_lazy as _

from .models import Target


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Any number of uploaded files, passed to the service untouched: it checks each one by its
    content and size, so that the messages come from one place (the form, the API, imports)."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if not data:
            return []
        return list(data) if isinstance(data, list | tuple) else [data]


def _max_mb() -> int:
    return settings.EVIDENCE_MAX_BYTES // (1024 * 1024)


class ReportForm(forms.Form):
    text = forms.CharField(
        label=_("What has been done"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
    )
    percent_complete = forms.IntegerField(
        label=_("Percent complete"),
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1}),
    )
    delivered = forms.BooleanField(label=_("Delivered: the commitment is done"), required=False)
    files = EvidenceField(
        label=_("Photos and PDF documents"),
        required=False,
        widget=MultipleFileInput(
            # .heic/.heif named too: desktop browsers may not count them as image/*.
            attrs={"accept": "image/*,.heic,.heif,application/pdf", "capture": "environment"}
        ),
    )

    def __init__(self, *args, targets: list[Target], **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = targets
        self.fields["files"].help_text = _(
            "Photos (JPEG, PNG, WebP, HEIC) or PDF, at most %(mb)s MB each. Location data is "
            "removed from photos."
        ) % {"mb": _max_mb()}
        # One field per target, named as the service names its errors ("target_<id>"). Text, not
        # a number field, so that a comma or a stray unit reaches the service's clear message.
        for target in targets:
            self.fields[f"target_{target.pk}"] = forms.CharField(
                label=_("%(name)s: new actual value (%(unit)s)")
                % {"name": target.name, "unit": target.unit},
                required=False,
                max_length=30,
                help_text=_("Now %(actual)s of %(target)s. Leave empty if unchanged.")
                % {
                    "actual": floatformat(target.actual_value, "-2"),
                    "target": floatformat(target.target_value, "-2"),
                },
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
        # Targets come right after the percentage, the files last: the order a phone scrolls.
        order = ["text", "percent_complete"]
        order += [f"target_{t.pk}" for t in targets] + ["delivered", "files"]
        self.order_fields(order)

    def target_values(self) -> dict[str, str]:
        return {
            str(t.pk): self.cleaned_data.get(f"target_{t.pk}", "").strip() for t in self.targets
        }


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept")), ("return", _("Return"))],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        label=_("Reason for returning"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you return the report; the unit sees it."),
    )
