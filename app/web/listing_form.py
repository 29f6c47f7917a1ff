"""The listing form's pieces shared by the seller's own form (``/seller/listings/…``) and the
staff's form for listing on a seller's behalf (``/admin/sellers/<id>/assist/…``): the form, the
service's data from it, and the photos a submission brings (staged for the seller)."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.catalog import listings, photos, pricing
from app.catalog.models import Product, ProductStatus, Seller
from app.core.db import database_id
from app.core.errors import ValidationFailed
from app.core.inputs import lenient_int, optional_money
from app.media.images import ImageRejected
from app.media.storage import StorageUnavailable
from app.program import price_hints
from app.web import variant_form
from app.web.forms import LocalDateField, LocalIntegerField, LocalMoneyField
from app.web.messages import error_text


class ListingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(
        _l("Title in English (optional)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Helps shoppers who search in English; not shown on the page."),
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)])
    category_id = SelectField(_l("Category"), coerce=int, validators=[Optional()])
    price_toman = LocalMoneyField(  # held in rials
        _l("Price (toman)"),
        validators=[
            Optional(),
            NumberRange(min=0, max=10**13, message=_l("Enter a price from 0.")),
        ],
    )
    sale_price_toman = LocalMoneyField(  # held in rials
        _l("Sale price (toman, optional)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=10**13, message=_l("Enter a sale price above 0.")),
        ],
        description=_l("Lower than the price; shown with the price struck through."),
    )
    sale_starts_on = LocalDateField(_l("Sale's first day"), validators=[Optional()])
    sale_ends_on = LocalDateField(_l("Sale's last day"), validators=[Optional()])
    stock = LocalIntegerField(
        _l("Stock"),
        default=1,
        validators=[
            Optional(),
            NumberRange(min=0, max=1_000_000, message=_l("Stock must be between 0 and 1,000,000.")),
        ],
    )
    status = SelectField(
        _l("Status"),
        # A callable: WTForms 3.3 deprecates tuple choices given to the field's constructor.
        choices=lambda: [("draft", _l("Draft (not visible)")), ("published", _l("Published"))],
        default="draft",
    )
    # New photos sent with the form (without script; with it they are uploaded one by one as
    # they are chosen and the form carries their tokens: see form_photos below).
    photos = MultipleFileField(_l("Add photos"))
    # Price (rial) and stock as the form showed them: the save keeps a value changed since.
    seen_price_amount = HiddenField()
    seen_stock = HiddenField()


class QuickEditForm(FlaskForm):
    price_toman = LocalMoneyField(  # held in rials
        _l("Price (toman)"), validators=[Optional(), NumberRange(min=1, max=10**13)]
    )
    stock = LocalIntegerField(
        _l("Stock"), validators=[Optional(), NumberRange(min=0, max=1_000_000)]
    )
    seen_price_amount = HiddenField()
    seen_stock = HiddenField()


def listing_data(form: ListingForm) -> listings.ListingData:
    return listings.ListingData(
        title=form.title.data or "",
        title_en=form.title_en.data or "",
        description=form.description.data or "",
        category_id=form.category_id.data or None,
        price_amount=form.price_toman.data,
        stock=form.stock.data or 0,
        status=ProductStatus(form.status.data),
        seen_price_amount=seen(form.seen_price_amount.data),
        seen_stock=seen(form.seen_stock.data),
        sale_given=True,
        sale_price_amount=form.sale_price_toman.data,
        sale_first_day=form.sale_starts_on.data,
        sale_last_day=form.sale_ends_on.data,
    )


def seen(value: str | None) -> int | None:
    """A hidden "as shown" number; anything else (a page from before these fields) is None."""
    number = lenient_int((value or "")[:40], None)
    return number if number is not None and number >= 0 else None


def form_photos(seller: Seller, form: ListingForm) -> tuple[list[photos.Staged], str]:
    """The photos this submission of the listing form brings, in the order the seller set, and
    the token of the chosen cover ("" for none).

    With script, each photo was uploaded as it was chosen (:func:`app.sellers.routes.stage_photo_upload`) and the
    form carries its token (``staged``) with its place (``staged_order``, a number the seller
    may change without script too). Files sent with the form itself (``photos``) are stored
    now, whatever else is wrong with the form, and come last: a form sent back with an error
    carries them on, so nothing is uploaded twice. Photos ticked ``staged_remove`` go at once.
    Problems are put on ``form.photos.errors``.
    """
    tokens = [t[:80] for t in request.form.getlist("staged")][: photos.MAX_STAGED]
    orders = request.form.getlist("staged_order")
    removed = {t[:80] for t in request.form.getlist("staged_remove")}
    if removed:
        photos.discard_staged(seller, [t for t in tokens if t in removed])
    placed = []
    for index, token in enumerate(tokens):
        if not token or token in removed:
            continue
        order = lenient_int(orders[index][:10], None) if index < len(orders) else None
        placed.append((order if order is not None else index + 1, index, token))
    wanted = [token for _order, _index, token in sorted(placed)]
    kept = photos.staged_photos(seller, wanted)
    if len(kept) < len(dict.fromkeys(wanted)):
        form.photos.errors = [*form.photos.errors, error_text("photo_expired")]
    for upload in request.files.getlist("photos"):
        if not upload or not upload.filename:
            continue
        try:
            kept.append(photos.stage_photo(seller, upload.stream, upload.filename))
        except ImageRejected as exc:
            form.photos.errors = [*form.photos.errors, f"{upload.filename}: {error_text(exc.code)}"]
        except ValidationFailed as exc:
            form.photos.errors = [
                *form.photos.errors,
                *(error_text(c) for codes in exc.errors.values() for c in codes),
            ]
            break
        except StorageUnavailable:
            current_app.logger.warning("media storage unreachable: photo upload refused")
            form.photos.errors = [*form.photos.errors, storage_down_text()]
            break
    cover = request.form.get("cover", "")[:80]
    if cover not in {photo.token for photo in kept}:
        cover = ""
    return kept, cover


def storage_down_text() -> str:
    return _(
        "Photos cannot be saved right now because the file storage cannot be reached. "
        "Nothing was changed; please try again in a few minutes."
    )


def price_hint_page(county_id: int, *, for_staff: bool = False) -> str:
    """The fair-price hint (``sellers/_price_hint.html``) for the query's ``category`` and
    ``price`` (as typed, any digits) in ``county_id``: what the listing form's script asks for
    as the category or the price changes (``for_staff``: staff helping a seller, whose county
    it is). A category that is no id is a 400; a price still
    being typed gives the hint without its place."""
    raw_category = (request.args.get("category") or "").strip()
    category_id = database_id(raw_category) if raw_category else None
    if raw_category and category_id is None:
        abort(400)
    try:
        price = optional_money(request.args.get("price"), current_app.config["MARKET_CURRENCY"])
    except ValueError:
        price = None
    return render_template(
        "sellers/_price_hint.html",
        hint_for_staff=for_staff,
        **price_hints.shown(category_id, county_id, price),
    )


def open_listing(form: ListingForm, product: Product, locale: str) -> variant_form.Editor:
    """Fill the edit form of a saved ``product`` as it opens (a GET: its price, sale period,
    status, category and the price and stock the save will compare with) and return its options
    and variants section: read from the posted form, or from the product as it is saved."""
    if request.method == "GET":
        form.price_toman.data = product.price_amount or None
        form.sale_price_toman.data = product.sale_price_amount
        if product.sale_starts_at is not None and product.sale_ends_at is not None:
            form.sale_starts_on.data = pricing.market_day(product.sale_starts_at)
            form.sale_ends_on.data = pricing.market_day(product.sale_ends_at) - timedelta(days=1)
        form.status.data = "published" if product.status == ProductStatus.PUBLISHED else "draft"
        form.category_id.data = product.category_id or 0
        form.seen_price_amount.data = str(product.price_amount)
        form.seen_stock.data = str(product.stock)
    if form.is_submitted():
        return variant_form.from_form(request.form, had_variants=product.has_variants)
    return variant_form.from_product(product, locale)
