"""One seller can never see or change another seller's listings or photos through the seller area.

The URLs are taken from the app's URL map, so a route added later is covered without editing
this file: every seller-area route that names a product must answer 404 for someone else's.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog.models import Product, ProductImage, ProductStatus, SellerStatus
from app.core.extensions import db
from tests import factories
from tests.helpers import jpeg

# Routes that must be in the list below; a missing one means the URL map was read wrongly.
EXPECTED_ENDPOINTS = {
    "sellers.edit_listing",
    "sellers.duplicate_listing",
    "sellers.delete_listing",
    "sellers.quick_edit",
    "sellers.set_status",
    "sellers.upload_photos",
    "sellers.move_photo",
    "sellers.cover_photo",
    "sellers.photo_alt",
    "sellers.delete_photo",
}
METHODS_NOT_TESTED = {"HEAD", "OPTIONS"}


def every_field(category_id: int) -> dict[str, object]:
    """A body that would be a valid submission for any of the seller-area forms."""
    return {
        "title": "Taken over",
        "description": "changed by someone else",
        "category_id": str(category_id),
        "price_toman": "1",
        "stock": "999",
        "status": "draft",
        "direction": "earlier",
        "alt_text": "changed by someone else",
        "photos": (io.BytesIO(jpeg((360, 240), (0, 0, 0))), "intruder.jpg"),
    }


def product_rules(app, argument: str = "product_id") -> list:  # type: ignore[no-untyped-def]
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("sellers.") and argument in rule.arguments
        ),
        key=lambda rule: rule.rule,
    )


def build(app, rule, **values: int) -> str:  # type: ignore[no-untyped-def]
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, {k: v for k, v in values.items() if k in rule.arguments})


# Bookkeeping of the search index, cleared by whichever request indexes after its commit.
NOT_COMPARED = {"search_dirty"}


def snapshot(*product_ids: int) -> dict:
    """Every column of the products and their images, as stored (bar index bookkeeping)."""
    db.session.expire_all()
    products = db.session.scalars(
        sa.select(Product).where(Product.id.in_(product_ids)).order_by(Product.id)
    ).all()
    images = db.session.scalars(
        sa.select(ProductImage)
        .where(ProductImage.product_id.in_(product_ids))
        .order_by(ProductImage.id)
    ).all()
    return {
        "products": [
            {
                c.key: getattr(p, c.key)
                for c in Product.__table__.columns
                if c.key not in NOT_COMPARED
            }
            for p in products
        ],
        "images": [
            {c.key: getattr(i, c.key) for c in ProductImage.__table__.columns} for i in images
        ],
        "counts": (
            db.session.scalar(sa.select(sa.func.count(Product.id))),
            db.session.scalar(sa.select(sa.func.count(ProductImage.id))),
        ),
    }


def media_files(app) -> set[str]:  # type: ignore[no-untyped-def]
    root = Path(app.config["MEDIA_DIR"])
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def seller_client(app, name: str):  # type: ignore[no-untyped-def]
    owner = factories.user(Role.SELLER, name=name)
    seller = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, owner.email)
    return seller, client


@pytest.fixture
def two_shops(app):  # type: ignore[no-untyped-def]
    """Seller A with a published listing with two real photos; seller B with a draft of its own."""
    category = factories.category()
    seller_a, client_a = seller_client(app, "Seller A")
    seller_b, client_b = seller_client(app, "Seller B")
    product_a = factories.product(seller_a, category_row=category, with_image=False)
    for colour in ((200, 30, 30), (30, 30, 200)):
        response = client_a.post(
            f"/seller/listings/{product_a.id}/photos",
            data={"photos": (io.BytesIO(jpeg((360, 240), colour)), "mine.jpg")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302
    product_b = factories.product(
        seller_b, category_row=category, status=ProductStatus.DRAFT, with_image=False
    )
    db.session.expire_all()
    images_a = db.session.get(Product, product_a.id).images
    assert len(images_a) == 2
    return {
        "category": category,
        "a": (seller_a, client_a, product_a.id, [img.id for img in images_a]),
        "b": (seller_b, client_b, product_b.id),
    }


def test_the_url_map_gives_every_route_that_names_a_product(app):
    endpoints = {rule.endpoint for rule in product_rules(app)}

    assert endpoints
    assert endpoints >= EXPECTED_ENDPOINTS
    assert {rule.endpoint for rule in product_rules(app, "image_id")} >= {
        "sellers.move_photo",
        "sellers.cover_photo",
        "sellers.photo_alt",
        "sellers.delete_photo",
    }


def test_another_sellers_product_and_photos_are_not_found_anywhere(app, two_shops):
    _, _, product_a, images_a = two_shops["a"]
    _, client_b, product_b = two_shops["b"]
    category_id = two_shops["category"].id
    before = snapshot(product_a, product_b)
    files_before = media_files(app)

    tried: set[str] = set()
    for rule in product_rules(app):
        url = build(app, rule, product_id=product_a, image_id=images_a[-1])
        for method in sorted(rule.methods - METHODS_NOT_TESTED):
            if method == "GET":
                response = client_b.get(url)
            else:
                response = client_b.open(
                    url,
                    method=method,
                    data=every_field(category_id),
                    content_type="multipart/form-data",
                )
            assert response.status_code == 404, f"{method} {url}"
            tried.add(rule.endpoint)

    assert tried >= EXPECTED_ENDPOINTS
    assert snapshot(product_a, product_b) == before
    assert media_files(app) == files_before  # not even the intruder's upload was stored


def test_another_sellers_photo_through_ones_own_product_is_not_found(app, two_shops):
    _, _, product_a, images_a = two_shops["a"]
    _, client_b, product_b = two_shops["b"]
    category_id = two_shops["category"].id
    before = snapshot(product_a, product_b)

    rules = product_rules(app, "image_id")
    assert rules
    for rule in rules:
        for image_id in images_a:
            url = build(app, rule, product_id=product_b, image_id=image_id)
            response = client_b.post(
                url, data=every_field(category_id), content_type="multipart/form-data"
            )
            assert response.status_code == 404, url

    assert snapshot(product_a, product_b) == before


def test_a_missing_product_looks_the_same_as_another_sellers(app, two_shops):
    _, _, product_a, _ = two_shops["a"]
    _, client_b, _ = two_shops["b"]
    missing = db.session.scalar(sa.select(sa.func.max(Product.id))) + 100

    theirs = client_b.get(f"/seller/listings/{product_a}/edit")
    nothing = client_b.get(f"/seller/listings/{missing}/edit")

    assert theirs.status_code == nothing.status_code == 404
    # the same page, apart from the address itself (in the language switch link)
    assert theirs.get_data(as_text=True).replace(f"/{product_a}/", "/N/") == nothing.get_data(
        as_text=True
    ).replace(f"/{missing}/", "/N/")


def test_the_owner_can_use_the_same_urls(app, two_shops):
    """The 404s above come from ownership, not from broken URLs: A's own requests work."""
    _, client_a, product_a, images_a = two_shops["a"]
    category_id = two_shops["category"].id

    assert client_a.get(f"/seller/listings/{product_a}/edit").status_code == 200
    for rule in product_rules(app, "image_id"):
        if rule.endpoint == "sellers.delete_photo":
            continue
        url = build(app, rule, product_id=product_a, image_id=images_a[-1])
        response = client_a.post(
            url, data=every_field(category_id), content_type="multipart/form-data"
        )
        assert response.status_code == 302, url

    db.session.expire_all()
    images = db.session.get(Product, product_a).images
    assert images[0].id == images_a[-1]  # moved earlier / made the cover
    assert images[0].alt_text == "changed by someone else"


def test_the_listings_table_shows_only_ones_own_listings(app, two_shops):
    _, _, product_a, _ = two_shops["a"]
    _, client_b, product_b = two_shops["b"]

    page = client_b.get("/seller/listings").get_data(as_text=True)

    assert f"/seller/listings/{product_b}/edit" in page
    assert f"/seller/listings/{product_a}/" not in page
