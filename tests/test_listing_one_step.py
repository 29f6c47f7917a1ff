"""A listing with its photos in one save: photos uploaded on the form (one by one with script, or
with the form's post), kept across a form sent back with an error, ordered, a cover chosen, and
published by the same submit; what was never saved is swept with its files."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from PIL import Image

from app import jobs
from app.accounts.models import Role
from app.catalog import photos
from app.catalog.models import (
    PhotoStatus,
    Product,
    ProductImage,
    ProductStatus,
    SellerStatus,
    StagedPhoto,
)
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.web.messages import ERROR_TEXT
from tests import factories
from tests.conftest import running_app
from tests.helpers import jpeg, png
from tests.test_jobs import queued, run_waiting_tasks  # noqa: F401 (fixture)

RED, BLUE = (220, 30, 30), (30, 60, 220)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def message(code: str) -> str:
    with force_locale("en"):
        return str(ERROR_TEXT[code])


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def media_files(app) -> set[str]:  # type: ignore[no-untyped-def]
    root = Path(app.config["MEDIA_DIR"])
    if not root.exists():
        return set()
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def originals(app) -> set[str]:  # type: ignore[no-untyped-def]
    return {key for key in media_files(app) if key.startswith("originals/")}


def products() -> list[Product]:
    db.session.rollback()  # a new snapshot: a task or the app committed in sessions of their own
    return list(db.session.scalars(sa.select(Product).order_by(Product.id)))


def images(product_id: int) -> list[ProductImage]:
    db.session.rollback()  # a new snapshot: a task or the app committed in sessions of their own
    return list(
        db.session.scalars(
            sa.select(ProductImage)
            .where(ProductImage.product_id == product_id)
            .order_by(ProductImage.position)
        )
    )


def staged_rows() -> list[StagedPhoto]:
    db.session.rollback()  # a new snapshot: a task or the app committed in sessions of their own
    return list(db.session.scalars(sa.select(StagedPhoto).order_by(StagedPhoto.id)))


def carried_tokens(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The tokens a form sent back carries, in order (not those of the script's template)."""
    page = response.get_data(as_text=True).split("<template", 1)[0]
    return re.findall(r'name="staged" value="([^"]+)"', page)


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    owner = factories.user(Role.SELLER, name="Golbibi")
    seller = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, owner.email)
    return seller, client


@pytest.fixture
def category():  # type: ignore[no-untyped-def]
    return factories.category()


