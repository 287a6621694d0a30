"""Adjustments (动态调整): the published list changes only by a proposal, with its reason, that
is approved at one or two levels; the last approval applies it in the same transaction."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from shishi.audit.services import diff, record
from shishi.notifications.services import handled
from shishi.orgs import access
from shishi.orgs.access import holders

from .. import access as caccess
from .. import notices
from ..models import DONE, REMOVED, Adjustment, Commitment, Decision, Programme, Snapshot, Status
from .common import deny, now_or, require_county, tell
from .programmes import create_in, public_fields, snapshot, with_details, write
from .validation import check_dates, clean_commitment, clean_date, jsonable


def _clean_payload(
    programme: Programme, kind: str, commitments: list[Commitment], payload: dict
) -> dict:
    """The payload of an adjustment, validated for its kind (raises ValidationError)."""
    county = programme.county
    K = Adjustment.Kind
    need = {K.ADD: 0, K.CHANGE: 1, K.SPLIT: 1, K.DEFER: 1, K.CANCEL: 1}
    if kind not in K.values:
        raise ValidationError(
            {"kind": _("Unknown kind of adjustment: %(value)s.") % {"value": kind}}
        )
    if kind == K.MERGE and len(commitments) < 2:
        raise ValidationError({"commitments": _("Choose at least two commitments to merge.")})
    if kind in need and len(commitments) != need[kind]:
        raise ValidationError(
            {
                "commitments": _("This adjustment concerns exactly %(n)d commitment(s).")
                % {"n": need[kind]}
            }
        )
    for c in commitments:
        if c.programme_id != programme.pk:
            raise ValidationError(
                {"commitments": _("Commitment %(n)s is on another list.") % {"n": c.number}}
            )
        if c.status in REMOVED:
            raise ValidationError(
                {"commitments": _("Commitment %(n)s is no longer on the list.") % {"n": c.number}}
            )
        if kind in (K.DEFER, K.CANCEL, K.MERGE, K.SPLIT) and c.status in DONE:
            raise ValidationError(
                {"commitments": _("Commitment %(n)s is already delivered.") % {"n": c.number}}
            )
    if not isinstance(payload, dict):
        raise ValidationError({"payload": _("The payload is an object of named fields.")})
    if kind == K.ADD:
        commitment = _object(payload, "commitment")
        clean_commitment(commitment, county)
        return {"commitment": jsonable(commitment)}
    if kind == K.MERGE:
        into = _object(payload, "into")
        clean_commitment(into, county)
        return {"into": jsonable(into)}
    if kind == K.SPLIT:
        parts = payload.get("parts") or []
        if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
            raise ValidationError({"payload": _("The parts are a list of commitments.")})
        if len(parts) < 2:
            raise ValidationError({"payload": _("A split makes at least two commitments.")})
        for part in parts:
            clean_commitment(dict(part), county)
        return {"parts": [jsonable(p) for p in parts]}
    if kind == K.CHANGE:
        fields = _object(payload, "fields")
        if not fields:
            raise ValidationError({"payload": _("Say what changes.")})
        if "number" in fields:
            raise ValidationError({"payload": _("A commitment keeps its number.")})
        cleaned = clean_commitment(fields, county, partial=True)
        check_dates(commitments[0], cleaned)
        return {"fields": jsonable(fields)}
    if kind == K.DEFER:
        errors: dict = {}
        deadline = clean_date(payload.get("deadline"), "deadline", errors)
        if errors:
            raise ValidationError(errors)
        if deadline is None:
            raise ValidationError({"deadline": _("Give the new deadline.")})
        if deadline <= commitments[0].deadline:
            raise ValidationError(
                {
                    "deadline": _("A deferral moves the deadline later than %(d)s.")
                    % {"d": commitments[0].deadline}
                }
            )
        return {"deadline": deadline.isoformat()}
    return {}


def _object(payload: dict, key: str) -> dict:
    """``payload[key]``, an object of named fields (empty when missing); anything else is refused."""
    value = payload.get(key) or {}
    if not isinstance(value, dict):
        raise ValidationError(
            {"payload": _("%(key)s is an object of named fields.") % {"key": key}}
        )
    return dict(value)


@transaction.atomic
def propose_adjustment(
    actor,
    programme: Programme,
    *,
    kind: str,
    commitments: list[Commitment],
    payload: dict,
    reason: str,
    at: dt.datetime | None = None,
) -> Adjustment:
    programme = Programme.objects.select_related("county").get(pk=programme.pk)
    if programme.status != Programme.Status.PUBLISHED:
        raise ValidationError(_("Adjustments are made to a published list."))
    # The rows as they are now, not as the caller last read them.
    commitments = list(
        Commitment.objects.filter(pk__in=[c.pk for c in commitments])
        .select_related("county", "responsible_unit")
        .order_by("number")
    )
    allowed = (
        any(caccess.can(actor, caccess.PROPOSE_ADJUSTMENT, c) for c in commitments)
        if commitments
        else False
    )
    if actor is not None and not (
        allowed or access.has_perm_on(actor, caccess.PROPOSE_ADJUSTMENT, programme.county)
    ):
        raise deny(_("Your role does not allow proposing this adjustment."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Every adjustment gives its reason.")})
    cleaned = _clean_payload(programme, kind, commitments, payload or {})
    adjustment = Adjustment.objects.create(
        programme=programme,
        county=programme.county,
        kind=kind,
        payload=cleaned,
        reason=reason,
        proposed_by=actor,
        proposed_at=now_or(actor, at),
    )
    adjustment.commitments.set(commitments)
    record(
        actor,
        "commitments.adjustment.proposed",
        adjustment,
        changes={"kind": [None, kind], "payload": [None, cleaned]},
        data={"reason": reason, "commitments": [c.number for c in commitments]},
        # A proposal is not public until approved and applied.
        public=False,
    )
    tell(
        at,
        holders(caccess.APPROVE_ADJUSTMENT, programme.county),
        notices.ADJUSTMENT_PROPOSED,
        _notice_params(adjustment, commitments),
        about=adjustment,
        url=reverse("commitments:adjustment", args=[adjustment.pk]),
        actor=actor,
    )
    return adjustment


def _notice_params(adjustment: Adjustment, commitments: list[Commitment]) -> dict:
    return {
        "kind": adjustment.kind,
        "state": adjustment.state,
        "numbers": [c.number for c in commitments],
    }


@transaction.atomic
def decide_adjustment(
    actor,
    adjustment: Adjustment,
    *,
    approve: bool,
    note: str = "",
    at: dt.datetime | None = None,
) -> Adjustment:
    """Approve or reject at the next level; the last approval applies the change atomically."""
    adjustment = (
        Adjustment.objects.select_for_update()
        .select_related("programme__county")
        .get(pk=adjustment.pk)
    )
    programme = adjustment.programme
    S = Adjustment.State
    if adjustment.state not in caccess.DECISION_LEVELS:
        raise ValidationError(_("This adjustment has already been decided."), code="conflict")
    # The rule of access.may_decide (the desk's and the queue's), said one reason at a time.
    level, perm = caccess.DECISION_LEVELS[adjustment.state]
    require_county(actor, perm, programme.county)
    if actor is not None and actor.pk == adjustment.proposed_by_id:
        raise deny(_("An adjustment is approved by someone other than its proposer."))
    if actor is not None and adjustment.decisions.filter(decided_by=actor).exists():
        raise deny(_("The two approvals come from two different people."))
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": _("Say why the adjustment is rejected.")})
    now = now_or(actor, at)
    Decision.objects.create(
        adjustment=adjustment,
        level=level,
        approved=approve,
        note=note,
        decided_by=actor,
        decided_at=now,
    )
    before_state = adjustment.state
    if not approve:
        adjustment.state = S.REJECTED
    elif level < programme.approval_levels:
        adjustment.state = S.FIRST_APPROVED
    else:
        _apply(adjustment, actor, now)
        adjustment.state = S.APPROVED
        adjustment.applied_at = now
    adjustment.save()
    record(
        actor,
        "commitments.adjustment.decided",
        adjustment,
        changes={"state": [before_state, adjustment.state]},
        data={"level": level, "note": note},
        # Only the decision that applies the change shows on the public change log.
        public=adjustment.state == S.APPROVED,
    )
    url = reverse("commitments:adjustment", args=[adjustment.pk])
    concerned = list(adjustment.commitments.order_by("number"))
    handled(adjustment, [notices.ADJUSTMENT_PROPOSED, notices.ADJUSTMENT_FIRST_APPROVED])
    if adjustment.state == S.FIRST_APPROVED:
        tell(
            at,
            holders(caccess.APPROVE_ADJUSTMENT_FINAL, programme.county),
            notices.ADJUSTMENT_FIRST_APPROVED,
            _notice_params(adjustment, concerned),
            about=adjustment,
            url=url,
            actor=actor,
        )
    tell(
        at,
        [adjustment.proposed_by],
        notices.ADJUSTMENT_DECIDED,
        _notice_params(adjustment, concerned),
        about=adjustment,
        url=url,
    )
    return adjustment


def _apply(adjustment: Adjustment, actor, now: dt.datetime) -> None:
    programme, K = adjustment.programme, Adjustment.Kind
    commitments = list(
        Commitment.objects.select_for_update()
        .filter(pk__in=adjustment.commitments.values("pk"))
        .order_by("number")
    )
    for c in commitments:
        if c.status in REMOVED:
            raise ValidationError(_("Commitment %(n)s is no longer on the list.") % {"n": c.number})
    payload, county = adjustment.payload, programme.county
    touched: list[Commitment] = []
    results: list[Commitment] = []

    def create(data):
        made = create_in(
            programme,
            clean_commitment(dict(data), county),
            actor,
            "commitments.commitment.created",
            adjustment=adjustment,
        )
        results.append(made)
        return made

    def change(c, **fields):
        before = public_fields(c)
        for key, value in fields.items():
            setattr(c, key, value)
        c.version += 1
        c.save()
        record(
            actor,
            "commitments.commitment.changed",
            c,
            changes=diff(before, public_fields(c)),
            data={"adjustment": adjustment.pk},
        )
        touched.append(c)

    if adjustment.kind == K.ADD:
        create(payload["commitment"])
    elif adjustment.kind == K.MERGE:
        into = create(payload["into"])
        for c in commitments:
            change(c, status=Status.MERGED, merged_into=into)
    elif adjustment.kind == K.SPLIT:
        for part in payload["parts"]:
            create(part)
        change(commitments[0], status=Status.CANCELLED)
    elif adjustment.kind == K.DEFER:
        change(
            commitments[0],
            status=Status.DEFERRED,
            deadline=dt.date.fromisoformat(payload["deadline"]),
        )
    elif adjustment.kind == K.CANCEL:
        change(commitments[0], status=Status.CANCELLED)
    elif adjustment.kind == K.CHANGE:
        c = commitments[0]
        cleaned = clean_commitment(dict(payload["fields"]), county, partial=True)
        check_dates(c, cleaned)
        before = public_fields(c)
        c.version += 1
        write(c, cleaned)
        record(
            actor,
            "commitments.commitment.changed",
            c,
            changes=diff(before, public_fields(c)),
            data={"adjustment": adjustment.pk},
        )
        touched.append(c)
    adjustment.results.set(results)
    for c in with_details(Commitment.objects.filter(pk__in=[c.pk for c in touched + results])):
        snapshot(c, Snapshot.Cause.ADJUSTMENT, now, adjustment)


@transaction.atomic
def withdraw_adjustment(actor, adjustment: Adjustment) -> Adjustment:
    adjustment = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
    if actor is not None and actor.pk != adjustment.proposed_by_id:
        raise deny(_("Only the proposer can withdraw an adjustment."))
    if adjustment.state not in (Adjustment.State.PROPOSED, Adjustment.State.FIRST_APPROVED):
        raise ValidationError(_("This adjustment has already been decided."), code="conflict")
    before = adjustment.state
    adjustment.state = Adjustment.State.WITHDRAWN
    adjustment.save(update_fields=["state"])
    record(
        actor,
        "commitments.adjustment.withdrawn",
        adjustment,
        changes={"state": [before, adjustment.state]},
        public=False,
    )
    handled(adjustment, [notices.ADJUSTMENT_PROPOSED, notices.ADJUSTMENT_FIRST_APPROVED])
    return adjustment
