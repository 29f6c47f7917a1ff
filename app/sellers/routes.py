"""Seller area: application, dashboard, profile, listings, photos, CSV import."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import selectinload

from app import jobs
from app.catalog import assisted, favourites, listings, photos
from app.catalog.indexing import remove_deleted
from app.catalog.models import PhotoStatus, Product, ProductStatus, Seller, SellerStatus
from app.catalog.rules import MAX_IMAGES
from app.catalog.sellers import (
    FreshLoginRequired,
    SellerProfile,
    apply_to_sell,
    profile_choices,
    seller_of,
    suggest_slug,
    update_profile,
)
from app.core.errors import NotAllowed, NotFound, ValidationFailed
from app.core.extensions import limiter
from app.core.formatting import format_number
from app.jobs import tasks as jobs_tasks
from app.media.images import ImageRejected
from app.media.storage import StorageUnavailable
from app.media.store import storage
from app.program import beneficiaries, impact, monthly, price_hints
from app.sellers import bp
from app.sellers.forms import AltTextForm, SellerProfileForm
from app.shipping import services as shipping
from app.web import variant_form
from app.web.access import owned_or_404
from app.web.fresh import is_fresh, reauth_redirect
from app.web.http import csv_response, page_arg, safe_next
from app.web.impact_labels import label as impact_label
from app.web.listing_form import (
    ListingForm,
    QuickEditForm,
    form_photos,
    listing_data,
    open_listing,
    seen,
    storage_down_text,
)
from app.web.messages import apply_errors, error_text

LISTINGS_PER_PAGE = 25


def current_seller() -> Seller:
    """The seller row of the logged-in user (the gate has checked the role)."""
    seller = g.get("seller")
    if seller is None:
        seller = seller_of(current_user)
        if seller is None:
            abort(redirect(url_for("sellers.apply")))
        g.seller = seller
    return seller


def owned_product(product_id: int) -> Product:
    return owned_or_404(
        Product, product_id, seller_id=current_seller().id, options=(selectinload(Product.images),)
    )


def _seller_key() -> str:
    """Rate limits of a seller's uploads count per account, not per address."""
    return f"seller-photos:{current_user.get_id() if current_user.is_authenticated else ''}"


def _locale() -> str:
    return str(get_locale() or "fa")


def _fill_profile_choices(form: SellerProfileForm) -> None:
    loc = _locale()
    counties, sectors = profile_choices()
    form.county_id.choices = [(0, _("Choose…"))] + [(c.id, c.name(loc)) for c in counties]
    form.sector_id.choices = [(0, _("Choose…"))] + [(s.id, s.name(loc)) for s in sectors]


def category_choices() -> list[tuple[int, str]]:
    return listings.category_options(_locale())


def _profile_data(form: SellerProfileForm) -> SellerProfile:
    slug = (form.slug.data or "").strip() or suggest_slug(form.display_name.data)
    return SellerProfile(
        display_name=form.display_name.data,
        slug=slug,
        bio=form.bio.data or "",
        county_id=form.county_id.data,
        sector_id=form.sector_id.data,
        phone=form.phone.data or "",
        registration_code=form.registration_code.data or None,
        training_completed_on=form.training_completed_on.data,
        training_provider=form.training_provider.data,
        permit_number=form.permit_number.data,
        sheba=form.sheba.data,
    )


def _store_logo(form: SellerProfileForm) -> str | None:
    """Run an uploaded logo through the photo service; None when no file was sent."""
    upload = form.logo.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    try:
        return photos.store_logo(upload.stream)
    except ImageRejected as exc:
        raise ValidationFailed({"logo": [exc.code]}) from exc


_LOGO_SALT = "seller-logo"
_LOGO_MAX_AGE = 24 * 3600  # a carried logo is taken for a day after it was chosen


def _logo_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=_LOGO_SALT)


def _logo_token(key: str, user_id: int) -> str:
    """A reference to a stored logo that only ``user_id`` can hand back (signed, for a day)."""
    return _logo_signer().dumps({"u": user_id, "k": key})


def _carried_logo(token: str) -> str | None:
    """The logo key a form carried from an earlier try: None unless the token is ours, for the
    logged-in user, not older than a day, and the file is still stored."""
    if not token:
        return None
    try:
        data = _logo_signer().loads(token, max_age=_LOGO_MAX_AGE)
    except BadSignature:  # also an expired one
        return None
    if not isinstance(data, dict) or data.get("u") != current_user.id:
        return None
    key = data.get("k")
    try:
        return key if isinstance(key, str) and storage().exists(key) else None
    except (OSError, ValueError):
        return None


