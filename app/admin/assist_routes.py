"""Listing on a seller's behalf (``/admin/sellers/<id>/assist…``): ask the seller's consent by a
texted code, then create and edit their listings, photos and stock on a phone beside them.

Every lookup goes through the staff member's scope (another county's seller: 404); every change
needs the seller's live consent (none, revoked or expired: a 403 page, nothing changed), checked
again by the listing services in their own transaction (:mod:`app.catalog.assisted`).
"""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app import jobs
from app.accounts import codes
from app.admin import bp
from app.admin.forms import ConsentCodeForm
from app.catalog import assisted, listings, photos
from app.catalog import scope as scopes
from app.catalog.models import PhotoStatus, Product, Seller
from app.catalog.rules import MAX_IMAGES
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import limiter
from app.core.formatting import format_number
from app.core.timeutil import utcnow
from app.jobs import tasks as jobs_tasks
from app.media.images import ImageRejected
from app.media.storage import StorageUnavailable
from app.notifications import sms
from app.program import price_hints
from app.web import variant_form
from app.web.access import owned_or_404, staff_scope
from app.web.listing_form import (
    ListingForm,
    QuickEditForm,
    form_photos,
    listing_data,
    open_listing,
    price_hint_page,
    seen,
    storage_down_text,
)
from app.web.messages import apply_errors, error_text

LISTINGS_SHOWN = 100


def _locale() -> str:
    return str(get_locale() or "fa")


def _seller(seller_id: int) -> Seller:
    """The seller, if within the staff member's scope (404 otherwise)."""
    try:
        return scopes.seller_in(staff_scope(), seller_id)
    except NotFound:
        abort(404)


@bp.get("/sellers/<int:seller_id>/price-hint")
def assist_price_hint(seller_id: int) -> ResponseReturnValue:
    """The fair-price hint on the assist form, for the seller's county (read-only: no consent
    needed, the scope still is)."""
    return price_hint_page(_seller(seller_id).county_id, for_staff=True)


def _refused(seller: Seller) -> ResponseReturnValue:
    return render_template("admin/assist_refused.html", seller=seller), 403


def _consented(seller_id: int) -> tuple[Seller, ResponseReturnValue | None]:
    """The seller (in scope) and, when they have no live consent, the refusal page to answer."""
    seller = _seller(seller_id)
    if assisted.active_consent(seller.id) is None:
        return seller, _refused(seller)
    return seller, None


def _product(seller: Seller, product_id: int) -> Product:
    return owned_or_404(
        Product, product_id, seller_id=seller.id, options=(selectinload(Product.images),)
    )


def _otp_limit() -> str:
    return current_app.config["OTP_RATE_LIMIT"]


@bp.get("/sellers/<int:seller_id>/assist")
def assist(seller_id: int) -> ResponseReturnValue:
    """The seller's consent (ask for it, type the code) and, with it, their listings."""
    seller = _seller(seller_id)
    consent = assisted.active_consent(seller.id)
    page = (
        listings.seller_listings(seller, None, "", 1, LISTINGS_SHOWN)
        if consent is not None
        else None
    )
    number = assisted.consent_number(seller)
    return render_template(
        "admin/assist.html",
        seller=seller,
        consent=consent,
        expires_at=assisted.expires_at(consent) if consent is not None else None,
        number=number,
        code_form=ConsentCodeForm(),
        quick_form=QuickEditForm(),
        products=page.items if page is not None else [],
        variant_summaries=listings.variant_summaries(page.items) if page is not None else {},
    )


