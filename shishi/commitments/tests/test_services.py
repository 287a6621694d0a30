"""Every service transition of programmes, commitments, progress and adjustments, with wrong roles."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import ExifTags, Image

from conftest import make_user
from shishi.audit.models import Entry
from shishi.commitments import services
from shishi.commitments.lights import light_of
from shishi.commitments.models import (
    Adjustment,
    Commitment,
    Decision,
    Evidence,
    Programme,
    ProgressReport,
    Snapshot,
    Status,
)
from shishi.notifications.models import Notification
from shishi.notifications.services import render
from shishi.orgs.models import RoleKind
from shishi.testing import item_2026, number

pytestmark = pytest.mark.django_db


# --- set-up (the draft ``programme`` is in conftest.py) -------------------------------------------


@pytest.fixture
def published(programme, tree, users) -> Programme:
    """A published list of three: the education bureau's two, the east town's one."""
    admin = users["county_admin"]
    services.add_commitment(admin, programme, item_2026(tree))
    services.add_commitment(
        admin,
        programme,
        item_2026(
            tree,
            title="新增高中学位",
            category="education",
            targets=[{"name": "高中学位", "unit": "个", "target_value": "535"}],
        ),
    )
    services.add_commitment(
        admin, programme, item_2026(tree, title="东镇农贸市场改造", responsible_unit=tree["east"])
    )
    return services.publish_programme(admin, programme)


def report(users, commitment, **kwargs) -> ProgressReport:
    kwargs.setdefault("text", "主体工程已完工")
    kwargs.setdefault("percent_complete", 60)
    return services.submit_progress(users["unit_officer"], commitment, **kwargs)


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def picture(fmt: str, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (64, 48), (200, 60, 40))
    if exif is not None:
        image.save(out, fmt, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --- programmes and the draft list ----------------------------------------------------------------


def test_a_county_administrator_creates_a_programme(programme, tree):
    assert programme.status == Programme.Status.DRAFT
    assert programme.county == tree["county"]
    assert Entry.objects.filter(action="commitments.programme.created").count() == 1


def test_a_unit_officer_cannot_create_a_programme(tree, users):
    with pytest.raises(PermissionDenied):
        services.create_programme(
            users["unit_officer"], county=tree["county"], year=2026, title="x"
        )
    assert not Programme.objects.exists()


def test_a_second_programme_for_the_same_year_is_refused(programme, tree, users):
    with pytest.raises(ValidationError, match="already has a programme for 2026"):
        services.create_programme(
            users["county_admin"], county=tree["county"], year=2026, title="y"
        )


def test_a_programme_belongs_to_a_county_not_a_town(tree, users):
    with pytest.raises(ValidationError):
        services.create_programme(None, county=tree["east"], year=2026, title="东镇")


def test_commitments_are_added_to_a_draft_with_numbers_in_order(programme, tree, users):
    first = services.add_commitment(users["county_admin"], programme, item_2026(tree))
    second = services.add_commitment(users["county_admin"], programme, item_2026(tree, title="二"))
    assert (first.number, second.number) == (1, 2)
    assert first.targets.get().target_value == Decimal("5.00")
    assert first.milestones.count() == 1
    assert first.budget_planned == Decimal("45000000.00")


def test_a_town_administrator_cannot_add_to_the_county_list(programme, tree, users):
    with pytest.raises(PermissionDenied):
        services.add_commitment(users["east_admin"], programme, item_2026(tree))
    assert not programme.commitments.exists()


def test_bad_commitment_data_is_refused_with_every_problem(programme, tree, users):
    bad = item_2026(
        tree,
        deadline="2025-12-31",
        budget_planned="-5",
        targets=[{"name": "学位", "unit": "个", "target_value": "many"}],
    )
    with pytest.raises(ValidationError) as exc:
        services.add_commitment(users["county_admin"], programme, bad)
    assert {"deadline", "budget_planned", "targets.1.target_value"} <= set(exc.value.message_dict)
    assert not programme.commitments.exists()


def test_a_unit_of_another_county_is_refused(programme, tree, users):
    with pytest.raises(ValidationError, match="not a unit of"):
        services.add_commitment(
            users["county_admin"], programme, item_2026(tree, responsible_unit=tree["city"])
        )


def test_a_draft_commitment_is_edited_and_its_version_moves(programme, tree, users):
    c = services.add_commitment(users["county_admin"], programme, item_2026(tree))
    c = services.update_commitment(users["county_admin"], c, {"title": "新建幼儿园"}, version=1)
    assert (c.title, c.version) == ("新建幼儿园", 2)
    assert Entry.objects.get(action="commitments.commitment.changed").changes["title"] == [
        "新建公办幼儿园",
        "新建幼儿园",
    ]


def test_a_stale_edit_is_refused_naming_what_changed(programme, tree, users):
    c = services.add_commitment(users["county_admin"], programme, item_2026(tree))
    services.update_commitment(users["county_admin"], c, {"title": "甲"}, version=1)
    with pytest.raises(ValidationError) as exc:
        services.update_commitment(users["county_admin"], c, {"budget_planned": "1"}, version=1)
    assert exc.value.code == "conflict"
    assert "title" in exc.value.messages[0]
    c.refresh_from_db()
    assert c.budget_planned == Decimal("45000000.00")


def test_an_edit_may_not_put_the_deadline_before_the_start(programme, tree, users):
    c = services.add_commitment(users["county_admin"], programme, item_2026(tree))
    with pytest.raises(ValidationError, match="before the start"):
        services.update_commitment(users["county_admin"], c, {"deadline": "2025-06-01"})


def test_a_published_list_is_not_edited_or_added_to_directly(published, tree, users):
    with pytest.raises(ValidationError, match="propose an adjustment"):
        services.update_commitment(users["county_admin"], number(published, 1), {"title": "x"})
    with pytest.raises(ValidationError, match="propose an adjustment"):
        services.add_commitment(users["county_admin"], published, item_2026(tree))


def test_an_empty_list_cannot_be_published(programme, users):
    with pytest.raises(ValidationError, match="empty list"):
        services.publish_programme(users["county_admin"], programme)


def test_publishing_snapshots_every_commitment_once(published):
    assert published.status == Programme.Status.PUBLISHED
    snaps = Snapshot.objects.filter(programme=published)
    assert snaps.count() == 3
    assert {s.cause for s in snaps} == {Snapshot.Cause.PUBLISHED}
    assert {s.valid_from for s in snaps} == {published.published_at}


def test_a_list_is_published_once(published, users):
    with pytest.raises(ValidationError, match="already published"):
        services.publish_programme(users["county_admin"], published)


def test_a_unit_officer_cannot_publish(programme, tree, users):
    services.add_commitment(users["county_admin"], programme, item_2026(tree))
    with pytest.raises(PermissionDenied):
        services.publish_programme(users["unit_officer"], programme)


def test_a_person_cannot_date_a_change_in_the_past(programme, tree, users):
    services.add_commitment(users["county_admin"], programme, item_2026(tree))
    with pytest.raises(ValueError, match="only the system"):
        services.publish_programme(
            users["county_admin"], programme, at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        )


# --- progress reports -------------------------------------------------------------------------------


def test_the_responsible_unit_reports_progress_and_reviewers_are_told(published, users):
    r = report(users, number(published, 1), percent_complete=40)
    assert r.state == ProgressReport.State.SUBMITTED
    assert r.submitted_by == users["unit_officer"]
    assert Notification.objects.filter(
        user=users["county_admin"], kind="commitments.report_submitted"
    ).exists()
    # Nothing public changes before review.
    assert number(published, 1).percent_complete == 0


def test_a_town_administrator_cannot_report_on_a_department_commitment(published, users):
    with pytest.raises(PermissionDenied):
        services.submit_progress(
            users["east_admin"], number(published, 1), text="x", percent_complete=10
        )


def test_a_town_administrator_reports_on_the_towns_own_commitment(published, users):
    r = services.submit_progress(
        users["east_admin"], number(published, 3), text="已招标", percent_complete=10
    )
    assert r.commitment.number == 3


def test_no_progress_on_a_draft_list(programme, tree, users):
    c = services.add_commitment(users["county_admin"], programme, item_2026(tree))
    with pytest.raises(ValidationError, match="published list"):
        report(users, c)


@pytest.mark.parametrize("percent", [-1, 101, "abc", None])
def test_a_percentage_out_of_range_is_refused(published, users, percent):
    with pytest.raises(ValidationError) as exc:
        report(users, number(published, 1), percent_complete=percent)
    assert "percent_complete" in exc.value.message_dict
    assert not ProgressReport.objects.exists()


def test_a_report_must_say_what_was_done(published, users):
    with pytest.raises(ValidationError) as exc:
        report(users, number(published, 1), text="   ")
    assert "text" in exc.value.message_dict


def test_a_negative_target_value_is_refused(published, users):
    c = number(published, 1)
    with pytest.raises(ValidationError, match="negative"):
        report(users, c, target_values={str(c.targets.get().pk): "-3"})


def test_a_target_of_another_commitment_is_refused(published, users):
    other = number(published, 2).targets.get()
    with pytest.raises(ValidationError) as exc:
        report(users, number(published, 1), target_values={str(other.pk): "3"})
    assert "target_values" in exc.value.message_dict


def test_a_target_key_that_is_not_a_number_gets_a_clear_message(published, users):
    with pytest.raises(ValidationError):
        report(users, number(published, 1), target_values={"abc": "3"})


@pytest.mark.parametrize(
    "name, data, kind",
    [
        ("site.png", picture("PNG"), Evidence.Kind.PNG),
        ("site.jpg", picture("JPEG"), Evidence.Kind.JPEG),
        ("acceptance.pdf", PDF, Evidence.Kind.PDF),
        # By content, not by name: a PNG called .jpg is stored as the PNG it is.
        ("photo.jpg", picture("PNG"), Evidence.Kind.PNG),
    ],
)
def test_photos_and_pdfs_are_accepted_by_their_content(
    published, users, settings, tmp_path, name, data, kind
):
    settings.MEDIA_ROOT = tmp_path
    r = report(users, number(published, 1), files=[upload(name, data)])
    evidence = r.evidence.get()
    assert evidence.content_type == kind
    assert evidence.original_name == name
    assert evidence.file.read(4) == data[:4]
    # PDFs may carry personal data: internal until a reviewer decides.
    assert evidence.is_public == (kind != Evidence.Kind.PDF)


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("photo.jpg", "这是一段文字，不是照片".encode(), "is not a photo"),
        ("photo.jpg", b"", "is empty"),
        ("scan.pdf", b"%PDF-1.4\n1 0 obj", "not a complete PDF"),
        ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "could not be read"),
    ],
)
def test_evidence_that_is_not_what_it_claims_is_refused(
    published, users, settings, tmp_path, name, data, message
):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError, match=message):
        report(users, number(published, 1), files=[upload(name, data)])
    assert not ProgressReport.objects.exists()
    assert not Evidence.objects.exists()


def test_oversized_evidence_is_refused(published, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = picture("PNG")
    settings.EVIDENCE_MAX_BYTES = len(data) - 1
    with pytest.raises(ValidationError, match="larger than"):
        report(users, number(published, 1), files=[upload("big.png", data)])
    assert not ProgressReport.objects.exists()


def test_the_location_is_removed_from_a_photo(published, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (19.0, 30.0, 0.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (110.0, 20.0, 0.0),
        }
    )
    data = picture("JPEG", exif)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the premise
    r = report(users, number(published, 1), files=[upload("site.jpg", data)])
    stored = Image.open(r.evidence.get().file)
    assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert ExifTags.Base.Make not in stored.getexif()


# --- review -----------------------------------------------------------------------------------------


def test_accepting_a_report_changes_the_public_figures_and_snapshots_them(published, users):
    c = number(published, 2)
    target = c.targets.get()
    r = report(users, c, percent_complete=70, target_values={str(target.pk): "400"})
    services.review_progress(users["county_admin"], r, accept=True)
    c.refresh_from_db()
    target.refresh_from_db()
    assert (c.status, c.percent_complete, c.version) == (Status.IN_PROGRESS, 70, 2)
    assert target.actual_value == Decimal("400.00")
    snap = Snapshot.objects.filter(commitment=c, cause=Snapshot.Cause.PROGRESS).get()
    assert snap.data["percent_complete"] == 70
    assert snap.data["targets"][0]["actual_value"] == "400.00"
    r.refresh_from_db()
    assert (r.state, r.reviewed_by) == (ProgressReport.State.ACCEPTED, users["county_admin"])
    assert Notification.objects.filter(
        user=users["unit_officer"], kind="commitments.report_accepted"
    ).exists()


def test_an_accepted_delivery_marks_the_commitment_delivered_on_the_report_date(published, users):
    r = report(users, number(published, 1), percent_complete=90, delivered=True)
    services.review_progress(users["county_admin"], r, accept=True)
    c = number(published, 1)
    assert (c.status, c.percent_complete) == (Status.DELIVERED, 100)
    assert c.delivered_on == timezone.localdate(r.submitted_at)


def test_a_lower_percentage_never_lowers_the_public_figure(published, users):
    c = number(published, 1)
    services.review_progress(
        users["county_admin"], report(users, c, percent_complete=60), accept=True
    )
    services.review_progress(
        users["county_admin"], report(users, c, percent_complete=30), accept=True
    )
    assert number(published, 1).percent_complete == 60


def test_returning_a_report_needs_a_reason_and_changes_nothing_public(published, users):
    c = number(published, 1)
    r = report(users, c, percent_complete=80)
    with pytest.raises(ValidationError) as exc:
        services.review_progress(users["county_admin"], r, accept=False, reason=" ")
    assert "reason" in exc.value.message_dict
    services.review_progress(users["county_admin"], r, accept=False, reason="缺少照片")
    r.refresh_from_db()
    assert (r.state, r.return_reason) == (ProgressReport.State.RETURNED, "缺少照片")
    assert number(published, 1).percent_complete == 0
    assert not Snapshot.objects.filter(cause=Snapshot.Cause.PROGRESS).exists()
    note = Notification.objects.get(user=users["unit_officer"], kind="commitments.report_returned")
    assert "缺少照片" in render(note)


def test_a_report_is_reviewed_once(published, users):
    r = report(users, number(published, 1))
    services.review_progress(users["county_admin"], r, accept=True)
    with pytest.raises(ValidationError, match="already been reviewed"):
        services.review_progress(users["county_admin"], r, accept=False, reason="重审")


def test_nobody_reviews_their_own_report(published, users):
    r = services.submit_progress(
        users["county_admin"], number(published, 1), text="自报", percent_complete=10
    )
    with pytest.raises(PermissionDenied, match="someone other than its author"):
        services.review_progress(users["county_admin"], r, accept=True)


def test_a_unit_officer_cannot_review(published, users):
    r = services.submit_progress(
        users["east_admin"], number(published, 3), text="已招标", percent_complete=10
    )
    with pytest.raises(PermissionDenied):
        services.review_progress(users["unit_officer"], r, accept=True)


def test_a_delivery_reported_before_a_cancellation_does_not_revive_the_commitment(published, users):
    c = number(published, 1)
    r = report(users, c, percent_complete=100, delivered=True)
    approve(users, propose(users, published, "cancel", [c]))
    with pytest.raises(ValidationError, match="no longer on the list"):
        services.review_progress(users["county_admin"], r, accept=True)
    assert number(published, 1).status == Status.CANCELLED


def test_the_county_office_accepts_a_delivered_commitment(published, users):
    c = number(published, 1)
    with pytest.raises(ValidationError, match="Only a delivered"):
        services.accept_delivery(users["county_admin"], c)
    services.review_progress(
        users["county_admin"], report(users, c, percent_complete=100, delivered=True), accept=True
    )
    with pytest.raises(PermissionDenied):
        services.accept_delivery(users["unit_officer"], number(published, 1))
    c = services.accept_delivery(users["county_admin"], number(published, 1), note="验收合格")
    assert c.status == Status.ACCEPTED
    assert Snapshot.objects.filter(commitment=c).latest("valid_from", "id").data["status"] == (
        "accepted"
    )


# --- adjustments --------------------------------------------------------------------------------


def propose(users, programme, kind, commitments, payload=None, who="unit_officer"):
    return services.propose_adjustment(
        users[who],
        programme,
        kind=kind,
        commitments=commitments,
        payload=payload or {},
        reason="群众反映强烈",
    )


def approve(users, adjustment, who="county_admin"):
    return services.decide_adjustment(users[who], adjustment, approve=True)


def test_an_adjustment_needs_a_reason(published, users):
    with pytest.raises(ValidationError) as exc:
        services.propose_adjustment(
            users["unit_officer"],
            published,
            kind="cancel",
            commitments=[number(published, 1)],
            payload={},
            reason="",
        )
    assert "reason" in exc.value.message_dict


def test_adjustments_are_made_to_a_published_list_only(programme, tree, users):
    c = services.add_commitment(users["county_admin"], programme, item_2026(tree))
    with pytest.raises(ValidationError, match="published list"):
        propose(users, programme, "cancel", [c], who="county_admin")


def test_a_cadre_cannot_propose_an_adjustment(published, users):
    with pytest.raises(PermissionDenied):
        propose(users, published, "cancel", [number(published, 1)], who="cadre")


def test_a_unit_officer_cannot_propose_for_another_units_commitment(published, users):
    with pytest.raises(PermissionDenied):
        propose(users, published, "cancel", [number(published, 3)])


def test_an_addition_creates_the_next_number_when_approved(published, tree, users):
    users["office"] = make_user(tree, "office", RoleKind.COUNTY_ADMIN, "county", "dept")
    adj = propose(
        users, published, "add", [], {"commitment": item_2026(tree, title="新增项目")}, who="office"
    )
    assert not Commitment.objects.filter(title="新增项目").exists()
    adj = approve(users, adj)
    added = adj.results.get()
    assert (added.number, added.title, added.status) == (4, "新增项目", Status.PLANNED)
    assert adj.state == Adjustment.State.APPROVED and adj.applied_at is not None
    assert Snapshot.objects.filter(commitment=added, adjustment=adj).count() == 1
    assert Notification.objects.filter(
        user=users["office"], kind="commitments.adjustment_decided"
    ).exists()


def test_a_town_administrator_cannot_propose_an_addition_to_the_county_list(published, tree, users):
    with pytest.raises(PermissionDenied):
        propose(
            users,
            published,
            "add",
            [],
            {"commitment": item_2026(tree, responsible_unit=tree["east"])},
            who="east_admin",
        )


def test_a_change_applies_the_fields_and_keeps_the_number(published, users):
    c = number(published, 1)
    adj = propose(users, published, "change", [c], {"fields": {"budget_planned": "50000000"}})
    approve(users, adj)
    c.refresh_from_db()
    assert (c.number, c.budget_planned, c.version) == (1, Decimal("50000000.00"), 2)
    with pytest.raises(ValidationError, match="keeps its number"):
        propose(users, published, "change", [c], {"fields": {"number": 9}})
    with pytest.raises(ValidationError, match="Say what changes"):
        propose(users, published, "change", [c], {"fields": {}})


def test_a_merge_replaces_the_merged_items_by_one(published, tree, users):
    a, b = number(published, 1), number(published, 2)
    adj = propose(
        users, published, "merge", [a, b], {"into": item_2026(tree, title="学前与高中教育扩容")}
    )
    approve(users, adj)
    into = adj.results.get()
    for c in (a, b):
        c.refresh_from_db()
        assert (c.status, c.merged_into) == (Status.MERGED, into)
    assert services.summary(published)["on_list"] == 2
    with pytest.raises(ValidationError, match="at least two"):
        propose(users, published, "merge", [into], {"into": item_2026(tree)})


def test_a_split_cancels_the_item_and_makes_its_parts(published, tree, users):
    c = number(published, 2)
    parts = [item_2026(tree, title="一期"), item_2026(tree, title="二期")]
    adj = approve(users, propose(users, published, "split", [c], {"parts": parts}))
    assert sorted(adj.results.values_list("title", flat=True)) == ["一期", "二期"]
    c.refresh_from_db()
    assert c.status == Status.CANCELLED
    assert services.summary(published)["on_list"] == 4
    with pytest.raises(ValidationError, match="at least two"):
        propose(users, published, "split", [number(published, 1)], {"parts": parts[:1]})


def test_a_deferral_moves_the_deadline_later(published, users):
    c = number(published, 1)
    with pytest.raises(ValidationError, match="later than"):
        propose(users, published, "defer", [c], {"deadline": "2026-10-01"})
    approve(users, propose(users, published, "defer", [c], {"deadline": "2027-03-31"}))
    c.refresh_from_db()
    assert (c.status, c.deadline) == (Status.DEFERRED, dt.date(2027, 3, 31))


def test_a_delivered_commitment_cannot_be_deferred(published, users):
    c = number(published, 1)
    services.review_progress(
        users["county_admin"], report(users, c, percent_complete=100, delivered=True), accept=True
    )
    with pytest.raises(ValidationError):
        propose(users, published, "defer", [c], {"deadline": "2027-03-31"})


def test_a_cancellation_takes_the_item_off_the_list_and_stops_reports(published, users):
    c = number(published, 1)
    approve(users, propose(users, published, "cancel", [c]))
    c.refresh_from_db()
    assert c.status == Status.CANCELLED
    assert services.summary(published)["on_list"] == 2
    assert light_of(c) is None
    with pytest.raises(ValidationError, match="no longer on the list"):
        report(users, c)
    with pytest.raises(ValidationError, match="no longer on the list"):
        propose(users, published, "defer", [c], {"deadline": "2027-03-31"})


def test_an_adjustment_is_approved_once(published, users):
    adj = approve(users, propose(users, published, "cancel", [number(published, 1)]))
    with pytest.raises(ValidationError, match="already been decided"):
        approve(users, adj)
    assert Decision.objects.filter(adjustment=adj).count() == 1


def test_the_proposer_cannot_approve_their_own_adjustment(published, users):
    adj = propose(users, published, "cancel", [number(published, 1)], who="county_admin")
    with pytest.raises(PermissionDenied, match="other than its proposer"):
        approve(users, adj)
    adj.refresh_from_db()
    assert adj.state == Adjustment.State.PROPOSED


def test_a_unit_officer_cannot_approve(published, users):
    adj = propose(users, published, "cancel", [number(published, 3)], who="east_admin")
    with pytest.raises(PermissionDenied):
        approve(users, adj, who="unit_officer")


def test_two_level_approval_needs_a_county_leader_after_the_office(published, tree, users):
    Programme.objects.filter(pk=published.pk).update(approval_levels=2)
    users["leader"] = make_user(tree, "leader", RoleKind.LEADER, "county", "dept")
    c = number(published, 1)
    adj = propose(users, published, "cancel", [c])
    with pytest.raises(PermissionDenied):
        approve(users, adj, who="leader")  # the leader gives the second approval, not the first
    adj = approve(users, adj)
    assert adj.state == Adjustment.State.FIRST_APPROVED
    assert number(published, 1).status == Status.PLANNED  # nothing applied yet
    with pytest.raises(PermissionDenied):
        approve(users, adj)  # the office cannot give the final approval
    adj = approve(users, adj, who="leader")
    assert adj.state == Adjustment.State.APPROVED
    assert list(adj.decisions.values_list("level", "decided_by__username")) == [
        (1, "county_admin"),
        (2, "leader"),
    ]
    assert number(published, 1).status == Status.CANCELLED


def test_a_rejection_needs_a_note_and_changes_nothing(published, users):
    c = number(published, 1)
    adj = propose(users, published, "defer", [c], {"deadline": "2027-03-31"})
    with pytest.raises(ValidationError) as exc:
        services.decide_adjustment(users["county_admin"], adj, approve=False)
    assert "note" in exc.value.message_dict
    adj = services.decide_adjustment(users["county_admin"], adj, approve=False, note="理由不足")
    assert adj.state == Adjustment.State.REJECTED
    assert adj.decisions.get().note == "理由不足"
    c.refresh_from_db()
    assert (c.status, c.deadline) == (Status.PLANNED, dt.date(2026, 10, 31))
    assert not Snapshot.objects.filter(cause=Snapshot.Cause.ADJUSTMENT).exists()


def test_only_the_proposer_withdraws_and_only_before_a_decision(published, users):
    adj = propose(users, published, "cancel", [number(published, 1)])
    with pytest.raises(PermissionDenied):
        services.withdraw_adjustment(users["county_admin"], adj)
    adj = services.withdraw_adjustment(users["unit_officer"], adj)
    assert adj.state == Adjustment.State.WITHDRAWN
    with pytest.raises(ValidationError, match="already been decided"):
        approve(users, adj)
    with pytest.raises(ValidationError, match="already been decided"):
        services.withdraw_adjustment(users["unit_officer"], adj)


def test_a_failing_approval_leaves_nothing_half_applied(published, tree, users):
    """Two proposals concern item 1; once it is cancelled, the merge cannot apply."""
    a, b = number(published, 1), number(published, 2)
    merge = propose(users, published, "merge", [a, b], {"into": item_2026(tree, title="合并")})
    approve(users, propose(users, published, "cancel", [a]))
    entries = Entry.objects.count()
    with pytest.raises(ValidationError, match="no longer on the list"):
        approve(users, merge)
    merge.refresh_from_db()
    assert merge.state == Adjustment.State.PROPOSED
    assert not merge.decisions.exists() and not merge.results.exists()
    assert not Commitment.objects.filter(title="合并").exists()
    b.refresh_from_db()
    assert (b.status, b.merged_into, b.version) == (Status.PLANNED, None, 1)
    assert Entry.objects.count() == entries


def test_delivery_completes_the_milestones_still_open(published, users):
    c = number(published, 1)
    services.review_progress(
        users["county_admin"], report(users, c, percent_complete=100, delivered=True), accept=True
    )
    c.refresh_from_db()
    assert [m.done_date for m in c.milestones.all()] == [c.delivered_on]
    assert services.list_on(published, timezone.now())[c.pk]["milestones"][0]["done_date"] == (
        c.delivered_on.isoformat()
    )


def test_a_past_event_recorded_by_the_system_notifies_nobody(published, users):
    before = Notification.objects.count()
    past = timezone.now() - dt.timedelta(days=30)
    done = services.submit_progress(
        None, number(published, 1), text="补录", percent_complete=50, at=past
    )
    services.review_progress(None, done, accept=True, at=past)
    assert Notification.objects.count() == before
    services.submit_progress(
        users["unit_officer"], number(published, 1), text="今天", percent_complete=60
    )
    assert Notification.objects.count() > before
