"""Staff pages: the listing moderation queue and the audit log, with their CSV exports."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import jdatetime
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField

from app.admin import bp
from app.admin.report_args import filter_choices, period_choices
from app.audit import log as audit
from app.audit.models import AuditEvent
from app.catalog import moderation, staff_queries
from app.catalog.models import Product, ProductStatus
from app.core.db import database_id
from app.core.errors import InvalidTransition, NotFound, ValidationFailed
from app.core.formatting import format_date, format_money, format_number, persian_digits, to_local
from app.notifications.moderation import send_listing_event
from app.program import audit_names
from app.program.calendar import PERIOD_KINDS, Period, parse_period
from app.program.exports import toman
from app.web.access import staff_scope
from app.web.csv_files import staff_csv
from app.web.http import page_arg, safe_next
from app.web.messages import apply_errors, error_text, status_label

AUDIT_PER_PAGE = 50
CSV_MAX_ROWS = 100_000  # an export is a download, not a denial of service


class HideForm(FlaskForm):
    # The service checks the reason (required, at most moderation.MAX_REASON characters) so the
    # rule and its messages live in one place; the browser checks it too (required, maxlength).
    reason = TextAreaField(
        _l("Reason (shown to the seller)"),
        render_kw={"required": True, "maxlength": moderation.MAX_REASON, "rows": 4},
    )
    expected = HiddenField()  # the moderation state the staff member saw
    next = HiddenField()


class ReleaseForm(FlaskForm):
    note = TextAreaField(
        _l("Note to the seller (optional)"),
        render_kw={"maxlength": moderation.MAX_REASON, "rows": 3},
    )
    seen = HiddenField()  # the listing's updated_at as the staff member saw it
    next = HiddenField()


def _locale() -> str:
    return str(get_locale() or "fa")


def id_arg(args: Mapping[str, Any], name: str) -> int | None:
    """A positive database id from the query string (Persian digits too); anything else: None."""
    return database_id(args.get(name))


def _back(target: str | None, product_id: int) -> str:
    return safe_next(target, url_for("admin.listing_detail", product_id=product_id))


# ---- the listing queue ------------------------------------------------------------------------


def _listing_filters() -> moderation.ListingFilters:
    tab = request.args.get("tab", moderation.REVIEW)
    return moderation.ListingFilters(
        tab=tab if tab in moderation.LISTING_TABS else moderation.REVIEW,
        text=request.args.get("q", "").strip()[:100],
        county_id=id_arg(request.args, "county"),
        sector_id=id_arg(request.args, "sector"),
        category_id=id_arg(request.args, "category"),
        scope=staff_scope(),
    )


def _filter_args(filters: moderation.ListingFilters) -> dict[str, str]:
    """The filters as query values, for links that keep them."""
    out = {"tab": filters.tab}
    for key, value in (
        ("q", filters.text),
        ("county", filters.county_id),
        ("sector", filters.sector_id),
        ("category", filters.category_id),
    ):
        if value:
            out[key] = str(value)
    return out


@bp.get("/listings")
def listings() -> ResponseReturnValue:
    """The moderation queue: resubmissions to review first, then any listing by tab."""
    filters = _listing_filters()
    page = staff_queries.moderation_page(filters, page_arg(), current_app.config["PAGE_SIZE"])
    return render_template(
        "admin/listings.html",
        page=page,
        filters=filters,
        args=_filter_args(filters),
        counts=moderation.moderation_counts(filters.scope),
        state_of=moderation.moderation_state,
        max_reason=moderation.MAX_REASON,
        **filter_choices(),
    )


@bp.get("/listings.csv")
def listings_csv() -> ResponseReturnValue:
    filters = _listing_filters()
    locale = _locale()
    header = [
        "product_id", "title", "seller_id", "seller", "registration_code", "county", "sector",
        "category", "price_toman", "stock", "status", "moderation", "hidden_reason",
        "created_at", "created_at_jalali", "published_at", "published_at_jalali", "updated_at",
    ]  # fmt: skip
    rows = [
        [p.id, p.title, p.seller_id, p.seller.display_name, p.seller.registration_code,
         p.seller.county.name(locale), p.seller.sector.name(locale),
         p.category.name(locale) if p.category else None, toman(p.price_amount), p.stock,
         ProductStatus(p.status).value, moderation.moderation_state(p), p.hidden_reason,
         iso_time(p.created_at), jalali_time(p.created_at), iso_time(p.published_at),
         jalali_time(p.published_at), iso_time(p.updated_at)]
        for p in staff_queries.moderation_rows(filters, CSV_MAX_ROWS)
    ]  # fmt: skip
    return staff_csv(header, rows, f"listings_{filters.tab}")


def _product_or_404(product_id: int) -> Product:
    product = staff_queries.listing_for_staff(product_id, staff_scope())
    if product is None:
        abort(404)
    return product


def _render_detail(
    product: Product,
    hide_form: HideForm | None = None,
    release_form: ReleaseForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    state = moderation.moderation_state(product)
    hide_form = hide_form or HideForm(formdata=None)
    release_form = release_form or ReleaseForm(formdata=None)
    # What the forms carry: the state seen now, so a change in between is caught.
    hide_form.expected.data = state
    release_form.seen.data = product.updated_at.isoformat()
    events = audit.for_target("product", product.id)
    return (
        render_template(
            "admin/listing_detail.html",
            product=product,
            state=state,
            hide_form=hide_form,
            release_form=release_form,
            release_to=moderation.release_outcome(product)
            if state == moderation.RESUBMITTED
            else None,
            is_public=product.status == ProductStatus.PUBLISHED and product.seller.is_approved,
            events=[_event_view(e, None) for e in events],
            max_reason=moderation.MAX_REASON,
        ),
        status,
    )


@bp.get("/listings/<int:product_id>")
def listing_detail(product_id: int) -> ResponseReturnValue:
    return _render_detail(_product_or_404(product_id))


@bp.post("/listings/<int:product_id>/hide")
def hide_listing(product_id: int) -> ResponseReturnValue:
    product = _product_or_404(product_id)
    form = HideForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        moderation.hide_product(
            product, current_user, form.reason.data, expected=form.expected.data or None
        )
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return _render_detail(_product_or_404(product_id), hide_form=form, status=400)
    except NotFound:
        abort(404)
    except moderation.ListingChanged:
        flash(
            _("The listing changed since you opened the page; nothing was done. Check it again."),
            "error",
        )
        return redirect(url_for("admin.listing_detail", product_id=product_id))
    except InvalidTransition:
        flash(_("This listing is already hidden."), "error")
        return redirect(url_for("admin.listing_detail", product_id=product_id))
    send_listing_event("hidden", product_id, form.reason.data.strip())
    flash(_("“%(title)s” is hidden; the seller was told why.", title=product.title), "success")
    return redirect(_back(form.next.data, product_id))


@bp.post("/listings/<int:product_id>/release")
def release_listing(product_id: int) -> ResponseReturnValue:
    product = _product_or_404(product_id)
    form = ReleaseForm()
    if not form.validate_on_submit():
        abort(400)
    seen = _parse_stamp(form.seen.data)
    try:
        if form.seen.data and seen is None:
            raise moderation.ListingChanged(moderation.RESUBMITTED, "released")
        new = moderation.release_product(product, current_user, form.note.data, seen_at=seen)
    except ValidationFailed as exc:
        for codes in exc.errors.values():
            form.note.errors = [*form.note.errors, *(error_text(c) for c in codes)]
        return _render_detail(_product_or_404(product_id), release_form=form, status=400)
    except NotFound:
        abort(404)
    except moderation.ListingChanged:
        flash(
            _(
                "The seller changed the listing since you opened the page; nothing was done. Check it again."
            ),
            "error",
        )
        return redirect(url_for("admin.listing_detail", product_id=product_id))
    except InvalidTransition:
        flash(_("Only a listing the seller has resubmitted can be released."), "error")
        return redirect(url_for("admin.listing_detail", product_id=product_id))
    note = (form.note.data or "").strip()
    if new == ProductStatus.PUBLISHED:
        send_listing_event("released_published", product_id, note)
        flash(_("“%(title)s” is released and published again.", title=product.title), "success")
    else:
        send_listing_event("released_draft", product_id, note)
        flash(
            _(
                "“%(title)s” is released; it is a draft the seller can publish.",
                title=product.title,
            ),
            "success",
        )
    return redirect(_back(form.next.data, product_id))


def _parse_stamp(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None


def iso_time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def jalali_time(moment: datetime | None) -> str | None:
    """The market's local time (``DEFAULT_TIMEZONE``) as a Jalali date and time."""
    if moment is None:
        return None
    local = to_local(moment)
    j = jdatetime.datetime.fromgregorian(datetime=local)
    return f"{j.year:04d}-{j.month:02d}-{j.day:02d} {local.hour:02d}:{local.minute:02d}"


