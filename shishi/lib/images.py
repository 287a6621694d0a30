"""Photos and documents judged by their content, never by their name: what a file is (``sniff``),
a photo made fit to publish (``clean_photo``), its thumbnail, and whether a PDF arrived whole.

A photo from a phone carries more than its pixels: the place it was taken (GPS), the phone, the
time, sometimes the owner's name, a preview of the uncropped original. ``clean_photo`` keeps the
pixels only: it turns the picture upright as the phone meant it (EXIF orientation), converts its
colours to sRGB, copies the pixels into a new image that has no metadata block at all (EXIF, XMP,
IPTC, comments, ICC profile, PNG text), and scales it to at most ``MAX_SIDE`` pixels a side.
HEIC/HEIF photos (iPhones and many Android phones) are decoded with pillow-heif and stored as
JPEG, which every browser shows.

No Django here; ``shishi.evidence`` turns the exceptions into messages in the user's language.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageCms, ImageOps

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
HEIC = "image/heic"
HEIF = "image/heif"
PDF = "application/pdf"
PHOTOS = frozenset({JPEG, PNG, WEBP, HEIC, HEIF})

# How many leading bytes ``sniff`` needs.
HEAD = 32
# ISO-BMFF ("ftyp" box) major brands of HEIF still images: the HEVC-coded ones phones write, and
# the generic image and image-sequence brands some Android phones put first.
HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"heim", b"heis"})
HEIF_BRANDS = frozenset({b"mif1", b"msf1"})

# The longest side of a stored photo: sharp on any screen, a few hundred kilobytes as JPEG.
MAX_SIDE = 2000
# The longest side of a thumbnail (the public page shows photos at 96 CSS pixels).
THUMBNAIL_SIDE = 96
# The most pixels a photo may have, checked from its header before anything is decoded. A
# 10 MB file may claim far more (a 700 KB PNG of 13,000 x 13,000 pixels decodes to 680 MB):
# 40 megapixels (a 48-megapixel phone saves 12 by default) decode to at most 160 MB (RGBA), and
# the photo is scaled down to ``MAX_SIDE`` before any copy of it is made. Callers may pass a
# lower bound (``EVIDENCE_MAX_MEGAPIXELS``); Pillow's own check is set to this one, so it warns
# over it (made an error below) and refuses outright over twice it, whatever the caller.
MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Pillow's decoders for each type we accept; no other decoder ever sees an upload.
_DECODERS = {JPEG: ["JPEG"], PNG: ["PNG"], WEBP: ["WEBP"]}


class NotAPicture(ValueError):
    """The file claims to be a photo (by its first bytes) but cannot be decoded as one."""


class TooManyPixels(NotAPicture):
    """The photo's header claims more pixels than the limit (``MAX_PIXELS`` or the caller's)."""


@dataclass(frozen=True)
class Photo:
    """A photo fit to store: its type (JPEG or PNG), its bytes, and its JPEG thumbnail."""

    content_type: str
    data: bytes
    thumbnail: bytes


def sniff(head: bytes) -> str | None:
    """The type of a file from its first ``HEAD`` bytes, or None when it is none we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head[4:8] == b"ftyp":
        if head[8:12] in HEIC_BRANDS:
            return HEIC
        if head[8:12] in HEIF_BRANDS:
            return HEIF
    return None


def pdf_is_complete(data: bytes) -> bool:
    """Whether a PDF arrived whole: a file cut short in transfer (a phone losing signal) lacks
    the end-of-file marker a PDF writer puts in its last bytes."""
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]


def clean_photo(data: bytes, kind: str, max_pixels: int = MAX_PIXELS) -> Photo:
    """The photo ``data`` of type ``kind`` (from ``sniff``), upright, in sRGB, without any
    metadata, at most ``MAX_SIDE`` pixels a side: a PNG stays a PNG (screenshots, drawings, with
    their transparency), every other photo becomes a JPEG. Raises ``NotAPicture`` (or
    ``TooManyPixels``, over ``max_pixels``) when it cannot be decoded."""
    image = _open(data, kind, max_pixels=max_pixels)
    keep_png = kind == PNG
    try:
        # Scaled down first: every later step (turning, colours, the copy without metadata)
        # then works on at most 2,000 x 2,000 pixels, not on the full decoded picture.
        image = _scaled(image, MAX_SIDE)
        image = ImageOps.exif_transpose(image)
        image = _pixels_only(_to_srgb(image), alpha=keep_png)
        out = io.BytesIO()
        if keep_png:
            image.save(out, "PNG", optimize=True)
        else:
            image.save(out, "JPEG", quality=85, optimize=True)
        return Photo(PNG if keep_png else JPEG, out.getvalue(), _thumbnail_of(image))
    except Exception as exc:
        # Whatever a damaged file makes a decoder raise, it is not a picture we can store.
        raise NotAPicture(str(exc)) from exc


