"""The product cards of a grid, written here rather than by a template loop.

Every listing page (home, category, county, seller) shows up to 24 cards; written by Jinja, each
card's dozen expressions, filters and attribute lookups cost more than the rest of the page's
body. This writes the same HTML (``templates/_macros.html`` ``product_grid`` calls it): values
escaped as the template escaped them, the price through the ``money`` filter's formatting, the
county's name in the reader's language, the picture exactly as the ``picture`` macro draws it
with its defaults, and each card's heart as ``favourite_heart`` in ``templates/shop/_favourite.html``
draws it (tests compare the two).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import current_app, request, url_for
from markupsafe import Markup, escape

from app.core.formatting import format_money, format_number, format_rating
from app.media.store import media_url, srcset
from app.web.i18n import gettext as _
from app.web.i18n import locale_code

_SPECIAL = re.compile("[&<>\"']")


def _text(value: object) -> str:
    """``value`` written into HTML as ``markupsafe.escape`` writes it (most need no change)."""
    if type(value) is int:
        return str(value)
    text = str(value)
    return str(escape(text)) if _SPECIAL.search(text) else text


_PICTURE = (
    '<img class="" src="{media}{src}"\n'
    '         srcset="{srcset}"\n'
    '         sizes="(max-width: 600px) 50vw, 240px" width="{width}" height="{height}"\n'
    '         alt="{alt}" loading="lazy" decoding="async">'
)
# As templates/shop/_favourite.html's ``favourite_heart`` draws it (unpressed for everyone).
_HEART = (
    '<a class="heart" href="{href}" data-favourite="{id}" role="button" aria-pressed="false"'
    ' title="{label}"><span aria-hidden="true">\u2665</span>'
    '<span class="visually-hidden">{label}</span></a>'
)
_RATING = (
    '    <span class="card-rating" role="img" aria-label="{label}">'
    '<span aria-hidden="true">\u2605 {average} ({count})</span></span>\n'
)
_NO_PICTURE = '<span class="no-image " role="img" aria-label="{label}"></span>'
_CARD = (
    '<li class="card">\n'
    '    <a href="{href}">\n'
    "      {picture}\n"
    '      <span class="card-title">{title}</span>\n'
    "    </a>\n"
    '    <span class="price">{price}</span>\n'
    "{rating}"
    '    <span class="card-meta">{seller} <span class="sep" aria-hidden="true">|</span> {county}</span>\n'
    "    {heart}\n"
    "    {badge}\n"
    "  </li>"
)


_SALE = (
    '<del><span class="visually-hidden">{before} </span>{price}</del>'
    ' <ins><span class="visually-hidden">{sale} </span>{effective}</ins>'
)


_CAMPAIGN = ' <span class="badge badge-campaign">{name}</span>'


def _price(product: Any, currency: str, locale: str, before: str, sale: str) -> str:
    """The card's price as the ``price_tag`` macro writes it (struck through during a sale or
    a campaign, the campaign's name as a badge)."""
    price = _text(format_money(product.price_amount, currency, locale))
    quote = product.price_quote
    if quote.amount >= product.price_amount:
        return price
    effective = _text(format_money(quote.amount, currency, locale))
    out = _SALE.format(before=before, price=price, sale=sale, effective=effective)
    if quote.campaign is not None:
        out += _CAMPAIGN.format(name=_text(quote.campaign.name(locale)))
    return out


def product_cards(products: Iterable[Any]) -> Markup:
    """The ``<li class="card">`` items of ``products`` (``Product`` objects or
    ``queries.ProductCard`` rows), each product's page and photos linked."""
    locale = locale_code()
    currency = current_app.config["MARKET_CURRENCY"]
    # Escaped once here: every card's address is one of these, the product's id (a whole
    # number, nothing to escape) in the middle.
    product_prefix = _text(url_for("shop.product", product_id=0)[:-1])
    media_prefix = media_url("k")[:-1]
    media = _text(media_prefix)
    # As the templates' gettext gives a message: trusted markup.
    sold_out = Markup('<span class="badge badge-muted">{}</span>').format(
        Markup(_("Sold out"))  # noqa: S704
    )
    # The heart's address, its id in the middle: /favourites/<id>?next=<this page>.
    heart_head, heart_tail = url_for("shop.favourite", product_id=0, next=request.path).split(
        "/0?", 1
    )
    heart_head, heart_tail = _text(heart_head), _text(heart_tail)
    heart_label = _text(_("Favourite"))
    # As the templates' gettext gives them: trusted markup, not escaped again.
    before_label = str(_("Price before the sale:"))
    sale_label = str(_("Sale price:"))
    no_picture = Markup(_NO_PICTURE.format(label=_("No photo yet")))  # noqa: S704
    items = []
    for product in products:
        count = getattr(product, "review_count", 0)
        if count:
            average = format_rating(product.stars_sum / count, locale)
            rating = _RATING.format(
                label=_text(
                    _(
                        "Rated %(average)s out of 5 by %(count)s reviews",
                        average=format_rating(product.stars_sum / count, locale),
                        count=format_number(count, locale),
                    )
                ),
                average=_text(average),
                count=_text(format_number(count, locale)),
            )
        else:
            rating = ""
        image = product.cover
        variants = image.variants if image else None
        if variants:
            picture = _PICTURE.format(
                media=media,
                src=_text((variants[1] if len(variants) > 1 else variants[0])[2]),
                srcset=_text(srcset(variants, media_prefix)),
                width=_text(variants[0][0]),
                height=_text(variants[0][1]),
                alt=_text(image.alt_text),
            )
        else:
            picture = no_picture
        seller = product.seller
        county = seller.county
        product_id = int(product.id)
        items.append(
            _CARD.format(
                href=f"{product_prefix}{product_id}",
                picture=picture,
                title=_text(product.title),
                price=_price(product, currency, locale, before_label, sale_label),
                rating=rating,
                seller=_text(seller.display_name),
                county=_text(county.name(locale) if county is not None else ""),
                heart=_HEART.format(
                    href=f"{heart_head}/{product_id}?{heart_tail}",
                    id=product_id,
                    label=heart_label,
                ),
                badge="" if product.in_stock else sold_out,
            )
        )
    return Markup("".join(items))  # noqa: S704  (every value above is escaped)
