"""Listing photos and shop logos through the whole pipeline: upload, validation, storage, serving.

Pictures are made with Pillow in the test; what is checked is what reaches the media directory
and the browser, never how the pipeline does it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from PIL import Image, ImageOps

from app.accounts.models import Role
from app.catalog import photos
from app.catalog.models import Product, ProductImage, ProductStatus, SellerStatus
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.media.storage import LocalStorage
from app.web.messages import ERROR_TEXT
from tests import factories
from tests.conftest import make_app
from tests.helpers import flashes, jpeg, png
from tests.test_migrations import app_for, fresh_databases, keep_logging  # noqa: F401 (fixtures)

KEY_RE = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})\.webp")
RED = (230, 20, 20)
GREEN = (40, 160, 60)
ALT_TOO_LONG = "The description can be at most 200 characters."


# --- pictures ------------------------------------------------------------------------------------


def noisy_jpeg(size: tuple[int, int], quality: int = 95) -> bytes:
    """A JPEG that does not compress well (random pixels), so its size is predictable-ish."""
    img = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def camera_jpeg() -> bytes:
    """A phone photo: stored sideways (1000x600) with orientation 6, and a GPS position.

    The red marker sits in the stored top-left corner, which is the top-right corner once the
    picture is turned upright.
    """
    img = Image.new("RGB", (1000, 600), GREEN)
    img.paste(RED, (0, 0, 150, 150))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (29.0, 29.0, 47.0)  # latitude of a home in Zahedan, say
    gps[3] = "E"
    gps[4] = (60.0, 51.0, 45.0)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92, exif=exif)
    return buf.getvalue()


@functools.cache
def png_bomb() -> bytes:
    """64 million pixels of zeros: a few tens of kilobytes on disk, 64 MB once decoded."""
    buf = io.BytesIO()
    Image.new("L", (8000, 8000)).save(buf, "PNG", optimize=False)
    return buf.getvalue()


def tiff() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (50, 50), GREEN).save(buf, "TIFF")
    return buf.getvalue()


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


# --- helpers -------------------------------------------------------------------------------------


def message(code: str) -> str:
    with force_locale("en"):
        return str(ERROR_TEXT[code])


def field_errors(response, field: str) -> str:  # type: ignore[no-untyped-def]
    found = re.search(
        rf'<p class="error" id="{field}-error">(.*?)</p>', response.get_data(as_text=True), re.S
    )
    return unescape(found.group(1)) if found else ""


def media_files(app) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """Every file under MEDIA_DIR (temporary files included), by relative path."""
    root = Path(app.config["MEDIA_DIR"])
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def image_rows(product_id: int) -> list[ProductImage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(ProductImage)
            .where(ProductImage.product_id == product_id)
            .order_by(ProductImage.position)
        )
    )


def upload(client, product_id: int, *files: tuple[bytes, str], **kwargs):  # type: ignore[no-untyped-def]
    return client.post(
        f"/seller/listings/{product_id}/photos",
        data={"photos": [(io.BytesIO(body), name) for body, name in files]},
        content_type="multipart/form-data",
        **kwargs,
    )


def login_seller(app):  # type: ignore[no-untyped-def]
    owner = factories.user(Role.SELLER, name="Golbibi")
    seller = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, owner.email)
    return seller, client


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    seller, client = login_seller(app)
    product = factories.product(seller, status=ProductStatus.DRAFT, with_image=False)
    return seller, client, product.id


def publish(client, product_id: int) -> None:  # type: ignore[no-untyped-def]
    client.post(f"/seller/listings/{product_id}/status", data={"status": "published"})
    db.session.expire_all()
    assert db.session.get(Product, product_id).status == ProductStatus.PUBLISHED


def photo_action(client, product_id: int, image_id: int, action: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/seller/listings/{product_id}/photos/{image_id}/{action}",
        data=data,
        follow_redirects=True,
    )


# --- what is stored ------------------------------------------------------------------------------


def test_a_camera_photo_is_stored_upright_and_without_metadata(app, shop):
    _, client, product_id = shop
    original = camera_jpeg()
    source = Image.open(io.BytesIO(original))
    assert source.getexif().get(0x0112) == 6
    assert source.getexif().get_ifd(0x8825)[2] == (29.0, 29.0, 47.0)  # the test photo has GPS
    reference = ImageOps.exif_transpose(source)  # what "upright" means, by Pillow's definition
    assert reference.size == (600, 1000)
    assert reference.getpixel((reference.width - 20, 20))[0] > 200  # marker top-right

    response = upload(client, product_id, (original, "IMG_0001.jpg"))

    assert response.status_code == 302
    [row] = image_rows(product_id)
    assert (row.width, row.height) == (600, 1000)
    files = media_files(app)
    assert sorted(files) == sorted(v[2] for v in row.variants)
    assert [v[0] for v in row.variants] == [320, 600]
    for width, height, key in row.variants:
        body = files[key]
        assert b"Exif" not in body and b"EXIF" not in body and b"XMP" not in body
        assert b"PhoneMaker" not in body
        picture = Image.open(io.BytesIO(body))
        assert picture.format == "WEBP"
        assert picture.size == (width, height)
        assert height > width  # turned upright: width and height swapped
        assert abs(height / width - 1000 / 600) < 0.02
        assert len(picture.getexif()) == 0
        assert not {"exif", "xmp", "icc_profile"} & set(picture.info)
        rgb = picture.convert("RGB")
        margin = max(3, width // 40)
        top_right = rgb.getpixel((width - margin, margin))
        assert top_right[0] > 180 and top_right[1] < 80, top_right  # the red marker
        for corner in (
            (margin, margin),
            (margin, height - margin),
            (width - margin, height - margin),
        ):
            pixel = rgb.getpixel(corner)
            assert pixel[1] > 120 and pixel[0] < 100, (corner, pixel)  # green elsewhere


def test_stored_variants_are_served_as_immutable_webp_with_a_srcset(app, shop):
    _, client, product_id = shop
    upload(client, product_id, (camera_jpeg(), "IMG_0001.jpg"))
    publish(client, product_id)
    [row] = image_rows(product_id)

    for _, _, key in row.variants:
        with app.test_client().get(f"/media/{key}") as served:
            assert served.status_code == 200
            assert served.headers["Content-Type"] == "image/webp"
            assert "immutable" in served.headers["Cache-Control"]
            assert "max-age=31536000" in served.headers["Cache-Control"]
            assert served.headers["X-Content-Type-Options"] == "nosniff"
            assert Image.open(io.BytesIO(served.get_data())).format == "WEBP"

    page = app.test_client().get(f"/p/{product_id}").get_data(as_text=True)
    srcset = re.search(r'srcset="([^"]+)"', page)
    assert srcset is not None
    entries = [entry.strip() for entry in srcset.group(1).split(",")]
    assert entries == [f"/media/{key} {width}w" for width, _, key in row.variants]
    assert 'sizes="' in page


def test_only_webp_variants_are_kept_never_the_original(app, shop):
    _, client, product_id = shop
    camera = camera_jpeg()
    transparent = png()
    upload(client, product_id, (camera, "a.jpg"), (transparent, "b.png"), (jpeg(), "c.jpeg"))

    files = media_files(app)
    rows = image_rows(product_id)
    assert len(rows) == 3
    assert set(files) == {v[2] for row in rows for v in row.variants}
    for name, body in files.items():
        match = KEY_RE.fullmatch(name)
        assert match, name  # no temporary files, no original names
        assert hashlib.sha256(body).hexdigest() == match[1]  # content addressed
        assert Image.open(io.BytesIO(body)).format == "WEBP"
        assert body not in (camera, transparent)
    assert Image.open(io.BytesIO(files[rows[1].variants[0][2]])).mode == "RGBA"  # alpha kept


def test_the_same_photo_twice_is_stored_once(app, shop):
    _, client, product_id = shop
    photo = jpeg((400, 300))

    upload(client, product_id, (photo, "a.jpg"))
    upload(client, product_id, (photo, "again.jpg"))

    rows = image_rows(product_id)
    assert len(rows) == 2
    assert rows[0].variants == rows[1].variants
    assert len(media_files(app)) == len(rows[0].variants)


# --- what is refused -----------------------------------------------------------------------------


def _truncated_jpeg() -> bytes:
    body = noisy_jpeg((400, 300))
    return body[: len(body) * 6 // 10]


@pytest.mark.parametrize(
    ("make", "name", "code"),
    [
        (png_bomb, "bomb.png", "too_many_pixels"),
        (tiff, "scan.tiff", "unsupported_format"),
        (tiff, "scan.jpg", "unsupported_format"),
        (lambda: SVG, "logo.jpg", "unsupported_format"),
        (lambda: SVG, "logo.svg", "unsupported_format"),
        (lambda: HTML, "page.jpg", "unsupported_format"),
        (_truncated_jpeg, "cut.jpg", "corrupt"),
        (lambda: b"", "empty.jpg", "empty"),
    ],
    ids=[
        "png-bomb",
        "tiff",
        "tiff-as-jpg",
        "svg-as-jpg",
        "svg",
        "html-as-jpg",
        "truncated",
        "empty",
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_written(app, shop, make, name, code):
    _, client, product_id = shop

    response = upload(client, product_id, (make(), name), follow_redirects=True)

    assert response.status_code == 200
    assert f"{name}: {message(code)}" in flashes(response)
    assert flashes(response, "success") == []
    assert media_files(app) == {}
    assert image_rows(product_id) == []


def test_a_bad_file_among_good_ones_is_refused_alone(app, shop):
    _, client, product_id = shop

    response = upload(
        client,
        product_id,
        (jpeg(colour=RED), "good-1.jpg"),
        (HTML, "bad.jpg"),
        (jpeg(colour=GREEN), "good-2.jpg"),
        follow_redirects=True,
    )

    assert flashes(response) == [f"bad.jpg: {message('unsupported_format')}"]
    assert len(image_rows(product_id)) == 2
    assert len(media_files(app)) == 2


def test_no_file_at_all_is_a_clear_error(app, shop):
    _, client, product_id = shop

    response = client.post(f"/seller/listings/{product_id}/photos", data={}, follow_redirects=True)

    assert "Choose at least one photo." in flashes(response)
    assert image_rows(product_id) == []


@pytest.fixture
def small_limits(tmp_path):  # type: ignore[no-untyped-def]
    """An app that accepts request bodies up to 50 kB and pictures up to 40 kB."""
    from app.shop import cache

    cache.clear()
    app = make_app(tmp_path, MAX_CONTENT_LENGTH=50_000, MAX_IMAGE_BYTES=40_000)
    with app.app_context():
        yield app
        db.session.remove()
    with app.app_context():
        db.engine.dispose()


def test_an_oversized_request_gets_the_friendly_413_page(small_limits):
    app = small_limits
    seller, client = login_seller(app)
    product = factories.product(seller, status=ProductStatus.DRAFT, with_image=False)
    big = noisy_jpeg((300, 300))
    assert len(big) > 50_000

    response = upload(client, product.id, (big, "big.jpg"))

    assert response.status_code == 413
    assert "The file is too large. Please choose a smaller one." in unescape(
        response.get_data(as_text=True)
    )
    assert media_files(app) == {}
    assert image_rows(product.id) == []


def test_a_picture_over_the_image_limit_is_refused_before_decoding(small_limits):
    app = small_limits
    seller, client = login_seller(app)
    product = factories.product(seller, status=ProductStatus.DRAFT, with_image=False)
    body = jpeg((400, 300))
    body += b"\0" * (45_000 - len(body))  # under the request limit, over the picture limit

    response = upload(client, product.id, (body, "padded.jpg"), follow_redirects=True)

    assert response.status_code == 200
    assert f"padded.jpg: {message('too_large_bytes')}" in flashes(response)
    assert media_files(app) == {}
    assert image_rows(product.id) == []


# --- uploads from the page's script --------------------------------------------------------------


def test_the_script_upload_gets_json_with_where_to_go(app, shop):
    _, client, product_id = shop
    headers = {"X-Requested-With": "fetch"}

    ok = upload(client, product_id, (jpeg(), "a.jpg"), headers=headers)
    bad = upload(client, product_id, (HTML, "b.jpg"), headers=headers)

    assert ok.status_code == 200
    assert ok.is_json
    assert ok.json["added"] == 1 and ok.json["errors"] == []
    assert ok.json["redirect"] == f"/seller/listings/{product_id}/edit#photos"
    assert bad.status_code == 400
    assert bad.is_json
    assert bad.json["added"] == 0
    assert bad.json["errors"] == [f"b.jpg: {message('unsupported_format')}"]
    assert bad.json["redirect"] == f"/seller/listings/{product_id}/edit#photos"
    assert len(image_rows(product_id)) == 1


# --- at most eight -------------------------------------------------------------------------------


def _distinct(n: int, start: int = 0) -> list[tuple[bytes, str]]:
    return [
        (jpeg(colour=(20 * i, 100, 255 - 20 * i)), f"p{i}.jpg") for i in range(start, start + n)
    ]


def test_a_listing_holds_at_most_eight_photos(app, shop):
    _, client, product_id = shop

    first = upload(client, product_id, *_distinct(6), follow_redirects=True)
    second = upload(client, product_id, *_distinct(3, start=6), follow_redirects=True)

    assert flashes(first) == []
    assert "2 photo(s) added." in flashes(second, "success")
    assert message("too_many_photos") in flashes(second)
    assert len(image_rows(product_id)) == 8
    files = set(media_files(app))

    ninth = upload(client, product_id, *_distinct(1, start=9), follow_redirects=True)

    assert message("too_many_photos") in flashes(ninth)
    assert len(image_rows(product_id)) == 8
    assert set(media_files(app)) == files  # the refused photo was not processed or stored
    page = client.get(f"/seller/listings/{product_id}/edit").get_data(as_text=True)
    assert 'name="photos"' not in page  # no upload form when the listing is full


# --- order, cover, description, deletion ---------------------------------------------------------


def test_photos_move_earlier_and_later_and_one_becomes_the_cover(app, shop):
    _, client, product_id = shop
    upload(client, product_id, *_distinct(3))
    a, b, c = (row.id for row in image_rows(product_id))

    def order() -> list[int]:
        rows = image_rows(product_id)
        assert [row.position for row in rows] == list(range(len(rows)))
        return [row.id for row in rows]

    photo_action(client, product_id, c, "move", direction="earlier")
    assert order() == [a, c, b]
    photo_action(client, product_id, a, "move", direction="later")
    assert order() == [c, a, b]
    photo_action(client, product_id, c, "move", direction="earlier")  # already first
    assert order() == [c, a, b]
    photo_action(client, product_id, b, "move", direction="later")  # already last
    assert order() == [c, a, b]
    response = photo_action(client, product_id, b, "cover")
    assert order() == [b, c, a]
    assert "Photos updated." in flashes(response, "success")

    publish(client, product_id)
    cover_key = image_rows(product_id)[0].variants[0][2]
    page = app.test_client().get(f"/p/{product_id}").get_data(as_text=True)
    assert f"/media/{cover_key}" in page.split('class="thumbs"')[0]  # the main photo


def test_a_photo_description_is_saved_and_limited_to_200_characters(app, shop):
    _, client, product_id = shop
    upload(client, product_id, (jpeg(), "a.jpg"))
    [row] = image_rows(product_id)

    saved = photo_action(client, product_id, row.id, "alt", alt_text="  رومیزی   آبی، نمای نزدیک ")
    assert "Photos updated." in flashes(saved, "success")
    assert image_rows(product_id)[0].alt_text == "رومیزی آبی، نمای نزدیک"

    refused = photo_action(client, product_id, row.id, "alt", alt_text="ب" * 201)
    assert ALT_TOO_LONG in flashes(refused)
    assert image_rows(product_id)[0].alt_text == "رومیزی آبی، نمای نزدیک"

    publish(client, product_id)
    page = app.test_client().get(f"/p/{product_id}").get_data(as_text=True)
    assert 'alt="رومیزی آبی، نمای نزدیک"' in page


def test_deleting_a_photo_removes_its_files(app, shop):
    _, client, product_id = shop
    upload(client, product_id, (jpeg(colour=RED), "a.jpg"), (jpeg(colour=GREEN), "b.jpg"))
    first, second = image_rows(product_id)
    first_keys = {v[2] for v in first.variants}

    response = photo_action(client, product_id, first.id, "delete")

    assert "Photos updated." in flashes(response, "success")
    rows = image_rows(product_id)
    assert [(row.id, row.position) for row in rows] == [(second.id, 0)]
    files = set(media_files(app))
    assert first_keys.isdisjoint(files)
    assert {v[2] for v in second.variants} == files


def test_deleting_a_drafts_photo_leaves_the_cached_pages_be(app, shop):
    """A draft shows nowhere public: removing its photo changes no cached page (the row is
    deleted while it still names its listing, so the change tracking can tell)."""
    from app.catalog.changes import current_version

    _, client, product_id = shop
    upload(client, product_id, (jpeg(colour=RED), "a.jpg"), (jpeg(colour=GREEN), "b.jpg"))
    first, second = image_rows(product_id)
    db.session.rollback()
    version = current_version(db.session)

    response = photo_action(client, product_id, first.id, "delete")

    assert "Photos updated." in flashes(response, "success")
    assert [(row.id, row.position) for row in image_rows(product_id)] == [(second.id, 0)]
    db.session.rollback()
    assert current_version(db.session) == version


def test_a_photo_deleted_from_a_published_listing_leaves_its_cached_page(app, shop):
    from flask import g, request_started

    def clear_g(sender, **extra):  # type: ignore[no-untyped-def]
        g.__dict__.clear()  # as in production: each request starts with an empty g

    _, client, product_id = shop
    upload(client, product_id, (jpeg(colour=RED), "a.jpg"), (jpeg(colour=GREEN), "b.jpg"))
    publish(client, product_id)
    first, second = image_rows(product_id)
    app.config["PAGE_CACHE_ENABLED"] = True
    request_started.connect(clear_g)
    try:
        visitor = app.test_client()
        visitor.get(f"/p/{product_id}")
        assert visitor.get(f"/p/{product_id}").headers["X-Page-Cache"] == "hit"

        photo_action(client, product_id, first.id, "delete")

        page = visitor.get(f"/p/{product_id}")
        assert page.headers["X-Page-Cache"] == "miss"
        html = page.get_data(as_text=True)
        assert first.variants[0][2] not in html and second.variants[0][2] in html
    finally:
        request_started.disconnect(clear_g)


def _key(n: int) -> str:
    digest = hashlib.sha256(str(n).encode()).hexdigest()
    return f"{digest[:2]}/{digest[2:4]}/{digest}.webp"


def test_a_file_is_unused_only_when_no_photo_row_or_logo_names_it(app, shop):
    """The rows are narrowed in the database (by the keys' hashes in the variants' text); what
    it finds is then checked exactly: a key in any place of a row's variants, its largest key,
    its kept original or a shop's logo keeps the file."""
    seller, _, product_id = shop
    other = factories.product(seller, status=ProductStatus.DRAFT, with_image=False)
    original = "originals/" + hashlib.sha256(b"upload").hexdigest() + ".jpg"
    variants = [[320, 240, _key(1)], [640, 480, _key(2)], [1280, 960, _key(3)]]
    db.session.add_all(
        [
            ProductImage(
                product_id=product_id,
                position=0,
                storage_key=_key(3),
                variants=variants,
                width=1280,
                height=960,
            ),
            ProductImage(
                product_id=other.id,
                position=0,
                storage_key="",
                variants=[],
                width=1,
                height=1,
                original_key=original,
            ),
        ]
    )
    db.session.get(type(seller), seller.id).logo_key = _key(4)
    db.session.commit()

    asked = [_key(2), _key(1), _key(5), original, _key(4), _key(6), "originals/other.png"]
    assert photos.unused_keys(asked) == [_key(5), _key(6), "originals/other.png"]
    assert photos.unused_keys([]) == []


