"""CSV import of listings in the seller area (preview, then save all or nothing).

The preview and the confirmation are two requests. Between them the uploaded file is kept on the
server, never in the page: its bytes go to ``<INSTANCE_DIR>/imports/<seller id>-<token>.csv``
and only the random token travels in a hidden field. The seller id in the file name means a
token is worthless to anyone else; files older than an hour are removed. On confirmation the file
is parsed and validated again (the catalogue may have changed since the preview), and it is
claimed by renaming it first, so a double submit cannot import the same file twice.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from pathlib import Path

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from app.catalog import importer
from app.catalog.queries import leaf_category
from app.core.formatting import LocalNumber
from app.sellers import bp
from app.sellers.forms import ConfirmImportForm, ImportForm
from app.sellers.routes import current_seller
from app.web.http import csv_response

PENDING_MAX_AGE = 3600  # seconds a previewed file waits for confirmation
_TOKEN = re.compile(r"[0-9a-f]{32}")


# ---- the file kept between preview and confirmation -----------------------------------------


def _pending_dir() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "imports"


def _pending_path(seller_id: int, token: str | None) -> Path | None:
    """Where a token's file lives, or None for anything that is not a well-formed token."""
    if not token or not _TOKEN.fullmatch(token):
        return None
    return _pending_dir() / f"{int(seller_id)}-{token}.csv"


def _purge_expired() -> None:
    folder = _pending_dir()
    if not folder.is_dir():
        return
    cutoff = time.time() - PENDING_MAX_AGE
    for path in folder.iterdir():
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()


def _keep_upload(seller_id: int, data: bytes) -> str:
    """Store the uploaded bytes for the confirmation step; returns the token."""
    _purge_expired()
    folder = _pending_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_hex(16)
    path = _pending_path(seller_id, token)
    assert path is not None  # a fresh token is always well formed
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return token


def _claim_upload(seller_id: int, token: str | None) -> bytes | None:
    """Take the kept file (at most once); None when missing, expired or not this seller's."""
    path = _pending_path(seller_id, token)
    if path is None:
        return None
    claimed = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        os.rename(path, claimed)  # only one of two concurrent confirmations gets the file
    except OSError:
        return None
    try:
        if claimed.stat().st_mtime < time.time() - PENDING_MAX_AGE:
            return None
        return claimed.read_bytes()
    finally:
        with contextlib.suppress(OSError):
            claimed.unlink()


# ---- views ----------------------------------------------------------------------------------


def _page(
    form: ImportForm, plan: importer.ImportPlan | None = None, token: str | None = None
) -> str:
    """The import page: the upload form, and the checked rows once a file was sent."""
    confirm = ConfirmImportForm(formdata=None, token=token) if token else None
    return render_template(
        "sellers/import.html",
        form=form,
        plan=plan,
        confirm=confirm,
        fields=importer.FIELDS,
        persian_headers=importer.PERSIAN_HEADERS,
        max_rows=importer.MAX_ROWS,
    )


@bp.route("/import", methods=["GET", "POST"])
def import_listings():
    """Upload a CSV file and see every row checked; nothing is saved yet."""
    seller = current_seller()
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form), 400 if form.is_submitted() else 200
    upload = form.file.data
    if not upload or not getattr(upload, "filename", ""):
        form.file.errors = [*form.file.errors, _("Choose a CSV file.")]
        return _page(form), 400
    data = upload.stream.read(importer.MAX_FILE_BYTES + 1)
    try:
        rows = importer.parse_csv(data)
    except importer.ImportRejected as exc:
        form.file.errors = [*form.file.errors, exc.message]
        return _page(form), 400
    plan = importer.validate(rows, seller, None)
    if not plan.ok:
        return _page(form, plan), 400
    return _page(form, plan, token=_keep_upload(seller.id, data))


@bp.post("/import/confirm")
def import_confirm():
    """Save the previewed file: parsed and checked again, then all listings or none."""
    seller = current_seller()
    form = ConfirmImportForm()
    data = _claim_upload(seller.id, form.token.data) if form.validate_on_submit() else None
    if data is None:
        flash(
            _("This import has expired or was already saved. Please upload the file again."),
            "error",
        )
        return redirect(url_for("sellers.import_listings"))
    try:
        plan = importer.validate(importer.parse_csv(data), seller, None)
        products = importer.save(plan, seller)
    except importer.ImportRejected as exc:
        flash(exc.message, "error")
        return redirect(url_for("sellers.import_listings"))
    except importer.ImportInvalid as exc:
        message = _(
            "Something changed since the preview, so nothing was saved. "
            "Correct the file and upload it again."
        )
        flash(message, "error")
        return _page(ImportForm(formdata=None), exc.plan), 400
    flash(
        ngettext(
            "%(num)s listing imported.", "%(num)s listings imported.", LocalNumber(len(products))
        ),
        "success",
    )
    return redirect(url_for("sellers.listings"))


@bp.get("/import/sample.csv")
def import_sample() -> Response:
    """An example file to fill in: English headers, or Persian ones with ``?headers=fa``."""
    persian = request.args.get("headers") == "fa"
    category = leaf_category()
    header, rows = importer.sample_rows(persian=persian, category=category)
    name = "bazarche-listings-fa.csv" if persian else "bazarche-listings.csv"
    return csv_response(header, rows, name, headers={"Cache-Control": "no-store"})