def _chosen_logo(form: SellerProfileForm) -> str | None:
    """The logo this submission brings: a newly chosen file, run through the image pipeline and
    stored at once (so a form that comes back with an error does not lose it), else the one an
    earlier try stored and carried in ``logo_token``. A refused image is shown on the logo
    field; the carried logo, if any, stays chosen. A media storage that cannot be reached is
    an error on the logo field too (so nothing is saved), and no logo is chosen."""
    try:
        carried = _carried_logo(form.logo_token.data or "")
        try:
            return _store_logo(form) or carried
        except ValidationFailed as exc:
            form.logo.errors = [*form.logo.errors, *(error_text(c) for c in exc.errors["logo"])]
            return carried
    except StorageUnavailable:
        current_app.logger.warning("media storage unreachable: logo refused")
        form.logo.errors = [*form.logo.errors, storage_down_text()]
        return None


def _drop_logo(key: str | None, kept: str | None) -> None:
    """Delete the logo file ``key`` unless it is ``kept`` or still in use (files are shared)."""
    if key and key != kept:
        photos.delete_files(photos.unused_keys([key]))


@bp.route("/apply", methods=["GET", "POST"])
def apply():
    """Apply to sell (or apply again after a rejection)."""
    existing = seller_of(current_user)
    if existing is not None and existing.status != SellerStatus.REJECTED:
        return redirect(url_for("sellers.dashboard"))
    form = SellerProfileForm(obj=existing)
    if not form.is_submitted() and not form.phone.data:
        form.phone.data = current_user.mobile or ""
    _fill_profile_choices(form)
    valid = form.validate_on_submit()
    # The chosen logo is stored now, whatever else is wrong, and carried to the next try.
    chosen = _chosen_logo(form) if form.is_submitted() else None
    if valid and not form.logo.errors:
        old_logo = existing.logo_key if existing else None
        logo_key = chosen or old_logo
        try:
            apply_to_sell(current_user, _profile_data(form), logo_key)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except NotAllowed:
            _drop_logo(chosen, old_logo)
            abort(403)
        else:
            _drop_logo(old_logo, logo_key)
            flash(_("Your application was sent. Programme staff will review it soon."), "success")
            return redirect(url_for("sellers.dashboard"))
    form.logo_token.data = _logo_token(chosen, current_user.id) if chosen else ""
    status = 400 if form.is_submitted() else 200
    return render_template(
        "sellers/apply.html", form=form, previous=existing, kept_logo=chosen
    ), status


@bp.get("/")
def dashboard():
    seller = current_seller()
    numbers = monthly.seller_numbers(seller.id)
    return render_template(
        "sellers/dashboard.html",
        seller=seller,
        counts=listings.seller_counts(seller),
        low_stock=listings.low_stock(seller),
        history=seller.status_changes[:5],
        numbers=numbers,
        favourited=favourites.favourite_counts(
            p["product_id"] for p in numbers.best if p["product_id"]
        ),
        has_shipping=shipping.has_active_method(seller.id),
        away=shipping.is_away(seller),
        record=beneficiaries.record_of(seller.id),
        loans=beneficiaries.loans_of(seller.id),
        figures=impact.seller_impact(seller.id, str(get_locale() or "fa")),
        label=impact_label,
        consent=assisted.active_consent(seller.id),
        helped=assisted.helped_listings(seller.id),
    )


@bp.post("/consent/revoke")
def revoke_consent():
    """The seller withdraws their consent to listing on their behalf (audited)."""
    seller = current_seller()
    if assisted.revoke(seller, current_user._get_current_object()):
        flash(_("Consent withdrawn. Staff can no longer change your listings."), "success")
    return redirect(url_for("sellers.dashboard"))


@bp.post("/listings/<int:product_id>/take-over")
def take_over_listing(product_id: int):
    """The seller takes over a listing made or changed with help: the marker goes (audited)."""
    product = owned_product(product_id)
    try:
        assisted.take_over(product, current_user._get_current_object())
    except NotFound:
        abort(404)
    flash(
        _("“%(title)s” is yours again, without the “listed with help” mark.", title=product.title),
        "success",
    )
    return redirect(url_for("sellers.edit_listing", product_id=product_id))


