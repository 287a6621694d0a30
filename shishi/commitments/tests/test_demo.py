"""The demo programme (the interview's list, through the services) and generated programmes."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from shishi.audit.models import Entry, Head
from shishi.commitments import services
from shishi.commitments.demo.data import PUBLISHED, programme_title
from shishi.commitments.demo.story import Story
from shishi.commitments.lights import light_of
from shishi.commitments.models import (
    Adjustment,
    Commitment,
    Evidence,
    Programme,
    ProgressReport,
    Snapshot,
    Status,
    Target,
)
from shishi.lib.workdays import Light
from shishi.orgs.models import Org, OrgKind

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="class")
def built(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo, built once for the class (it takes seconds) and rolled back after it."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        run("demo")
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(built, db) -> Programme:
    return Programme.objects.get(county__name="青禾县")


class TestTheDemo:
    """Built once: 132 on the list, 71 delivered, a year of history."""

    def test_the_demo_list_is_this_years_interview_list(self, demo):
        year = timezone.localdate().year
        assert demo.year == year
        assert (
            demo.title == f"{year}年青禾县为民办实事项目清单" == programme_title(demo.county, year)
        )
        assert demo.status == Programme.Status.PUBLISHED
        titles = set(demo.commitments.values_list("title", flat=True))
        assert {
            "新建公办幼儿园",
            "新增高中学位",
            "农家书屋规范化建设",
            "村（居）务监督委员会全覆盖",
        } <= titles

    def test_the_demo_has_132_on_the_list_and_71_delivered(self, demo):
        figures = services.summary(demo)
        assert (figures["on_list"], figures["delivered"]) == (132, 71)
        assert figures["open"] == 61 and figures["removed"] == 4
        assert figures["counts"]["accepted"] > 0

    def test_the_interviews_targets_are_on_the_list(self, demo):
        targets = {
            (t.name, t.unit): t.target_value
            for t in Target.objects.filter(commitment__programme=demo)
        }
        assert targets[("新建公办幼儿园", "所")] == 5
        assert targets[("新增高中学位", "个")] == 535
        assert targets[("设置绿色通道的医疗机构", "家")] == 19
        assert targets[("规范建设农家书屋", "个")] == 110 and targets[("示范点", "个")] == 2
        assert targets[("上线事项", "项")] == 15
        assert targets[("成立村（居）务监督委员会", "个")] == 126
        assert targets[("返岗复工脱贫劳动力", "人")] == 15625
        assert targets[("培训人次", "人次")] == 1565
        collective = demo.commitments.get(title="扶持壮大村级集体经济")
        assert collective.budget_planned == 68_690_000

    def test_every_demo_commitment_has_a_unit_of_the_county_a_post_and_targets(self, demo):
        for c in demo.commitments.select_related("responsible_unit"):
            assert c.responsible_unit.county_id == demo.county_id
            assert c.responsible_unit.kind in (OrgKind.DEPARTMENT, OrgKind.TOWN)
            assert c.lead_official and c.lead_official[0] not in "王李张刘陈"  # a post, not a name
            assert 1 <= c.targets.count() <= 2 and 1 <= c.milestones.count() <= 3
            assert c.start_date <= c.deadline
        assert len(set(demo.commitments.values_list("category", flat=True))) == 9

    def test_the_demo_has_lights_of_every_colour(self, demo):
        lights = Counter(light_of(c) for c in demo.commitments.all())
        assert lights[Light.OVERDUE] >= 5
        assert lights[Light.DUE_SOON] >= 3
        assert lights[Light.ON_TRACK] > 0
        assert lights[Light.DONE_ON_TIME] + lights[Light.DONE_LATE] == 71

    def test_the_demo_history_of_adjustments_has_reasons(self, demo):
        adjustments = Adjustment.objects.filter(programme=demo)
        approved = Counter(adjustments.filter(state="approved").values_list("kind", flat=True))
        assert approved == {"defer": 3, "cancel": 1, "merge": 1, "split": 1, "add": 2, "change": 2}
        rejected = adjustments.get(state="rejected")
        assert rejected.decisions.get().note
        assert adjustments.filter(state="proposed").count() == 1
        assert all(a.reason for a in adjustments)
        assert all(a.proposed_at < timezone.now() for a in adjustments)
        merged = demo.commitments.filter(status=Status.MERGED)
        assert merged.count() == 2 and len({c.merged_into_id for c in merged}) == 1

    def test_the_demo_keeps_the_list_as_first_published(self, demo):
        first = services.list_on(demo, demo.published_at)
        assert len(first) == PUBLISHED
        assert demo.published_at.year == demo.year
        assert services.list_diff(demo, demo.published_at, timezone.now())

    def test_the_demo_history_is_consistent_with_the_list_today(self, demo):
        """Events were recorded in time order, so the latest snapshot is each commitment today."""
        today = services.list_on(demo, timezone.now())
        commitments = demo.commitments.all()
        assert len(today) == commitments.count()
        for c in commitments:
            assert today[c.pk] == services.public_fields(c), c.number

    def test_delivered_commitments_carry_accepted_reports_with_photos(self, demo):
        delivered = demo.commitments.filter(status__in=[Status.DELIVERED, Status.ACCEPTED])
        for c in delivered:
            report = c.reports.get(mark_delivered=True, state=ProgressReport.State.ACCEPTED)
            assert report.evidence.get().content_type == Evidence.Kind.JPEG
        sizes = Evidence.objects.filter(report__commitment__programme=demo).values_list(
            "size", flat=True
        )
        assert len(sizes) == 71 and max(sizes) < 40_000
        photo = Evidence.objects.filter(report__commitment__programme=demo).first()
        assert photo.is_public and photo.file.read(3) == b"\xff\xd8\xff"

    def test_the_demo_leaves_work_waiting_in_the_workspaces(self, demo):
        reports = ProgressReport.objects.filter(commitment__programme=demo)
        waiting = reports.filter(state=ProgressReport.State.SUBMITTED)
        assert 2 <= waiting.count() <= 3
        assert {r.submitted_by.username for r in waiting} == {"unit_officer"}
        returned = reports.get(state=ProgressReport.State.RETURNED)
        assert returned.return_reason and returned.reviewed_by.username == "county_admin"
        pending = Adjustment.objects.get(programme=demo, state="proposed")
        assert pending.proposed_by.username == "unit_officer"

    def test_the_demo_is_audited_and_the_chain_is_whole(self, demo):
        assert Entry.objects.filter(action="commitments.programme.published").count() == 1
        assert Entry.objects.filter(action="commitments.report.accepted").count() > 71
        assert run("verify_audit").startswith("audit chain whole")

    def test_running_the_demo_again_changes_nothing(self, demo):
        before = (
            Commitment.objects.count(),
            ProgressReport.objects.count(),
            Adjustment.objects.count(),
            Snapshot.objects.count(),
            tuple(Head.objects.values()),
        )
        run("demo")
        after = (
            Commitment.objects.count(),
            ProgressReport.objects.count(),
            Adjustment.objects.count(),
            Snapshot.objects.count(),
            tuple(Head.objects.values()),
        )
        assert after == before

    def test_the_demo_plan_is_the_same_for_the_same_seed(self, demo):
        def titles(seed):
            specs, _roles = Story(demo.county, seed, demo.year).plan()
            return [s.title for s in specs]

        assert titles(2021) == list(
            demo.commitments.filter(number__lte=PUBLISHED).values_list("title", flat=True)
        )
        assert titles(2021) == titles(2021)
        assert titles(7) != titles(2021)


# --- generated programmes -------------------------------------------------------------------------


def shape(programme: Programme) -> dict:
    figures = services.summary(programme)
    return {
        "on_list": figures["on_list"],
        "adjustments": programme.adjustments.count(),
        "reports": 800
        <= ProgressReport.objects.filter(commitment__programme=programme).count()
        <= 1300,
        "kinds": set(programme.adjustments.values_list("kind", flat=True)),
        "states": set(programme.adjustments.values_list("state", flat=True)),
    }


def test_generated_counties_each_get_a_programme_of_the_same_shape(db):
    run("generate", counties=2)
    first, second = Programme.objects.order_by("county__code")
    assert (
        shape(first)
        == shape(second)
        == {
            "on_list": 132,
            "adjustments": 200,
            "reports": True,
            "kinds": {"add", "change", "merge", "split", "defer", "cancel"},
            "states": {"approved", "rejected", "withdrawn", "proposed"},
        }
    )
    for programme in (first, second):
        delivered = services.summary(programme)["delivered"]
        assert 40 <= delivered <= 100
        entry = Entry.objects.get(
            action="commitments.programme.generated", county_id=programme.county_id
        )
        assert entry.data["commitments"] == programme.commitments.count()
        assert (
            entry.data["reports"] == ProgressReport.objects.filter(county=programme.county).count()
        )
    # One entry a programme, and one for each default category the first one created.
    assert Entry.objects.filter(action="commitments.programme.generated").count() == 2
    assert Entry.objects.filter(action="commitments.category.created").count() == len(
        services.DEFAULT_CATEGORIES
    )
    assert Entry.objects.filter(action__startswith="commitments.").count() == 2 + len(
        services.DEFAULT_CATEGORIES
    )


def test_a_generated_history_is_consistent_with_the_list_today(db):
    run("generate", counties=1)
    programme = Programme.objects.get()
    today = services.list_on(programme, timezone.now())
    for c in programme.commitments.all():
        assert today[c.pk] == services.public_fields(c), c.number
    first = services.list_on(programme, programme.published_at)
    assert len(first) == 132


def test_generated_programmes_are_the_same_for_the_same_seed(db):
    def titles():
        return list(
            Commitment.objects.order_by("county__code", "number").values_list("title", "status")
        )

    with transaction.atomic():
        run("generate", counties=2)
        first = titles()
        transaction.set_rollback(True)
    assert not Commitment.objects.exists()
    run("generate", counties=2)
    assert titles() == first


def test_generating_again_leaves_the_programmes_alone(db):
    run("generate", counties=1)
    before = (Commitment.objects.count(), tuple(Head.objects.values()))
    run("generate", counties=1)
    assert (Commitment.objects.count(), tuple(Head.objects.values())) == before
    assert Org.objects.filter(kind=OrgKind.COUNTY).count() == 1