def thumbnail(data: bytes) -> bytes:
    """The JPEG thumbnail (at most ``THUMBNAIL_SIDE`` pixels a side) of a photo already
    stored by ``clean_photo`` (for files stored before thumbnails existed)."""
    kind = sniff(data[:HEAD])
    if kind not in PHOTOS:
        raise NotAPicture("not a photo")
    image = _open(data, kind, THUMBNAIL_SIDE)
    try:
        image = ImageOps.exif_transpose(_scaled(image, MAX_SIDE))
        return _thumbnail_of(_pixels_only(image, alpha=True))
    except Exception as exc:
        raise NotAPicture(str(exc)) from exc


# --- the steps -----------------------------------------------------------------------------------


def _open(
    data: bytes, kind: str, side: int = MAX_SIDE, max_pixels: int = MAX_PIXELS
) -> Image.Image:
    """The decoded image, its pixel count checked from its header before its pixels are
    decoded; a JPEG decoded at the smallest scale still at least ``side`` pixels a side."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns of a decompression bomb below twice its bound; here it refuses.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if kind in (HEIC, HEIF):
                heif = pillow_heif.open_heif(io.BytesIO(data))
                _check_pixels(heif.size, max_pixels)
                # libheif applies the container's rotation and mirroring, and pillow-heif resets
                # the EXIF orientation to 1 so that it is not applied twice.
                return heif.to_pillow()
            image = Image.open(io.BytesIO(data), formats=_DECODERS[kind])
            _check_pixels(image.size, max_pixels)
            if kind == PNG:
                # Pillow decodes a PNG cut short without complaint; verify() checks every chunk.
                image.verify()
                image = Image.open(io.BytesIO(data), formats=_DECODERS[kind])
            if kind == JPEG:
                # A fraction of the memory and time for a large phone photo.
                image.draft("RGB", (side, side))
            image.load()
            return image
    except TooManyPixels:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooManyPixels(str(exc)) from exc
    except Exception as exc:
        raise NotAPicture(str(exc)) from exc


def _check_pixels(size: tuple[int, int], max_pixels: int = MAX_PIXELS) -> None:
    if size[0] * size[1] > min(max_pixels, MAX_PIXELS):
        raise TooManyPixels(f"{size[0]}x{size[1]}")


def _scaled(image: Image.Image, side: int) -> Image.Image:
    """``image`` at most ``side`` pixels a side. A palette or other unusual mode is made RGB(A)
    first, so the picture is resampled smoothly rather than by nearest pixel."""
    if image.width <= side and image.height <= side:
        return image
    if image.mode not in ("RGB", "RGBA", "L", "LA", "CMYK"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


_SRGB = None


def _to_srgb(image: Image.Image) -> Image.Image:
    """Colours converted from the photo's ICC profile (Display P3 on recent phones) to sRGB, so
    that dropping the profile does not dull them. A profile that cannot be read is ignored."""
    global _SRGB
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    if _SRGB is None:
        _SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _pixels_only(image: Image.Image, *, alpha: bool) -> Image.Image:
    """A new image holding only the pixels (RGB, or RGBA when ``alpha`` and the image has
    transparency): ``Image.new`` starts with no metadata, so nothing of the original's EXIF,
    XMP, ICC profile or text chunks can reach the file it is saved to."""
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        if alpha:
            clean = Image.new("RGBA", rgba.size)
            clean.paste(rgba)
            return clean
        # A JPEG has no transparency: transparent parts become white, not black.
        clean = Image.new("RGB", rgba.size, "white")
        clean.paste(rgba, mask=rgba.getchannel("A"))
        return clean
    rgb = image.convert("RGB")
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


def _thumbnail_of(image: Image.Image) -> bytes:
    small = _pixels_only(image, alpha=False)
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()
