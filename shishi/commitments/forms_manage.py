"""Forms of the workspace's programme, draft-list and adjustment pages.

The forms only parse; ``services.clean_commitment`` is the one validator of a commitment's
content (it also checks imports, the API and adjustments), and its errors are put back onto the
form field or target/milestone row they concern.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _

from shishi.lib.parse import whole_number
from shishi.orgs.models import Org, OrgKind

from .models import Category, Commitment, Milestone, Target

# Empty rows offered under the existing targets and milestones; blank rows are ignored.
EXTRA_ROWS = 3
# A posted form never makes more rows than this, whatever its keys say.
MAX_ROWS = 30
TARGET_KEYS = ["name", "unit", "baseline", "target_value", "actual_value"]
MILESTONE_KEYS = ["title", "planned_date", "done_date"]
MAIN_FIELDS = [
    "number",
    "title",
    "description",
    "category",
    "lead_official",
    "responsible_unit",
    "co_units",
    "budget_planned",
    "budget_spent",
    "start_date",
    "deadline",
]


def _label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


def _date_input() -> forms.DateInput:
    # An explicit ISO format: the browser's date picker reads and writes nothing else.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def units_of(county: Org) -> QuerySet[Org]:
    """The units a commitment of ``county`` can be given to: its towns and departments."""
    return Org.objects.filter(
        county=county, kind__in=[OrgKind.TOWN, OrgKind.DEPARTMENT], is_active=True
    ).order_by("kind", "path")


class ProgrammeForm(forms.Form):
    county = forms.ModelChoiceField(label=_("County"), queryset=Org.objects.none())
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    approval_levels = forms.TypedChoiceField(
        label=_("Approvals of an adjustment"),
        coerce=int,
        choices=[
            (1, _("One: the county office")),
            (2, _("Two: the county office, then a county leader")),
        ],
    )

    def __init__(self, *args, counties: QuerySet[Org], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties


class CommitmentForm(forms.Form):
    """A commitment's fields with a few rows of targets and milestones.

    ``commitment_data()`` gives the dict ``services.clean_commitment`` expects; the number is left
    out when empty (the service gives the next free one) or when the form has no number field.
    """

    number = forms.IntegerField(
        label=_label(Commitment, "number"),
        required=False,
        min_value=1,
        help_text=_("Leave empty for the next free number."),
    )
    title = forms.CharField(label=_label(Commitment, "title"), max_length=200)
    description = forms.CharField(
        label=_label(Commitment, "description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    category = forms.ModelChoiceField(
        label=_label(Commitment, "category"), queryset=Category.objects.order_by("order", "code")
    )
    lead_official = forms.CharField(
        label=_label(Commitment, "lead_official"),
        max_length=100,
        required=False,
        help_text=Commitment._meta.get_field("lead_official").help_text,
    )
    responsible_unit = forms.ModelChoiceField(
        label=_label(Commitment, "responsible_unit"), queryset=Org.objects.none()
    )
    co_units = forms.ModelMultipleChoiceField(
        label=_label(Commitment, "co_units"),
        queryset=Org.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Hold Ctrl (or ⌘) to choose several."),
    )
    # Text, not DecimalField: the service's messages ("-5 is negative …") are the same here as
    # in an import.
    budget_planned = forms.CharField(
        label=_label(Commitment, "budget_planned"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    budget_spent = forms.CharField(
        label=_label(Commitment, "budget_spent"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    start_date = forms.DateField(label=_label(Commitment, "start_date"), widget=_date_input())
    deadline = forms.DateField(label=_label(Commitment, "deadline"), widget=_date_input())

    def __init__(
        self,
        *args,
        county: Org,
        commitment: Commitment | None = None,
        with_number: bool = True,
        **kwargs,
    ):
        if commitment is not None:
            kwargs["initial"] = {**flat_initial(commitment), **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        units = units_of(county)
        self.fields["responsible_unit"].queryset = units
        self.fields["co_units"].queryset = units
        if not with_number:
            del self.fields["number"]
        self.n_targets = self._row_count("target", commitment and len(commitment.targets.all()))
        self.n_milestones = self._row_count(
            "milestone", commitment and len(commitment.milestones.all())
        )
        for i in range(1, self.n_targets + 1):
            self._add_target_row(i)
        for i in range(1, self.n_milestones + 1):
            self._add_milestone_row(i)
        self._rows: dict[tuple[str, int], int] = {}

    def _row_count(self, kind: str, existing: int | None) -> int:
        if self.is_bound:
            found = [
                i
                for i in range(1, MAX_ROWS + 1)
                if self.add_prefix(f"{kind}_{i}_{'name' if kind == 'target' else 'title'}")
                in self.data
            ]
            return max(found, default=EXTRA_ROWS)
        return max(EXTRA_ROWS, (existing or 0) + 1)

    def _add_target_row(self, i: int) -> None:
        row = format_lazy(_("Target {n}"), n=i)
        lengths = {"name": 100, "unit": 20}
        for key in TARGET_KEYS:
            label = format_lazy("{}: {}", row, _label(Target, key))
            if key in lengths:
                field = forms.CharField(label=label, required=False, max_length=lengths[key])
            else:
                field = forms.CharField(
                    label=label,
                    required=False,
                    widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                )
            self.fields[f"target_{i}_{key}"] = field

    def _add_milestone_row(self, i: int) -> None:
        row = format_lazy(_("Milestone {n}"), n=i)
        self.fields[f"milestone_{i}_title"] = forms.CharField(
            label=format_lazy("{}: {}", row, _label(Milestone, "title")),
            required=False,
            max_length=200,
        )
        for key in ["planned_date", "done_date"]:
            self.fields[f"milestone_{i}_{key}"] = forms.DateField(
                label=format_lazy("{}: {}", row, _label(Milestone, key)),
                required=False,
                widget=_date_input(),
            )

    # --- for the template ---

    def main_fields(self) -> list:
        return [self[name] for name in MAIN_FIELDS if name in self.fields]

    def target_rows(self) -> list[list]:
        return [
            [self[f"target_{i}_{key}"] for key in TARGET_KEYS] for i in range(1, self.n_targets + 1)
        ]

    def milestone_rows(self) -> list[list]:
        return [
            [self[f"milestone_{i}_{key}"] for key in MILESTONE_KEYS]
            for i in range(1, self.n_milestones + 1)
        ]

    def target_headers(self) -> list:
        return [_label(Target, key) for key in TARGET_KEYS]

    def milestone_headers(self) -> list:
        return [_label(Milestone, key) for key in MILESTONE_KEYS]

    # --- to the service and back ---

    def commitment_data(self) -> dict[str, Any]:
        """The cleaned form as ``clean_commitment`` input; blank rows left out."""
        data = self.cleaned_data
        out: dict[str, Any] = {
            name: data.get(name) for name in MAIN_FIELDS if name in self.fields and name != "number"
        }
        out["co_units"] = list(out.get("co_units") or [])
        if data.get("number"):
            out["number"] = data["number"]
        self._rows = {}
        targets = []
        for i in range(1, self.n_targets + 1):
            row = {key: (data.get(f"target_{i}_{key}") or "").strip() for key in TARGET_KEYS}
            if any(row.values()):
                targets.append(row)
                self._rows[("targets", len(targets))] = i
        milestones = []
        for i in range(1, self.n_milestones + 1):
            row = {key: data.get(f"milestone_{i}_{key}") for key in MILESTONE_KEYS}
            row["title"] = (row["title"] or "").strip()
            if any(row.values()):
                milestones.append(row)
                self._rows[("milestones", len(milestones))] = i
        out["targets"] = targets
        out["milestones"] = milestones
        return out

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put a service's errors on the fields (and rows) they name; the rest on the form."""
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for key, errors in exc.error_dict.items():
            self.add_error(self._field_for(key), errors)

    def _field_for(self, key: str) -> str | None:
        parts = key.split(".")
        if (
            len(parts) == 3
            and parts[0] in ("targets", "milestones")
            and whole_number(parts[1]) is not None
        ):
            row = self._rows.get((parts[0], int(parts[1])))
            name = f"{parts[0][:-1]}_{row}_{parts[2]}"
            return name if row and name in self.fields else None
        return key if key in self.fields else None