@bp.get("/numbers.csv")
def numbers_csv():
    """The dashboard's two tables (months, best products) as one CSV, UTF-8 with a BOM."""
    seller = current_seller()
    numbers = monthly.seller_numbers(seller.id)
    series = numbers.series
    header = [
        "table", "jalali_month", "product_id", "product", "sales_volume", "sales", "units",
        "views", "paid_online_orders", "orders_per_100_views",
    ]  # fmt: skip
    rows: list[list[object]] = []
    for (year, month), cell in zip(series.months, numbers.months, strict=True):
        rate = cell.orders_per_100_views
        rows.append(
            ["month", f"{year:04d}-{month:02d}", None, None, cell.amount, cell.orders,
             cell.units, cell.views, cell.online_orders,
             None if rate is None else f"{rate:.2f}"]
        )  # fmt: skip
    for p in numbers.best:
        rows.append(
            ["best_product", None, p["product_id"], p["title"], p["amount"], None, p["units"],
             p["views"], None, None]
        )  # fmt: skip
    return csv_response(header, rows, f"my-numbers-{seller.slug}.csv")


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    seller = current_seller()
    form = SellerProfileForm(obj=seller)
    _fill_profile_choices(form)
    valid = form.validate_on_submit()
    # The chosen logo is stored now, whatever else is wrong, and carried to the next try.
    chosen = _chosen_logo(form) if form.is_submitted() else None
    if valid and not form.logo.errors:
        old_logo = seller.logo_key
        logo_key = chosen or old_logo
        try:
            update_profile(seller, _profile_data(form), logo_key, fresh_login=is_fresh())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except FreshLoginRequired:
            # Nothing was saved: confirm the password, then come back to the form.
            _drop_logo(chosen, old_logo)
            return reauth_redirect(url_for("sellers.profile"))
        else:
            _drop_logo(old_logo, logo_key)
            flash(_("Your shop profile was saved."), "success")
            return redirect(url_for("sellers.profile"))
    form.logo_token.data = _logo_token(chosen, current_user.id) if chosen else ""
    status = 400 if form.is_submitted() else 200
    return render_template(
        "sellers/profile.html", form=form, seller=seller, kept_logo=chosen
    ), status


@bp.get("/listings", endpoint="listings")
def listing_table():
    seller = current_seller()
    status = request.args.get("status", "")
    text = request.args.get("q", "").strip()[:100]
    if status not in {s.value for s in ProductStatus}:
        status = ""
    page = listings.seller_listings(
        seller, ProductStatus(status) if status else None, text, page_arg(), LISTINGS_PER_PAGE
    )
    return render_template(
        "sellers/listings.html",
        seller=seller,
        page=page,
        status=status,
        q=text,
        quick_form=QuickEditForm(),
        favourited=favourites.favourite_counts(p.id for p in page.items),
        variant_summaries=listings.variant_summaries(page.items),
    )


