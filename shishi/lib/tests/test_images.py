"""Photos and documents by their content: what a file is, a photo made fit to publish (upright,
without any metadata, at most 2,000 pixels), HEIC from phones as JPEG, thumbnails, whole PDFs."""

import io
import struct
import subprocess
import sys
import zlib

import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from shishi.lib import images

RED, BLUE = (220, 20, 20), (20, 20, 220)


def gps_exif(orientation: int | None = None) -> Image.Exif:
    """EXIF as a phone writes it: the maker, the owner, and where the photo was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif[ExifTags.Base.Artist] = "张三"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (19.0, 30.0, 0.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (110.0, 20.0, 0.0),
        }
    )
    return exif


def halves(size=(40, 20)) -> Image.Image:
    """Red on the left, blue on the right: which way up it is shows in the pixels."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    return image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def heic(image: Image.Image, exif: Image.Exif | None = None) -> bytes:
    """A real HEIC file, HEVC-coded by libheif, as an iPhone sends it."""
    out = io.BytesIO()
    options = {"exif": exif.tobytes()} if exif is not None else {}
    pillow_heif.from_pillow(image).save(out, quality=80, **options)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def near(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


# --- what a file is ------------------------------------------------------------------------------


def test_each_type_is_told_by_its_first_bytes():
    image = halves()
    assert images.sniff(encode(image, "JPEG")[: images.HEAD]) == images.JPEG
    assert images.sniff(encode(image, "PNG")[: images.HEAD]) == images.PNG
    assert images.sniff(encode(image, "WEBP")[: images.HEAD]) == images.WEBP
    assert images.sniff(heic(image)[: images.HEAD]) == images.HEIC
    assert images.sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n") == images.PDF


@pytest.mark.parametrize(
    ("brand", "kind"),
    [
        (b"heic", images.HEIC),
        (b"heix", images.HEIC),
        (b"hevc", images.HEIC),
        (b"heim", images.HEIC),
        (b"heis", images.HEIC),
        (b"mif1", images.HEIF),
        (b"msf1", images.HEIF),
        # Other ISO media files are not photos we accept: a video, an AVIF picture.
        (b"isom", None),
        (b"mp42", None),
        (b"avif", None),
    ],
)
def test_heif_photos_are_told_by_the_major_brand_of_their_ftyp_box(brand, kind):
    head = struct.pack(">I", 24) + b"ftyp" + brand + b"\0\0\0\0" + b"mif1heic"
    assert images.sniff(head) == kind


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"just some text, not a photo",
        b"<!DOCTYPE html><html><body>",
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows program
        b"PK\x03\x04\x14\x00\x06\x00",  # a zip (an Office document)
        b"GIF89a\x01\x00\x01\x00",
    ],
)
def test_anything_else_is_no_type_we_accept(head):
    assert images.sniff(head) is None


# --- photos: upright, no metadata, at most 2,000 pixels ------------------------------------------


def test_a_jpeg_with_gps_exif_comes_out_with_no_exif_at_all():
    data = encode(halves(), "JPEG", exif=gps_exif())
    assert opened(data).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the premise
    photo = images.clean_photo(data, images.JPEG)
    stored = opened(photo.data)
    assert photo.content_type == images.JPEG
    assert not stored.getexif()
    assert "exif" not in stored.info
    assert b"Exif\0\0" not in photo.data and "张三".encode() not in photo.data
    assert b"Phone" not in photo.data


def test_xmp_comments_and_the_colour_profile_are_dropped_too():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>GPS 19.5N</rdf:RDF></x:xmpmeta>'
    data = encode(halves(), "JPEG", icc_profile=profile, xmp=xmp, comment=b"owner: Zhang San")
    photo = images.clean_photo(data, images.JPEG)
    stored = opened(photo.data)
    for key in ("icc_profile", "xmp", "comment", "exif"):
        assert key not in stored.info
    assert b"xmpmeta" not in photo.data and b"Zhang San" not in photo.data