def test_the_last_photo_of_a_published_listing_cannot_be_deleted(app, shop):
    _, client, product_id = shop
    upload(client, product_id, (jpeg(), "only.jpg"))
    publish(client, product_id)
    [row] = image_rows(product_id)
    files = media_files(app)

    response = photo_action(client, product_id, row.id, "delete")

    assert message("last_photo_of_published") in flashes(response)
    assert [r.id for r in image_rows(product_id)] == [row.id]
    assert media_files(app) == files
    assert app.test_client().get(f"/p/{product_id}").status_code == 200


def test_a_photo_already_deleted_is_not_found(app, shop):
    _, client, product_id = shop
    upload(client, product_id, (jpeg(colour=RED), "a.jpg"), (jpeg(colour=GREEN), "b.jpg"))
    first, _ = image_rows(product_id)
    photo_action(client, product_id, first.id, "delete")

    again = client.post(f"/seller/listings/{product_id}/photos/{first.id}/delete")

    assert again.status_code == 404
    assert len(image_rows(product_id)) == 1


# --- the shop logo -------------------------------------------------------------------------------


def _profile(seller, **fields) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "display_name": seller.display_name,
        "slug": seller.slug,
        "bio": "تازه",
        "county_id": str(seller.county_id),
        "sector_id": str(seller.sector_id),
        "phone": "09121234567",
    }
    data.update(fields)
    return data


