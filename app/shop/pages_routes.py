"""The market's own pages at short addresses: /about, /contact, /terms, /returns, /privacy and
/programme (what the "trained by the programme" badge means). Cached like the storefront's
other pages; a staff edit bumps the page's scope."""

from __future__ import annotations

from flask import abort, current_app, render_template
from flask.typing import ResponseReturnValue

from app.core.formatting import format_number
from app.pages import services as pages
from app.shop import bp
from app.shop.cache import cached_page
from app.web.i18n import locale_code

_KEYS = ",".join(pages.KEYS)


def _values() -> dict[str, str]:
    """The settings a page's text may name (``{receipt_days}``), in the reader's digits."""
    config = current_app.config
    locale = locale_code()
    return {
        "receipt_days": format_number(config["RECEIPT_WINDOW_DAYS"], locale),
        "answer_days": format_number(config["PROBLEM_ANSWER_DAYS"], locale),
    }


@bp.get(f"/<any({_KEYS}):key>")
@cached_page(scope=pages.scope_of)
def site_page(key: str) -> ResponseReturnValue:
    page = pages.get_page(key)
    if page is None:
        abort(404)
    locale = locale_code()
    return render_template(
        "shop/site_page.html",
        page=page,
        title=page.title(locale),
        body=page.html(locale, _values()),
    )
