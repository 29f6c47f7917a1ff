from __future__ import annotations

import sqlalchemy as sa
from flask import render_template

from app.admin import bp
from app.extensions import db
from app.models import Order, Product, ProductStatus, Seller, SellerStatus


@bp.get("/")
def dashboard():
    counts = {
        "applied": db.session.scalar(
            sa.select(sa.func.count(Seller.id)).where(Seller.status == SellerStatus.APPLIED)
        ),
        "approved": db.session.scalar(
            sa.select(sa.func.count(Seller.id)).where(Seller.status == SellerStatus.APPROVED)
        ),
        "published": db.session.scalar(
            sa.select(sa.func.count(Product.id)).where(Product.status == ProductStatus.PUBLISHED)
        ),
        "orders": db.session.scalar(sa.select(sa.func.count(Order.id))),
    }
    return render_template("admin/dashboard.html", counts=counts)
