"""Photo uploads at the same moment, through the real gunicorn (4 workers) on the test database.

Twenty uploads to one listing at once: the listing keeps at most 8 photos at positions 0..n-1
(one cover), every other upload is refused with the "at most 8 photos" message (no 5xx), and no
file is left in the media directory that no photo row refers to.
"""

from __future__ import annotations

import io
import json
import random
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from app.accounts.models import Role
from app.catalog.models import Product, ProductImage, ProductStatus, Seller, SellerStatus
from app.core.extensions import db
from tests import factories
from tests.live_server import Browser, Reply, Server, burst, fresh, log_in

pytestmark = pytest.mark.slow

UPLOADS = 20
MAX_PHOTOS = 8
TOO_MANY = "A listing can have at most 8 photos."


def picture(seed: int) -> bytes:
    """A noisy JPEG (slow enough to encode that uploads overlap), different for each seed."""
    rng = random.Random(seed)
    img = Image.frombytes("RGB", (480, 360), rng.randbytes(480 * 360 * 3))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def upload(browser: Browser, product_id: int, body: bytes, name: str) -> Reply:
    """POST one photo as the page's script does (multipart, JSON answer)."""
    return browser.upload(
        f"/seller/listings/{product_id}/photos", "photos", [(name, body, "image/jpeg")]
    )


def media_files(live: Server) -> set[str]:
    root = live.mail_dir.parent / "media"
    if not root.exists():
        return set()
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def referenced_keys() -> set[str]:
    keys: set[str] = set()
    for variants, storage_key in db.session.execute(
        sa.select(ProductImage.variants, ProductImage.storage_key)
    ):
        keys.add(storage_key)
        keys.update(v[2] for v in variants)
    return keys


@pytest.fixture
def listing(live: Server):  # type: ignore[no-untyped-def]
    """An approved seller logged in over HTTP, and a draft listing without photos."""
    media = Path(live.mail_dir.parent / "media")
    if media.exists():
        shutil.rmtree(media)  # files of an earlier test of this module (its rows are gone)
    owner = factories.user(Role.SELLER, name="Golbibi")
    owner.locale = "en"
    seller = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    product = factories.product(seller, status=ProductStatus.DRAFT, with_image=False)
    product_id = product.id
    [browser] = log_in(live, [owner])
    fresh()
    return browser, product_id


@pytest.mark.parametrize("same_picture", [False, True], ids=["distinct", "same-picture"])
def test_twenty_simultaneous_uploads_keep_eight_photos_in_distinct_positions(
    live: Server, listing, same_picture: bool
) -> None:
    browser, product_id = listing
    bodies = [picture(0 if same_picture else i) for i in range(UPLOADS)]

    replies = burst(
        [
            lambda i=i: upload(browser.clone(), product_id, bodies[i], f"photo-{i}.jpg")
            for i in range(UPLOADS)
        ]
    )

    fresh()
    rows = list(
        db.session.scalars(
            sa.select(ProductImage)
            .where(ProductImage.product_id == product_id)
            .order_by(ProductImage.position, ProductImage.id)
        )
    )
    answers = [
        (r.status, json.loads(r.text) if r.text.startswith("{") else r.text[:300]) for r in replies
    ]
    added = [a for status, a in answers if status == 200]
    refused = [a for status, a in answers if status == 400]
    server_errors = [(status, a) for status, a in answers if status >= 500]

    # The limit and the order hold whatever else happened.
    assert len(rows) <= MAX_PHOTOS, [r.position for r in rows]
    assert [r.position for r in rows] == list(range(len(rows)))
    # No file without a photo row: refused or failed uploads removed what they wrote.
    assert media_files(live) == referenced_keys()
    # Every answer is a clear one: added, or refused because the listing is full.
    assert not server_errors, server_errors[:3]
    assert len(added) == len(rows) == MAX_PHOTOS
    assert all(a["added"] == 1 for a in added)
    assert len(refused) == UPLOADS - MAX_PHOTOS
    assert all(a["errors"] == [TOO_MANY] for a in refused), refused[:3]


def test_publishing_and_deleting_the_last_photo_at_once_never_publish_a_listing_without_photos(
    live: Server, listing
) -> None:
    browser, first_id = listing
    seller_id = db.session.scalar(sa.select(Product.seller_id).where(Product.id == first_id))
    seller = db.session.get(Seller, seller_id)
    ids = [first_id] + [
        factories.product(seller, status=ProductStatus.DRAFT, with_image=False).id for _ in range(9)
    ]
    for n, product_id in enumerate(ids):
        assert upload(browser, product_id, picture(100 + n), "only.jpg").status == 200
    fresh()
    photos = dict(
        db.session.execute(sa.select(ProductImage.product_id, ProductImage.id)).tuples().all()
    )

    def publish(product_id: int) -> Reply:
        return browser.clone().post(
            f"/seller/listings/{product_id}/status", {"status": "published"}
        )

    def delete(product_id: int) -> Reply:
        return browser.clone().post(
            f"/seller/listings/{product_id}/photos/{photos[product_id]}/delete", {}
        )

    replies = burst([lambda p=p: publish(p) for p in ids] + [lambda p=p: delete(p) for p in ids])

    fresh()
    assert not [r.status for r in replies if r.status >= 500]
    bare = db.session.scalars(
        sa.select(Product.id).where(
            Product.id.in_(ids),
            Product.status == ProductStatus.PUBLISHED,
            ~sa.exists().where(ProductImage.product_id == Product.id),
        )
    ).all()
    assert bare == []
    assert media_files(live) == referenced_keys()
