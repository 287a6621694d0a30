"""Evidence files, a shared part: one abstract model that each mechanism subclasses with its own
foreign key (a progress report's photos, later a visit's or an inspection's).

A subclass names where its files live (``folder``, starting with the county, the future
distribution key) and stores uploads with ``shishi.evidence.services.store``, which checks each
one by its content and writes the file and, for a photo, its thumbnail.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from shishi.lib import images

EXTENSIONS = {images.JPEG: "jpg", images.PNG: "png", images.WEBP: "webp", images.PDF: "pdf"}


def upload_to(instance: EvidenceFile, filename: str) -> str:
    """``<folder>/<first 16 hex digits of the checksum>.<ext>``: the name says nothing of the
    original, and a stored file never changes."""
    return f"{instance.folder()}/{instance.sha256[:16]}.{instance.extension}"


def thumbnail_upload_to(instance: EvidenceFile, filename: str) -> str:
    return f"{instance.folder()}/{instance.sha256[:16]}-thumb.jpg"


class EvidenceFile(models.Model):
    """A photo or a PDF, checked by its content, not its name. Photos are stored upright,
    without any metadata (location included) and at most 2,000 pixels a side, with a JPEG
    thumbnail of at most 96; PDFs as uploaded, once found complete."""

    class Kind(models.TextChoices):
        JPEG = images.JPEG, "JPEG"
        PNG = images.PNG, "PNG"
        WEBP = images.WEBP, "WebP"
        PDF = images.PDF, "PDF"

    file = models.FileField(_("file"), upload_to=upload_to, max_length=200)
    # Blank for a PDF; a photo's is made when it is stored.
    thumbnail = models.FileField(
        _("thumbnail"), upload_to=thumbnail_upload_to, max_length=200, blank=True
    )
    content_type = models.CharField(_("type"), max_length=40, choices=Kind.choices)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("checksum"), max_length=64)
    original_name = models.CharField(_("original name"), max_length=200, blank=True)
    # Whether the public may see it (each mechanism's public rule adds its own conditions). A
    # photo is public unless the mechanism says otherwise; a PDF may carry names and ID numbers,
    # so it stays internal until someone publishes it.
    is_public = models.BooleanField(_("public"), default=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.original_name or self.sha256[:12]

    def folder(self) -> str:
        """Where this file is stored under MEDIA_ROOT, e.g. ``evidence/<county>/<report>``."""
        raise NotImplementedError(f"{type(self).__name__} must say where its files live")

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
