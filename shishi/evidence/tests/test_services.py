"""Checking an upload by its content and storing it with its thumbnail: the shared part every
mechanism's evidence goes through (here on a progress report's evidence, the first subclass)."""

import io
from pathlib import Path

import pillow_heif
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import ExifTags, Image

from shishi.commitments import services as cs
from shishi.commitments.models import Evidence
from shishi.evidence import services
from shishi.testing import commitment_data, make_programme

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def picture(fmt: str, size=(120, 80), **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(out, fmt, **options)
    return out.getvalue()


def heic(size=(120, 80)) -> bytes:
    """A real HEIC photo with its location, made by libheif as a phone would."""
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (19.0, 30.0, 0.0)}
    )
    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", size, (30, 120, 60))).save(
        out, quality=80, exif=exif.tobytes()
    )
    return out.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    # The browser's claimed type is deliberately wrong: only the content counts.
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def refused(name: str, data: bytes, language: str = "en") -> str:
    with translation.override(language), pytest.raises(ValidationError) as exc:
        services.clean(upload(name, data))
    [message] = exc.value.messages
    return message


@pytest.fixture
def report(tree, users):
    programme = make_programme(tree["county"], 2026, [commitment_data(tree["dept"], "新建幼儿园")])
    commitment = programme.commitments.get()
    return cs.submit_progress(users["unit_officer"], commitment, text="进展", percent_complete=10)


# --- checked by content ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "stored_as"),
    [
        ("site.jpg", picture("JPEG"), "image/jpeg"),
        ("site.png", picture("PNG"), "image/png"),
        ("minutes.pdf", PDF, "application/pdf"),
        # By content, not by name: each of these is named as something it is not.
        ("photo.pdf", picture("JPEG"), "image/jpeg"),
        ("scan.jpg", PDF, "application/pdf"),
        ("photo.jpg", picture("PNG"), "image/png"),
        ("photo.png", picture("WEBP"), "image/jpeg"),
        ("IMG_0001.HEIC", heic(), "image/jpeg"),
        ("IMG_0002.jpg", heic(), "image/jpeg"),
    ],
)
def test_each_type_is_known_by_its_content_not_its_name(name, data, stored_as):
    cleaned = services.clean(upload(name, data))
    assert (cleaned.name, cleaned.content_type) == (name, stored_as)
    assert (cleaned.thumbnail is not None) == cleaned.is_image


def test_a_heic_photo_becomes_a_jpeg_without_its_location():
    cleaned = services.clean(upload("IMG_0001.HEIC", heic((300, 200))))
    stored = Image.open(io.BytesIO(cleaned.data))
    assert (stored.format, stored.size) == ("JPEG", (300, 200))
    assert not stored.getexif()


# --- refused, with a message naming the file, in the user's language ------------------------------


def test_the_size_limit_names_the_file_and_the_limit(settings):
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    big = b"\xff\xd8\xff" + b"\0" * (1024 * 1024)
    assert refused("big.jpg", big) == "big.jpg is larger than 1 MB."
    assert refused("big.jpg", big, "zh-hans") == "big.jpg 超过 1 MB。"


def test_a_file_that_claims_a_smaller_size_is_measured_by_what_it_holds(settings):
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    big = upload("big.jpg", b"\xff\xd8\xff" + b"\0" * (1024 * 1024))
    big.size = 10
    with pytest.raises(ValidationError, match="larger than 1 MB"):
        services.clean(big)


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_a_photo_of_too_many_pixels_is_refused_naming_the_limit(settings):
    bomb = png_claiming(13_000, 13_000)
    assert refused("plan.png", bomb) == (
        "plan.png has more than 40 million pixels; save it smaller and upload it again."
    )
    assert refused("plan.png", bomb, "zh-hans") == "plan.png 超过 40 百万像素，请缩小后重新上传。"
    settings.EVIDENCE_MAX_PIXELS = 20_000_000
    assert "more than 20 million pixels" in refused("plan.png", png_claiming(5_000, 5_000))


@pytest.mark.parametrize(
    ("name", "data", "english", "chinese"),
    [
        ("photo.jpg", b"", "photo.jpg is empty.", "photo.jpg 是空文件。"),
        (
            "scan.pdf",
            PDF[:20],
            "scan.pdf is not a complete PDF.",
            "scan.pdf 不是完整的 PDF 文件。",
        ),
        (
            "broken.jpg",
            picture("JPEG", (400, 300))[:500],
            "broken.jpg could not be read as a picture.",
            "无法将 broken.jpg 作为图片读取。",
        ),
        (
            "IMG_0003.HEIC",
            heic()[:150],
            "IMG_0003.HEIC could not be read as a picture.",
            "无法将 IMG_0003.HEIC 作为图片读取。",
        ),
    ],
)
def test_a_damaged_file_is_refused_with_a_clear_message(name, data, english, chinese):
    assert refused(name, data) == english
    assert refused(name, data, "zh-hans") == chinese


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("site.jpg", "这是一段文字，不是照片".encode()),
        ("site.jpg", b"<!DOCTYPE html><script>alert(1)</script>"),
        ("report.pdf", b"PK\x03\x04\x14\x00\x06\x00" + b"\0" * 100),  # a Word file
        ("setup.png", b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 100),  # a program
        ("clip.heic", b"\0\0\0\x18ftypmp42\0\0\0\0isommp42" + b"\0" * 100),  # a video
    ],
)
def test_a_disguised_file_is_refused_by_its_content(name, data):
    assert refused(name, data) == f"{name} is not a photo (JPEG, PNG, WebP, HEIC) or a PDF."


# --- stored: the file, and a photo's thumbnail ----------------------------------------------------


def test_a_photo_is_stored_with_its_thumbnail_and_is_public(report, media):
    evidence = services.store(
        Evidence(report=report), upload("site.jpg", picture("JPEG", (1200, 900)))
    )
    evidence.refresh_from_db()
    folder = f"evidence/{report.county_id}/{report.pk}/"
    assert evidence.file.name == f"{folder}{evidence.sha256[:16]}.jpg"
    assert evidence.thumbnail.name == f"{folder}{evidence.sha256[:16]}-thumb.jpg"
    assert (evidence.content_type, evidence.original_name, evidence.is_public) == (
        "image/jpeg",
        "site.jpg",
        True,
    )
    assert evidence.size == (media / evidence.file.name).stat().st_size
    small = Image.open(evidence.thumbnail)
    assert (small.format, small.size) == ("JPEG", (96, 72))


def test_a_pdf_is_stored_internal_and_without_a_thumbnail(report):
    evidence = services.store(Evidence(report=report), upload("minutes.pdf", PDF))
    evidence.refresh_from_db()
    assert (evidence.content_type, evidence.is_public, evidence.thumbnail.name) == (
        "application/pdf",
        False,
        "",
    )
    assert evidence.file.read() == PDF


def test_the_mechanism_may_say_whether_a_file_is_public(report):
    cleaned = services.clean(upload("site.png", picture("PNG")))
    evidence = services.store(Evidence(report=report), cleaned, public=False)
    assert not evidence.is_public
    assert evidence.extension == "png" and evidence.is_image


def test_a_refused_upload_stores_nothing(report, media):
    with pytest.raises(ValidationError):
        services.store(Evidence(report=report), upload("site.jpg", b"not a photo"))
    assert not Evidence.objects.exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
