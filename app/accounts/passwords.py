"""Passwords: what we accept, how a typed password is normalised, how it is hashed and checked.

Normalisation (applied before hashing and before every check): Persian users switch between
Persian and Arabic keyboard layouts, phones and desktops, and the same password must work from
each. The typed text is

* put in Unicode NFKC form (presentation forms and compatibility characters become the plain
  letters; full-width Latin becomes ASCII);
* Arabic yeh ``ي`` and alef maksura ``ى`` become Persian yeh ``ی``; Arabic kaf ``ك`` becomes
  Persian kaf ``ک``;
* Persian ``۰–۹`` and Arabic-Indic ``٠–٩`` digits become ASCII ``0–9``;
* zero-width non-joiner and joiner (U+200C, U+200D) and the kashida (U+0640) are removed: some
  keyboards type the half-space and some cannot, and a kashida only stretches a letter. A space is
  kept as typed.

Hashes made before normalisation existed still work: when the normalised password does not match,
the raw one is tried, and a match is rehashed in the normalised form (see :func:`verify`).

Hashing: scrypt with N=2^17, r=8, p=1 (werkzeug's ``scrypt:131072:8:1``; 128 MiB of memory and
about a third of a second per hash, which werkzeug allows through ``maxmem``). The setting
``PASSWORD_HASH_METHOD`` can change it (tests use a cheap one). A stored hash made with other
parameters is replaced at the next successful login.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

from werkzeug.security import check_password_hash, generate_password_hash

from app.core.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
PASSWORD_METHOD = "scrypt:131072:8:1"  # noqa: S105  (a hash method name, not a password)

_CHARACTER_MAP = str.maketrans(
    {
        "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
        "\u0649": "\u06cc",  # alef maksura -> Persian yeh
        "\u0643": "\u06a9",  # Arabic kaf -> Persian kaf
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        "\u200c": None,  # zero-width non-joiner
        "\u200d": None,  # zero-width joiner
        "\u0640": None,  # kashida
    }
)


def normalise_password(password: str) -> str:
    """The form of ``password`` that is hashed and checked (see the module's docstring)."""
    return unicodedata.normalize("NFKC", password).translate(_CHARACTER_MAP)


def configured_method() -> str:
    """The hash method of new hashes: ``PASSWORD_HASH_METHOD`` or :data:`PASSWORD_METHOD`."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD") or PASSWORD_METHOD
    return PASSWORD_METHOD


def hash_password(password: str) -> str:
    """A salted hash of the normalised ``password`` with the configured method."""
    return generate_password_hash(normalise_password(password), method=configured_method())


def _canonical(method: str) -> str:
    """The parameter string werkzeug writes for ``method`` ("scrypt" -> "scrypt:32768:8:1")."""
    if method == "scrypt":
        return "scrypt:32768:8:1"
    return _probe_prefix(method)


@lru_cache(maxsize=8)
def _probe_prefix(method: str) -> str:
    return generate_password_hash("probe", method=method).split("$", 1)[0]


def needs_rehash(stored_hash: str) -> bool:
    """True when ``stored_hash`` was made with other parameters than the configured method."""
    return stored_hash.split("$", 1)[0] != _canonical(configured_method())


def verify(stored_hash: str, password: str) -> tuple[bool, bool]:
    """``(matches, rehash)``: whether ``password`` matches ``stored_hash``, and whether the hash
    should be replaced (older parameters, or a hash of the raw, unnormalised password)."""
    normalised = normalise_password(password)
    if check_password_hash(stored_hash, normalised):
        return True, needs_rehash(stored_hash)
    if normalised != password and check_password_hash(stored_hash, password):
        return True, True
    return False, False


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list of common and breached passwords (lower case), one per line."""
    text = resources.files("app.accounts").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def _is_sequence(text: str) -> bool:
    """Digits or letters going up or down one by one (``123456789012``, ``abcdefghijkl``, …)."""
    if len(text) < 3:
        return False
    if text.isdigit():
        steps = {(int(b) - int(a)) % 10 for a, b in zip(text, text[1:], strict=False)}
        return steps in ({1}, {9})
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return steps in ({1}, {-1})


def _is_repetition(text: str) -> bool:
    """One short unit (up to four characters) repeated: ``aaaaaaaaaaaa``, ``abcabcabcabc``."""
    for size in range(1, 5):
        unit = text[:size]
        if len(text) >= 2 * size and (unit * (len(text) // size + 1)).startswith(text):
            return True
    return False


def check_password_rules(password: str, email: str | None = None) -> None:
    """Raise ValidationFailed (field ``password``) unless ``password`` is acceptable: 12 to 256
    characters, not in the common-password list, not one character or short unit repeated, not
    a simple sequence, and not made of the e-mail's local part."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": ["too_short"]})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed({"password": ["too_long"]})
    plain = normalise_password(password).casefold()
    compact = "".join(plain.split())
    if plain in common_passwords() or compact in common_passwords():
        raise ValidationFailed({"password": ["password_common"]})
    if _is_repetition(compact) or _is_sequence(compact):
        raise ValidationFailed({"password": ["password_simple"]})
    local = (email or "").split("@", 1)[0].casefold()
    if len(local) >= 3 and local in compact and len(local) * 2 >= len(compact):
        raise ValidationFailed({"password": ["password_like_email"]})
