"""A full disk while evidence is uploaded: a clear message on the form, and nothing half-stored —
no progress report, no evidence row, no audit entry and no file, whole or partial.

A real full disk cannot be made safely on a shared machine: the storage below writes part of a
file and then fails as the operating system would (ENOSPC), once a number of files have gone
through whole."""

import errno
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from shishi.audit.models import Entry
from shishi.commitments.models import Evidence, ProgressReport
from shishi.evidence.storage import AtomicFileSystemStorage
from shishi.testing import english, jpeg, make_programme, pdf

pytestmark = pytest.mark.django_db


class FullDisk(AtomicFileSystemStorage):
    """Takes ``FullDisk.room`` files whole, then writes half of the next one and fails."""

    room = 0

    def _write(self, fh, content) -> None:
        if FullDisk.room <= 0:
            data = content.read()
            fh.write(data[: len(data) // 2])
            fh.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        FullDisk.room -= 1
        super()._write(fh, content)


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def full_disk(settings, media):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.FullDisk"},
    }

    def fill_after(files: int) -> None:
        FullDisk.room = files

    return fill_after


@pytest.fixture
def commitment(tree):
    from shishi.testing import item_2026

    return make_programme(tree["county"], 2026, [item_2026(tree)]).commitments.get()


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def post_report(client, commitment, files):
    return client.post(
        reverse("commitments:report", args=[commitment.pk]),
        {"text": "主体完工", "percent_complete": "60", "files": files},
    )


@pytest.mark.parametrize("room", [0, 1, 2, 3])
def test_a_full_disk_stores_nothing_and_says_so(
    users, commitment, client_for, full_disk, media, room
):
    """The disk fills on the first file, on the first photo's thumbnail, on the second photo,
    or on the PDF after two photos with their thumbnails were stored whole."""
    full_disk(room if room < 3 else 4)
    entries = Entry.objects.count()
    client = english(client_for(users["unit_officer"]))
    response = post_report(client, commitment, [jpeg("a.jpg"), jpeg("b.jpg"), pdf()])
    assert response.status_code == 200
    assert "The server&#x27;s disk is full" in response.text
    assert "nothing was saved. Tell the system administrator." in response.text
    assert not ProgressReport.objects.exists()
    assert not Evidence.objects.exists()
    assert Entry.objects.count() == entries
    assert files_under(media) == []


def test_with_room_on_the_disk_the_same_report_is_stored(
    users, commitment, client_for, full_disk, media
):
    full_disk(5)
    client = english(client_for(users["unit_officer"]))
    response = post_report(client, commitment, [jpeg("a.jpg"), jpeg("b.jpg"), pdf()])
    assert response.status_code == 302
    assert Evidence.objects.count() == 3
    # Two photos with their thumbnails, and the PDF; no draft left beside them.
    assert len(files_under(media)) == 5
    assert not [p for p in files_under(media) if p.name.endswith(".part")]


def test_a_stored_file_never_replaces_another_of_the_same_name(media):
    storage = AtomicFileSystemStorage(location=media)
    first = storage.save("evidence/a.jpg", ContentFile(b"one"))
    second = storage.save("evidence/a.jpg", ContentFile(b"two"))
    assert first == "evidence/a.jpg" and second != first
    assert storage.open(first).read() == b"one"
    assert storage.open(second).read() == b"two"
