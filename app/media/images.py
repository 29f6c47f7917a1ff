"""Validate uploaded pictures and store them as metadata-free WebP variants.

Contract of this module (the rest of the project only sees plain values):

* Input is raw bytes. Nothing is trusted from the file name or the Content-Type: the bytes are
  decoded with Pillow, restricted to JPEG, PNG and WebP (``Image.open(..., formats=...)``).
* Limits are checked cheapest first: the byte size (``max_bytes``) before anything else, the pixel
  count (``max_pixels``) right after the header is parsed and before any pixel data is decoded,
  then the whole image is decoded so truncated or damaged files are refused.
* The EXIF orientation is applied, colours are brought to sRGB when an ICC profile says otherwise,
  and every variant is re-encoded from pixels only: no EXIF (so no GPS), no XMP, no ICC profile.
* Variants are WebP at the requested widths (default 320, 640 and 1280 px). A picture is never
  upscaled: widths wider than the upright source collapse to the source width and duplicates are
  dropped. Transparency is kept (WebP has an alpha channel).
* Storage keys are content addressed: ``ab/cd/<sha256>.webp`` where ``<sha256>`` is the hex SHA-256
  of the stored WebP bytes and ``ab``/``cd`` are its first four hex digits. The same upload always
  produces the same keys, a file is written once however many times it is uploaded, and a stored
  file can be verified against its own name. Because keys can be shared by several uploads,
  deleting a variant is the caller's decision (it knows which records still refer to a key).

Every refusal raises :class:`ImageRejected` with a stable ``code``; the web layer maps codes to
translated messages. Nothing is written to storage unless the whole image was accepted.

:func:`store_original` is the cheap half, for an upload whose variants are made later (by the job
worker): the same byte and pixel limits and format allowlist, from the header only (no pixel is
decoded), and the upload's own bytes stored under ``originals/<sha256>.<ext>``. It also takes a
seekable stream (an upload spooled to a file), of which only the header is parsed; the bytes are
hashed while they are copied to the storage, never held whole in memory. The full decode,
and so the refusal of a damaged body, comes when :func:`process_image` runs on those bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import struct
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Final, Protocol

from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

from app.media.storage import put_hashed

if TYPE_CHECKING:
    from app.media.storage import Storage

__all__ = [
    "ACCEPTED_FORMATS",
    "CONTENT_TYPE",
    "DEFAULT_WIDTHS",
    "ORIGINALS_PREFIX",
    "REJECTION_CODES",
    "ImageRejected",
    "Original",
    "StoredImage",
    "Variant",
    "is_original_key",
    "is_variant_key",
    "original_content_type",
    "process_image",
    "read_limited",
    "store_original",
]

#: Container formats accepted on upload (Pillow format names).
ACCEPTED_FORMATS: Final = ("JPEG", "PNG", "WEBP")
#: Formats Pillow may report for accepted files (multi-picture camera JPEGs open as "MPO").
_DECODED_FORMATS: Final = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
_JPEG_FORMATS: Final = frozenset({"JPEG", "MPO"})

DEFAULT_WIDTHS: Final = (320, 640, 1280)
CONTENT_TYPE: Final = "image/webp"
WEBP_QUALITY: Final = 80
#: libwebp effort (0 fastest .. 6 smallest). Measured with ``bench/images.py --sweep`` on a 12 MP
#: photo and on drawn demo pictures: 2 encodes 25-40% faster than 3 or 4 (which cost the same) for
#: files about 5% larger; 0 and 1 save little more time and grow files by 15-25%.
WEBP_METHOD: Final = 2

REJECTION_CODES: Final = frozenset(
    {"too_large_bytes", "too_many_pixels", "unsupported_format", "corrupt", "empty"}
)

_KEY_RE: Final = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.webp")
#: Where uploads waiting for their variants are kept (never served: see ``is_original_key``).
ORIGINALS_PREFIX: Final = "originals"
_ORIGINAL_RE: Final = re.compile(r"originals/[0-9a-f]{64}\.(?:jpg|png|webp)")
# An accepted original's extension and Content-Type, by the format Pillow reports.
_ORIGINAL_TYPES: Final[Mapping[str, tuple[str, str]]] = {
    "JPEG": ("jpg", "image/jpeg"),
    "MPO": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
_READ_CHUNK: Final = 64 * 1024
_RESAMPLE: Final = Image.Resampling.LANCZOS
_REDUCING_GAP: Final = 3.0

# What Pillow's decoders raise on damaged input. MemoryError is left out on purpose: with the
# pixel cap in place it means the server is short of memory, not that the file is bad.
_DECODE_ERRORS: Final = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    TypeError,
    KeyError,
    struct.error,
    zlib.error,
)

# EXIF orientation -> transposition that makes the picture upright (as ImageOps.exif_transpose).
_ORIENTATION: Final[Mapping[int, Image.Transpose]] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES: Final = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION_TAG: Final = 0x0112

_SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class ImageRejected(ValueError):
    """An upload that is not an acceptable picture.

    ``code`` is one of :data:`REJECTION_CODES` (``too_large_bytes``, ``too_many_pixels``,
    ``unsupported_format``, ``corrupt``, ``empty``); the message is English, for logs.
    """

    code: str

    def __init__(self, code: str, message: str) -> None:
        if code not in REJECTION_CODES:
            raise ValueError(f"unknown rejection code {code!r}")
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Variant:
    """One stored WebP rendition: its pixel size and storage key."""

    width: int
    height: int
    key: str


@dataclass(frozen=True)
class StoredImage:
    """An accepted picture.

    ``width``/``height`` are the upright dimensions of the source; ``variants`` are sorted by
    width, narrowest first, and never wider than the source.
    """

    width: int
    height: int
    variants: tuple[Variant, ...]

    def __post_init__(self) -> None:
        if not self.variants:
            raise ValueError("a stored image has at least one variant")
        widths = [v.width for v in self.variants]
        if widths != sorted(widths):
            raise ValueError("variants must be sorted by width")

    @property
    def keys(self) -> tuple[str, ...]:
        """Storage keys of all variants."""
        return tuple(v.key for v in self.variants)

    @property
    def smallest(self) -> Variant:
        return self.variants[0]

    @property
    def largest(self) -> Variant:
        return self.variants[-1]

    def pick(self, min_width: int) -> Variant:
        """The narrowest variant at least ``min_width`` wide, else the widest one."""
        for variant in self.variants:
            if variant.width >= min_width:
                return variant
        return self.variants[-1]

    def srcset(self, url_for_key: Callable[[str], str]) -> str:
        """An HTML ``srcset`` value, e.g. ``"/m/a.webp 320w, /m/b.webp 640w"``."""
        return ", ".join(f"{url_for_key(v.key)} {v.width}w" for v in self.variants)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (for a database column); :meth:`from_dict` reverses it."""
        return {
            "width": self.width,
            "height": self.height,
            "variants": [
                {"width": v.width, "height": v.height, "key": v.key} for v in self.variants
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoredImage:
        variants = tuple(
            Variant(width=int(v["width"]), height=int(v["height"]), key=str(v["key"]))
            for v in data["variants"]
        )
        return cls(width=int(data["width"]), height=int(data["height"]), variants=variants)


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def read_limited(stream: _Readable, max_bytes: int) -> bytes:
    """Read a whole upload stream, refusing it as soon as it exceeds ``max_bytes``.

    At most ``max_bytes + 1`` bytes are read from ``stream``; one byte too many raises
    ``ImageRejected("too_large_bytes")``. An empty stream returns ``b""``.
    """
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")
    limit = max_bytes + 1
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = stream.read(min(_READ_CHUNK, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > max_bytes:
        raise ImageRejected("too_large_bytes", f"upload is larger than {max_bytes} bytes")
    return b"".join(chunks)


@dataclass(frozen=True)
class Original:
    """An upload accepted from its header and stored as it came: its storage key and its size
    as the header gives it (before any EXIF rotation)."""

    key: str
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return original_content_type(self.key)


class _Lent:
    """A stream lent to Pillow for its header: reads and seeks go through, but closing the
    picture (Pillow closes its file) leaves the stream open for its owner."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def close(self) -> None:
        pass


def original_content_type(key: str) -> str:
    """The Content-Type of an original by its key's extension."""
    extension = key.rsplit(".", 1)[-1]
    return next((t for ext, t in _ORIGINAL_TYPES.values() if ext == extension), "image/jpeg")


def is_original_key(key: str) -> bool:
    """True if ``key`` has the shape of a key made by :func:`store_original`."""
    return _ORIGINAL_RE.fullmatch(key) is not None


def store_original(
    data: bytes | IO[bytes], storage: Storage, *, max_bytes: int, max_pixels: int
) -> Original:
    """Check ``data`` cheaply and store it unchanged under ``originals/<sha256>.<ext>``.

    ``data`` is bytes or a seekable binary stream (an upload spooled by the web server, read
    from its start). The checks are those :func:`process_image` makes before it decodes: not
    empty, at most ``max_bytes``, a JPEG, PNG or WebP header, at most ``max_pixels`` by the
    header's size; a refusal raises :class:`ImageRejected` and writes nothing. A stream's size
    is taken by seeking and only its header is read for the checks; its bytes are then hashed
    as they are copied to the storage (:func:`app.media.storage.put_hashed`), never held whole
    in memory. No pixel data is decoded, so a damaged body passes here and is refused by
    :func:`process_image` later. A key that exists already is not written again (the same
    bytes).
    """
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    _check_size(size, max_bytes, max_pixels)
    img = _open(_Lent(stream), max_pixels)  # type: ignore[arg-type]
    try:
        width, height = img.size
        extension, content_type = _ORIGINAL_TYPES[str(img.format)]
    finally:
        img.close()
    stream.seek(0)
    key, _written = put_hashed(
        storage, stream, lambda digest: f"{ORIGINALS_PREFIX}/{digest}.{extension}", content_type
    )
    return Original(key=key, width=width, height=height)


def is_variant_key(key: str) -> bool:
    """True if ``key`` has the shape of a key made by :func:`process_image`."""
    return _KEY_RE.fullmatch(key) is not None


def _key_for(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest[:2]}/{digest[2:4]}/{digest}.webp"


def process_image(
    data: bytes,
    storage: Storage,
    *,
    max_bytes: int,
    max_pixels: int,
    widths: Sequence[int] = DEFAULT_WIDTHS,
) -> StoredImage:
    """Validate ``data`` and write its WebP variants to ``storage``.

    Raises :class:`ImageRejected` for anything that is not an acceptable JPEG, PNG or WebP picture
    within ``max_bytes`` and ``max_pixels``; in that case nothing is written. Variants whose key
    already exists are not written again. If writing fails halfway, the variants this call created
    are removed again before the error propagates.

    Pillow's own decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``, left untouched) still
    applies, so a ``max_pixels`` above twice that value has no further effect. Widths that are
    empty or not positive are a programming error (``ValueError``), not a rejection.
    """
    renditions, (width, height) = _render(
        data, max_bytes=max_bytes, max_pixels=max_pixels, widths=widths
    )
    variants = tuple(Variant(w, h, _key_for(body)) for w, h, body in renditions)
    created: list[str] = []
    try:
        for variant, (_, _, body) in zip(variants, renditions, strict=True):
            if storage.exists(variant.key):
                continue
            storage.put(variant.key, body, CONTENT_TYPE)
            created.append(variant.key)
    except BaseException:
        for key in created:
            # best effort: the original error is the one worth reporting
            with contextlib.suppress(Exception):
                storage.delete(key)
        raise
    return StoredImage(width=width, height=height, variants=variants)


# --------------------------------------------------------------------------------------------
# Decoding and rendering (no storage involved)


def _render(
    data: bytes, *, max_bytes: int, max_pixels: int, widths: Sequence[int]
) -> tuple[list[tuple[int, int, bytes]], tuple[int, int]]:
    """Decode, validate and encode; returns ``[(width, height, webp), ...]`` and upright size."""
    wanted = sorted({int(w) for w in widths})
    if not wanted or wanted[0] < 1:
        raise ValueError("widths must be positive and not empty")
    img = _open_checked(data, max_bytes, max_pixels)
    try:
        return _render_opened(img, wanted)
    finally:
        img.close()


def _open_checked(data: bytes, max_bytes: int, max_pixels: int) -> ImageFile.ImageFile:
    """The checks made before any decoding: not empty, at most ``max_bytes``, then the header
    (:func:`_open`). ``ValueError`` for a non-positive ``max_pixels``."""
    _check_size(len(data), max_bytes, max_pixels)
    return _open(io.BytesIO(data), max_pixels)


def _check_size(size: int, max_bytes: int, max_pixels: int) -> None:
    """Not empty and at most ``max_bytes``; ``ValueError`` for a non-positive ``max_pixels``."""
    if max_pixels < 1:
        raise ValueError("max_pixels must be positive")
    if not size:
        raise ImageRejected("empty", "upload is empty")
    if size > max_bytes:
        raise ImageRejected("too_large_bytes", f"upload is larger than {max_bytes} bytes")


def _open(stream: IO[bytes], max_pixels: int) -> ImageFile.ImageFile:
    """Parse the header only (from ``stream``, which Pillow reads as far as it needs) and
    enforce the format allowlist and the pixel cap."""
    try:
        img = Image.open(stream, formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError:
        raise ImageRejected("unsupported_format", "not a JPEG, PNG or WebP image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own limit fired inside open(); warnings reach here when they are errors.
        raise ImageRejected("too_many_pixels", str(exc)) from None
    except _DECODE_ERRORS as exc:
        raise ImageRejected("corrupt", f"unreadable image header: {exc}") from None

    width, height = img.size
    if img.format not in _DECODED_FORMATS:
        img.close()
        raise ImageRejected("unsupported_format", f"format {img.format} is not accepted")
    if width < 1 or height < 1:
        img.close()
        raise ImageRejected("corrupt", f"image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        img.close()
        raise ImageRejected(
            "too_many_pixels",
            f"image is {width}x{height} = {width * height} pixels, more than {max_pixels}",
        )
    return img


def _orientation(img: Image.Image) -> int:
    """EXIF orientation 1..8; damaged or absent EXIF counts as upright (it is dropped anyway)."""
    try:
        value = img.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    except _DECODE_ERRORS:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _target_sizes(width: int, height: int, widths: Sequence[int]) -> list[tuple[int, int]]:
    """Upright variant sizes: no upscaling, duplicates collapsed, narrowest first."""
    targets = sorted({min(w, width) for w in widths})
    return [(w, max(1, round(height * w / width))) for w in targets]


def _render_opened(
    img: ImageFile.ImageFile, widths: Sequence[int]
) -> tuple[list[tuple[int, int, bytes]], tuple[int, int]]:
    is_jpeg = img.format in _JPEG_FORMATS
    # JPEG keeps EXIF in a header segment, so its orientation is known before decoding; PNG may
    # store eXIf after the pixel data, so it is read after load().
    orientation = _orientation(img) if is_jpeg else 1
    stored_w, stored_h = img.size

    if is_jpeg:
        upright = (stored_h, stored_w) if orientation in _SWAPS_AXES else (stored_w, stored_h)
        largest = _target_sizes(*upright, widths)[-1]
        # Let libjpeg scale by 1/2, 1/4 or 1/8 while decoding (DCT scaling) as long as the
        # result stays at least as large as the widest variant: far less work and memory.
        wanted = (largest[1], largest[0]) if orientation in _SWAPS_AXES else largest
        img.draft(None, wanted)

    try:
        img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("too_many_pixels", str(exc)) from None
    except _DECODE_ERRORS as exc:
        raise ImageRejected("corrupt", f"image data is damaged or truncated: {exc}") from None

    if not is_jpeg:
        orientation = _orientation(img)
    swap = orientation in _SWAPS_AXES
    upright_w, upright_h = (stored_h, stored_w) if swap else (stored_w, stored_h)
    sizes = _target_sizes(upright_w, upright_h, widths)

    icc = img.info.get("icc_profile")
    work = _working_mode(img)

    # Widest variant: resize in stored orientation (fewer pixels to rotate), then make upright.
    top_w, top_h = sizes[-1]
    in_stored = (top_h, top_w) if swap else (top_w, top_h)
    if work.size != in_stored:
        work = work.resize(in_stored, _RESAMPLE, reducing_gap=_REDUCING_GAP)
    if orientation in _ORIENTATION:
        work = work.transpose(_ORIENTATION[orientation])
    work = _to_srgb(work, icc)

    rendered: list[tuple[int, int, bytes]] = []
    current = work
    for w, h in reversed(sizes):
        if current.size != (w, h):
            current = current.resize((w, h), _RESAMPLE, reducing_gap=_REDUCING_GAP)
        rendered.append((w, h, _encode_webp(current)))
    rendered.reverse()
    return rendered, (upright_w, upright_h)


def _working_mode(img: Image.Image) -> Image.Image:
    """Bring any decoded mode to one Pillow can resample: L, LA, RGB, RGBA or CMYK."""
    mode = img.mode
    has_key = "transparency" in img.info
    if mode in ("L", "RGB", "CMYK") and not has_key:
        return img
    if mode in ("LA", "RGBA"):
        return img
    if mode == "RGBa":
        return img.convert("RGBA")
    if mode == "La":
        return img.convert("LA")
    if mode.startswith("I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        return img.point(lambda v: v * (1 / 256)).convert("L")
    if mode == "1":
        return img.convert("L")
    if mode in ("P", "PA", "L", "RGB") and (has_key or mode == "PA"):
        return img.convert("RGBA")
    if mode == "P":
        return img.convert("RGB")
    return img.convert("RGB")


def _to_srgb(img: Image.Image, icc: object) -> Image.Image:
    """Convert to RGB/RGBA, honouring an embedded non-sRGB ICC profile; drop opaque alpha."""
    has_alpha = img.mode in ("RGBA", "LA")
    out_mode = "RGBA" if has_alpha else "RGB"
    converted = None
    if isinstance(icc, bytes) and icc and img.mode in ("RGB", "RGBA", "CMYK"):
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            description = ImageCms.getProfileDescription(profile) or ""
            if img.mode == "CMYK" or "srgb" not in description.lower():
                converted = ImageCms.profileToProfile(
                    img, profile, _SRGB_PROFILE, outputMode=out_mode
                )
        except (ImageCms.PyCMSError, *_DECODE_ERRORS):
            converted = None  # unusable profile: keep the numbers as they are
    img = converted if converted is not None else img
    if img.mode != out_mode:
        img = img.convert(out_mode)
    if out_mode == "RGBA" and img.getchannel("A").getextrema() == (255, 255):
        img = img.convert("RGB")
    return img


def _encode_webp(img: Image.Image) -> bytes:
    """Lossy WebP from pixels only: no EXIF, XMP or ICC chunk is written."""
    img.info = {}
    buf = io.BytesIO()
    img.save(
        buf,
        "WEBP",
        quality=WEBP_QUALITY,
        method=WEBP_METHOD,
        exif=b"",
        xmp=b"",
        icc_profile=None,
    )
    return buf.getvalue()
