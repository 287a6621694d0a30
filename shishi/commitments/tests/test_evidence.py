"""Evidence of progress reports: a reviewer publishes or withdraws each document (PDFs start
internal), thumbnails in the workspace under the same scope as the files, nothing stored when a
file is refused, and the thumbnails made for photos stored before they existed."""

import importlib
import io
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from conftest import make_user
from shishi.audit.models import Entry, Head
from shishi.commitments import services
from shishi.commitments.models import Evidence, ProgressReport
from shishi.orgs.models import RoleKind
from shishi.testing import commitment_data, jpeg, make_programme, pdf

pytestmark = pytest.mark.django_db

HOME = reverse("commitments:home")


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def commitment(tree):
    programme = make_programme(tree["county"], 2026, [commitment_data(tree["dept"], "新建幼儿园")])
    return programme.commitments.get()


@pytest.fixture
def report(users, commitment) -> ProgressReport:
    """A report of the unit, awaiting review, with a photo and a PDF."""
    return services.submit_progress(
        users["unit_officer"],
        commitment,
        text="主体完工",
        percent_complete=40,
        files=[jpeg("site.jpg", (800, 600)), pdf("验收纪要.pdf")],
    )


def document(report) -> Evidence:
    return report.evidence.get(content_type="application/pdf")


def photo(report) -> Evidence:
    return report.evidence.get(content_type="image/jpeg")


def public_count(county) -> int:
    return Head.objects.filter(chain=county.pk).values_list("public", flat=True).first() or 0


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- the service ---------------------------------------------------------------------------------


def test_a_pdf_starts_internal_and_a_photo_public(report):
    assert not document(report).is_public
    assert photo(report).is_public


def test_a_reviewer_publishes_a_document_and_the_audit_log_says_so(report, users):
    doc = services.set_evidence_public(users["county_admin"], document(report), True)
    assert doc.is_public and document(report).is_public
    entry = Entry.objects.latest("seq")
    assert (entry.action, entry.actor, entry.object_id) == (
        "commitments.evidence.published",
        users["county_admin"],
        str(doc.pk),
    )
    assert entry.county_id == report.county_id
    assert entry.changes == {"is_public": [False, True]}
    assert entry.data == {"report": report.pk, "commitment": report.commitment_id}


def test_a_reviewer_withdraws_a_document(report, users):
    services.set_evidence_public(users["county_admin"], document(report), True)
    services.set_evidence_public(users["county_admin"], document(report), False)
    assert not document(report).is_public
    entry = Entry.objects.latest("seq")
    assert entry.action == "commitments.evidence.withdrawn"
    assert entry.changes == {"is_public": [True, False]}


def test_publishing_changes_the_public_pages_only_once_the_report_is_accepted(report, users):
    county = report.county
    before = public_count(county)
    services.set_evidence_public(users["county_admin"], document(report), True)
    # Awaiting review: the public page shows nothing of the report yet; its cache stays.
    assert public_count(county) == before
    services.set_evidence_public(users["county_admin"], document(report), False)
    services.review_progress(users["county_admin"], report, accept=True)
    before = public_count(county)
    services.set_evidence_public(users["county_admin"], document(report), True)
    assert public_count(county) == before + 1


def test_publishing_what_is_public_records_nothing(report, users):
    services.set_evidence_public(users["county_admin"], document(report), True)
    before = Entry.objects.count()
    services.set_evidence_public(users["county_admin"], document(report), True)
    services.set_evidence_public(users["county_admin"], photo(report), True)
    assert Entry.objects.count() == before


@pytest.mark.parametrize(
    "role", ["unit_officer", "east_admin", "west_admin", "supervisor", "auditor", "sysadmin"]
)
def test_only_a_reviewer_of_the_county_publishes_or_withdraws(report, users, role):
    before = Entry.objects.count()
    with pytest.raises(PermissionDenied):
        services.set_evidence_public(users[role], document(report), True)
    with pytest.raises(PermissionDenied):
        services.set_evidence_public(users[role], photo(report), False)
    assert not document(report).is_public and photo(report).is_public
    assert Entry.objects.count() == before


