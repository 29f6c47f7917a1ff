"""One-time codes sent by SMS to a mobile number: to log in with it, or to prove it is one's own.

A code is 6 random digits, valid for ``OTP_MINUTES``, good for one use and at most
:data:`MAX_ATTEMPTS` wrong tries; only its HMAC (keyed by the market's secret, bound to the
number and the purpose) is stored, in the one row per number and purpose
(:class:`~app.accounts.models.OneTimeCode`). A new code replaces the old one. Sends to one number
wait longer each time (1, 2, 4, 8 minutes… at most 15) and stop after :data:`MAX_SENDS_PER_HOUR`
in an hour: kept in the database, so every worker and machine shares them (the address limit is
the route's, through the rate limiter). Typed numbers and codes may use Persian digits.

This module makes and checks codes; sending the text is the caller's (the auth blueprint, through
the SMS channel), since the accounts package sits below the notifications.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import OneTimeCode, User
from app.core.db import transaction
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.inputs import ascii_digits, is_mobile, normalise_mobile
from app.core.timeutil import utcnow

LOGIN = "login"  # log in, or (no account has the number) open one: see signup_proof
RESET = "reset"  # a new password for the account of a verified number
MAX_ATTEMPTS = 5
MAX_SENDS_PER_HOUR = 5
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(minutes=15)
WINDOW = timedelta(hours=1)


def verify_purpose(user: User) -> str:
    """The purpose of a code that binds a number to ``user``'s account."""
    return f"verify:{user.id}"


def confirm_purpose(user: User) -> str:
    """The purpose of a code that confirms ``user`` is at the keyboard (a fresh login)."""
    return f"confirm:{user.id}"


SIGNUP_MINUTES = 10  # how long a number proved by a log-in code may still open an account


def _proof_tag(mobile: str, until: int) -> str:
    return _digest(mobile, "signup", str(until))


def signup_proof(mobile: str) -> dict[str, str | int]:
    """What the session keeps once a log-in code proved ``mobile`` and no account has it: the
    number, until when it may open an account, and an HMAC binding the two (so neither can be
    changed: the proof is good for this number, for :data:`SIGNUP_MINUTES`)."""
    until = int((utcnow() + timedelta(minutes=SIGNUP_MINUTES)).timestamp())
    return {"m": mobile, "u": until, "t": _proof_tag(mobile, until)}


def proven_number(proof: object) -> str | None:
    """The number a :func:`signup_proof` proves, while it is live and untouched; else None."""
    if not isinstance(proof, dict):
        return None
    mobile, until, tag = proof.get("m"), proof.get("u"), proof.get("t")
    if not (isinstance(mobile, str) and isinstance(until, int) and isinstance(tag, str)):
        return None
    if until <= utcnow().timestamp() or not is_mobile(mobile):
        return None
    return mobile if hmac.compare_digest(tag, _proof_tag(mobile, until)) else None


class SendRefused(Exception):
    """No code is sent now: ``retry_after`` seconds to wait (a code was sent a moment ago, or
    too many in the last hour)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"wait {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Issued:
    mobile: str
    code: str
    expires_at: datetime


def mobile_number(typed: str) -> str:
    """``typed`` as ``09xxxxxxxxx``; ValidationFailed (``mobile: mobile_invalid``) otherwise."""
    number = normalise_mobile(typed)
    if not is_mobile(number):
        raise ValidationFailed({"mobile": ["mobile_invalid"]})
    return number


def _digest(mobile: str, purpose: str, code: str) -> str:
    secret = current_app.secret_key or ""
    key = secret if isinstance(secret, bytes) else secret.encode()
    return hmac.new(key, f"{purpose}|{mobile}|{code}".encode(), hashlib.sha256).hexdigest()


def _row(mobile: str, purpose: str) -> OneTimeCode | None:
    return db.session.scalar(
        sa.select(OneTimeCode)
        .where(OneTimeCode.mobile == mobile, OneTimeCode.purpose == purpose)
        .with_for_update()
    )


def issue(typed_mobile: str, purpose: str) -> Issued:
    """A new code for the number (replacing any earlier one). Raises ValidationFailed for a
    number that is no Iranian mobile, SendRefused while the number must wait."""
    mobile = mobile_number(typed_mobile)
    code = f"{secrets.randbelow(10**6):06d}"
    now = utcnow()
    expires_at = now + timedelta(minutes=current_app.config["OTP_MINUTES"])
    try:
        with transaction():
            row = _row(mobile, purpose)
            if row is None:
                row = OneTimeCode(mobile=mobile, purpose=purpose, sends=0, window_started_at=now)
                db.session.add(row)
            elif row.next_send_at > now:
                raise SendRefused(_seconds(row.next_send_at - now))
            if now - row.window_started_at >= WINDOW:
                row.sends, row.window_started_at = 0, now
            if row.sends >= MAX_SENDS_PER_HOUR:
                raise SendRefused(_seconds(row.window_started_at + WINDOW - now))
            row.sends += 1
            row.code_hash = _digest(mobile, purpose, code)
            row.expires_at = expires_at
            row.attempts = 0
            row.used_at = None
            row.next_send_at = now + min(FIRST_WAIT * 2 ** (row.sends - 1), LONGEST_WAIT)
    except sa.exc.IntegrityError:  # the first code for this number, asked twice at once
        raise SendRefused(_seconds(FIRST_WAIT)) from None
    return Issued(mobile, code, expires_at)


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def check(typed_mobile: str, purpose: str, typed_code: str) -> str:
    """The number, once ``typed_code`` is the live code sent to it for ``purpose`` (which is
    then used up). Raises ValidationFailed: ``code: code_wrong`` (a try is counted) or
    ``code: code_expired`` (none sent, used, expired, or too many wrong tries)."""
    mobile = mobile_number(typed_mobile)
    code = ascii_digits(typed_code).strip()
    now = utcnow()
    with transaction():
        row = _row(mobile, purpose)
        if (
            row is None
            or row.used_at is not None
            or row.expires_at <= now
            or row.attempts >= MAX_ATTEMPTS
        ):
            raise ValidationFailed({"code": ["code_expired"]})
        right = hmac.compare_digest(row.code_hash, _digest(mobile, purpose, code))
        if right:
            row.used_at = now
        else:
            row.attempts += 1  # kept: the transaction commits before the refusal below
    if not right:
        raise ValidationFailed({"code": ["code_wrong"]})
    return mobile
