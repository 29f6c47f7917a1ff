"""The seller's shipping methods (list, add, change, delete after a confirmation) and vacation
mode. The rules are the shipping service's; these views read the forms and show its errors."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.core.errors import NotFound, ValidationFailed
from app.sellers import bp
from app.sellers.forms import ShippingMethodForm, VacationForm
from app.sellers.routes import current_seller
from app.shipping import services as shipping
from app.shipping.models import CARRIER_DEFAULTS, Carrier, ShippingMethod
from app.shipping.rates import market_today
from app.web.messages import CARRIER_TEXT, apply_errors
from app.web.provinces import PROVINCES


def _form(method: ShippingMethod | None = None) -> ShippingMethodForm:
    form = ShippingMethodForm(obj=method) if request.method == "GET" else ShippingMethodForm()
    form.carrier.choices = [("", _("Choose…"))] + [(c.value, str(CARRIER_TEXT[c])) for c in Carrier]
    if request.method == "GET" and method is not None:
        form.carrier.data = method.carrier.value
        for index, (name, _en) in enumerate(PROVINCES):
            getattr(form, f"province_{index}").data = (method.province_amounts or {}).get(name)
    return form


def province_fields(form: ShippingMethodForm) -> list:
    return [getattr(form, f"province_{i}") for i in range(len(PROVINCES))]


def _data(form: ShippingMethodForm) -> shipping.MethodData:
    return shipping.MethodData(
        carrier=form.carrier.data or None,
        name=form.name.data or "",
        active=bool(form.active.data),
        flat_amount=form.flat_amount.data,
        province_amounts={
            name: getattr(form, f"province_{i}").data for i, (name, _en) in enumerate(PROVINCES)
        },
        free_over_amount=form.free_over_amount.data,
        per_extra_item_amount=form.per_extra_item_amount.data,
        processing_days=form.processing_days.data,
        delivery_min_days=form.delivery_min_days.data,
        delivery_max_days=form.delivery_max_days.data,
    )


def _show_errors(
    form: ShippingMethodForm, exc: ValidationFailed, *, skip_fields_with_errors: bool = False
) -> None:
    """The service's errors beside their fields (a province's price beside that province); with
    ``skip_fields_with_errors``, none on a field the form already found a fault with (a number
    it could not read is not also "required")."""
    index = {name: i for i, (name, _en) in enumerate(PROVINCES)}
    errors = {
        (
            f"province_{index[key[9:]]}"
            if key.startswith("province:") and key[9:] in index
            else key
        ): v
        for key, v in exc.errors.items()
    }
    if skip_fields_with_errors:
        errors = {
            k: v for k, v in errors.items() if not getattr(getattr(form, k, None), "errors", None)
        }
    apply_errors(form, ValidationFailed(errors))


@bp.get("/shipping")
def shipping_methods() -> ResponseReturnValue:
    seller = current_seller()
    return render_template(
        "sellers/shipping.html",
        seller=seller,
        methods=shipping.methods_of(seller.id),
        away=shipping.is_away(seller),
        vacation=VacationForm(),
        defaults=CARRIER_DEFAULTS,
    )


def _render_method(form: ShippingMethodForm, method: ShippingMethod | None, status: int = 200):
    return (
        render_template(
            "sellers/shipping_form.html",
            seller=current_seller(),
            form=form,
            method=method,
            provinces=province_fields(form),
            defaults=CARRIER_DEFAULTS,
        ),
        status,
    )


@bp.route("/shipping/new", methods=["GET", "POST"])
def new_shipping_method() -> ResponseReturnValue:
    form = _form()
    if request.method == "GET":
        return _render_method(form, None)
    return _save(form, None)


@bp.route("/shipping/<int:method_id>", methods=["GET", "POST"])
def edit_shipping_method(method_id: int) -> ResponseReturnValue:
    method = shipping.method_of(current_seller().id, method_id)
    if method is None:
        abort(404)
    form = _form(method)
    if request.method == "GET":
        return _render_method(form, method)
    return _save(form, method)


def _save(form: ShippingMethodForm, method: ShippingMethod | None) -> ResponseReturnValue:
    """Save the posted method; the form again (400) with every mistake beside its field."""
    if not form.validate_on_submit():
        try:  # the service's rules too, so every mistake shows at once
            shipping.validate(_data(form))
        except ValidationFailed as exc:
            _show_errors(form, exc, skip_fields_with_errors=True)
        return _render_method(form, method, 400)
    try:
        shipping.save_method(current_seller(), _data(form), method.id if method else None)
    except ValidationFailed as exc:
        _show_errors(form, exc)
        return _render_method(form, method, 400)
    except NotFound:
        abort(404)
    flash(_("The shipping method is saved."), "success")
    return redirect(url_for("sellers.shipping_methods"))


@bp.route("/shipping/<int:method_id>/delete", methods=["GET", "POST"])
def delete_shipping_method(method_id: int) -> ResponseReturnValue:
    """GET asks for a confirmation; POST deletes."""
    seller = current_seller()
    method = shipping.method_of(seller.id, method_id)
    if method is None:
        abort(404)
    if request.method == "GET":
        return render_template("sellers/shipping_delete.html", seller=seller, method=method)
    try:
        shipping.delete_method(seller, method_id)
    except NotFound:
        abort(404)
    flash(_("The shipping method is deleted."), "success")
    return redirect(url_for("sellers.shipping_methods"))


@bp.post("/vacation")
def vacation() -> ResponseReturnValue:
    """Start vacation mode (a return date, an optional note) or end it (``end``)."""
    seller = current_seller()
    if request.form.get("end"):
        shipping.end_away(seller)
        flash(_("Welcome back: customers can order from you again."), "success")
        return redirect(url_for("sellers.shipping_methods"))
    form = VacationForm()
    if form.validate_on_submit():
        try:
            shipping.set_away(seller, form.away_until.data, form.away_note.data or "")
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash(
                _("Vacation mode is on. Customers cannot order from you until you are back."),
                "success",
            )
            return redirect(url_for("sellers.shipping_methods"))
    return (
        render_template(
            "sellers/shipping.html",
            seller=seller,
            methods=shipping.methods_of(seller.id),
            away=shipping.is_away(seller, market_today()),
            vacation=form,
            defaults=CARRIER_DEFAULTS,
        ),
        400,
    )
