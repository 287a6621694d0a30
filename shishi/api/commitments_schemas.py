"""The shapes the commitments API reads and answers, as they appear in the OpenAPI document.

Amounts and target values are decimal strings ("535.00"), never floats; dates are ISO 8601.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

from ninja import Field, Schema

from shishi.commitments.models import Adjustment as AdjustmentModel
from shishi.commitments.models import ProgressReport

from .common import OrgRef

# The models' state choices are both called State: under their own names here, so that the
# OpenAPI document gives each filter its own list of values.
ReportState = Enum("ReportState", {s.name: s.value for s in ProgressReport.State}, type=str)
AdjustmentState = Enum(
    "AdjustmentState", {s.name: s.value for s in AdjustmentModel.State}, type=str
)


class CommitmentRef(Schema):
    id: int
    number: int
    title: str


class Programme(Schema):
    id: int
    year: int
    title: str
    description: str
    county: OrgRef
    status: str
    published_at: dt.datetime | None
    approval_levels: int


class ProgrammePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[Programme]


class Summary(Schema):
    programme: int
    on_list: int
    delivered: int
    open: int
    removed: int
    rate: float = Field(description="delivered ÷ on the list × 100, one decimal")
    counts: dict[str, int]
    formulas: dict[str, str]


class Commitment(Schema):
    id: int
    programme: int
    number: int
    title: str
    category: str
    responsible_unit: OrgRef
    lead_official: str
    status: str
    percent_complete: int
    budget_planned: str | None
    budget_spent: str | None
    start_date: dt.date
    deadline: dt.date
    delivered_on: dt.date | None
    light: str | None = Field(
        description="on_track, due_soon, overdue, done_on_time, done_late; null once removed"
    )


class CommitmentPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[Commitment]


class Target(Schema):
    id: int
    name: str
    unit: str
    baseline: str
    target_value: str
    actual_value: str
    percent: int


class Milestone(Schema):
    title: str
    planned_date: dt.date
    done_date: dt.date | None
    light: str


class TimelineEntry(Schema):
    submitted_at: dt.datetime
    accepted_at: dt.datetime | None
    text: str
    percent_complete: int
    delivered: bool


class CommitmentDetail(Commitment):
    description: str
    co_units: list[OrgRef]
    merged_into: CommitmentRef | None
    targets: list[Target]
    milestones: list[Milestone]
    timeline: list[TimelineEntry]


class Change(Schema):
    id: int
    kind: str
    reason: str
    applied_at: dt.datetime
    commitments: list[CommitmentRef]
    results: list[CommitmentRef] = Field(description="commitments the change created")


class ChangePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[Change]


class ListOn(Schema):
    programme: int
    on: dt.date
    items: list[dict] = Field(description="each commitment's public fields as they stood that day")


class ReportIn(Schema):
    text: str
    percent_complete: int
    target_values: dict[int, str | int | float] = Field(
        default_factory=dict, description="{target id: new actual value}; decimals as strings"
    )
    delivered: bool = False


class Report(Schema):
    id: int
    commitment: CommitmentRef
    text: str
    percent_complete: int
    target_values: dict[str, str]
    delivered: bool
    state: str
    submitted_by: str | None = Field(
        description="the username; null for a report made by the system (an import, a migration)"
    )
    submitted_at: dt.datetime
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    return_reason: str
    evidence: int = Field(description="number of files attached (uploaded in the web app)")


class ReportPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[Report]


class ReviewIn(Schema):
    accept: bool
    reason: str = ""


class AdjustmentIn(Schema):
    kind: str = Field(description="add, change, merge, split, defer or cancel")
    commitments: list[int] = Field(default_factory=list, description="commitment ids")
    payload: dict = Field(
        default_factory=dict,
        description=(
            'add: {"commitment": {...}}; merge: {"into": {...}}; split: {"parts": [{...}, ...]}; '
            'change: {"fields": {...}}; defer: {"deadline": "YYYY-MM-DD"}; cancel: {}'
        ),
    )
    reason: str


class DecisionOut(Schema):
    level: int
    approved: bool
    note: str
    decided_by: str | None = Field(description="the username; null when the system decided")
    decided_at: dt.datetime


class Adjustment(Schema):
    id: int
    programme: int
    kind: str
    state: str
    reason: str
    payload: dict
    commitments: list[CommitmentRef]
    results: list[CommitmentRef]
    proposed_by: str | None = Field(description="the username; null when the system proposed")
    proposed_at: dt.datetime
    applied_at: dt.datetime | None
    decisions: list[DecisionOut]


class AdjustmentPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[Adjustment]


class DecisionIn(Schema):
    approve: bool
    note: str = ""
