"""Sheba numbers: Iranian bank account numbers in the IBAN form (ISO 13616), "IR" and 24 digits.

What people type (Persian or Arabic digits, spaces, dashes, lower-case "ir", the number without
"IR") is normalised to the one stored form; the mod-97 checksum must hold. Shown to anyone but the
staff making a transfer file, a Sheba number is masked (its country code and last four digits).
"""

from __future__ import annotations

import re

from app.core.inputs import ascii_digits

_NOISE = re.compile(r"[\s\-\u2010-\u2015.\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SHAPE = re.compile(r"^IR\d{24}$")


def normalise_sheba(text: object) -> str:
    """``" ir۸۲ ۰۵۴۰ ..."`` → ``"IR820540..."``: ASCII digits, no spaces or dashes, upper case,
    "IR" added to 24 digits typed without it. Does not validate."""
    raw = _NOISE.sub("", ascii_digits(text)).upper()
    if raw.isdigit() and len(raw) == 24:
        raw = "IR" + raw
    return raw


def is_valid_sheba(value: str) -> bool:
    """Whether ``value`` (normalised) is "IR", 24 digits and passes the ISO 13616 mod-97 check."""
    if not _SHAPE.match(value):
        return False
    rearranged = value[4:] + value[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def mask_sheba(value: str | None) -> str | None:
    """``IR820540102680020817909002`` → ``IR82 **** … 9002``: enough to recognise, not to use."""
    if not value:
        return value
    return f"{value[:4]} **** **** **** **** {value[-4:]}"