@bp.post("/sellers/<int:seller_id>/assist/ask")
@limiter.limit(_otp_limit)
def assist_ask(seller_id: int) -> ResponseReturnValue:
    """Text the seller a one-time code that says who asks and what for."""
    seller = _seller(seller_id)
    staff = current_user._get_current_object()
    try:
        issued = assisted.ask_consent(seller, staff)
    except ValidationFailed as exc:
        for field_codes in exc.errors.values():
            for code in field_codes:
                flash(error_text(code), "error")
        return redirect(url_for("admin.assist", seller_id=seller.id))
    except codes.SendRefused as refused:
        minutes = max(1, -(-refused.retry_after // 60))
        flash(
            _(
                "A code was sent to this number a moment ago. You can ask for another in "
                "%(minutes)s minutes.",
                minutes=format_number(minutes, _locale()),
            ),
            "error",
        )
        return redirect(url_for("admin.assist", seller_id=seller.id))
    minutes = max(1, round((issued.expires_at - utcnow()).total_seconds() / 60))
    locale = seller.user.locale or "fa"
    with force_locale(locale):
        message = sms.compose(
            seller.user_id,
            issued.mobile,
            locale,
            "assist_consent",
            {
                "code": issued.code,
                "minutes": minutes,
                "staff": staff.name or _("programme staff"),
                "shop": seller.display_name,
            },
        )
    sms.send([message], "assist_consent")
    flash(
        _("A code was texted to the seller. Ask them to read it out to you, then type it below."),
        "success",
    )
    return redirect(url_for("admin.assist", seller_id=seller.id, _anchor="code"))


@bp.post("/sellers/<int:seller_id>/assist/confirm")
@limiter.limit(_otp_limit)
def assist_confirm(seller_id: int) -> ResponseReturnValue:
    """Record the seller's consent once the code they read out is right."""
    seller = _seller(seller_id)
    form = ConsentCodeForm()
    if form.validate_on_submit():
        try:
            assisted.confirm_consent(seller, current_user._get_current_object(), form.code.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash(_("Consent recorded. You can now list for this seller."), "success")
            return redirect(url_for("admin.assist", seller_id=seller.id))
    consent = assisted.active_consent(seller.id)
    return render_template(
        "admin/assist.html",
        seller=seller,
        consent=consent,
        expires_at=assisted.expires_at(consent) if consent is not None else None,
        number=assisted.consent_number(seller),
        code_form=form,
        quick_form=QuickEditForm(),
        products=[],
        variant_summaries={},
    ), 400


# ---- the listing form, on the seller's behalf -----------------------------------------------


def _form_page(
    seller: Seller,
    form: ListingForm,
    product: Product | None,
    staged: list[photos.Staged],
    cover: str,
    editor: variant_form.Editor,
) -> ResponseReturnValue:
    status = 400 if form.is_submitted() and not editor.make_rows else 200
    if editor.make_rows and (form.errors or editor.has_errors):
        status = 400
    room = MAX_IMAGES - (len(product.images) if product is not None else 0)
    failures = (
        {
            image.id: error_text(image.failure or photos.NOT_PROCESSED)
            for image in product.images
            if image.status == PhotoStatus.FAILED
        }
        if product is not None
        else {}
    )
    return (
        render_template(
            "admin/assist_form.html",
            seller=seller,
            form=form,
            product=product,
            editor=editor,
            sold_by_variants=product is not None and product.has_variants,
            staged=staged,
            cover=cover,
            max_images=MAX_IMAGES,
            room=room,
            stage_url=url_for("admin.assist_stage_photo", seller_id=seller.id),
            hint_url=url_for("admin.assist_price_hint", seller_id=seller.id),
            hint_for_staff=True,
            **price_hints.shown(form.category_id.data, seller.county_id, form.price_toman.data),
            problems=[error_text(p) for p in listings.publish_problems(product)]
            if product is not None
            else [],
            photo_failures=failures,
        ),
        status,
    )


def _start_photos(product_id: int) -> None:
    owed = photos.owed_of(product_id)
    for image_id in owed:
        jobs.submit(jobs_tasks.make_photo_variants, image_id)
    if owed and jobs.queue.immediate and photos.failed_among(owed):
        flash(_("A photo could not be used. See the reason beside it."), "error")


def _category_choices(form: ListingForm) -> None:
    form.category_id.choices = [(0, _("Choose…")), *listings.category_options(_locale())]


@bp.route("/sellers/<int:seller_id>/assist/listings/new", methods=["GET", "POST"])
def assist_new_listing(seller_id: int) -> ResponseReturnValue:
    seller, refused = _consented(seller_id)
    if refused is not None:
        return refused
    form = ListingForm()
    _category_choices(form)
    staged: list[photos.Staged] = []
    cover = ""
    editor = variant_form.Editor()
    if form.is_submitted():
        editor = variant_form.from_form(request.form)
        valid = form.validate() if not editor.make_rows else True
        staged, cover = form_photos(seller, form)
        if valid and not form.photos.errors and not editor.make_rows and not editor.has_errors:
            try:
                product = listings.create_product(
                    seller,
                    listing_data(form),
                    [p.token for p in staged],
                    cover,
                    editor.data(),
                    helper_id=current_user.id,
                )
            except assisted.NoConsent:
                return _refused(seller)
            except ValidationFailed as exc:
                apply_errors(form, editor.take_errors(exc))
                staged = photos.staged_photos(seller, [p.token for p in staged])
            else:
                flash(_("Listing saved for %(shop)s.", shop=seller.display_name), "success")
                _start_photos(product.id)
                return redirect(
                    url_for("admin.assist_edit_listing", seller_id=seller.id, product_id=product.id)
                )
    return _form_page(seller, form, None, staged, cover, editor)


@bp.route("/sellers/<int:seller_id>/assist/listings/<int:product_id>/edit", methods=["GET", "POST"])
def assist_edit_listing(seller_id: int, product_id: int) -> ResponseReturnValue:
    seller, refused = _consented(seller_id)
    if refused is not None:
        return refused
    product = _product(seller, product_id)
    form = ListingForm(obj=product)
    _category_choices(form)
    editor = open_listing(form, product, _locale())
    staged: list[photos.Staged] = []
    cover = ""
    valid = form.validate_on_submit() if not editor.make_rows else False
    if form.is_submitted():
        staged, cover = form_photos(seller, form)
    if valid and not form.photos.errors and not editor.has_errors:
        try:
            kept = listings.update_product(
                product,
                listing_data(form),
                [p.token for p in staged],
                cover,
                editor.data(),
                helper_id=current_user.id,
            )
        except NotFound:
            abort(404)
        except assisted.NoConsent:
            return _refused(seller)
        except ValidationFailed as exc:
            product = _product(seller, product_id)
            apply_errors(form, editor.take_errors(exc))
            staged = photos.staged_photos(seller, [p.token for p in staged])
        else:
            if staged:
                _start_photos(product_id)
            flash(_("Listing saved."), "success")
            if kept:
                flash(
                    _("The price or stock changed while you were editing and was left as it is."),
                    "warning",
                )
            return redirect(
                url_for("admin.assist_edit_listing", seller_id=seller.id, product_id=product_id)
            )
    return _form_page(seller, form, product, staged, cover, editor)


@bp.post("/sellers/<int:seller_id>/assist/listings/<int:product_id>/quick")
def assist_quick_edit(seller_id: int, product_id: int) -> ResponseReturnValue:
    """Stock (and price) from the seller's listings table on the assist page."""
    seller, refused = _consented(seller_id)
    if refused is not None:
        return refused
    product = _product(seller, product_id)
    form = QuickEditForm()
    back = redirect(url_for("admin.assist", seller_id=seller.id, _anchor="listings"))
    if not form.validate_on_submit():
        flash(_("Enter a price above 0 and a stock of 0 or more."), "error")
        return back
    try:
        kept = listings.quick_update(
            product,
            price_amount=form.price_toman.data,
            stock=form.stock.data,
            seen_price_amount=seen(form.seen_price_amount.data),
            seen_stock=seen(form.seen_stock.data),
            helper_id=current_user.id,
        )
    except NotFound:
        abort(404)
    except assisted.NoConsent:
        return _refused(seller)
    except ValidationFailed as exc:
        if any("has_variants" in field_codes for field_codes in exc.errors.values()):
            flash(error_text("has_variants"), "error")
        else:
            flash(_("Enter a price above 0 and a stock of 0 or more."), "error")
    else:
        if kept:
            flash(
                _("The price or stock changed while you were editing and was left as it is."),
                "warning",
            )
        else:
            flash(_("“%(title)s” updated.", title=product.title), "success")
    return back


@bp.post("/sellers/<int:seller_id>/assist/photos/staged")
@limiter.limit(lambda: current_app.config["PHOTO_UPLOAD_RATE_LIMIT"])
def assist_stage_photo(seller_id: int) -> ResponseReturnValue:
    """One photo chosen on the staff's listing form, kept for the seller until the form is
    saved (as the seller's own form does; answers JSON)."""
    seller, refused = _consented(seller_id)
    if refused is not None:
        return jsonify(error=_("The seller has not given consent.")), 403
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return jsonify(error=_("Choose at least one photo.")), 400
    try:
        staged = photos.stage_photo(seller, upload.stream, upload.filename)
    except ImageRejected as exc:
        return jsonify(error=f"{upload.filename}: {error_text(exc.code)}"), 400
    except ValidationFailed as exc:
        text = " ".join(error_text(c) for field_codes in exc.errors.values() for c in field_codes)
        return jsonify(error=text), 400
    except StorageUnavailable:
        current_app.logger.warning("media storage unreachable: photo upload refused")
        return jsonify(error=storage_down_text()), 503
    return jsonify(
        token=staged.token, filename=staged.filename, width=staged.width, height=staged.height
    ), 201
