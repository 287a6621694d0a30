"""Checking an evidence file by its content, and storing it: the one way every mechanism does it.

A mechanism's service first checks every upload with ``clean`` (collecting the messages, so that
a refused file stores nothing, not even its siblings), then writes its own rows and hands each
checked file to ``store`` on an instance of its ``EvidenceFile`` subclass. ``store`` also takes an
upload not yet checked, for a mechanism that takes one file at a time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from shishi.lib import images

from .models import EvidenceFile


@dataclass(frozen=True)
class Cleaned:
    """An upload that passed the checks: the bytes to store (a photo already re-encoded), its
    thumbnail (photos only), and the name it came with (shown to people, never used to store)."""

    name: str
    content_type: str
    data: bytes
    thumbnail: bytes | None = None

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def clean(upload: UploadedFile) -> Cleaned:
    """Check ``upload`` (a Django ``UploadedFile``) by its size and its content. Photos (JPEG,
    PNG, WebP, HEIC/HEIF) come back upright, without metadata, at most 2,000 pixels a side, as
    JPEG (PNG stays PNG), with a thumbnail; a PDF comes back as it is, once found complete.
    Raises ``ValidationError`` with a message naming the file, in the active language."""
    name = (getattr(upload, "name", "") or "")[:200]
    limit = settings.EVIDENCE_MAX_BYTES
    too_large = ValidationError(
        _("%(name)s is larger than %(mb)s MB.") % {"name": name, "mb": limit // (1024 * 1024)},
        code="too_large",
    )
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise too_large
    if hasattr(upload, "seek"):
        upload.seek(0)
    # Never more than the limit in memory, whatever size the upload claims.
    data = upload.read(limit + 1)
    if not data:
        raise ValidationError(_("%(name)s is empty.") % {"name": name}, code="empty")
    if len(data) > limit:
        raise too_large
    kind = images.sniff(data[: images.HEAD])
    if kind is None:
        raise ValidationError(
            _("%(name)s is not a photo (JPEG, PNG, WebP, HEIC) or a PDF.") % {"name": name},
            code="type",
        )
    if kind == images.PDF:
        if not images.pdf_is_complete(data):
            raise ValidationError(
                _("%(name)s is not a complete PDF.") % {"name": name}, code="incomplete"
            )
        return Cleaned(name, kind, data)
    max_pixels = settings.EVIDENCE_MAX_PIXELS
    try:
        photo = images.clean_photo(data, kind, max_pixels=max_pixels)
    except images.TooManyPixels:
        raise ValidationError(
            _("%(name)s has more than %(n)s million pixels; save it smaller and upload it again.")
            % {"name": name, "n": max_pixels // 1_000_000},
            code="pixels",
        ) from None
    except images.NotAPicture:
        raise ValidationError(
            _("%(name)s could not be read as a picture.") % {"name": name}, code="unreadable"
        ) from None
    return Cleaned(name, photo.content_type, photo.data, photo.thumbnail)


def store(
    instance: EvidenceFile, upload: Cleaned | UploadedFile, *, public: bool | None = None
) -> EvidenceFile:
    """Write ``upload`` (checked by ``clean``, or checked here) onto ``instance`` — its file,
    and for a photo its thumbnail — and save it. ``instance`` carries the mechanism's foreign
    key already; ``public`` defaults to the shared rule: photos public, PDFs internal (they may
    carry names and ID numbers) until someone publishes them. Call it inside the mechanism's
    service transaction, which audits the change."""
    cleaned = upload if isinstance(upload, Cleaned) else clean(upload)
    instance.content_type = cleaned.content_type
    instance.size = len(cleaned.data)
    instance.sha256 = hashlib.sha256(cleaned.data).hexdigest()
    instance.original_name = cleaned.name
    instance.is_public = cleaned.is_image if public is None else public
    # The names given here are ignored: upload_to names files by their checksum.
    instance.file.save("evidence", ContentFile(cleaned.data), save=False)
    if cleaned.thumbnail is not None:
        instance.thumbnail.save("thumbnail", ContentFile(cleaned.thumbnail), save=False)
    instance.save()
    return instance