def listing(category, **fields: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    data: dict[str, object] = {
        "title": "رومیزی سوزن‌دوزی بلوچ",
        "description": "دوخت دست",
        "category_id": str(category.id),
        "price_toman": "۱۲۵٬۰۰۰",
        "stock": "۳",
        "status": "published",
    }
    data.update(fields)
    return data


def post_new(client, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post("/seller/listings/new", data=data, content_type="multipart/form-data")


def stage(client, body: bytes, name: str = "photo.jpg"):  # type: ignore[no-untyped-def]
    """What the form's script does as a photo is chosen."""
    return client.post(
        "/seller/photos/staged",
        data={"photo": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
        headers={"X-Requested-With": "fetch", "Accept": "application/json"},
    )


# --- one save --------------------------------------------------------------------------------


def test_a_new_listing_with_two_photos_is_created_and_published_by_one_submit(app, shop, category):
    _, client = shop
    response = post_new(
        client,
        listing(category, photos=[(io.BytesIO(jpeg(colour=RED)), "a.jpg"),
                                  (io.BytesIO(jpeg(colour=BLUE)), "b.jpg")]),
    )  # fmt: skip

    assert response.status_code == 302, html_of(response)
    [product] = products()
    assert product.status == ProductStatus.PUBLISHED
    assert product.published_at is not None
    rows = images(product.id)
    assert [row.status for row in rows] == [PhotoStatus.READY, PhotoStatus.READY]
    assert [row.position for row in rows] == [0, 1]
    assert staged_rows() == []
    assert originals(app) == set()  # the worker (in place here) made variants, removed originals
    page = client.get(f"/p/{product.id}", follow_redirects=True)
    assert page.status_code == 200
    # The gallery: each photo a thumbnail linking to its large variant (the link without script).
    html = page.get_data(as_text=True)
    assert "data-gallery" in html and "js/gallery.js" in html
    larges = re.findall(r'data-gallery-thumb data-large="([^"]+)"', html)
    assert larges == [f"/media/{row.variants[-1][2]}" for row in rows]


def test_the_script_uploads_each_photo_and_the_form_carries_tokens(app, shop, category):
    _, client = shop
    first = stage(client, jpeg(size=(70, 40), colour=RED), "red.jpg")
    second = stage(client, jpeg(size=(50, 40), colour=BLUE), "blue.jpg")
    assert first.status_code == second.status_code == 201
    assert first.json["filename"] == "red.jpg"
    assert len(staged_rows()) == 2 and len(originals(app)) == 2

    # The seller puts the blue one first and makes the red one the cover: the cover wins.
    response = post_new(
        client,
        listing(
            category,
            staged=[first.json["token"], second.json["token"]],
            staged_order=["2", "1"],
            cover=first.json["token"],
        ),
    )

    assert response.status_code == 302, html_of(response)
    [product] = products()
    assert product.status == ProductStatus.PUBLISHED
    rows = images(product.id)
    assert [row.width for row in rows] == [70, 50]  # the red cover first, the blue one next
    assert staged_rows() == []


def test_the_place_numbers_order_the_photos_without_a_cover_chosen(app, shop, category):
    seller, client = shop
    tokens = [stage(client, jpeg(size=(60 + 4 * n, 40))).json["token"] for n in range(3)]

    response = post_new(
        client, listing(category, staged=tokens, staged_order=["3", "1", "2"], status="draft")
    )

    assert response.status_code == 302
    [product] = products()
    assert product.status == ProductStatus.DRAFT
    assert [row.width for row in images(product.id)] == [64, 68, 60]


def test_publishing_without_photos_says_so_on_a_page_that_takes_them(app, shop, category):
    _, client = shop
    response = post_new(client, listing(category))

    assert response.status_code == 400
    assert message("needs_photo") in html_of(response)
    assert 'type="file" name="photos" accept="image/*" multiple' in html_of(response)
    assert products() == []


# --- errors keep the uploads ------------------------------------------------------------------


def test_a_form_sent_back_with_an_error_keeps_its_photos_and_the_next_try_saves_them(
    app, shop, category
):
    _, client = shop
    response = post_new(
        client,
        listing(category, title="", photos=[(io.BytesIO(jpeg(colour=RED)), "a.jpg"),
                                            (io.BytesIO(png()), "b.png")]),
    )  # fmt: skip

    assert response.status_code == 400
    assert products() == []  # nothing half-saved
    tokens = carried_tokens(response)
    assert len(tokens) == 2
    assert "a.jpg" in html_of(response) and "b.png" in html_of(response)
    stored = originals(app)
    assert len(stored) == 2

    again = post_new(client, listing(category, staged=tokens, staged_order=["1", "2"]))

    assert again.status_code == 302, html_of(again)
    [product] = products()
    assert product.status == ProductStatus.PUBLISHED
    assert len(images(product.id)) == 2
    assert staged_rows() == []


def test_a_refused_publish_keeps_the_photos_and_creates_nothing(app, shop, category):
    _, client = shop
    token = stage(client, jpeg()).json["token"]

    response = post_new(client, listing(category, staged=[token], price_toman=""))

    assert response.status_code == 400
    assert message("needs_price") in html_of(response)
    assert products() == []
    assert carried_tokens(response) == [token]
    assert len(staged_rows()) == 1


def test_a_bad_file_among_good_ones_is_named_and_the_good_one_is_kept(app, shop, category):
    _, client = shop
    response = post_new(
        client,
        listing(category, photos=[(io.BytesIO(jpeg()), "good.jpg"),
                                  (io.BytesIO(HTML), "evil.jpg")]),
    )  # fmt: skip

    assert response.status_code == 400
    assert f"evil.jpg: {message('unsupported_format')}" in html_of(response)
    assert products() == []
    assert len(carried_tokens(response)) == 1
    assert len(originals(app)) == 1  # the refused file was never stored


def test_a_token_that_is_not_the_sellers_is_refused_and_nothing_is_created(app, shop, category):
    _, client = shop
    other_owner = factories.user(Role.SELLER, name="Other")
    other = factories.seller(status=SellerStatus.APPROVED, owner=other_owner, name="دیگری")
    theirs = photos.stage_photo(other, jpeg())

    for tokens in ([theirs.token], ["made-up"], ["x" * 500], ["\u06f1" * 10]):
        response = post_new(client, listing(category, staged=tokens))
        assert response.status_code == 400
        assert message("photo_expired") in html_of(response)
    assert products() == []
    assert len(staged_rows()) == 1  # the other seller's photo is untouched


def test_more_photos_than_a_listing_holds_are_refused_whole(app, shop, category):
    _, client = shop
    tokens = [stage(client, jpeg(size=(40 + n, 40))).json["token"] for n in range(9)]

    response = post_new(client, listing(category, staged=tokens))

    assert response.status_code == 400
    assert message("too_many_photos") in html_of(response)
    assert products() == []
    assert len(staged_rows()) == 9


def test_a_photo_ticked_for_removal_goes_with_its_file(app, shop, category):
    _, client = shop
    keep = stage(client, jpeg(colour=RED)).json["token"]
    drop = stage(client, jpeg(colour=BLUE)).json["token"]

    response = post_new(
        client, listing(category, title="", staged=[keep, drop], staged_remove=[drop])
    )

    assert response.status_code == 400
    assert carried_tokens(response) == [keep]
    assert [row.token for row in staged_rows()] == [keep]
    assert len(originals(app)) == 1


# --- hostile uploads to the script's endpoint -------------------------------------------------


@pytest.mark.parametrize(
    ("body", "name", "code"),
    [
        (HTML, "page.jpg", "unsupported_format"),
        (b"", "empty.jpg", "empty"),
        (b"GIF89a" + b"\0" * 40, "x.gif", "unsupported_format"),
    ],
)
def test_a_bad_upload_is_a_clear_400_and_nothing_is_kept(app, shop, body, name, code):
    _, client = shop
    response = stage(client, body, name)

    assert response.status_code == 400
    assert message(code) in response.json["error"]
    assert staged_rows() == []
    assert media_files(app) == set()


def test_a_pixel_bomb_is_refused_from_its_header_and_nothing_is_kept(app, shop):
    _, client = shop
    buf = io.BytesIO()
    Image.new("L", (8000, 8000)).save(buf, "PNG")

    response = stage(client, buf.getvalue(), "bomb.png")

    assert response.status_code == 400
    assert message("too_many_pixels") in response.json["error"]
    assert staged_rows() == [] and media_files(app) == set()


def test_place_numbers_in_persian_digits_or_nonsense_do_not_break_the_save(app, shop, category):
    _, client = shop
    tokens = [stage(client, jpeg(size=(60 + 4 * n, 40))).json["token"] for n in range(2)]

    response = post_new(
        client,
        listing(category, staged=tokens, staged_order=["۲", "x" * 50], status="draft"),
    )

    assert response.status_code == 302
    [product] = products()
    # "x…" keeps its own place (2), and "۲" is read as 2: the list's order breaks the tie.
    assert [row.width for row in images(product.id)] == [60, 64]


def test_no_file_is_a_clear_400(app, shop):
    _, client = shop
    response = client.post("/seller/photos/staged", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.json["error"]


def test_a_file_name_is_kept_short_and_printable(app, shop):
    _, client = shop
    response = stage(client, jpeg(), "DCIM/Camera/" + "عکس" * 100 + ".jpg")
    assert response.status_code == 201
    assert response.json["filename"] == ("عکس" * 100 + ".jpg")[:120]
    # A control character in the name is refused as any other hostile input, nothing kept.
    assert stage(client, png(), "a\u0007.png").status_code == 400
    assert len(staged_rows()) == 1


def test_a_seller_cannot_keep_photos_waiting_without_end(app, shop, monkeypatch):
    _, client = shop
    monkeypatch.setattr(photos, "MAX_STAGED", 2)
    assert stage(client, jpeg(colour=RED)).status_code == 201
    assert stage(client, jpeg(colour=BLUE)).status_code == 201

    response = stage(client, png())

    assert response.status_code == 400
    assert response.json["error"] == message("too_many_staged")
    assert len(staged_rows()) == 2


def test_the_upload_needs_a_seller_and_a_csrf_token(csrf_app):  # type: ignore[no-untyped-def]
    client = csrf_app.test_client()
    assert stage(client, jpeg()).status_code in (302, 400, 401, 403)
    owner = factories.user(Role.SELLER, name="Golbibi")
    factories.seller(status=SellerStatus.APPROVED, owner=owner)
    factories.login(client, owner.email)
    response = stage(client, jpeg())  # no token
    assert response.status_code == 400
    assert staged_rows() == []


# --- the edit form -----------------------------------------------------------------------------


def test_the_edit_form_adds_photos_and_publishes_in_one_save(app, shop, category):
    seller, client = shop
    product = factories.product(
        seller, status=ProductStatus.DRAFT, with_image=False, category_row=category
    )
    token = stage(client, jpeg(colour=RED)).json["token"]

    response = client.post(
        f"/seller/listings/{product.id}/edit",
        data=listing(category, staged=[token], photos=[(io.BytesIO(png()), "more.png")]),
        content_type="multipart/form-data",
    )

    assert response.status_code == 302, html_of(response)
    db.session.rollback()  # a new snapshot: a task or the app committed in sessions of their own
    assert db.session.get(Product, product.id).status == ProductStatus.PUBLISHED
    assert len(images(product.id)) == 2
    assert staged_rows() == []


def test_a_new_photo_chosen_as_cover_on_the_edit_form_goes_first(app, shop, category):
    seller, client = shop
    product = factories.product(seller, status=ProductStatus.DRAFT, category_row=category)
    [old] = images(product.id)
    token = stage(client, jpeg(size=(90, 40))).json["token"]

    response = client.post(
        f"/seller/listings/{product.id}/edit",
        data=listing(category, staged=[token], cover=token, status="draft"),
        content_type="multipart/form-data",
    )

    assert response.status_code == 302, html_of(response)
    rows = images(product.id)
    assert [row.width for row in rows][0] == 90
    assert rows[1].id == old.id


# --- the queue and the sweep -------------------------------------------------------------------


def test_with_a_worker_the_listing_is_published_and_its_photos_processing(
    app,
    shop,
    category,
    queued,  # noqa: F811
):
    _, client = shop
    token = stage(client, jpeg()).json["token"]

    response = post_new(client, listing(category, staged=[token]))

    assert response.status_code == 302
    [product] = products()
    assert product.status == ProductStatus.PUBLISHED
    assert [row.status for row in images(product.id)] == [PhotoStatus.PROCESSING]
    assert run_waiting_tasks() >= 1
    assert [row.status for row in images(product.id)] == [PhotoStatus.READY]
    assert originals(app) == set()


def test_photos_never_saved_are_swept_with_their_files(app, shop):
    seller, client = shop
    old = stage(client, jpeg(colour=RED)).json["token"]
    new = stage(client, jpeg(colour=BLUE)).json["token"]
    db.session.execute(
        sa.update(StagedPhoto)
        .where(StagedPhoto.token == old)
        .values(created_at=utcnow() - photos.STAGED_FOR - timedelta(minutes=1))
    )
    db.session.commit()
    assert len(originals(app)) == 2

    assert photos.sweep_staged() == 1
    assert photos.sweep_staged() == 0  # acts once

    assert [row.token for row in staged_rows()] == [new]
    assert len(originals(app)) == 1


def test_a_swept_photo_leaves_the_file_a_listing_photo_still_needs(app, shop, queued):  # noqa: F811
    seller, client = shop
    body = jpeg(colour=RED)
    product = factories.product(seller, status=ProductStatus.DRAFT, with_image=False)
    image_id = photos.accept_photo(product, body)  # processing, its original kept
    token = photos.stage_photo(seller, body).token  # the same picture waits on a form
    db.session.execute(
        sa.update(StagedPhoto)
        .where(StagedPhoto.token == token)
        .values(created_at=utcnow() - photos.STAGED_FOR - timedelta(minutes=1))
    )
    db.session.commit()

    assert photos.sweep_staged() == 1

    assert len(originals(app)) == 1  # still needed by the processing photo
    assert photos.make_variants(image_id) == "ready"
    assert originals(app) == set()


def test_a_photo_run_leaves_the_original_a_waiting_photo_shares(app, shop, queued):  # noqa: F811
    seller, client = shop
    body = jpeg(colour=BLUE)
    product = factories.product(seller, status=ProductStatus.DRAFT, with_image=False)
    image_id = photos.accept_photo(product, body)
    token = photos.stage_photo(seller, body).token

    assert photos.make_variants(image_id) == "ready"

    assert len(originals(app)) == 1  # the waiting photo still names it
    db.session.rollback()
    assert photos.discard_staged(seller, [token]) == 1
    assert originals(app) == set()


def test_the_sweep_is_scheduled(app):  # type: ignore[no-untyped-def]
    from app.jobs import tasks

    assert tasks.sweep_staged_photos in tasks.SCHEDULE
    assert tasks.sweep_staged_photos.call_local() == 0
    assert jobs.queue is not None


@pytest.fixture
def limited_app(tmp_path):  # type: ignore[no-untyped-def]
    yield from running_app(tmp_path, RATELIMIT_ENABLED=True, PHOTO_UPLOAD_RATE_LIMIT="2 per minute")


def test_the_upload_is_rate_limited_per_seller(limited_app):  # type: ignore[no-untyped-def]
    owner = factories.user(Role.SELLER, name="Golbibi")
    factories.seller(status=SellerStatus.APPROVED, owner=owner)
    client = limited_app.test_client()
    factories.login(client, owner.email)
    assert stage(client, jpeg(colour=RED)).status_code == 201
    assert stage(client, jpeg(colour=BLUE)).status_code == 201

    response = stage(client, png())

    assert response.status_code == 429
    assert len(staged_rows()) == 2