def test_the_author_of_a_report_does_not_publish_its_documents_but_may_withdraw_them(
    tree, users, commitment
):
    author = users["county_admin"]
    other = make_user(tree, "county_admin2", RoleKind.COUNTY_ADMIN, "county")
    r = services.submit_progress(
        author, commitment, text="验收", percent_complete=100, files=[pdf()]
    )
    with pytest.raises(PermissionDenied, match="someone other than the report's author"):
        services.set_evidence_public(author, document(r), True)
    assert not document(r).is_public
    services.set_evidence_public(other, document(r), True)
    services.set_evidence_public(author, document(r), False)
    assert not document(r).is_public


def test_a_refused_file_stores_neither_the_report_nor_the_other_files(users, commitment, media):
    before = Entry.objects.count()
    bad = SimpleUploadedFile("site2.jpg", b"just text", content_type="image/jpeg")
    with pytest.raises(ValidationError) as exc:
        services.submit_progress(
            users["unit_officer"],
            commitment,
            text="主体完工",
            percent_complete=40,
            files=[jpeg(), pdf(), bad],
        )
    assert exc.value.message_dict["files"] == [
        "site2.jpg is not a photo (JPEG, PNG, WebP, HEIC) or a PDF."
    ]
    assert not ProgressReport.objects.exists() and not Evidence.objects.exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
    assert Entry.objects.count() == before


# --- the review page's control -------------------------------------------------------------------


def review_url(report):
    return reverse("commitments:review", args=[report.pk])


def public_url(evidence):
    return reverse("commitments:evidence_public", args=[evidence.pk])


def test_the_review_page_offers_to_publish_an_internal_document(report, users, client_for):
    html = english(client_for(users["county_admin"])).get(review_url(report)).text
    doc = document(report)
    assert f'action="{public_url(doc)}"' in html
    assert 'name="public" value="1"' in html and "Publish on the public page" in html
    assert "internal" in html
    # The photo is shown by its thumbnail, linking to the full file.
    p = photo(report)
    assert f'src="{reverse("commitments:evidence_thumbnail", args=[p.pk])}"' in html
    assert f'src="{reverse("commitments:evidence", args=[p.pk])}"' not in html


def test_a_reviewer_publishes_a_document_from_the_review_page(report, users, client_for):
    client = english(client_for(users["county_admin"]))
    response = client.post(public_url(document(report)), {"public": "1"})
    assert response.status_code == 302
    assert response["Location"] == review_url(report)
    assert document(report).is_public
    html = client.get(response["Location"]).text
    assert "Document published: the public page shows it once the report is accepted." in html
    assert "public once accepted" in html
    assert 'name="public" value="0"' in html and "Withdraw from the public page" in html


def test_a_reviewer_withdraws_a_document_from_the_review_page(report, users, client_for):
    services.set_evidence_public(users["county_admin"], document(report), True)
    services.review_progress(users["county_admin"], report, accept=True)
    client = english(client_for(users["county_admin"]))
    assert "on the public page" in client.get(review_url(report)).text
    response = client.post(public_url(document(report)), {"public": "0"})
    assert response.status_code == 302
    assert not document(report).is_public
    assert "Document withdrawn: the public page no longer shows it." in client.get(HOME).text


@pytest.mark.parametrize("role", ["unit_officer", "auditor", "west_admin", "supervisor", "nobody"])
def test_the_control_is_not_found_for_other_roles(report, users, client_for, role):
    client = client_for(users[role])
    assert client.post(public_url(document(report)), {"public": "1"}).status_code == 404
    assert client.post(public_url(photo(report)), {"public": "0"}).status_code == 404
    assert not document(report).is_public and photo(report).is_public
    assert not Entry.objects.filter(action__startswith="commitments.evidence").exists()


def test_the_author_gets_no_publish_button_and_a_403(tree, users, commitment, client_for):
    author = users["county_admin"]
    r = services.submit_progress(
        author, commitment, text="验收", percent_complete=100, files=[pdf()]
    )
    client = client_for(author)
    html = client.get(review_url(r)).text
    assert 'name="public" value="1"' not in html
    assert client.post(public_url(document(r)), {"public": "1"}).status_code == 403
    assert not document(r).is_public


