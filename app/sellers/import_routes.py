"""CSV import of listings in the seller area (preview, then save all or nothing).

The preview and the confirmation are two requests. Between them the uploaded file is kept in the
database, never in the page (:func:`app.catalog.importer.keep_pending`): only a random token
travels in a hidden field, worthless to any other seller, and the confirmation may reach any web
machine. Files older than an hour are refused. On confirmation the file is claimed (at most once,
so a double submit cannot import the same file twice), then parsed and validated again (the
catalogue may have changed since the preview).
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from app.catalog import importer
from app.catalog.queries import leaf_category
from app.core.formatting import LocalNumber
from app.sellers import bp
from app.sellers.forms import ConfirmImportForm, ImportForm
from app.sellers.routes import current_seller
from app.web.http import csv_response

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
    return _page(form, plan, token=importer.keep_pending(seller.id, data))


@bp.post("/import/confirm")
def import_confirm():
    """Save the previewed file: parsed and checked again, then all listings or none."""
    seller = current_seller()
    form = ConfirmImportForm()
    data = importer.claim_pending(seller.id, form.token.data) if form.validate_on_submit() else None
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


@bp.get("/listings.csv")
def export_listings() -> Response:
    """The seller's listings in the import's format (a row per variant of a listing with
    options): English headers, or Persian ones with ``?headers=fa``."""
    seller = current_seller()
    persian = request.args.get("headers") == "fa"
    header, rows = importer.export_rows(seller.id, persian=persian)
    return csv_response(
        header, rows, f"listings-{seller.slug}.csv", headers={"Cache-Control": "no-store"}
    )