def test_a_logo_goes_through_the_same_pipeline(app, shop):
    seller, client, _ = shop

    response = client.post(
        "/seller/profile",
        data=_profile(seller, logo=(io.BytesIO(camera_jpeg()), "logo.jpg")),
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    db.session.expire_all()
    files = media_files(app)
    assert list(files) == [seller.logo_key]
    logo = Image.open(io.BytesIO(files[seller.logo_key]))
    assert logo.format == "WEBP"
    assert logo.width == 256 and logo.height > logo.width  # upright, at most 256 px wide
    assert len(logo.getexif()) == 0
    assert b"PhoneMaker" not in files[seller.logo_key]
    page = client.get("/seller/profile").get_data(as_text=True)
    assert f"/media/{seller.logo_key}" in page


@pytest.mark.parametrize(
    ("make", "name", "code"),
    [
        (lambda: HTML, "logo.jpg", "unsupported_format"),
        (lambda: SVG, "logo.svg", "unsupported_format"),
        (_truncated_jpeg, "logo.jpg", "corrupt"),
        (png_bomb, "logo.png", "too_many_pixels"),
    ],
    ids=["html-as-jpg", "svg", "truncated", "png-bomb"],
)
def test_a_bad_logo_is_refused_and_nothing_changes(app, shop, make, name, code):
    seller, client, _ = shop
    bio_before = seller.bio

    response = client.post(
        "/seller/profile",
        data=_profile(seller, bio="should not be saved", logo=(io.BytesIO(make()), name)),
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert message(code) in field_errors(response, "logo")
    db.session.expire_all()
    assert seller.logo_key is None
    assert seller.bio == bio_before
    assert media_files(app) == {}


def test_a_logo_sent_with_a_refused_profile_is_carried_not_saved(app, shop):
    seller, client, _ = shop
    other = factories.seller()

    response = client.post(
        "/seller/profile",
        data=_profile(seller, slug=other.slug, logo=(io.BytesIO(jpeg((300, 300))), "logo.jpg")),
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert message("slug_taken") in field_errors(response, "slug")
    db.session.expire_all()
    assert seller.logo_key is None  # nothing of the refused form was saved
    (key,) = media_files(app)  # the file is stored once, to be carried to the next try
    token = re.search(r'name="logo_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert token, "the form carries the chosen logo"

    # The next try, with the address fixed and no file chosen again, saves that logo.
    fixed = client.post(
        "/seller/profile",
        data=_profile(seller, logo_token=unescape(token.group(1))),
        content_type="multipart/form-data",
    )

    assert fixed.status_code == 302
    db.session.expire_all()
    assert seller.logo_key == key
    assert list(media_files(app)) == [key]


def test_a_logo_sent_with_a_refused_application_is_stored_once_and_carried(app):
    """The applicant need not choose the file again: it is stored and the form carries it
    (see test_seller_application); nothing else is written."""
    county, sector, taken = factories.county(), factories.sector(), factories.seller()
    applicant = factories.with_mobile(factories.user(Role.CUSTOMER))
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, applicant.email)

    response = client.post(
        "/seller/apply",
        data={
            "display_name": "کارگاه سفال",
            "slug": taken.slug,
            "county_id": str(county.id),
            "sector_id": str(sector.id),
            "phone": "09121234567",
            "logo": (io.BytesIO(jpeg((300, 300))), "logo.jpg"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert message("slug_taken") in field_errors(response, "slug")
    files = media_files(app)
    assert len(files) == 1
    (key,) = files
    assert key in unescape(response.get_data(as_text=True))  # shown as the kept logo


def test_a_replaced_logo_file_is_removed(app, shop):
    seller, client, _ = shop

    def send_logo(colour: tuple[int, int, int]) -> str:
        response = client.post(
            "/seller/profile",
            data=_profile(seller, logo=(io.BytesIO(jpeg((300, 300), colour)), "logo.jpg")),
            content_type="multipart/form-data",
        )
        assert response.status_code == 302
        db.session.expire_all()
        return seller.logo_key

    first = send_logo(RED)
    second = send_logo(GREEN)
    same_again = send_logo(GREEN)

    assert first != second == same_again
    assert list(media_files(app)) == [second]
    # saving the profile without a new logo keeps the current one
    client.post("/seller/profile", data=_profile(seller), content_type="multipart/form-data")
    db.session.expire_all()
    assert seller.logo_key == second
    assert list(media_files(app)) == [second]


# --- the photo rules under concurrent changes ----------------------------------------------------


def test_two_photos_of_a_listing_can_never_share_a_position(app, shop):
    _, client, product_id = shop
    upload(client, product_id, (jpeg(), "a.jpg"))
    [row] = image_rows(product_id)

    db.session.add(
        ProductImage(
            product_id=product_id,
            position=0,
            storage_key=row.storage_key,
            variants=row.variants,
            width=row.width,
            height=row.height,
        )
    )

    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


class RacingStorage(LocalStorage):
    """The media directory, where another upload commits its photo row while this upload is
    still writing its files (``on_first_put`` runs on the first file written)."""

    def __init__(self, root: str, on_first_put) -> None:  # type: ignore[no-untyped-def]
        super().__init__(root, fsync=False)
        self.on_first_put = on_first_put

    def put(self, key: str, data: bytes, content_type: str) -> None:
        super().put(key, data, content_type)
        hook, self.on_first_put = self.on_first_put, None
        if hook:
            hook()


def commit_photo_elsewhere(product_id: int, position: int, variants: list[list]) -> None:
    """A concurrent upload of the same seller commits its photo on its own connection."""
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(ProductImage).values(
                product_id=product_id,
                position=position,
                storage_key=variants[-1][2],
                variants=variants,
                width=variants[-1][0],
                height=variants[-1][1],
                alt_text="",
            )
        )


def _add(app, product_id: int, body: bytes, store) -> None:  # type: ignore[no-untyped-def]
    photos.add_photo(db.session.get(Product, product_id), body, store)


def test_a_photo_refused_after_its_files_were_written_leaves_no_files(app, shop):
    _, client, product_id = shop
    upload(client, product_id, *_distinct(7))
    before = media_files(app)
    seventh = image_rows(product_id)[-1]
    filled = functools.partial(commit_photo_elsewhere, product_id, 7, seventh.variants)
    store = RacingStorage(app.config["MEDIA_DIR"], filled)  # the 8th photo arrives meanwhile

    with pytest.raises(ValidationFailed) as refused:
        _add(app, product_id, jpeg(colour=RED), store)

    assert refused.value.errors == {"photo": ["too_many_photos"]}
    rows = image_rows(product_id)
    assert [row.position for row in rows] == list(range(8))
    assert media_files(app) == before  # the refused photo's files are gone, the others kept


def test_a_refused_photo_keeps_files_a_concurrent_upload_of_the_same_picture_uses(app, shop):
    from app.media.images import process_image
    from app.media.storage import MemoryStorage

    _, client, product_id = shop
    upload(client, product_id, *_distinct(7))
    picture = jpeg(colour=RED)
    twin = process_image(
        picture,
        MemoryStorage(),
        max_bytes=app.config["MAX_IMAGE_BYTES"],
        max_pixels=app.config["MAX_IMAGE_PIXELS"],
    )
    twin_variants = [[v.width, v.height, v.key] for v in twin.variants]
    # The other upload's row names the files this upload is writing: it skipped writing them.
    filled = functools.partial(commit_photo_elsewhere, product_id, 7, twin_variants)
    store = RacingStorage(app.config["MEDIA_DIR"], filled)

    with pytest.raises(ValidationFailed):
        _add(app, product_id, picture, store)

    files = media_files(app)
    assert set(twin.keys) <= set(files)  # still shown by the other upload's photo
    rows = image_rows(product_id)
    assert len(rows) == 8
    assert {key for row in rows for _, _, key in row.variants} == set(files)


def test_a_photo_whose_save_fails_removes_the_files_it_wrote(app, shop):
    """Any failure after the files were written (here the listing is deleted meanwhile)."""
    from app.core.errors import NotFound

    _, client, product_id = shop
    upload(client, product_id, (jpeg(colour=GREEN), "a.jpg"))
    before = media_files(app)

    def deleted_meanwhile() -> None:
        with db.engine.begin() as conn:
            conn.execute(sa.delete(ProductImage).where(ProductImage.product_id == product_id))
            conn.execute(sa.delete(Product).where(Product.id == product_id))

    store = RacingStorage(app.config["MEDIA_DIR"], deleted_meanwhile)
    with pytest.raises(NotFound):
        _add(app, product_id, jpeg(colour=RED), store)

    # Only the files of the photo that was there before remain (its row is gone too, but
    # removing those is the deletion's business, not this upload's).
    assert media_files(app) == before


# --- the migration that makes positions unique ---------------------------------------------------


@pytest.mark.usefixtures("keep_logging")
def test_the_migration_renumbers_photos_that_shared_a_place(tmp_path, request):  # type: ignore[no-untyped-def]
    """Data written before revision 0006 (four photos at position 0, say) migrates cleanly."""
    import flask_migrate

    url, _ = request.getfixturevalue("fresh_databases")
    migrated = app_for(tmp_path, url)
    with migrated.app_context():
        flask_migrate.upgrade()
        seller = factories.seller(status=SellerStatus.APPROVED)
        crowded = factories.product(seller, with_image=False)
        tidy = factories.product(seller)  # one photo at 0
        for n in range(5):
            db.session.add(
                ProductImage(
                    product_id=crowded.id,
                    position=n,
                    storage_key=f"aa/bb/p{n}.webp",
                    variants=[[320, 240, f"aa/bb/p{n}.webp"]],
                    width=320,
                    height=240,
                )
            )
        db.session.commit()
        ids = [row.id for row in image_rows(crowded.id)]
        crowded_id, tidy_id = crowded.id, tidy.id
        db.session.remove()

        flask_migrate.downgrade(revision="0005")
        with db.engine.begin() as conn:  # as concurrent uploads left them: 0, 0, 0, 0, 3
            for image_id, position in zip(ids, [0, 0, 0, 0, 3], strict=True):
                conn.execute(
                    sa.update(ProductImage)
                    .where(ProductImage.id == image_id)
                    .values(position=position)
                )
        flask_migrate.upgrade()

        rows = image_rows(crowded_id)
        assert [(row.id, row.position) for row in rows] == list(zip(ids, range(5), strict=True))
        assert [row.position for row in image_rows(tidy_id)] == [0]
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(
                sa.update(ProductImage).where(ProductImage.id == ids[1]).values(position=0)
            )
        db.session.remove()
        db.engine.dispose()
