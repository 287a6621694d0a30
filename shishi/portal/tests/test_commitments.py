"""The public commitments pages: the lists, one list with filters and formulas, a commitment's
detail and timeline, the change log, the list on a date, and public evidence. No sign-in, and no
personal data anywhere."""

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from shishi.commitments import services
from shishi.commitments.models import Evidence, Programme, ProgressReport
from shishi.lib.masking import mask_phone
from shishi.orgs.models import Person
from shishi.workdays.services import forget

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def media_and_calendar(settings, tmp_path):
    """Evidence files land in a temporary folder; the calendar cached by an earlier test (whose
    days were rolled back) is forgotten."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    forget()


@pytest.fixture
def en(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def jpeg(name: str = "site.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 40)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def pdf() -> SimpleUploadedFile:
    data = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    return SimpleUploadedFile("minutes.pdf", data, content_type="application/pdf")


def item(unit, title: str, category: str = "education", *, deadline: int = 200, **extra) -> dict:
    today = timezone.localdate()
    return {
        "title": title,
        "category": category,
        "responsible_unit": unit,
        "start_date": today - 250 * DAY,
        "deadline": today + deadline * DAY,
        **extra,
    }


def accepted(users, commitment, text: str, **kwargs) -> ProgressReport:
    report = services.submit_progress(
        users["unit_officer"], commitment, text=text, percent_complete=40, **kwargs
    )
    return services.review_progress(users["county_admin"], report, accept=True)


def approved(users, programme, kind: str, commitment, payload: dict, reason: str, note: str):
    adjustment = services.propose_adjustment(
        users["unit_officer"],
        programme,
        kind=kind,
        commitments=[commitment],
        payload=payload,
        reason=reason,
    )
    return services.decide_adjustment(users["county_admin"], adjustment, approve=True, note=note)


def publish(users, tree, year: int, items: list[dict]) -> tuple[Programme, dict]:
    admin = users["county_admin"]
    programme = services.create_programme(
        admin, county=tree["county"], year=year, title=f"测试县{year}年民生实事"
    )
    made = {}
    for n, data in enumerate(items, start=1):
        made[n] = services.add_commitment(admin, programme, data)
    # Published a month ago (the system may date it), so the list "as first published" differs
    # from today's.
    programme = services.publish_programme(None, programme, at=timezone.now() - 30 * DAY)
    return programme, made


@pytest.fixture
def listing(tree, users):
    """Seven commitments, one of each light, one deferred, one cancelled; reports in each state."""
    today = timezone.localdate()
    dept = tree["dept"]
    programme, c = publish(
        users,
        tree,
        2021,
        [
            item(
                dept,
                "新建公办幼儿园",
                co_units=[tree["east_village"]],
                lead_official="副县长",
                budget_planned="68690000",
                budget_spent="9500",
                targets=[{"name": "新增学位", "unit": "个", "target_value": "535"}],
                milestones=[{"title": "主体完工", "planned_date": today + 100 * DAY}],
                description="在东镇新建一所公办幼儿园。",
            ),
            item(tree["east"], "东镇农贸市场改造", "health", deadline=3),
            item(tree["west_village"], "西一村文化广场", "culture", deadline=-1),
            item(dept, "农村书屋提质", "employment", deadline=30),
            item(dept, "取消的项目", "education"),
            item(dept, "老年人绿色通道", "health"),
            item(dept, "迟到的项目", "culture", deadline=-5),
        ],
    )
    photo_report = accepted(
        users, c[1], "幼儿园主体结构已封顶", files=[jpeg(), pdf()], target_values={}
    )
    waiting = services.submit_progress(
        users["unit_officer"], c[1], text="待审核的进展文字", percent_complete=60, files=[jpeg()]
    )
    returned = services.submit_progress(
        users["unit_officer"], c[1], text="被退回的进展文字", percent_complete=70, files=[jpeg()]
    )
    services.review_progress(users["county_admin"], returned, accept=False, reason="照片不清楚")
    accepted(users, c[6], "绿色通道已开通", delivered=True)
    accepted(users, c[7], "迟到的项目已完成", delivered=True)
    deferral = approved(
        users,
        programme,
        "defer",
        c[4],
        {"deadline": (today + 90 * DAY).isoformat()},
        "选址调整，需延期",
        "同意延期",
    )
    cancel = approved(users, programme, "cancel", c[5], {}, "与另一项目重复", "同意取消")
    rejected = services.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="cancel",
        commitments=[c[1]],
        payload={},
        reason="被驳回的调整理由",
    )
    services.decide_adjustment(users["county_admin"], rejected, approve=False, note="不同意")
    return {
        "programme": programme,
        "c": {n: x for n, x in c.items()},
        "photo_report": photo_report,
        "waiting": waiting,
        "returned": returned,
        "deferral": deferral,
        "cancel": cancel,
    }


def url(name: str, programme, *args) -> str:
    return reverse(f"portal:{name}", args=[programme.pk, *args])


def numbers(response) -> list[int]:
    return [c.number for c in response.context["commitments"]]


# --- the lists of programmes -----------------------------------------------------------------------


def test_the_lists_page_shows_published_programmes_with_their_figures(en, listing, tree, users):
    services.create_programme(
        users["county_admin"], county=tree["county"], year=2030, title="草稿清单"
    )
    response = en.get(reverse("portal:programmes"))
    assert response.status_code == 200
    assert [p.pk for p, _f in response.context["rows"]] == [listing["programme"].pk]
    assert "测试县2021年民生实事" in response.text
    assert "草稿清单" not in response.text
    assert "6 on the list, 2 delivered (33.3%)" in response.text


def test_the_home_page_links_to_the_published_lists(client, tree):
    response = client.get(reverse("portal:home"))
    assert f'href="{reverse("portal:programmes")}"' in response.text


# --- one programme ----------------------------------------------------------------------------------


def test_a_draft_programme_is_not_found_on_any_public_page(client, tree, users):
    draft = services.create_programme(
        users["county_admin"], county=tree["county"], year=2022, title="草稿"
    )
    c = services.add_commitment(users["county_admin"], draft, item(tree["dept"], "草稿项目"))
    for response in [
        client.get(url("programme", draft)),
        client.get(url("commitment", draft, c.number)),
        client.get(url("changes", draft)),
        client.get(url("history", draft)),
    ]:
        assert response.status_code == 404


def test_an_unknown_programme_or_number_is_not_found(client, listing):
    assert client.get(reverse("portal:programme", args=[999999])).status_code == 404
    assert client.get(url("commitment", listing["programme"], 99)).status_code == 404


def test_the_summary_gives_each_figure_with_its_formula(en, listing):
    response = en.get(url("programme", listing["programme"]))
    assert response.status_code == 200
    s = response.context["summary"]
    assert (s["on_list"], s["delivered"], s["removed"], s["rate"]) == (6, 2, 1, 33.3)
    text = response.text
    assert (
        "6 on the list, 2 delivered (delivered = delivered + accepted; "
        "rate = delivered ÷ on the list = 33.3%)"
    ) in text
    assert "= delivered ÷ on the list = 2 ÷ 6" in text
    assert "= all commitments (7) − cancelled or merged away (1)" in text


def test_the_list_leaves_removed_commitments_in_a_collapsed_section_with_their_adjustment(
    en, listing
):
    programme = listing["programme"]
    response = en.get(url("programme", programme))
    assert numbers(response) == [1, 2, 3, 4, 6, 7]
    assert [c.number for c in response.context["removed"]] == [5]
    text = response.text
    section = text[text.index('<details class="removed">') :]
    assert "取消的项目" in section
    assert f"?adjustment={listing['cancel'].pk}" in section
    assert "取消的项目" not in text[: text.index('<details class="removed">')]


def test_the_status_filter_shows_removed_commitments_when_asked(en, listing):
    response = en.get(url("programme", listing["programme"]), {"status": "cancelled"})
    assert numbers(response) == [5]
    assert response.context["removed"] == []
    response = en.get(url("programme", listing["programme"]), {"status": "deferred"})
    assert numbers(response) == [4]


def test_the_category_filter_narrows_the_list(client, listing):
    response = client.get(url("programme", listing["programme"]), {"category": "health"})
    assert numbers(response) == [2, 6]


def test_the_town_filter_counts_the_responsible_unit_and_the_co_units(client, listing, tree):
    programme = listing["programme"]
    east = client.get(url("programme", programme), {"town": tree["east"].pk})
    assert numbers(east) == [1, 2]
    west = client.get(url("programme", programme), {"town": tree["west"].pk})
    assert numbers(west) == [3]


def test_the_unit_filter_narrows_to_the_responsible_unit(client, listing, tree):
    response = client.get(url("programme", listing["programme"]), {"unit": tree["dept"].pk})
    assert numbers(response) == [1, 4, 6, 7]
    assert [c.number for c in response.context["removed"]] == [5]


@pytest.mark.parametrize(
    "light, expected",
    [
        ("on_track", [1, 4]),
        ("due_soon", [2]),
        ("overdue", [3]),
        ("done_on_time", [6]),
        ("done_late", [7]),
    ],
)
def test_the_light_filter_narrows_by_the_computed_light(client, listing, light, expected):
    response = client.get(url("programme", listing["programme"]), {"light": light})
    assert numbers(response) == expected
    assert response.context["removed"] == []


def test_each_row_has_a_light_in_words_and_a_progress_bar(en, listing):
    response = en.get(url("programme", listing["programme"]), {"light": "overdue"})
    assert '<span class="light light-overdue">overdue</span>' in response.text
    assert '<progress max="100" value="0"' in response.text
    response = en.get(url("programme", listing["programme"]), {"light": "on_track"})
    assert '<progress max="100" value="40"' in response.text


def test_filters_combine(client, listing, tree):
    response = client.get(
        url("programme", listing["programme"]), {"unit": tree["dept"].pk, "category": "culture"}
    )
    assert numbers(response) == [7]


def test_a_bad_filter_is_named_on_the_page_and_the_others_still_apply(en, listing, tree):
    response = en.get(
        url("programme", listing["programme"]),
        {"town": "abc", "light": "purple", "category": "health"},
    )
    assert response.status_code == 200
    assert "Town: Select a valid choice." in response.text
    assert "Light: Select a valid choice. purple is not one of the available choices." in (
        response.text
    )
    assert numbers(response) == [2, 6]


def test_a_town_of_another_county_is_refused_as_a_filter(en, listing, tree):
    from shishi.orgs import services as org_services
    from shishi.orgs.models import OrgKind

    other = org_services.create_org(
        None, parent=tree["city"], kind=OrgKind.COUNTY, name="别县", code="990102000000"
    )
    town = org_services.create_org(
        None, parent=other, kind=OrgKind.TOWN, name="别县镇", code="990102100000"
    )
    response = en.get(url("programme", listing["programme"]), {"town": town.pk})
    assert "Town: Select a valid choice." in response.text
    assert len(numbers(response)) == 6


# --- one commitment ----------------------------------------------------------------------------------


def test_the_detail_shows_the_commitment_and_its_accepted_report_with_its_photo(en, listing):
    programme, c1 = listing["programme"], listing["c"][1]
    response = en.get(url("commitment", programme, 1))
    assert response.status_code == 200
    text = response.text
    for expected in [
        "新建公办幼儿园",
        "在东镇新建一所公办幼儿园。",
        "测试县教育局",
        "东一村",
        "副县长",
    ]:
        assert expected in text
    assert "幼儿园主体结构已封顶" in text
    photo = Evidence.objects.get(report=listing["photo_report"], content_type="image/jpeg")
    assert f'href="{reverse("portal:evidence", args=[photo.pk])}"' in text
    # The page shows the thumbnail; the full photo loads only when the visitor follows it.
    assert f'src="{reverse("portal:evidence_thumbnail", args=[photo.pk])}"' in text
    assert f'src="{reverse("portal:evidence", args=[photo.pk])}"' not in text
    assert "新增学位" in text and "0 → 535" in text
    assert "主体完工" in text
    assert c1.title in text


def test_the_detail_never_shows_a_report_awaiting_review_or_returned(client, listing):
    response = client.get(url("commitment", listing["programme"], 1))
    assert "待审核的进展文字" not in response.text
    assert "被退回的进展文字" not in response.text
    assert "照片不清楚" not in response.text
    for report in [listing["waiting"], listing["returned"]]:
        for ev in report.evidence.all():
            assert reverse("portal:evidence", args=[ev.pk]) not in response.text


def test_the_detail_shows_the_budget_in_ten_thousand_yuan_with_the_exact_amount(en, listing):
    response = en.get(url("commitment", listing["programme"], 1))
    assert '<span title="68,690,000.00 yuan">6,869.00 ten-thousand yuan</span>' in response.text
    # Below 10,000 yuan the amount stays in yuan.
    assert '<span title="9,500.00 yuan">9,500.00 yuan</span>' in response.text


def test_a_deferred_commitment_shows_the_adjustment_with_its_reason_and_note(en, listing):
    response = en.get(url("commitment", listing["programme"], 4))
    text = response.text
    assert "选址调整，需延期" in text and "同意延期" in text
    assert "defer to a new deadline" in text
    new = (timezone.localdate() + 90 * DAY).isoformat()
    old = (timezone.localdate() + 30 * DAY).isoformat()
    assert f"<del>{old}</del>" in text and f"<ins>{new}</ins>" in text


def test_a_cancelled_commitment_links_to_its_adjustment(en, listing):
    response = en.get(url("commitment", listing["programme"], 5))
    assert response.status_code == 200
    assert "与另一项目重复" in response.text
    assert "This commitment was cancelled by an approved adjustment" in response.text


def test_a_merged_commitment_links_to_the_one_it_became_and_that_one_says_where_it_came_from(
    en, listing, users, tree
):
    programme, c = listing["programme"], listing["c"]
    adjustment = services.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="merge",
        commitments=[c[1], c[4]],
        payload={"into": item(tree["dept"], "合并后的项目", "health")},
        reason="两项合并办理",
    )
    services.decide_adjustment(users["county_admin"], adjustment, approve=True)
    merged = en.get(url("commitment", programme, 1)).text
    assert "This commitment was merged into" in merged
    assert f'href="{url("commitment", programme, 8)}"' in merged
    result = en.get(url("commitment", programme, 8)).text
    assert "This commitment came onto the list by an approved adjustment" in result
    assert "两项合并办理" in result


# --- evidence ------------------------------------------------------------------------------------------


def test_a_public_photo_of_an_accepted_report_is_served_inline(client, listing):
    photo = Evidence.objects.get(report=listing["photo_report"], content_type="image/jpeg")
    response = client.get(reverse("portal:evidence", args=[photo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="evidence-{photo.pk}.jpg"'
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")


def test_a_pdf_that_is_not_public_is_neither_linked_nor_served(client, listing):
    document = Evidence.objects.get(report=listing["photo_report"], content_type="application/pdf")
    assert document.is_public is False
    evidence_url = reverse("portal:evidence", args=[document.pk])
    assert evidence_url not in client.get(url("commitment", listing["programme"], 1)).text
    assert client.get(evidence_url).status_code == 404


def test_a_public_pdf_is_served_as_a_sandboxed_download(client, listing, users):
    document = Evidence.objects.get(report=listing["photo_report"], content_type="application/pdf")
    services.set_evidence_public(users["county_admin"], document, True)
    response = client.get(reverse("portal:evidence", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="evidence-{document.pk}.pdf"'
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_evidence_of_a_returned_or_waiting_report_is_not_served(client, listing):
    for report in [listing["returned"], listing["waiting"]]:
        [photo] = report.evidence.all()
        assert photo.is_public
        assert client.get(reverse("portal:evidence", args=[photo.pk])).status_code == 404
    assert client.get(reverse("portal:evidence", args=[999999])).status_code == 404


def test_evidence_whose_file_is_gone_is_not_found(client, listing):
    photo = Evidence.objects.get(report=listing["photo_report"], content_type="image/jpeg")
    photo.file.storage.delete(photo.file.name)
    assert client.get(reverse("portal:evidence", args=[photo.pk])).status_code == 404


def thumbnail(evidence) -> str:
    return reverse("portal:evidence_thumbnail", args=[evidence.pk])


def test_the_thumbnail_of_a_public_photo_is_served_inline_at_most_96_pixels(client, listing):
    photo = Evidence.objects.get(report=listing["photo_report"], content_type="image/jpeg")
    response = client.get(thumbnail(photo))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert (
        response["Content-Disposition"] == f'inline; filename="evidence-{photo.pk}-thumbnail.jpg"'
    )
    small = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert small.format == "JPEG" and max(small.size) <= 96


def test_a_photo_and_its_thumbnail_stream_past_the_page_cache(client, listing, page_cache):
    photo = Evidence.objects.get(report=listing["photo_report"], content_type="image/jpeg")
    for path in [reverse("portal:evidence", args=[photo.pk]), thumbnail(photo)] * 2:
        response = client.get(path)
        assert response.status_code == 200 and response.streaming
        assert "X-Page-Cache" not in response


def test_the_public_page_shows_thumbnails_and_links_the_full_photo(client, listing, tree, users):
    programme = listing["programme"]
    report = accepted(users, listing["c"][4], "书屋改造过半", files=[jpeg("a.jpg"), jpeg("b.jpg")])
    text = client.get(url("commitment", programme, 4)).text
    for photo in report.evidence.all():
        full = reverse("portal:evidence", args=[photo.pk])
        assert f'<a href="{full}"><img src="{thumbnail(photo)}"' in text
        assert f'src="{full}"' not in text


def test_thumbnails_follow_the_rule_of_the_photos(client, listing, users):
    waiting, returned = listing["waiting"], listing["returned"]
    for report in [waiting, returned]:
        [photo] = report.evidence.all()
        assert photo.thumbnail
        assert client.get(thumbnail(photo)).status_code == 404
    document = Evidence.objects.get(report=listing["photo_report"], content_type="application/pdf")
    assert client.get(thumbnail(document)).status_code == 404
    assert client.get(reverse("portal:evidence_thumbnail", args=[999999])).status_code == 404


def test_a_withdrawn_photo_and_its_thumbnail_are_gone_from_the_public_page(client, listing, users):
    photo = Evidence.objects.get(report=listing["photo_report"], content_type="image/jpeg")
    services.set_evidence_public(users["county_admin"], photo, False)
    text = client.get(url("commitment", listing["programme"], 1)).text
    assert thumbnail(photo) not in text
    assert client.get(thumbnail(photo)).status_code == 404
    assert client.get(reverse("portal:evidence", args=[photo.pk])).status_code == 404


def test_nothing_of_a_programme_that_is_not_public_is_served(client, listing):
    photo = Evidence.objects.get(report=listing["photo_report"], content_type="image/jpeg")
    assert client.get(thumbnail(photo)).status_code == 200
    Programme.objects.filter(pk=listing["programme"].pk).update(status=Programme.Status.DRAFT)
    assert client.get(thumbnail(photo)).status_code == 404
    assert client.get(reverse("portal:evidence", args=[photo.pk])).status_code == 404


def test_a_thumbnail_whose_file_is_gone_is_not_found(client, listing):
    photo = Evidence.objects.get(report=listing["photo_report"], content_type="image/jpeg")
    photo.thumbnail.storage.delete(photo.thumbnail.name)
    assert client.get(thumbnail(photo)).status_code == 404


def test_a_document_the_reviewer_publishes_reaches_the_cached_public_page(
    en, listing, users, page_cache
):
    document = Evidence.objects.get(report=listing["photo_report"], content_type="application/pdf")
    path = url("commitment", listing["programme"], 1)
    document_url = reverse("portal:evidence", args=[document.pk])
    assert document_url not in en.get(path).text
    assert en.get(path)["X-Page-Cache"] == "hit"
    services.set_evidence_public(users["county_admin"], document, True)
    response = en.get(path)
    assert response["X-Page-Cache"] == "miss"
    # The photo is evidence 1 of the report, the document 2.
    assert f'<a href="{document_url}">Evidence document 2 (PDF)</a>' in response.text
    served = en.get(document_url)
    assert served.status_code == 200 and served["Content-Type"] == "application/pdf"
    services.set_evidence_public(users["county_admin"], document, False)
    assert document_url not in en.get(path).text
    assert en.get(document_url).status_code == 404


# --- the change log -----------------------------------------------------------------------------------


def test_the_change_log_shows_approved_adjustments_with_reason_role_and_diff(en, listing):
    programme = listing["programme"]
    response = en.get(url("changes", programme))
    assert response.status_code == 200
    entries = response.context["entries"]
    assert [e["adjustment"].pk for e in entries] == [listing["cancel"].pk, listing["deferral"].pk]
    text = response.text
    assert "选址调整，需延期" in text and "与另一项目重复" in text
    assert "同意延期" in text
    assert "unit officer, 测试县教育局" in text
    assert "county office administrator, 测试县" in text
    new = (timezone.localdate() + 90 * DAY).isoformat()
    assert f"<ins>{new}</ins>" in text
    assert f'href="{url("commitment", programme, 4)}"' in text


def test_the_change_log_leaves_out_rejected_and_withdrawn_adjustments(client, listing, users):
    withdrawn = services.propose_adjustment(
        users["unit_officer"],
        listing["programme"],
        kind="cancel",
        commitments=[listing["c"][4]],
        payload={},
        reason="撤回的调整理由",
    )
    services.withdraw_adjustment(users["unit_officer"], withdrawn)
    text = client.get(url("changes", listing["programme"])).text
    assert "被驳回的调整理由" not in text
    assert "不同意" not in text
    assert "撤回的调整理由" not in text


def test_the_change_log_shows_one_adjustment_when_asked(client, listing):
    programme = listing["programme"]
    response = client.get(url("changes", programme), {"adjustment": listing["cancel"].pk})
    assert [e["adjustment"].pk for e in response.context["entries"]] == [listing["cancel"].pk]
    for bad in ["abc", "9" * 30]:
        response = client.get(url("changes", programme), {"adjustment": bad})
        assert response.status_code == 200
        assert response.context["entries"] == []


# --- the list on a date, and between dates -------------------------------------------------------------


def test_the_list_as_first_published_shows_the_original_list(en, listing):
    programme = listing["programme"]
    published = timezone.localdate(programme.published_at).isoformat()
    page = en.get(url("history", programme))
    assert f'href="?on={published}"' in page.text
    response = en.get(url("history", programme), {"on": published})
    rows = {r["number"]: r for r in response.context["rows"]}
    assert sorted(rows) == [1, 2, 3, 4, 5, 6, 7]
    assert rows[4]["deadline"] == (timezone.localdate() + 30 * DAY).isoformat()
    assert rows[5]["status"] == "planned"
    assert rows[1]["percent_complete"] == 0


def test_the_diff_between_two_dates_shows_the_deferred_deadline(en, listing):
    programme = listing["programme"]
    published = timezone.localdate(programme.published_at).isoformat()
    today = timezone.localdate()
    response = en.get(url("history", programme), {"from": published, "to": today.isoformat()})
    assert response.status_code == 200
    by_number = {c["number"]: c for c in response.context["changes"]}
    deadline = next(f for f in by_number[4]["fields"] if f["field"] == "deadline")
    assert (deadline["before"], deadline["after"]) == (
        (today + 30 * DAY).isoformat(),
        (today + 90 * DAY).isoformat(),
    )
    status = next(f for f in by_number[5]["fields"] if f["field"] == "status")
    assert (status["before"], status["after"]) == ("planned", "cancelled")
    assert "<td>Deadline</td>" in response.text


def test_a_bad_date_is_explained_on_the_page(en, listing):
    programme = listing["programme"]
    response = en.get(url("history", programme), {"on": "2021-02-30"})
    assert response.status_code == 200
    assert "“2021-02-30” is not a date; write it as YYYY-MM-DD" in response.text
    assert response.context["rows"] is None
    response = en.get(url("history", programme), {"from": "2021-06-01"})
    assert "To compare, give both dates" in response.text
    response = en.get(url("history", programme), {"from": "2021-06-02", "to": "2021-06-01"})
    assert "The first date comes after the second" in response.text
    assert response.context["changes"] is None


def test_a_date_before_publication_shows_an_empty_list_with_the_reason(en, listing):
    programme = listing["programme"]
    day = timezone.localdate(programme.published_at) - DAY
    response = en.get(url("history", programme), {"on": day.isoformat()})
    assert response.context["rows"] == []
    assert "the list had not been published yet: it was first published on" in response.text


# --- no personal data -----------------------------------------------------------------------------------


def test_no_public_page_shows_a_person_name_or_phone(client, listing, users):
    programme = listing["programme"]
    published = timezone.localdate(programme.published_at).isoformat()
    pages = [
        reverse("portal:home"),
        reverse("portal:programmes"),
        url("programme", programme),
        url("programme", programme) + "?status=cancelled",
        url("changes", programme),
        url("history", programme) + f"?on={published}",
        url("history", programme) + f"?from={published}&to={timezone.localdate().isoformat()}",
    ] + [url("commitment", programme, n) for n in range(1, 8)]
    people = list(Person.objects.all())
    assert len(people) == 12
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        for person in people:
            assert person.name not in response.text, page
            if person.phone:
                assert person.phone not in response.text, page
                assert mask_phone(person.phone) not in response.text, page


# --- query ceilings at two sizes --------------------------------------------------------------------------


def queries(client, django_assert_max_num_queries, ceiling: int, path: str, params=None) -> int:
    with django_assert_max_num_queries(ceiling) as ctx:
        response = client.get(path, params or {})
    assert response.status_code == 200, path
    return len(ctx.captured_queries)


def bigger(users, tree, year: int, n: int) -> Programme:
    units = [tree["dept"], tree["east"], tree["west_village"], tree["east_village"]]
    programme, made = publish(
        users,
        tree,
        year,
        [
            item(
                units[i % 4],
                f"项目{i}",
                ["education", "health", "culture"][i % 3],
                deadline=(i % 7) * 20 - 10,
                co_units=[tree["east_community"], tree["west_village"]],
            )
            for i in range(n)
        ],
    )
    for c in list(made.values())[::3]:
        if c.responsible_unit == tree["dept"]:
            accepted(users, c, f"进展{c.number}", files=[jpeg()])
    return programme


def test_the_list_costs_the_same_at_two_sizes(
    client, listing, users, tree, django_assert_max_num_queries
):
    big = bigger(users, tree, 2023, 30)
    first = big.commitments.get(number=1)
    approved(users, big, "cancel", first, {}, "重复", "同意")
    small = listing["programme"]
    client.get(url("programme", small))  # the calendar is kept per process; warm it
    # Seven for the page, one for the calendar's version (the lights).
    for params in ({}, {"town": tree["east"].pk, "light": "overdue"}, {"status": "cancelled"}):
        counts = [
            queries(client, django_assert_max_num_queries, 8, url("programme", p), params)
            for p in (small, big)
        ]
        assert counts[0] == counts[1], params


def test_the_detail_costs_the_same_at_two_sizes(
    client, listing, users, django_assert_max_num_queries
):
    programme, c = listing["programme"], listing["c"]
    accepted(users, c[4], "书屋选址完成", files=[jpeg()])
    for i in range(3):
        accepted(users, c[1], f"更多进展{i}", files=[jpeg(), jpeg("b.jpg")])
    for post in ["县长", "常务副县长"]:
        approved(users, programme, "change", c[1], {"fields": {"lead_official": post}}, "换人", "")
    client.get(url("commitment", programme, 4))
    # Twelve for the page, one for the calendar's version (the lights).
    small = queries(client, django_assert_max_num_queries, 13, url("commitment", programme, 4))
    large = queries(client, django_assert_max_num_queries, 13, url("commitment", programme, 1))
    assert small == large


def test_the_change_log_costs_the_same_at_two_sizes(
    client, listing, users, tree, django_assert_max_num_queries
):
    big = bigger(users, tree, 2024, 12)
    for c in big.commitments.filter(responsible_unit=tree["dept"]):
        approved(
            users,
            big,
            "defer",
            c,
            {"deadline": (c.deadline + 60 * DAY).isoformat()},
            f"延期{c.number}",
            "同意",
        )
    assert big.adjustments.filter(state="approved").count() >= 3
    small = queries(client, django_assert_max_num_queries, 12, url("changes", listing["programme"]))
    large = queries(client, django_assert_max_num_queries, 12, url("changes", big))
    assert small == large


def test_the_list_on_a_date_costs_the_same_at_two_sizes(
    client, listing, users, tree, django_assert_max_num_queries
):
    big = bigger(users, tree, 2024, 30)
    on = timezone.localdate().isoformat()
    client.get(url("history", big), {"on": on})
    small = queries(
        client, django_assert_max_num_queries, 4, url("history", listing["programme"]), {"on": on}
    )
    large = queries(client, django_assert_max_num_queries, 4, url("history", big), {"on": on})
    assert small == large


def test_the_lists_page_costs_the_same_at_two_sizes(
    client, listing, users, tree, django_assert_max_num_queries
):
    small = queries(client, django_assert_max_num_queries, 4, reverse("portal:programmes"))
    bigger(users, tree, 2025, 3)
    bigger(users, tree, 2026, 3)
    large = queries(client, django_assert_max_num_queries, 4, reverse("portal:programmes"))
    assert small == large
