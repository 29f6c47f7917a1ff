"""SMS providers behind one interface: the file backend (development and tests) and Kavenegar's
public HTTP API (production), chosen by ``SMS_BACKEND``.

A backend sends one text to one Iranian mobile number (``09xxxxxxxxx``) and answers the
provider's message id, or raises :class:`SmsFailed`, which says whether trying again later can
help (a timeout, the provider's server error, no credit left, too many calls) or not (a number
the provider refuses, a text it cannot send, our account's settings). The channel
(:mod:`app.notifications.sms`) and its outbox decide what to do with either.

Kavenegar (``https://api.kavenegar.com/v1/<API key>/sms/send.json``): a form POST of
``receptor``, ``message`` and ``sender``; the answer is JSON ``{"return": {"status": 200,
"message": ...}, "entries": [{"messageid": ..., ...}]}``, and any other ``return.status`` (the
HTTP status says the same) is an error whose code the provider documents. ``KAVENEGAR_URL``
points the backend at another address (the tests' local fake of the API).
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from flask import current_app

from app.core.inputs import is_mobile, normalise_mobile

# Kavenegar's error codes after which the same request may succeed later: its server could not
# answer (409), the account's credit ran out (418), too many calls (451); 5xx are its own faults.
_RETRY_LATER = {409, 418, 451}


class SmsFailed(Exception):
    """The provider did not take the message. ``retry``: may the same message succeed later?
    ``code``: the provider's error code (or ``timeout``, ``connection``, ``bad_answer``)."""

    def __init__(self, code: str, detail: str, *, retry: bool) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.retry = retry


class Backend(Protocol):
    def send(self, to: str, text: str) -> str:
        """Send ``text`` to the mobile number ``to``; the provider's message id."""
        ...


def recipient_number(number: str) -> str:
    """``number`` as the providers take it (``09xxxxxxxxx``); SmsFailed (not retried) when it
    is no Iranian mobile number."""
    normalised = normalise_mobile(number)
    if not is_mobile(normalised):
        raise SmsFailed("invalid_number", "not an Iranian mobile number", retry=False)
    return normalised


# --------------------------------------------------------------------------------------------
# Development: one JSON file per message


@dataclass(frozen=True)
class FileSms:
    """Writes each message as ``<time>-<random>.json`` under ``directory`` (written whole, then
    renamed into place, so a reader never sees half a message)."""

    directory: Path

    def send(self, to: str, text: str) -> str:
        number = recipient_number(to)
        self.directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        name = f"{now:%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.json"
        record = {"to": number, "text": text, "sent_at": now.isoformat()}
        partial = self.directory / f".{name}.part"
        partial.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, self.directory / name)
        return name


@dataclass(frozen=True)
class WrittenSms:
    """A message the file backend wrote."""

    name: str
    to: str
    text: str
    sent_at: datetime


def written_sms(directory: str | os.PathLike[str] | None = None) -> list[WrittenSms]:
    """The messages the file backend wrote, newest first (unreadable files are passed over)."""
    root = Path(directory or current_app.config["SMS_DIR"])
    if not root.is_dir():
        return []
    out = []
    for path in root.glob("*.json"):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            out.append(
                WrittenSms(
                    name=path.name,
                    to=str(record["to"]),
                    text=str(record["text"]),
                    sent_at=datetime.fromisoformat(record["sent_at"]),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    out.sort(key=lambda m: (m.sent_at, m.name), reverse=True)
    return out


# --------------------------------------------------------------------------------------------
# Kavenegar


@dataclass(frozen=True)
class KavenegarSms:
    """Kavenegar's ``sms/send`` over HTTPS, one message per call."""

    api_key: str
    sender: str
    base_url: str = "https://api.kavenegar.com/v1"
    timeout: float = 10.0

    def send(self, to: str, text: str) -> str:
        fields = {"receptor": recipient_number(to), "message": text}
        if self.sender:
            fields["sender"] = self.sender
        answer = self._call("sms/send.json", fields)
        entries = answer.get("entries")
        if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
            raise SmsFailed("bad_answer", "no message in the provider's answer", retry=True)
        return str(entries[0].get("messageid", ""))

    def _call(self, method: str, fields: dict[str, str]) -> dict[str, Any]:
        key = urllib.parse.quote(self.api_key, safe="")
        # The address is the setting's, checked to be http(s) at start (check_settings).
        request = urllib.request.Request(  # noqa: S310
            f"{self.base_url.rstrip('/')}/{key}/{method}",
            data=urllib.parse.urlencode(fields).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as error:
            body = error.read()
            code = _status_of(body) or error.code
            raise SmsFailed(
                str(code), _message_of(body) or str(error.reason), retry=_retry_after(code)
            ) from error
        except TimeoutError as error:
            raise SmsFailed("timeout", str(error), retry=True) from error
        except (urllib.error.URLError, OSError) as error:
            raise SmsFailed("connection", str(error), retry=True) from error
        answer = _json(body)
        status = _status_of(body)
        if answer is None or status is None:
            raise SmsFailed("bad_answer", "the provider's answer is not its JSON", retry=True)
        if status != 200:
            raise SmsFailed(str(status), _message_of(body), retry=_retry_after(status))
        return answer


def _retry_after(status: int) -> bool:
    return status >= 500 or status in _RETRY_LATER


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return answer if isinstance(answer, dict) else None


def _status_of(body: bytes) -> int | None:
    answer = _json(body)
    returned = answer.get("return") if answer else None
    status = returned.get("status") if isinstance(returned, dict) else None
    return status if isinstance(status, int) else None


def _message_of(body: bytes) -> str:
    answer = _json(body)
    returned = answer.get("return") if answer else None
    return str(returned.get("message", ""))[:500] if isinstance(returned, dict) else ""


# --------------------------------------------------------------------------------------------

BACKENDS = ("file", "kavenegar")


def check_settings(config: Any) -> None:
    """Stop at start on SMS settings that cannot work (RuntimeError naming the setting)."""
    if config["SMS_BACKEND"] not in BACKENDS:
        raise RuntimeError(
            f"SMS_BACKEND={config['SMS_BACKEND']!r}: use one of {', '.join(BACKENDS)}"
        )
    if config["SMS_BACKEND"] == "kavenegar":
        if not config["KAVENEGAR_API_KEY"]:
            raise RuntimeError("SMS_BACKEND=kavenegar needs KAVENEGAR_API_KEY")
        if urllib.parse.urlsplit(config["KAVENEGAR_URL"]).scheme not in ("http", "https"):
            raise RuntimeError("KAVENEGAR_URL must be an http(s) address")


def backend() -> Backend:
    """The backend ``SMS_BACKEND`` names, with its settings."""
    config = current_app.config
    if config["SMS_BACKEND"] == "kavenegar":
        return KavenegarSms(
            api_key=config["KAVENEGAR_API_KEY"],
            sender=config["KAVENEGAR_SENDER"],
            base_url=config["KAVENEGAR_URL"],
            timeout=float(config["SMS_TIMEOUT"]),
        )
    return FileSms(Path(config["SMS_DIR"]))
