"""Pictures: validation and WebP variants (:mod:`.images`), file storage (:mod:`.storage`) and
pictures drawn by code for demo data (:mod:`.art`).

This is the only package that imports Pillow. It knows nothing of the database: it takes bytes and
returns plain values (:class:`StoredImage`, keys), which the catalogue stores as it likes.
"""

from app.media.art import KINDS, draw_logo, draw_product_art
from app.media.images import (
    CONTENT_TYPE,
    DEFAULT_WIDTHS,
    ImageRejected,
    StoredImage,
    Variant,
    is_variant_key,
    process_image,
    read_limited,
)
from app.media.storage import InvalidKey, LocalStorage, MemoryStorage, Storage, validate_key

__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_WIDTHS",
    "KINDS",
    "ImageRejected",
    "InvalidKey",
    "LocalStorage",
    "MemoryStorage",
    "Storage",
    "StoredImage",
    "Variant",
    "draw_logo",
    "draw_product_art",
    "is_variant_key",
    "process_image",
    "read_limited",
    "validate_key",
]
