"""The seller's own offline sales (fairs, exhibitions): list, record, delete."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.catalog.models import Product
from app.core.extensions import db
from app.core.pagination import count_rows, page_of
from app.program import sales
from app.program.sales_models import OfflineSale
from app.sellers import bp
from app.sellers.routes import current_seller
from app.web import offline_form
from app.web.access import owned_or_404
from app.web.http import page_arg

PER_PAGE = 25


@bp.route("/offline-sales", methods=["GET", "POST"])
def offline_sales():
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
    stmt = sa.select(OfflineSale).where(OfflineSale.seller_id == seller.id)
    page = page_of(
        stmt.options(selectinload(OfflineSale.lines)).order_by(
            OfflineSale.sold_on.desc(), OfflineSale.id.desc()
        ),
        count_rows(stmt, OfflineSale.id),
        page_arg(),
        PER_PAGE,
    )
    products = db.session.execute(
        sa.select(Product.id, Product.title, Product.stock)
        .where(Product.seller_id == seller.id)
        .order_by(Product.title)
    ).all()
    return (
        render_template(
            "sellers/offline_sales.html",
            form=form,
            messages=messages,
            products=products,
            page=page,
            line_rows=range(offline_form.LINE_ROWS),
        ),
        400 if messages else 200,
    )


@bp.post("/offline-sales/<int:sale_id>/delete")
def delete_offline_sale(sale_id: int):
    sale = owned_or_404(OfflineSale, sale_id, seller_id=current_seller().id)
    sales.delete_offline_sale(sale, current_user.id)
    flash(_("The offline sale was deleted."), "success")
    return redirect(url_for("sellers.offline_sales"))