def test_a_png_stays_a_png_with_its_transparency_and_without_its_text_chunks():
    image = Image.new("RGBA", (30, 30), (0, 0, 0, 0))
    image.paste((10, 200, 10, 255), (0, 0, 15, 30))
    text = PngImagePlugin.PngInfo()
    text.add_text("Location", "19.5N 110.3E")
    photo = images.clean_photo(encode(image, "PNG", pnginfo=text, exif=gps_exif()), images.PNG)
    stored = opened(photo.data)
    assert (photo.content_type, stored.format, stored.mode) == (images.PNG, "PNG", "RGBA")
    assert stored.getpixel((25, 5))[3] == 0
    assert "Location" not in stored.info and not stored.getexif()
    assert b"19.5N" not in photo.data


@pytest.mark.parametrize("orientation", [6, 8])
def test_the_exif_orientation_is_applied(orientation):
    # 6: the phone was turned clockwise (the left edge is the top); 8: counter-clockwise.
    data = encode(halves((40, 20)), "JPEG", exif=gps_exif(orientation), quality=95)
    stored = opened(images.clean_photo(data, images.JPEG).data)
    assert stored.size == (20, 40)
    top, bottom = stored.getpixel((10, 3)), stored.getpixel((10, 36))
    if orientation == 6:
        assert near(top, RED) and near(bottom, BLUE)
    else:
        assert near(top, BLUE) and near(bottom, RED)
    assert not stored.getexif()


def test_a_large_photo_is_scaled_to_2000_pixels_on_its_long_side():
    photo = images.clean_photo(encode(halves((3000, 1500)), "JPEG"), images.JPEG)
    assert opened(photo.data).size == (2000, 1000)


def test_webp_becomes_jpeg():
    photo = images.clean_photo(encode(halves(), "WEBP"), images.WEBP)
    assert photo.content_type == images.JPEG
    assert opened(photo.data).format == "JPEG"


# --- HEIC from phones ----------------------------------------------------------------------------


def test_a_real_heic_is_converted_to_jpeg_without_its_metadata():
    data = heic(halves((64, 32)), gps_exif())
    assert images.sniff(data[: images.HEAD]) == images.HEIC
    photo = images.clean_photo(data, images.HEIC)
    stored = opened(photo.data)
    assert (photo.content_type, stored.format, stored.size) == (images.JPEG, "JPEG", (64, 32))
    assert near(stored.getpixel((5, 16)), RED) and near(stored.getpixel((58, 16)), BLUE)
    assert not stored.getexif() and "exif" not in stored.info
    assert b"Phone" not in photo.data


def test_a_heic_taken_with_the_phone_turned_comes_out_upright_once():
    # pillow-heif writes the EXIF orientation as the container's rotation; libheif applies it
    # and the EXIF orientation must not turn the picture a second time.
    photo = images.clean_photo(heic(halves((64, 32)), gps_exif(6)), images.HEIC)
    stored = opened(photo.data)
    assert stored.size == (32, 64)
    assert near(stored.getpixel((16, 5)), RED) and near(stored.getpixel((16, 58)), BLUE)


# --- thumbnails ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"), [((3000, 1500), (96, 48)), ((800, 1200), (64, 96)), ((40, 30), (40, 30))]
)
def test_thumbnails_are_jpeg_at_most_96_pixels_on_the_long_side(size, expected):
    photo = images.clean_photo(encode(halves(size), "JPEG", exif=gps_exif()), images.JPEG)
    small = opened(photo.thumbnail)
    assert (small.format, small.size) == ("JPEG", expected)
    assert not small.getexif()


def test_a_stored_photo_gets_its_thumbnail_later():
    stored = images.clean_photo(encode(halves((400, 200)), "PNG"), images.PNG).data
    small = opened(images.thumbnail(stored))
    assert (small.format, small.size) == ("JPEG", (96, 48))
    with pytest.raises(images.NotAPicture):
        images.thumbnail(b"%PDF-1.4\n%%EOF\n")


# --- damaged and disguised files -----------------------------------------------------------------