def _flash_kept(kept: list[listings.ChangedWhileEditing]) -> None:
    """Tell the seller which values changed while they were editing and were left as they are."""
    loc = _locale()
    for change in kept:
        if change.variant:
            label = change.variant
            flash(
                _(
                    "The stock of %(variant)s changed to %(current)s while you were editing, so "
                    "your %(entered)s was not saved. Check it and save again if needed.",
                    variant=label,
                    current=format_number(change.current, loc),
                    entered=format_number(change.entered, loc),
                ),
                "warning",
            )
        elif change.field == "stock":
            flash(
                _(
                    "Stock changed to %(current)s while you were editing, so your "
                    "%(entered)s was not saved. Check it and save again if needed.",
                    current=format_number(change.current, loc),
                    entered=format_number(change.entered, loc),
                ),
                "warning",
            )
        else:
            flash(
                _(
                    "Price changed to %(current)s toman while you were editing, so your "
                    "%(entered)s toman was not saved. Check it and save again if needed.",
                    current=format_number(change.current // 10, loc),
                    entered=format_number(change.entered // 10, loc),
                ),
                "warning",
            )


# ---- photos that come with the listing form ------------------------------------------------


def _start_photos(product_id: int) -> None:
    """Hand a saved listing's new photos to the job worker. When the queue runs tasks in place,
    their variants exist once this returns; a photo the full decode refused stays on the
    listing, marked not usable with its reason, and the seller is told."""
    owed = photos.owed_of(product_id)
    for image_id in owed:
        jobs.submit(jobs_tasks.make_photo_variants, image_id)
    if not owed:
        return
    if jobs.queue.immediate:
        if photos.failed_among(owed):
            flash(_("A photo could not be used. See the reason beside it."), "error")
    else:
        flash(_("New photos are being prepared and appear in the shop in a moment."), "info")


def _listing_form_page(
    form: ListingForm,
    product: Product | None,
    staged: list[photos.Staged],
    cover: str,
    editor: variant_form.Editor,
) -> ResponseReturnValue:
    status = 400 if form.is_submitted() and not editor.make_rows else 200
    if editor.make_rows and (form.errors or editor.has_errors):
        status = 400
    extra: dict[str, object] = {}
    if product is not None:
        extra = {
            "problems": [error_text(p) for p in listings.publish_problems(product)],
            "alt_form": AltTextForm(),
            "photo_failures": {
                image.id: error_text(image.failure or photos.NOT_PROCESSED)
                for image in product.images
                if image.status == PhotoStatus.FAILED
            },
        }
    room = MAX_IMAGES - (len(product.images) if product is not None else 0)
    hint = price_hints.shown(
        form.category_id.data, current_seller().county_id, form.price_toman.data
    )
    return (
        render_template(
            "sellers/listing_form.html",
            form=form,
            product=product,
            editor=editor,
            sold_by_variants=product is not None and product.has_variants,
            staged=staged,
            cover=cover,
            max_images=MAX_IMAGES,
            room=room,
            **hint,
            **extra,
        ),
        status,
    )


@bp.post("/photos/staged")
@limiter.limit(lambda: current_app.config["PHOTO_UPLOAD_RATE_LIMIT"], key_func=_seller_key)
def stage_photo_upload():
    """Keep one photo chosen on the listing form until the form is saved (script's way: each
    photo is sent as it is chosen, with its progress shown). Answers JSON: the token the form
    carries, 201; a refused picture 400, a storage that cannot be reached 503, nothing kept."""
    seller = current_seller()
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return jsonify(error=_("Choose at least one photo.")), 400
    try:
        staged = photos.stage_photo(seller, upload.stream, upload.filename)
    except ImageRejected as exc:
        return jsonify(error=f"{upload.filename}: {error_text(exc.code)}"), 400
    except ValidationFailed as exc:
        text = " ".join(error_text(c) for codes in exc.errors.values() for c in codes)
        return jsonify(error=text), 400
    except StorageUnavailable:
        current_app.logger.warning("media storage unreachable: photo upload refused")
        return jsonify(error=storage_down_text()), 503
    return jsonify(
        token=staged.token,
        filename=staged.filename,
        width=staged.width,
        height=staged.height,
    ), 201


@bp.route("/listings/new", methods=["GET", "POST"])
def new_listing():
    seller = current_seller()
    form = ListingForm()
    form.category_id.choices = [(0, _("Choose…")), *category_choices()]
    staged: list[photos.Staged] = []
    cover = ""
    editor = variant_form.Editor()
    if form.is_submitted():
        editor = variant_form.from_form(request.form)
        valid = form.validate() if not editor.make_rows else True
        # The photos are kept now, whatever else is wrong, and carried to the next try.
        staged, cover = form_photos(seller, form)
        if valid and not form.photos.errors and not editor.make_rows and not editor.has_errors:
            try:
                product = listings.create_product(
                    seller,
                    listing_data(form),
                    [p.token for p in staged],
                    cover,
                    editor.data(),
                )
            except ValidationFailed as exc:
                apply_errors(form, editor.take_errors(exc))
                staged = photos.staged_photos(seller, [p.token for p in staged])
            else:
                if product.status == ProductStatus.PUBLISHED:
                    flash(_("Listing published."), "success")
                elif staged:
                    flash(_("Listing saved as a draft."), "success")
                else:
                    flash(_("Listing saved as a draft. Add photos, then publish it."), "success")
                _start_photos(product.id)
                return redirect(url_for("sellers.edit_listing", product_id=product.id))
    return _listing_form_page(form, None, staged, cover, editor)


@bp.route("/listings/<int:product_id>/edit", methods=["GET", "POST"])
def edit_listing(product_id: int):
    product = owned_product(product_id)
    form = ListingForm(obj=product)
    form.category_id.choices = [(0, _("Choose…")), *category_choices()]
    editor = open_listing(form, product, _locale())
    staged: list[photos.Staged] = []
    cover = ""
    valid = form.validate_on_submit() if not editor.make_rows else False
    if form.is_submitted():
        # The photos are kept now, whatever else is wrong, and carried to the next try.
        staged, cover = form_photos(current_seller(), form)
    if valid and not form.photos.errors and not editor.has_errors:
        was_hidden = product.status == ProductStatus.HIDDEN_BY_STAFF
        try:
            kept = listings.update_product(
                product, listing_data(form), [p.token for p in staged], cover, editor.data()
            )
        except NotFound:
            abort(404)  # deleted in another tab meanwhile
        except ValidationFailed as exc:
            product = owned_product(product_id)
            apply_errors(form, editor.take_errors(exc))
            staged = photos.staged_photos(current_seller(), [p.token for p in staged])
        else:
            if staged:
                _start_photos(product_id)
            if was_hidden and product.hidden_reason:
                flash(
                    _(
                        "Listing saved and sent back to programme staff. It goes on sale again "
                        "once they release it."
                    ),
                    "success",
                )
            else:
                flash(_("Listing saved."), "success")
            _flash_kept(kept)
            return redirect(url_for("sellers.edit_listing", product_id=product.id))
    return _listing_form_page(form, product, staged, cover, editor)


@bp.post("/listings/<int:product_id>/duplicate")
def duplicate_listing(product_id: int):
    copy = listings.duplicate_product(owned_product(product_id))
    flash(_("A draft copy was made. Add photos to it before publishing."), "success")
    return redirect(url_for("sellers.edit_listing", product_id=copy.id))


@bp.post("/listings/<int:product_id>/delete")
def delete_listing(product_id: int):
    product = owned_product(product_id)
    title = product.title
    photos.delete_files(listings.delete_product(product))
    remove_deleted([product_id])
    flash(_("“%(title)s” was deleted.", title=title), "success")
    return redirect(url_for("sellers.listings"))


@bp.post("/listings/<int:product_id>/quick")
def quick_edit(product_id: int):
    product = owned_product(product_id)
    form = QuickEditForm()
    if not form.validate_on_submit():
        flash(_("Enter a price above 0 and a stock of 0 or more."), "error")
    else:
        price = form.price_toman.data  # rials
        try:
            kept = listings.quick_update(
                product,
                price_amount=price,
                stock=form.stock.data,
                seen_price_amount=seen(form.seen_price_amount.data),
                seen_stock=seen(form.seen_stock.data),
            )
        except NotFound:
            abort(404)
        except ValidationFailed as exc:
            if any("has_variants" in codes for codes in exc.errors.values()):
                flash(error_text("has_variants"), "error")
            else:
                flash(_("Enter a price above 0 and a stock of 0 or more."), "error")
        else:
            if len(kept) < sum(v is not None for v in (price, form.stock.data)):
                flash(_("“%(title)s” updated.", title=product.title), "success")
            _flash_kept(kept)
    return redirect(
        request.referrer if _same_site(request.referrer) else url_for("sellers.listings")
    )


@bp.post("/listings/<int:product_id>/status")
def set_status(product_id: int):
    product = owned_product(product_id)
    wanted = request.form.get("status", "")
    if wanted not in (ProductStatus.DRAFT.value, ProductStatus.PUBLISHED.value):
        abort(400)
    try:
        listings.set_product_status(product, ProductStatus(wanted))
    except NotFound:
        abort(404)  # deleted in another tab meanwhile
    except ValidationFailed as exc:
        for codes in exc.errors.values():
            for code in codes:
                flash(error_text(code), "error")
    else:
        if wanted == "published":
            flash(_("“%(title)s” is published.", title=product.title), "success")
        else:
            flash(_("“%(title)s” is now a draft.", title=product.title), "success")
    return redirect(
        request.referrer if _same_site(request.referrer) else url_for("sellers.listings")
    )


def _same_site(url: str | None) -> bool:
    if not url:
        return False
    host = request.host_url.rstrip("/")
    return url.startswith(host + "/") and safe_next(url[len(host) :], "") != ""


# ---- photos ---------------------------------------------------------------------------------


def _wants_json() -> bool:
    return (
        request.headers.get("X-Requested-With") == "fetch"
        or request.accept_mimetypes.best == "application/json"
    )


@bp.post("/listings/<int:product_id>/photos")
def upload_photos(product_id: int):
    """Upload one or more photos. Each is checked from its header and stored as it came, and the
    job worker makes its variants (the listing shows it as processing until then). When the
    queue runs tasks in place, the variants exist before the answer, and a picture that fails
    the full decode is refused here as it always was."""
    product = owned_product(product_id)
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    errors: list[str] = []
    added = 0
    unavailable = False
    if not files:
        errors.append(_("Choose at least one photo."))
    for upload in files:
        try:
            failure = _add_photo(product, upload.stream)
        except ImageRejected as exc:
            failure = exc.code
        except ValidationFailed as exc:
            errors.extend(error_text(c) for codes in exc.errors.values() for c in codes)
            break
        except NotFound:
            abort(404)  # the listing was deleted meanwhile
        except StorageUnavailable:
            current_app.logger.warning("media storage unreachable: photo upload refused")
            errors.append(storage_down_text())
            unavailable = True
            break
        if failure:
            errors.append(f"{upload.filename}: {error_text(failure)}")
            continue
        added += 1
    if added:
        flash(_("%(n)s photo(s) added.", n=format_number(added, _locale())), "success")
        if not jobs.queue.immediate:
            flash(_("New photos are being prepared and appear in the shop in a moment."), "info")
    for message in errors:
        flash(message, "error")
    target = url_for("sellers.edit_listing", product_id=product_id, _anchor="photos")
    if _wants_json():
        status = 200 if added else (503 if unavailable else 400)
        return jsonify(added=added, errors=errors, redirect=target), status
    return redirect(target)


def _add_photo(product: Product, stream: photos.Upload) -> str | None:
    """Accept one upload and hand its variants to the job worker. When the queue ran the task in
    place, a photo it could not make ready is removed again and its reason returned."""
    image_id = photos.accept_photo(product, stream)
    jobs.submit(jobs_tasks.make_photo_variants, image_id)
    if jobs.queue.immediate:
        return photos.settle_in_place(image_id)
    return None


def owned_photo(product_id: int, image_id: int) -> Product:
    """The seller's product if ``image_id`` is one of its photos, else 404.

    Another seller's photo, even named through one's own product, looks like a missing one.
    """
    product = owned_product(product_id)
    if not any(image.id == image_id for image in product.images):
        abort(404)
    return product


def _photo_action(product: Product, action: Callable[[Product], object]) -> ResponseReturnValue:
    product_id = product.id
    try:
        keys = action(product)
    except NotFound:
        abort(404)  # the listing was deleted meanwhile
    except ValidationFailed as exc:
        for codes in exc.errors.values():
            for code in codes:
                flash(error_text(code), "error")
    else:
        if isinstance(keys, list):
            photos.delete_files(keys)
        flash(_("Photos updated."), "success")
    return redirect(url_for("sellers.edit_listing", product_id=product_id, _anchor="photos"))


@bp.post("/listings/<int:product_id>/photos/<int:image_id>/move")
def move_photo(product_id: int, image_id: int):
    product = owned_photo(product_id, image_id)
    offset = -1 if request.form.get("direction") == "earlier" else 1
    return _photo_action(product, lambda p: photos.move_image(p, image_id, offset))


@bp.post("/listings/<int:product_id>/photos/<int:image_id>/cover")
def cover_photo(product_id: int, image_id: int):
    product = owned_photo(product_id, image_id)
    return _photo_action(product, lambda p: photos.make_cover(p, image_id))


@bp.post("/listings/<int:product_id>/photos/<int:image_id>/alt")
def photo_alt(product_id: int, image_id: int):
    product = owned_photo(product_id, image_id)
    form = AltTextForm()
    if not form.validate_on_submit():
        flash(_("The description can be at most 200 characters."), "error")
        return redirect(url_for("sellers.edit_listing", product_id=product_id, _anchor="photos"))
    return _photo_action(
        product, lambda p: photos.set_alt_text(p, image_id, form.alt_text.data or "")
    )


@bp.post("/listings/<int:product_id>/photos/<int:image_id>/delete")
def delete_photo(product_id: int, image_id: int):
    product = owned_photo(product_id, image_id)
    return _photo_action(product, lambda p: photos.delete_image(p, image_id))