def test_the_control_takes_only_a_post_with_a_clear_choice(report, users, client_for):
    client = client_for(users["county_admin"])
    assert client.get(public_url(document(report))).status_code == 405
    assert client.post(public_url(document(report)), {"public": "yes"}).status_code == 400
    assert client.post(public_url(document(report))).status_code == 400
    assert not document(report).is_public


def test_the_control_asks_for_sign_in(report, client):
    response = client.post(public_url(document(report)), {"public": "1"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not document(report).is_public


# --- thumbnails in the workspace -----------------------------------------------------------------


def thumbnail_url(evidence):
    return reverse("commitments:evidence_thumbnail", args=[evidence.pk])


def test_a_thumbnail_is_served_to_those_who_may_see_the_commitment(report, users, client_for):
    for role in ["unit_officer", "auditor", "county_admin"]:
        response = client_for(users[role]).get(thumbnail_url(photo(report)))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        small = Image.open(io.BytesIO(b"".join(response.streaming_content)))
        assert (small.format, small.size) == ("JPEG", (96, 72))


@pytest.mark.parametrize("role", ["west_admin", "sysadmin"])
def test_a_thumbnail_is_not_found_outside_the_scope(report, users, client_for, role):
    assert client_for(users[role]).get(thumbnail_url(photo(report))).status_code == 404


def test_a_document_has_no_thumbnail(report, users, client_for):
    client = client_for(users["county_admin"])
    assert client.get(thumbnail_url(document(report))).status_code == 404


# --- thumbnails for photos stored before they existed (migration 0004) ---------------------------


def test_the_migration_makes_the_missing_thumbnails_and_can_run_again(report, users, media):
    migration = importlib.import_module("shishi.commitments.migrations.0004_evidence_thumbnails")
    old = photo(report)
    old.thumbnail.delete(save=False)
    Evidence.objects.filter(pk=old.pk).update(thumbnail="")
    gone = services.submit_progress(
        users["unit_officer"], report.commitment, text="第二次", percent_complete=50, files=[jpeg()]
    ).evidence.get()
    gone.file.storage.delete(gone.file.name)
    gone.thumbnail.delete(save=False)
    Evidence.objects.filter(pk=gone.pk).update(thumbnail="")

    migration.make_thumbnails(apps, None)
    old.refresh_from_db()
    assert old.thumbnail.name == old.file.name.replace(".jpg", "-thumb.jpg")
    assert Image.open(old.thumbnail).size == (96, 72)
    # A photo whose file is gone keeps no thumbnail; a PDF never has one.
    assert Evidence.objects.get(pk=gone.pk).thumbnail.name == ""
    assert document(report).thumbnail.name == ""

    migration.make_thumbnails(apps, None)
    old.refresh_from_db()
    assert old.thumbnail.name.endswith("-thumb.jpg")
    assert len(list((media / Path(old.file.name).parent).glob("*-thumb*.jpg"))) == 1


# --- a document with active content is never opened in the site's origin ---------------------------

# A PDF that runs JavaScript as it opens (/OpenAction), as a reliability drill uploaded.
ACTIVE_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"3 0 obj << /Type /Action /S /JavaScript /JS (app.alert\\(document.cookie\\)) >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def test_a_pdf_with_javascript_is_served_as_a_sandboxed_download(users, commitment, client_for):
    report = services.submit_progress(
        users["unit_officer"],
        commitment,
        text="验收",
        percent_complete=40,
        files=[SimpleUploadedFile("验收.pdf", ACTIVE_PDF, content_type="application/pdf")],
    )
    response = client_for(users["county_admin"]).get(evidence_url(document(report)))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_photo_is_shown_inline_but_sandboxed_too(report, users, client_for):
    response = client_for(users["county_admin"]).get(evidence_url(photo(report)))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Security-Policy"] == "sandbox"


def evidence_url(evidence) -> str:
    return reverse("commitments:evidence", args=[evidence.pk])