class CommitmentEditForm(CommitmentForm):
    # The version the editor started from: saving over a newer one is refused, not silent.
    version = forms.IntegerField(widget=forms.HiddenInput)


def current_data(commitment: Commitment) -> dict[str, Any]:
    """A saved commitment in the shape of ``CommitmentForm.commitment_data()``."""
    return {
        "number": commitment.number,
        "title": commitment.title,
        "description": commitment.description,
        "category": commitment.category,
        "lead_official": commitment.lead_official,
        "responsible_unit": commitment.responsible_unit,
        "co_units": list(commitment.co_units.all()),
        "budget_planned": commitment.budget_planned,
        "budget_spent": commitment.budget_spent,
        "start_date": commitment.start_date,
        "deadline": commitment.deadline,
        "targets": [
            {key: getattr(t, key) for key in TARGET_KEYS} for t in commitment.targets.all()
        ],
        "milestones": [
            {key: getattr(m, key) for key in MILESTONE_KEYS} for m in commitment.milestones.all()
        ],
    }


def flat_initial(commitment: Commitment) -> dict[str, Any]:
    """The initial values of a ``CommitmentForm`` showing ``commitment``."""
    data = current_data(commitment)
    out = {name: data[name] for name in MAIN_FIELDS}
    out["category"] = commitment.category_id
    out["responsible_unit"] = commitment.responsible_unit_id
    out["co_units"] = [u.pk for u in data["co_units"]]
    for i, row in enumerate(data["targets"], start=1):
        for key in TARGET_KEYS:
            out[f"target_{i}_{key}"] = row[key]
    for i, row in enumerate(data["milestones"], start=1):
        for key in MILESTONE_KEYS:
            out[f"milestone_{i}_{key}"] = row[key]
    return out


