"""The file backends' outboxes, for development: the e-mails written under ``MAIL_FILE_PATH``,
read back (:func:`sent_mail`, which tests use too) and shown at ``/dev/mail``, and the texts the
file SMS backend wrote under ``SMS_DIR`` at ``/dev/sms``, when the app runs in debug mode
(:func:`register`).
"""

from __future__ import annotations

import email
import email.policy
import functools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as ParsedMessage
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from app.notifications.sms_gateway import written_sms

_SEPARATOR = b"\n" + b"-" * 79 + b"\n"
_FILE_NAME = re.compile(r"^[\w.-]+\.log$")


@dataclass
class SentMail:
    """One message the file backend wrote: its file, its place in the file, and its parts."""

    name: str
    index: int
    written_at: datetime
    subject: str
    to: str
    language: str
    text: str
    html: str


def sent_mail(directory: str | os.PathLike[str] | None = None) -> list[SentMail]:
    """The messages the file backend wrote, newest first."""
    root = Path(directory or current_app.config["MAIL_FILE_PATH"])
    if not root.is_dir():
        return []
    files = [p for p in root.iterdir() if p.is_file() and _FILE_NAME.match(p.name)]
    files.sort(key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    out: list[SentMail] = []
    for path in files:
        out.extend(reversed(list(_read(path))))
    return out


def _read(path: Path) -> Iterator[SentMail]:
    written_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    chunks = [c for c in path.read_bytes().split(_SEPARATOR) if c.strip()]
    for index, chunk in enumerate(chunks):
        parsed = email.message_from_bytes(chunk, policy=email.policy.default)
        assert isinstance(parsed, ParsedMessage)
        yield SentMail(
            name=path.name,
            index=index,
            written_at=written_at,
            subject=str(parsed.get("Subject", "")),
            to=str(parsed.get("To", "")),
            language=str(parsed.get("Content-Language", "")),
            text=_part(parsed, "plain"),
            html=_part(parsed, "html"),
        )


def _part(parsed: ParsedMessage, subtype: str) -> str:
    body = parsed.get_body(preferencelist=(subtype,))
    return str(body.get_content()) if body is not None else ""


def dev_outbox() -> str:
    """``/dev/mail`` (debug mode only): every message written, newest first."""
    return render_template("emails/outbox.html", messages=sent_mail(), shown=None)


def dev_outbox_message(name: str, part: str = "text") -> Response | str:
    """One written message: its text on the outbox page, or its HTML part as it is."""
    try:
        index = int(request.args.get("i", "0"))
    except ValueError:
        abort(404)
    found = next((m for m in sent_mail() if m.name == name and m.index == index), None)
    if found is None or part not in ("text", "html"):
        abort(404)
    if part == "html":
        response = Response(found.html, mimetype="text/html")
        # Our own message, shown as a mail client would: its inline styles, nothing active.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'"
        )
        return response
    return render_template("emails/outbox.html", messages=sent_mail(), shown=found)


def dev_sms() -> str:
    """``/dev/sms`` (debug mode only): every text the file SMS backend wrote, newest first."""
    return render_template("sms/outbox.html", messages=written_sms())


LOOPBACK = ("127.0.0.1", "::1")


def _local_only(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Outside debug mode (``DEV_OUTBOX``), a page for requests from this machine only."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not current_app.debug and request.remote_addr not in LOOPBACK:
            abort(404)
        return view(*args, **kwargs)

    return guarded


def register(app: Flask) -> None:
    """``/dev/mail`` and its messages, and ``/dev/sms``, on ``app`` (in debug mode, or with
    ``DEV_OUTBOX`` for requests from this machine)."""
    app.add_url_rule("/dev/sms", "dev_sms", _local_only(dev_sms))
    app.add_url_rule("/dev/mail", "dev_mail", _local_only(dev_outbox))
    message = _local_only(dev_outbox_message)
    app.add_url_rule("/dev/mail/<name>", "dev_mail_message", message)
    app.add_url_rule("/dev/mail/<name>/<part>", "dev_mail_message", message)
