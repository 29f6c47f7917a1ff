"""Upload validation, WebP variants, storage and drawn art, on real files made with Pillow."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import time
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageFile

from app.media import (
    KINDS,
    ImageRejected,
    InvalidKey,
    LocalStorage,
    MemoryStorage,
    StoredImage,
    Variant,
    draw_logo,
    draw_product_art,
    is_variant_key,
    process_image,
    read_limited,
)

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
RED = (220, 20, 20)
BLUE = (20, 40, 200)


# ---------------------------------------------------------------------------------------------
# helpers


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def process(data: bytes, storage, **kw) -> StoredImage:
    kw.setdefault("max_bytes", MAX_BYTES)
    kw.setdefault("max_pixels", MAX_PIXELS)
    return process_image(data, storage, **kw)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def open_variant(storage, variant: Variant) -> Image.Image:
    img = Image.open(io.BytesIO(storage.get(variant.key)))
    img.load()
    return img


def is_red(pixel) -> bool:
    r, g, b = pixel[:3]
    return r > 150 and g < 90 and b < 90


def is_blue(pixel) -> bool:
    r, g, b = pixel[:3]
    return b > 130 and r < 90 and g < 110


def marked_picture(size: tuple[int, int]) -> Image.Image:
    """Blue picture with a red block in its top-left corner (as stored, before any rotation)."""
    w, h = size
    img = Image.new("RGB", size, BLUE)
    ImageDraw.Draw(img).rectangle((0, 0, w // 5, h // 5), fill=RED)
    return img


def camera_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Camera Maker"
    exif[ExifTags.Base.Model] = "Phone 12"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (35.0, 41.0, 21.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (51.0, 23.0, 20.0)
    return exif


def png_chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


def png_bomb(width: int, height: int) -> bytes:
    """A complete, valid 1-bit greyscale PNG of width x height zero pixels, a few hundred KB."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    parts = []
    for start in range(0, height, 1000):
        parts.append(comp.compress(row * min(1000, height - start)))
    parts.append(comp.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", b"".join(parts))
        + png_chunk(b"IEND", b"")
    )


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def swapped_rgb_profile() -> bytes:
    """A minimal ICC v2 RGB matrix profile whose red and blue primaries are swapped.

    A pixel stored as pure red under this profile means sRGB blue, so a colour-managed converter
    must turn it blue; one that ignores the profile keeps it red.
    """
    d50 = (0.9642, 1.0, 0.8249)
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)

    def xyz(v):
        return b"XYZ \0\0\0\0" + b"".join(_s15(c) for c in v)

    text = b"Swapped primaries test\0"
    desc = (
        b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0\0\0" + b"\0" * 67
    )
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(d50)),
        (b"rXYZ", xyz(blue)),
        (b"gXYZ", xyz(green)),
        (b"bXYZ", xyz(red)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\0\0\0\0public domain\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + b"".join(_s15(c) for c in d50)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media")


# ---------------------------------------------------------------------------------------------
# metadata and orientation


def test_exif_and_gps_are_stripped_and_orientation_applied(storage: LocalStorage):
    src = encode(marked_picture((800, 600)), "JPEG", quality=92, exif=camera_exif(6))
    with Image.open(io.BytesIO(src)) as check:  # the fixture really carries what we strip
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert check.getexif()[ExifTags.Base.Orientation] == 6

    stored = process(src, storage)

    # orientation 6: the stored 800x600 picture is shown rotated 90 degrees clockwise
    assert (stored.width, stored.height) == (600, 800)
    assert [(v.width, v.height) for v in stored.variants] == [(320, 427), (600, 800)]
    for variant in stored.variants:
        img = open_variant(storage, variant)
        assert img.format == "WEBP"
        assert img.size == (variant.width, variant.height)
        assert not img.getexif()
        assert "exif" not in img.info
        assert "xmp" not in img.info
        assert "icc_profile" not in img.info
        raw = storage.get(variant.key)
        assert b"EXIF" not in raw and b"XMP " not in raw and b"ICCP" not in raw
        assert b"Camera Maker" not in raw
        w, h = img.size
        # the stored top-left corner is now the top-right corner
        assert is_red(img.getpixel((w - 5, 5)))
        assert is_blue(img.getpixel((5, 5)))
        assert is_blue(img.getpixel((w - 5, h - 5)))
        assert is_blue(img.getpixel((5, h - 5)))


@pytest.mark.parametrize(
    ("orientation", "corner"),
    [(1, "top-left"), (3, "bottom-right"), (6, "top-right"), (8, "bottom-left")],
)
def test_large_jpeg_orientation_and_sizes(storage: LocalStorage, orientation: int, corner: str):
    # large enough for reduced-scale JPEG decoding to kick in
    src = encode(marked_picture((2600, 1950)), "JPEG", quality=85, exif=camera_exif(orientation))
    stored = process(src, storage)

    upright = (1950, 2600) if orientation in (6, 8) else (2600, 1950)
    assert (stored.width, stored.height) == upright
    uw, uh = upright
    expected = [(w, round(uh * w / uw)) for w in (320, 640, 1280)]
    assert [(v.width, v.height) for v in stored.variants] == expected
    img = open_variant(storage, stored.largest)
    w, h = img.size
    corners = {
        "top-left": (5, 5),
        "top-right": (w - 5, 5),
        "bottom-left": (5, h - 5),
        "bottom-right": (w - 5, h - 5),
    }
    for name, xy in corners.items():
        assert is_red(img.getpixel(xy)) == (name == corner), name


# ---------------------------------------------------------------------------------------------
# limits


def test_png_decompression_bomb_is_rejected_fast(storage: LocalStorage):
    bomb = png_bomb(30_000, 30_000)
    assert len(bomb) < 1_000_000  # tiny file, 900 million pixels
    started = time.perf_counter()
    with pytest.raises(ImageRejected) as info:
        process(bomb, storage)
    assert time.perf_counter() - started < 1.0
    assert info.value.code == "too_many_pixels"
    assert files_under(storage.root) == []


@pytest.mark.parametrize("side", [7_000, 10_000])
def test_pixel_cap_applies_before_decoding(storage: LocalStorage, side: int):
    # 49 M pixels: above our cap only; 100 M: also above Pillow's own warning threshold
    bomb = png_bomb(side, side)
    started = time.perf_counter()
    with pytest.raises(ImageRejected) as info:
        process(bomb, storage, max_pixels=40_000_000)
    assert time.perf_counter() - started < 1.0
    assert info.value.code == "too_many_pixels"
    assert files_under(storage.root) == []


def webp_canvas_bomb(side: int) -> bytes:
    """An animated WebP declaring a side x side canvas that holds a single 1x1 frame."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return tag + struct.pack("<I", len(body)) + body + b"\0" * (len(body) % 2)

    frame = encode(Image.new("RGB", (1, 1), BLUE), "WEBP", lossless=True)[12:]  # its VP8L chunk
    size = (side - 1).to_bytes(3, "little") * 2
    zero = (0).to_bytes(3, "little")
    payload = (
        b"WEBP"
        + chunk(b"VP8X", b"\x02\0\0\0" + size)
        + chunk(b"ANIM", b"\0" * 6)
        + chunk(b"ANMF", zero * 4 + (100).to_bytes(3, "little") + b"\0" + frame)
    )
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def test_webp_canvas_bomb_is_rejected(storage: LocalStorage):
    bomb = webp_canvas_bomb(9_000)  # 81 M pixels, below Pillow's own limit
    with Image.open(io.BytesIO(bomb)) as check:
        assert check.size == (9_000, 9_000)
    with pytest.raises(ImageRejected) as info:
        process(bomb, storage)
    assert info.value.code == "too_many_pixels"
    assert files_under(storage.root) == []


def test_pixel_cap_holds_when_pillow_warnings_are_ignored(storage: LocalStorage):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ImageRejected) as info:
            process(png_bomb(10_000, 10_000), storage)
    assert info.value.code == "too_many_pixels"


def test_pixel_cap_is_configurable(storage: LocalStorage):
    src = encode(Image.new("RGB", (400, 300), BLUE), "PNG")
    with pytest.raises(ImageRejected) as info:
        process(src, storage, max_pixels=400 * 300 - 1)
    assert info.value.code == "too_many_pixels"
    assert process(src, storage, max_pixels=400 * 300).width == 400


def test_too_many_bytes(storage: LocalStorage):
    src = encode(Image.new("RGB", (200, 200), BLUE), "PNG")
    with pytest.raises(ImageRejected) as info:
        process(src, storage, max_bytes=len(src) - 1)
    assert info.value.code == "too_large_bytes"
    assert files_under(storage.root) == []
    assert process(src, storage, max_bytes=len(src)).width == 200


def test_empty(storage: LocalStorage):
    with pytest.raises(ImageRejected) as info:
        process(b"", storage)
    assert info.value.code == "empty"


def test_read_limited_reads_at_most_one_byte_too_many():
    stream = io.BytesIO(b"x" * 1000)
    with pytest.raises(ImageRejected) as info:
        read_limited(stream, 100)
    assert info.value.code == "too_large_bytes"
    assert stream.tell() == 101
    assert read_limited(io.BytesIO(b"x" * 100), 100) == b"x" * 100
    assert read_limited(io.BytesIO(b""), 100) == b""
    big = os.urandom(300_000)
    assert read_limited(io.BytesIO(big), len(big)) == big


# ---------------------------------------------------------------------------------------------
# formats and damaged files


def _tiff() -> bytes:
    return encode(Image.new("RGB", (50, 50), BLUE), "TIFF")


def _gif() -> bytes:
    return encode(Image.new("P", (50, 50)), "GIF")


def _bmp() -> bytes:
    return encode(Image.new("RGB", (50, 50), BLUE), "BMP")


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">\
<script>alert(1)</script><rect width="10" height="10"/></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.mark.parametrize(
    "make", [_tiff, _gif, _bmp, lambda: SVG, lambda: HTML, lambda: b"\xff\xd8\xff not really"]
)
def test_unsupported_formats_are_rejected_whatever_the_name(storage: LocalStorage, make):
    # there is no name to trust: the file would have been uploaded as "photo.jpg"
    with pytest.raises(ImageRejected) as info:
        process(make(), storage)
    assert info.value.code == "unsupported_format"
    assert files_under(storage.root) == []


def test_truncated_jpeg_is_corrupt(storage: LocalStorage):
    noise = Image.effect_noise((640, 480), 60).convert("RGB")
    src = encode(noise, "JPEG", quality=90)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(ImageRejected) as info:
        process(src[: len(src) // 2], storage)
    assert info.value.code == "corrupt"
    assert files_under(storage.root) == []


def test_truncated_png_is_corrupt(storage: LocalStorage):
    noise = Image.effect_noise((300, 300), 60).convert("RGB")
    src = encode(noise, "PNG")
    with pytest.raises(ImageRejected) as info:
        process(src[: len(src) // 2], storage)
    assert info.value.code == "corrupt"
    assert files_under(storage.root) == []


def test_png_with_damaged_pixel_data_is_corrupt(storage: LocalStorage):
    src = bytearray(encode(Image.effect_noise((200, 200), 60).convert("RGB"), "PNG"))
    start = src.index(b"IDAT") + 4
    src[start + 10 : start + 400] = os.urandom(390)
    with pytest.raises(ImageRejected) as info:
        process(bytes(src), storage)
    assert info.value.code == "corrupt"


def test_loading_truncated_images_stays_disabled():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_rejection_codes_are_checked():
    with pytest.raises(ValueError, match="unknown rejection code"):
        ImageRejected("nope", "x")
    err = ImageRejected("corrupt", "bad")
    assert isinstance(err, ValueError) and err.code == "corrupt" and str(err) == "bad"


# ---------------------------------------------------------------------------------------------
# modes, transparency, colour


def test_png_with_alpha_keeps_transparency(storage: LocalStorage):
    img = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    ImageDraw.Draw(img).rectangle((200, 0, 399, 199), fill=(*RED, 255))
    stored = process(encode(img, "PNG"), storage)
    assert [v.width for v in stored.variants] == [320, 400]
    for variant in stored.variants:
        out = open_variant(storage, variant)
        assert out.mode == "RGBA"
        w, h = out.size
        assert out.getpixel((5, h // 2))[3] == 0
        right = out.getpixel((w - 5, h // 2))
        assert right[3] == 255 and is_red(right)


def test_palette_png_with_transparency(storage: LocalStorage):
    img = Image.new("P", (120, 80), 0)
    img.putpalette([0, 0, 0, *RED] + [0] * (254 * 3))
    ImageDraw.Draw(img).rectangle((60, 0, 119, 79), fill=1)
    stored = process(encode(img, "PNG", transparency=0), storage)
    out = open_variant(storage, stored.largest)
    assert out.mode == "RGBA"
    assert out.getpixel((5, 40))[3] == 0
    assert is_red(out.getpixel((115, 40)))


def test_opaque_alpha_channel_is_dropped(storage: LocalStorage):
    img = Image.new("RGBA", (100, 100), (*BLUE, 255))
    out = open_variant(storage, process(encode(img, "PNG"), storage).largest)
    assert out.mode == "RGB"


def test_webp_input(storage: LocalStorage):
    img = Image.new("RGBA", (900, 300), (0, 0, 0, 0))
    ImageDraw.Draw(img).ellipse((300, 0, 600, 300), fill=(*BLUE, 255))
    stored = process(encode(img, "WEBP", lossless=True), storage)
    assert [(v.width, v.height) for v in stored.variants] == [(320, 107), (640, 213), (900, 300)]
    out = open_variant(storage, stored.largest)
    assert out.getpixel((5, 5))[3] == 0 and is_blue(out.getpixel((450, 150)))


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped(storage: LocalStorage):
    img = Image.new("I;16", (64, 64), 32768)
    out = open_variant(storage, process(encode(img, "PNG"), storage).largest)
    r, g, b = out.convert("RGB").getpixel((32, 32))
    assert 110 < r < 145 and abs(r - g) < 4 and abs(r - b) < 4


def test_cmyk_jpeg(storage: LocalStorage):
    img = Image.new("CMYK", (200, 100), (0, 255, 255, 0))  # red ink
    out = open_variant(storage, process(encode(img, "JPEG"), storage).largest)
    assert out.mode == "RGB" and is_red(out.getpixel((100, 50)))


def test_multi_picture_jpeg_is_accepted(storage: LocalStorage):
    first, second = marked_picture((300, 200)), Image.new("RGB", (300, 200), (0, 200, 0))
    src = encode(first, "MPO", save_all=True, append_images=[second])
    with Image.open(io.BytesIO(src)) as check:
        assert check.format == "MPO"
    out = open_variant(storage, process(src, storage).largest)
    assert is_red(out.getpixel((5, 5))) and is_blue(out.getpixel((295, 195)))


def test_icc_profile_is_applied_then_dropped(storage: LocalStorage):
    img = Image.new("RGB", (100, 100), (255, 0, 0))
    src = encode(img, "PNG", icc_profile=swapped_rgb_profile())
    with Image.open(io.BytesIO(src)) as check:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(check.info["icc_profile"]))
        assert "Swapped" in ImageCms.getProfileDescription(profile)
    out = open_variant(storage, process(src, storage).largest)
    assert "icc_profile" not in out.info
    # stored "red" under this profile is blue in sRGB
    r, g, b = out.getpixel((50, 50))
    assert b > 180 and r < 60


def test_srgb_profile_leaves_colours_alone(storage: LocalStorage):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    src = encode(Image.new("RGB", (100, 100), RED), "JPEG", quality=95, icc_profile=srgb)
    out = open_variant(storage, process(src, storage).largest)
    assert "icc_profile" not in out.info
    r, g, b = out.getpixel((50, 50))
    assert abs(r - RED[0]) < 12 and abs(g - RED[1]) < 12 and abs(b - RED[2]) < 12


# ---------------------------------------------------------------------------------------------
# variants and keys


def test_small_image_is_not_upscaled(storage: LocalStorage):
    stored = process(encode(Image.new("RGB", (200, 150), BLUE), "JPEG"), storage)
    assert (stored.width, stored.height) == (200, 150)
    assert [(v.width, v.height) for v in stored.variants] == [(200, 150)]
    assert open_variant(storage, stored.variants[0]).size == (200, 150)


def test_widths_are_deduplicated_and_sorted(storage: LocalStorage):
    src = encode(Image.new("RGB", (500, 250), BLUE), "PNG")
    stored = process(src, storage, widths=(1280, 320, 640, 320, 500))
    assert [(v.width, v.height) for v in stored.variants] == [(320, 160), (500, 250)]
    with pytest.raises(ValueError):
        process(src, storage, widths=())


def test_keys_are_content_addressed(storage: LocalStorage):
    src = encode(marked_picture((1000, 700)), "JPEG", quality=90, exif=camera_exif(1))
    first = process(src, storage)
    second = process(src, storage)
    assert first == second
    assert len({v.key for v in first.variants}) == len(first.variants) == 3
    files = files_under(storage.root)
    assert len(files) == 3  # one file per variant, not per upload
    for variant in first.variants:
        assert is_variant_key(variant.key)
        body = storage.get(variant.key)
        digest = hashlib.sha256(body).hexdigest()
        assert variant.key == f"{digest[:2]}/{digest[2:4]}/{digest}.webp"
    # the same picture without its metadata lands on the same keys: only pixels count
    bare = encode(marked_picture((1000, 700)), "JPEG", quality=90)
    assert process(bare, storage).keys == first.keys
    assert not any(p.name.startswith(".tmp") for p in files_under(storage.root))


class FailingStorage(LocalStorage):
    """Writes the first file, then fails, like a full disk."""

    def __init__(self, root: Path):
        super().__init__(root)
        self.puts = 0

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.puts += 1
        if self.puts > 1:
            raise OSError(28, "No space left on device")
        super().put(key, data, content_type)


def test_failed_write_leaves_nothing_behind(tmp_path: Path):
    store = FailingStorage(tmp_path / "media")
    src = encode(marked_picture((900, 600)), "JPEG")
    with pytest.raises(OSError):
        process(src, store)
    assert store.puts == 2
    assert files_under(store.root) == []


def test_stored_image_values():
    stored = StoredImage(
        width=1500,
        height=1000,
        variants=(Variant(320, 213, "a/b.webp"), Variant(640, 427, "c/d.webp")),
    )
    assert (
        stored.srcset(lambda key: f"/media/{key}") == "/media/a/b.webp 320w, /media/c/d.webp 640w"
    )
    assert stored.pick(300).key == "a/b.webp"
    assert stored.pick(500).key == "c/d.webp"
    assert stored.pick(2000).key == "c/d.webp"
    assert StoredImage.from_dict(stored.to_dict()) == stored
    with pytest.raises(ValueError):
        StoredImage(width=1, height=1, variants=())
    with pytest.raises(ValueError):
        StoredImage(width=9, height=9, variants=(Variant(640, 1, "a"), Variant(320, 1, "b")))


def test_memory_storage_works_with_process_image():
    store = MemoryStorage()
    stored = process(encode(Image.new("RGB", (700, 350), BLUE), "PNG"), store)
    assert store.keys() == sorted(stored.keys)
    assert all(store.content_type(k) == "image/webp" for k in stored.keys)
    assert store.path_for(stored.keys[0]) is None


# ---------------------------------------------------------------------------------------------
# storage


@pytest.mark.parametrize(
    "key",
    [
        "../escape.webp",
        "a/../../escape.webp",
        "a/./b.webp",
        "..",
        "/etc/passwd",
        "a\\..\\b.webp",
        "",
        "a//b.webp",
        "a/b/",
        ".hidden",
        "a/.tmp-123",
        "a/b.tar.gz",
        "a\x00b",
        "ab\n",
        "fa/عکس.webp",
        "C:/x.webp",
        "x" * 600,
    ],
)
def test_local_storage_rejects_bad_keys(storage: LocalStorage, key: str):
    with pytest.raises(InvalidKey):
        storage.put(key, b"x", "image/webp")
    with pytest.raises(InvalidKey):
        storage.get(key)
    with pytest.raises(InvalidKey):
        storage.exists(key)
    with pytest.raises(InvalidKey):
        storage.delete(key)
    with pytest.raises(InvalidKey):
        storage.path_for(key)
    assert files_under(storage.root.parent) == []


def test_local_storage_round_trip(storage: LocalStorage):
    key = "ab/cd/" + "0" * 64 + ".webp"
    assert not storage.exists(key)
    with pytest.raises(KeyError):
        storage.get(key)
    storage.put(key, b"first", "image/webp")
    storage.put(key, b"second", "image/webp")  # atomic replace
    assert storage.exists(key)
    assert storage.get(key) == b"second"
    path = Path(storage.path_for(key))
    assert path == storage.root / "ab" / "cd" / ("0" * 64 + ".webp")
    assert path.read_bytes() == b"second"
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert [p.name for p in files_under(storage.root)] == [path.name]  # no temp files left
    storage.delete(key)
    storage.delete(key)  # deleting twice is fine
    assert not storage.exists(key)


def test_local_storage_refuses_symlink_out_of_root(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "media"
    root.mkdir()
    (root / "ab").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidKey):
        LocalStorage(root).put("ab/x.webp", b"x", "image/webp")
    assert list(outside.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# drawn art


@pytest.mark.parametrize("kind", [*KINDS, "dates", "something-else"])
def test_product_art_is_a_deterministic_jpeg(kind: str):
    data = draw_product_art("گلیم دستباف", seed=7, kind=kind)
    assert data == draw_product_art("گلیم دستباف", seed=7, kind=kind)
    assert data != draw_product_art("گلیم دستباف", seed=8, kind=kind)
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG" and img.size == (1200, 900) and img.mode == "RGB"
        assert not img.getexif()
        # a pattern, not a flat fill
        colours = img.reduce(8).getcolors(maxcolors=100_000)
        assert colours is not None and len(colours) > 8


def test_product_art_is_fast_and_accepted_by_the_pipeline():
    store = MemoryStorage()
    started = time.perf_counter()
    pictures = [draw_product_art("x", seed=s, kind=k) for s, k in enumerate(KINDS * 2)]
    per_picture = (time.perf_counter() - started) / len(pictures)
    assert per_picture < 0.2  # about 10-30 ms on a development machine
    stored = process(pictures[0], store)
    assert [v.width for v in stored.variants] == [320, 640, 1200]


def test_logo_is_a_transparent_png():
    data = draw_logo(3)
    assert data == draw_logo(3)
    assert data != draw_logo(4)
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG" and img.size == (256, 256) and img.mode == "RGBA"
        assert img.getpixel((0, 0))[3] == 0
        assert img.getpixel((128, 128))[3] == 255
    with Image.open(io.BytesIO(draw_logo(3, size=96))) as small:
        assert small.size == (96, 96)
    stored = process(data, MemoryStorage())
    assert [v.width for v in stored.variants] == [256]