def png_claiming(width: int, height: int) -> bytes:
    """A PNG that claims a huge picture in a few bytes: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\xff\xd8\xff\xe0" + b"\0" * 64, images.JPEG),
        (encode(halves((400, 300)), "JPEG")[:600], images.JPEG),  # cut short in transfer
        (encode(halves(), "PNG")[:-20], images.PNG),
        (b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 40, images.WEBP),
        (struct.pack(">I", 24) + b"ftypheic\0\0\0\0mif1heic" + b"\0" * 64, images.HEIC),
        (heic(halves())[:200], images.HEIC),
    ],
)
def test_a_damaged_photo_is_not_a_picture(data, kind):
    with pytest.raises(images.NotAPicture):
        images.clean_photo(data, kind)


@pytest.mark.filterwarnings("error")  # Pillow's warning is turned into the refusal, not shown
@pytest.mark.parametrize(
    ("width", "height"),
    # Just over the 40-megapixel bound, where Pillow itself only warns (up to 80); the drill's
    # 13,000 x 13,000 PNG; and past anything Pillow would open.
    [(6_400, 6_400), (10_000, 10_000), (13_000, 13_000), (40_000, 40_000)],
)
def test_a_photo_claiming_too_many_pixels_is_refused_before_it_is_decoded(width, height):
    with pytest.raises(images.TooManyPixels):
        images.clean_photo(png_claiming(width, height), images.PNG)
    with pytest.raises(images.TooManyPixels):
        images.thumbnail(png_claiming(width, height))


def test_a_caller_may_set_a_lower_bound_but_not_a_higher_one():
    with pytest.raises(images.TooManyPixels):
        images.clean_photo(png_claiming(5_000, 5_000), images.PNG, max_pixels=20_000_000)
    with pytest.raises(images.TooManyPixels):
        images.clean_photo(png_claiming(6_400, 6_400), images.PNG, max_pixels=10**9)


def test_a_heic_claiming_too_many_pixels_is_refused_before_it_is_decoded(monkeypatch):
    data = heic(halves((64, 32)))
    monkeypatch.setattr(images, "MAX_PIXELS", 64 * 32 - 1)
    with pytest.raises(images.TooManyPixels):
        images.clean_photo(data, images.HEIC)


PEAK = """
import resource, sys
from shishi.lib import images
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    size = images.Image.open(images.io.BytesIO(images.clean_photo(data, images.PNG).data)).size
except images.TooManyPixels:
    size = None
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(size, grown // 1024)
"""


def peak(tmp_path, data: bytes) -> tuple[str, int]:
    """What ``clean_photo`` makes of ``data`` in a fresh process, and how many MB it grew by."""
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    done = subprocess.run(  # noqa: S603 - our own script, on a file the test wrote
        [sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, check=True
    )
    size, grown = done.stdout.rsplit(None, 1)
    return size, int(grown)


def test_a_photo_just_under_the_bound_is_scaled_down_in_a_few_hundred_megabytes(tmp_path):
    out = io.BytesIO()
    Image.new("RGB", (6_000, 6_600), RED).save(out, "PNG", compress_level=1)
    size, grown = peak(tmp_path, out.getvalue())
    assert size == "(1818, 2000)"
    # 40 million pixels decode to 120 MB (RGB); every later step works on the scaled copy.
    assert grown < 300


def test_a_bomb_is_refused_without_memory_growing(tmp_path):
    size, grown = peak(tmp_path, png_claiming(13_000, 13_000))
    assert size == "None"
    assert grown < 20


def test_a_pdf_is_complete_only_with_its_end_of_file_marker():
    whole = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\nstartxref\n9\n%%EOF\n"
    assert images.pdf_is_complete(whole)
    assert not images.pdf_is_complete(whole[:30])
    assert not images.pdf_is_complete(b"%PDF-1.4\n" + b"x" * 5000 + b"%%EOF" + b"\n" * 3000)
    assert not images.pdf_is_complete(b"<html>%%EOF")