def _amount(value, *, blank_is_zero: bool = False) -> Any:
    """An amount as the service will store it, or the raw text when it will not parse (so a
    wrong value counts as a change and reaches the service, which names the problem)."""
    if value in (None, ""):
        return "0.00" if blank_is_zero else None
    try:
        return str(Decimal(str(value).replace(",", "").strip()).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return str(value)


def _canonical(name: str, value) -> Any:
    if name in ("category", "responsible_unit"):
        return value.pk if value is not None else None
    if name == "co_units":
        return sorted(u.pk for u in value or [])
    if name in ("budget_planned", "budget_spent"):
        return _amount(value)
    if name in ("start_date", "deadline"):
        return value.isoformat() if isinstance(value, dt.date) else value
    if name == "targets":
        return [
            {
                "name": str(row["name"]).strip(),
                "unit": str(row["unit"]).strip(),
                "baseline": _amount(row["baseline"], blank_is_zero=True),
                "target_value": _amount(row["target_value"]),
                "actual_value": _amount(row["actual_value"], blank_is_zero=True),
            }
            for row in value
        ]
    if name == "milestones":
        return [
            {
                "title": str(row["title"]).strip(),
                "planned_date": _canonical("start_date", row["planned_date"]),
                "done_date": _canonical("start_date", row["done_date"]),
            }
            for row in value
        ]
    return str(value or "").strip()


def changed_fields(data: dict[str, Any], commitment: Commitment) -> dict[str, Any]:
    """The fields of ``data`` (a ``commitment_data()``) that differ from ``commitment``'s;
    never its number, which an adjustment does not change."""
    current = current_data(commitment)
    return {
        name: value
        for name, value in data.items()
        if name != "number" and _canonical(name, value) != _canonical(name, current[name])
    }


# --- adjustments ----------------------------------------------------------------------------------


class CommitmentChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Commitment) -> str:
        return f"{obj.number}. {obj.title}"


class CommitmentChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Commitment) -> str:
        return f"{obj.number}. {obj.title}"


class AdjustmentForm(forms.Form):
    """The parts every adjustment has (a reason), plus the commitment(s) and fields of its kind."""

    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown in public with the change, once it is approved."),
    )

    def __init__(self, *args, kind: str, on_list: QuerySet[Commitment], fixed: bool = False, **kw):
        super().__init__(*args, **kw)
        self.kind = kind
        if kind == "merge":
            self.fields["commitments"] = CommitmentChoices(
                label=_("Commitments to merge"),
                queryset=on_list,
                widget=forms.CheckboxSelectMultiple,
                help_text=_("Choose two or more."),
            )
        elif kind in ("change", "split", "defer", "cancel"):
            self.fields["commitment"] = CommitmentChoice(
                label=_("Commitment"),
                queryset=on_list,
                # The change form is filled in from the commitment, so it cannot switch to another.
                widget=forms.HiddenInput if fixed else forms.Select,
            )
        if kind == "defer":
            self.fields["deadline"] = forms.DateField(label=_("New deadline"), widget=_date_input())
        # The reason reads best last, after what is being changed.
        self.order_fields([n for n in self.fields if n != "reason"] + ["reason"])

    def concerned(self) -> list[Commitment]:
        if self.kind == "merge":
            return list(self.cleaned_data["commitments"])
        if "commitment" in self.fields:
            return [self.cleaned_data["commitment"]]
        return []

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for key, errors in exc.error_dict.items():
            if key == "commitments" and "commitment" in self.fields:
                key = "commitment"
            self.add_error(key if key in self.fields else None, errors)
