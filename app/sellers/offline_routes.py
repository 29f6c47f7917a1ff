"""The seller's own offline sales (fairs, exhibitions): list, record, delete."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.program import offline
from app.program.sales_models import OfflineSale
from app.sellers import bp
from app.sellers.routes import current_seller
from app.web import offline_form
from app.web.access import owned_or_404
from app.web.http import page_arg

PER_PAGE = 25


@bp.route("/offline-sales", methods=["GET", "POST"])
def offline_sales() -> ResponseReturnValue:
    seller = current_seller()
    form = offline_form.OfflineForm()
    messages: list[str] = []
    if request.method == "POST":
        form = offline_form.parse(request.form)
        sale, messages = offline_form.submit(
            form,
            seller,
            current_user.id,
            foreign_product=_("A product on the list is not one of yours."),
        )
        if sale is not None:
            flash(_("Offline sale recorded."), "success")
            return redirect(url_for("sellers.offline_sales"))
    return (
        render_template(
            "sellers/offline_sales.html",
            form=form,
            messages=messages,
            products=offline.seller_products(seller.id),
            page=offline.offline_sales_page(seller.id, page_arg(), PER_PAGE),
            line_rows=range(offline_form.LINE_ROWS),
        ),
        400 if messages else 200,
    )


@bp.post("/offline-sales/<int:sale_id>/delete")
def delete_offline_sale(sale_id: int) -> ResponseReturnValue:
    sale = owned_or_404(OfflineSale, sale_id, seller_id=current_seller().id)
    offline.delete_offline_sale(sale, current_user.id)
    flash(_("The offline sale was deleted."), "success")
    return redirect(url_for("sellers.offline_sales"))