# ---- the audit log ----------------------------------------------------------------------------

ACTION_LABELS = {
    "seller.approved": _l("Seller approved"),
    "seller.rejected": _l("Seller not approved"),
    "seller.suspended": _l("Seller suspended"),
    "listing.hide": _l("Listing hidden"),
    "listing.resubmit": _l("Listing resubmitted by the seller"),
    "listing.release": _l("Listing released"),
    "offline_sale.create": _l("Offline sale recorded"),
    "offline_sale.delete": _l("Offline sale deleted"),
    "payment.accept": _l("Payment accepted"),
    "payment.refund": _l("Payment refunded"),
    "payment.retry_refund": _l("Refund tried again"),
    "quota.create": _l("Quota set"),
    "quota.update": _l("Quota changed"),
    "quota.delete": _l("Quota removed"),
    "user.make_staff": _l("Staff account created"),
    "seller.details_change": _l("Seller changed county, phone, code, permit or Sheba number"),
    "category.commission_rate": _l("Commission rate changed"),
    "settlement.create": _l("Settlement batch made"),
    "settlement.paid": _l("Settlement batch marked paid"),
    "settlement.discard": _l("Settlement batch discarded"),
    "search.synonym_added": _l("Search synonym added"),
    "search.synonym_removed": _l("Search synonym removed"),
}
TARGET_LABELS = {
    "search_synonym": _l("Search synonym"),
    "product": _l("Listing"),
    "seller": _l("Seller"),
    "offline_sale": _l("Offline sale"),
    "payment": _l("Payment"),
    "quota": _l("Quota"),
    "user": _l("Account"),
    "category": _l("Category"),
    "settlement_batch": _l("Settlement batch"),
}
DATA_LABELS = {
    "from": _l("From"),
    "to": _l("To"),
    "restore": _l("On release, back to"),
    "seller_id": _l("Seller"),
    "title": _l("Title"),
    "hidden_reason": _l("Reason it was hidden"),
    "amount": _l("Amount"),
    "took_stock": _l("Taken from stock"),
    "sold_on": _l("Date of the sale"),
    "county_id": _l("County"),
    "phone": _l("Mobile number"),
    "registration_code": _l("Programme registration code"),
    "permit_number": _l("Permit number"),
    "sheba": _l("Sheba number"),
    "reference": _l("Reference"),
    "programme_year": _l("Programme year"),
    "before": _l("Before"),
    "after": _l("After"),
    "source": _l("Source"),
    "target_sellers": _l("Target sellers"),
    "target_sales_amount": _l("Target sales"),
}
MONEY_KEYS = frozenset({"amount", "target_sales_amount"})
STATE_LABELS = {
    moderation.HIDDEN: ProductStatus.HIDDEN_BY_STAFF.value,
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def target_label(target_type: str) -> str:
    return str(TARGET_LABELS.get(target_type, target_type))


@dataclass(frozen=True)
class AllTime:
    """The audit log's default period: no bounds. Shaped like ``Period`` for the picker."""

    kind: str = "all"
    year: int | None = None
    number: int | None = None

    def label(self, locale: str) -> str:
        return _("All time")

    def query_args(self) -> dict[str, str]:
        return {}

    def file_slug(self) -> str:
        return "all"


@dataclass
class EventView:
    """One audit row as the page shows it."""

    event: AuditEvent
    action: str
    target: str
    link: str | None
    details: list[tuple[str, str, str | None]]  # (label, text, link)


def _audit_filters() -> tuple[audit.AuditFilters, Period | AllTime, dict[str, str]]:
    """The filters, the period, and the non-period filters as query values (for links)."""
    args = request.args
    actor = args.get("actor", "").strip()
    filters = audit.AuditFilters(
        system=actor == audit.SYSTEM,
        actor_id=id_arg(args, "actor") if actor != audit.SYSTEM else None,
        action=args.get("action", "").strip()[:60] or None,
        target_type=args.get("target_type", "").strip()[:40] or None,
        target_id=id_arg(args, "target_id"),
    )
    period: Period | AllTime = AllTime()
    if args.get("period") in PERIOD_KINDS:
        try:
            period = parse_period(args)
        except ValidationFailed:
            pass  # a period that cannot be read filters nothing: all time, as the page says
        else:
            filters.since, filters.until = period.bounds_utc()
    keep = {}
    if filters.system:
        keep["actor"] = audit.SYSTEM
    elif filters.actor_id:
        keep["actor"] = str(filters.actor_id)
    for key, value in (
        ("action", filters.action),
        ("target_type", filters.target_type),
        ("target_id", filters.target_id),
    ):
        if value:
            keep[key] = str(value)
    return filters, period, keep


def _existing(events: list[AuditEvent]) -> dict[str, dict[int, str]]:
    """The targets that still exist, with their names (one query per kind), so only live pages
    are linked and sellers are shown by name."""
    wanted: dict[str, set[int]] = {}
    for e in events:
        if e.target_id is not None:
            wanted.setdefault(e.target_type, set()).add(e.target_id)
        data = e.data if isinstance(e.data, dict) else {}
        for key, kind in (("seller_id", "seller"), ("county_id", "county")):
            if isinstance(data.get(key), int):
                wanted.setdefault(kind, set()).add(data[key])
    return audit_names.existing_names(wanted, _locale())


def _target_link(
    kind: str, target_id: int | None, data: dict[str, Any], live: dict[str, dict[int, str]] | None
) -> str | None:
    """The staff page of a target, if there is one and (when ``live`` is given) it still exists."""
    if target_id is None:
        return None
    if live is not None and kind in audit_names.KINDS and target_id not in live.get(kind, {}):
        return None  # deleted since
    if kind == "product":
        return url_for("admin.listing_detail", product_id=target_id)
    if kind == "seller":
        return url_for("admin.seller_detail", seller_id=target_id)
    if kind == "offline_sale" and isinstance(data.get("seller_id"), int):
        return url_for("admin.offline_sales", seller_id=data["seller_id"])
    # Pages of other parts of the staff area, linked while they exist.
    if kind == "county" and "admin.county_detail" in current_app.view_functions:
        return url_for("admin.county_detail", county_id=target_id)
    if kind == "quota" and "admin.quotas" in current_app.view_functions:
        return url_for("admin.quotas")
    return None


def _value_text(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key in ("from", "to", "restore"):
        if value == moderation.RESUBMITTED:
            return _("Resubmitted")
        return status_label(STATE_LABELS.get(value, value))
    if key in MONEY_KEYS and isinstance(value, int):
        return format_money(value, current_app.config["MARKET_CURRENCY"], _locale())
    if key == "programme_year" and isinstance(value, int):
        return persian_digits(value) if _locale() == "fa" else str(value)
    if isinstance(value, int):
        return format_number(value, _locale())
    if key == "sold_on" and isinstance(value, str):
        try:
            return format_date(datetime.fromisoformat(value).date(), _locale())
        except ValueError:
            return value
    if isinstance(value, dict):
        return "; ".join(
            f"{DATA_LABELS.get(k, k)}: {_value_text(str(k), v)}" for k, v in value.items()
        )
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _event_view(event: AuditEvent, live: dict[str, dict[int, str]] | None) -> EventView:
    data = event.data if isinstance(event.data, dict) else {}
    details: list[tuple[str, str, str | None]] = []
    for key, value in data.items():
        text, link = _value_text(key, value), None
        if key == "seller_id" and isinstance(value, int):
            link = _target_link("seller", value, {}, live)
            text = (live or {}).get("seller", {}).get(value) or text
        elif key == "county_id" and isinstance(value, int):
            link = _target_link("county", value, {}, live)
            text = (live or {}).get("county", {}).get(value) or text
        details.append((str(DATA_LABELS.get(key, key)), text, link))
    if event.data is not None and not isinstance(event.data, dict):
        details.append(("", _value_text("", event.data), None))
    return EventView(
        event=event,
        action=action_label(event.action),
        target=target_label(event.target_type),
        link=_target_link(event.target_type, event.target_id, data, live),
        details=details,
    )


@bp.get("/audit")
def audit_log() -> ResponseReturnValue:
    """Every staff action (and the seller steps moderation answers), newest first, filtered."""
    filters, period, keep = _audit_filters()
    page = audit.page(filters, page_arg(), AUDIT_PER_PAGE)
    live = _existing(page.items)
    choice = audit.choices()
    return render_template(
        "admin/audit.html",
        page=replace(page, items=[_event_view(e, live) for e in page.items]),
        filters=filters,
        period=period,
        keep=keep,
        actors=choice["actors"],
        actions=[(a, action_label(a)) for a in choice["actions"]],
        target_types=[(t, target_label(t)) for t in choice["target_types"]],
        system=audit.SYSTEM,
        **period_choices(period),
    )


@bp.get("/audit.csv")
def audit_csv() -> ResponseReturnValue:
    filters, period, _keep = _audit_filters()
    header = [
        "id", "created_at", "created_at_jalali", "actor_id", "actor", "actor_email", "action",
        "action_label", "target_type", "target_id", "reason", "data",
    ]  # fmt: skip
    rows = [
        [e.id, iso_time(e.created_at), jalali_time(e.created_at), e.actor_id,
         e.actor.name if e.actor else None, e.actor.email if e.actor else None, e.action,
         action_label(e.action), e.target_type, e.target_id, e.reason,
         json.dumps(e.data, ensure_ascii=False, sort_keys=True) if e.data is not None else None]
        for e in audit.export(filters, CSV_MAX_ROWS)
    ]  # fmt: skip
    if isinstance(period, AllTime):
        return staff_csv(header, rows, "audit_all")
    return staff_csv(header, rows, "audit", period)
