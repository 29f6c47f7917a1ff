"""Staff pages for the market's money: commission rates per category, sellers' balances and
statements, settlement batches."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.catalog import commission
from app.catalog.models import Category
from app.core.errors import NotFound, ValidationFailed
from app.core.formatting import persian_digits
from app.web.http import page_arg
from app.web.messages import error_text

CATEGORIES_PER_PAGE = 50


def _locale() -> str:
    return str(get_locale() or "fa")


def percent_text(bp: int | None) -> str:
    """Basis points as the percentage people type ("7.5"), in the page's digits."""
    if bp is None:
        return ""
    text = f"{bp // 100}" + (f".{bp % 100:02d}".rstrip("0") if bp % 100 else "")
    if _locale() == "fa":
        return persian_digits(text).replace(".", "\u066b")
    return text


bp.add_app_template_global(percent_text, "percent_text")


def _render_commission(errors: dict[int, str] | None = None, typed: dict[int, str] | None = None,
                       status: int = 200) -> ResponseReturnValue:  # fmt: skip
    page = commission.categories_page(page_arg(), CATEGORIES_PER_PAGE)
    return (
        render_template(
            "admin/commission.html",
            page=page,
            default_bp=int(current_app.config["COMMISSION_RATE_BP"]),
            errors=errors or {},
            typed=typed or {},
        ),
        status,
    )


@bp.get("/commission")
def commission_rates() -> ResponseReturnValue:
    return _render_commission()


@bp.post("/commission/<int:category_id>")
def set_commission_rate(category_id: int) -> ResponseReturnValue:
    text = (request.form.get("rate") or "")[:20]
    try:
        category: Category = commission.set_rate(category_id, text, current_user.id)
    except NotFound:
        abort(404)
    except ValidationFailed as exc:
        code = exc.errors.get("rate", ["invalid"])[0]
        return _render_commission({category_id: error_text(code)}, {category_id: text}, 400)
    flash(_("Commission of %(category)s saved.", category=category.name(_locale())), "success")
    return redirect(url_for("admin.commission_rates", page=page_arg()))
