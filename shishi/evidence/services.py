"""Checking an evidence file by its content, and storing it: the one way every mechanism does it.

A mechanism's service first checks every upload with ``clean`` (collecting the messages, so that
a refused file stores nothing, not even its siblings), then writes its own rows and hands each
checked file to ``store`` on an instance of its ``EvidenceFile`` subclass. ``store`` also takes an
upload not yet checked, for a mechanism that takes one file at a time.
"""

from __future__ import annotations

import errno
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from shishi.lib import images

from .models import EvidenceFile

log = logging.getLogger(__name__)

# The files stored inside ``removed_on_error()``, so that they go if the service fails after.
_stored: ContextVar[list[tuple[object, str]] | None] = ContextVar("evidence_stored", default=None)


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
    written: list[tuple[object, str]] = []
    try:
        instance.file.save("evidence", ContentFile(cleaned.data), save=False)
        written.append((instance.file.storage, instance.file.name))
        if cleaned.thumbnail is not None:
            instance.thumbnail.save("thumbnail", ContentFile(cleaned.thumbnail), save=False)
            written.append((instance.thumbnail.storage, instance.thumbnail.name))
    except OSError as exc:
        # The storage writes each file whole or not at all; what this call wrote before the
        # failure goes too, and the caller's transaction takes the rows back.
        _remove(written)
        log.error("evidence file %s not stored: %s", cleaned.name, exc)
        raise not_stored(cleaned.name, exc) from exc
    stored = _stored.get()
    if stored is not None:
        stored.extend(written)
    instance.save()
    return instance


def not_stored(name: str, exc: OSError) -> ValidationError:
    """The message for a file the disk would not take: a full disk said as such."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ValidationError(
            _(
                "The server's disk is full: %(name)s could not be stored, and nothing was saved. "
                "Tell the system administrator."
            )
            % {"name": name},
            code="disk_full",
        )
    return ValidationError(
        _("%(name)s could not be stored (%(error)s), and nothing was saved.")
        % {"name": name, "error": exc.strerror or exc},
        code="not_stored",
    )


@contextmanager
def removed_on_error() -> Iterator[None]:
    """Files stored inside the block are removed if the block raises: the service's transaction
    takes back the rows that name them, and no file stays behind that no row names (the first
    photo of three when the disk fills up on the third)."""
    stored: list[tuple[object, str]] = []
    token = _stored.set(stored)
    try:
        yield
    except BaseException:
        _remove(stored)
        raise
    finally:
        _stored.reset(token)


def _remove(files: list[tuple[object, str]]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:
            log.exception("evidence file %s could not be removed", name)
