"""Photos in an S3-compatible bucket: the real boto3 client against moto's S3 server on loopback.

The server is started by the tests (``moto[server]``, on a free port of 127.0.0.1); what is
checked is what reaches the bucket (keys, bytes, headers) and what a browser gets from the
pages and from ``/media/``, never how the backend does it.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog.models import ProductImage, ProductStatus, Seller, SellerStatus
from app.core.extensions import db
from app.media.s3 import CACHE_CONTROL, S3Storage
from app.media.storage import InvalidKey, StorageUnavailable
from app.media.store import storage
from tests import factories
from tests.conftest import running_app
from tests.fake_s3 import REGION, free_port, new_bucket, s3_client, s3_server, s3_settings
from tests.helpers import flashes, jpeg

pytestmark = pytest.mark.slow

RED = (230, 20, 20)
GREEN = (40, 160, 60)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible server, on loopback, for this module."""
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A fresh, empty bucket; returns (name, a boto3 client that sees it)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    client = s3_client(s3_endpoint)
    return new_bucket(client), client


@pytest.fixture
def s3_app(tmp_path: Path, s3_endpoint: str, bucket):  # type: ignore[no-untyped-def]
    yield from running_app(tmp_path, **s3_settings(s3_endpoint, bucket[0]))


@pytest.fixture
def cdn_app(tmp_path: Path, s3_endpoint: str, bucket):  # type: ignore[no-untyped-def]
    settings = s3_settings(s3_endpoint, bucket[0], MEDIA_BASE_URL="https://cdn.example.test/m/")
    yield from running_app(tmp_path, **settings)


def shop_with_listing(app):  # type: ignore[no-untyped-def]
    owner = factories.user(Role.SELLER, name="Golbibi")
    seller = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    product = factories.product(seller, status=ProductStatus.PUBLISHED, with_image=False)
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, owner.email)
    return client, product.id


def upload(client, product_id: int, *bodies: bytes, **kwargs):  # type: ignore[no-untyped-def]
    return client.post(
        f"/seller/listings/{product_id}/photos",
        data={"photos": [(io.BytesIO(body), f"{n}.jpg") for n, body in enumerate(bodies)]},
        content_type="multipart/form-data",
        **kwargs,
    )


def image_rows(product_id: int) -> list[ProductImage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(ProductImage)
            .where(ProductImage.product_id == product_id)
            .order_by(ProductImage.position)
        )
    )


def bucket_keys(bucket) -> set[str]:  # type: ignore[no-untyped-def]
    name, client = bucket
    answer = client.list_objects_v2(Bucket=name)
    return {item["Key"] for item in answer.get("Contents", [])}


def variant_keys(row: ProductImage) -> set[str]:
    return {v[2] for v in row.variants}


# --- the storage itself ---------------------------------------------------------------------------


def test_the_storage_writes_reads_checks_and_deletes(s3_endpoint, bucket):
    name, client = bucket
    store = S3Storage(
        name,
        prefix="/shop/",
        endpoint_url=s3_endpoint,
        region=REGION,
        access_key_id="k",
        secret_access_key="s",
    )
    key = "ab/cd/abcdef.webp"
    assert not store.exists(key)
    with pytest.raises(KeyError):
        store.get(key)
    store.delete(key)  # a missing key: no error

    store.put(key, b"first", "image/webp")
    store.put(key, b"first", "image/webp")  # the same key again: same bytes, no error

    assert store.exists(key) and store.get(key) == b"first"
    head = client.head_object(Bucket=name, Key="shop/ab/cd/abcdef.webp")
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == CACHE_CONTROL == "public, max-age=31536000, immutable"
    assert store.path_for(key) is None
    for bad in ("../etc/passwd", "/abs.webp", "a//b.webp", "a/.hidden"):
        with pytest.raises(InvalidKey):
            store.put(bad, b"x", "image/webp")
    store.delete(key)
    assert not store.exists(key)
    assert bucket_keys(bucket) == set()


def test_a_stream_is_stored_under_the_hash_of_its_bytes(s3_endpoint, bucket):
    from app.media.storage import put_hashed

    name, client = bucket
    store = S3Storage(
        name, endpoint_url=s3_endpoint, region=REGION, access_key_id="k", secret_access_key="s"
    )
    body = os.urandom(3 * 1024 * 1024 + 5)  # several chunks
    digest = hashlib.sha256(body).hexdigest()

    key, written = put_hashed(store, io.BytesIO(body), lambda d: f"originals/{d}.jpg", "image/jpeg")
    again = put_hashed(store, io.BytesIO(body), lambda d: f"originals/{d}.jpg", "image/jpeg")

    assert (key, written) == (f"originals/{digest}.jpg", True)
    assert again == (key, False)  # found there: not sent again
    assert store.get(key) == body
    assert client.head_object(Bucket=name, Key=key)["ContentType"] == "image/jpeg"
    store.delete(key)


def test_an_unreachable_storage_raises_storage_unavailable_within_bounds():
    store = S3Storage(
        "media",
        endpoint_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        region=REGION,
        access_key_id="k",
        secret_access_key="s",
        connect_timeout=0.5,
        read_timeout=0.5,
        max_attempts=2,
    )
    for action in (
        lambda: store.put("ab/c.webp", b"x", "image/webp"),
        lambda: store.exists("ab/c.webp"),
        lambda: store.get("ab/c.webp"),
        lambda: store.delete("ab/c.webp"),
    ):
        with pytest.raises(StorageUnavailable):
            action()


# --- through the app ------------------------------------------------------------------------------


def test_an_uploaded_photo_is_stored_in_the_bucket_with_long_cache_headers(s3_app, bucket):
    client, product_id = shop_with_listing(s3_app)
    assert isinstance(storage(), S3Storage)

    response = upload(client, product_id, jpeg((800, 600), RED))

    assert response.status_code == 302
    (row,) = image_rows(product_id)
    keys = variant_keys(row)
    assert len(keys) >= 2
    assert bucket_keys(bucket) == {f"market/{key}" for key in keys}
    name, s3 = bucket
    for key in keys:
        head = s3.head_object(Bucket=name, Key=f"market/{key}")
        assert head["ContentType"] == "image/webp"
        assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert not (Path(s3_app.config["MEDIA_DIR"])).exists() or not list(
        Path(s3_app.config["MEDIA_DIR"]).rglob("*.webp")
    )


def test_the_product_page_shows_the_photo_streamed_by_the_media_route(s3_app, bucket):
    client, product_id = shop_with_listing(s3_app)
    upload(client, product_id, jpeg((800, 600), GREEN))
    (row,) = image_rows(product_id)

    page = unescape(s3_app.test_client().get(f"/p/{product_id}").get_data(as_text=True))

    src = f"/media/{row.variants[-1][2]}"
    assert src in page
    visitor = s3_app.test_client()
    response = visitor.get(src)
    assert response.status_code == 200
    name, s3 = bucket
    stored = s3.get_object(Bucket=name, Key=f"market/{row.variants[-1][2]}")["Body"].read()
    assert response.get_data() == stored
    assert response.mimetype == "image/webp"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    etag = response.headers["ETag"]

    head = visitor.head(src)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(stored))

    again = visitor.get(src, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""

    assert visitor.get("/media/ab/cd/missing.webp").status_code == 404
    assert visitor.get("/media/../config.py").status_code == 404


def test_with_a_media_base_url_pages_and_api_point_at_it(cdn_app, bucket):
    client, product_id = shop_with_listing(cdn_app)
    upload(client, product_id, jpeg((800, 600), RED))
    (row,) = image_rows(product_id)
    key = row.variants[-1][2]

    page = unescape(cdn_app.test_client().get(f"/p/{product_id}").get_data(as_text=True))
    assert f"https://cdn.example.test/m/{key}" in page
    assert "/media/" not in page
    # The product grids (home, category, seller page) too.
    grid = unescape(cdn_app.test_client().get("/").get_data(as_text=True))
    assert f"https://cdn.example.test/m/{row.variants[1][2]}" in grid and "/media/" not in grid
    edit = unescape(client.get(f"/seller/listings/{product_id}/edit").get_data(as_text=True))
    assert f"https://cdn.example.test/m/{row.variants[0][2]}" in edit

    api = cdn_app.test_client().get(f"/api/v1/products/{product_id}")
    assert api.status_code == 200
    assert f"https://cdn.example.test/m/{key}" in api.get_data(as_text=True)


def test_deleting_a_photo_deletes_its_objects(s3_app, bucket):
    client, product_id = shop_with_listing(s3_app)
    upload(client, product_id, jpeg((800, 600), RED), jpeg((800, 600), GREEN))
    first, second = image_rows(product_id)

    response = client.post(
        f"/seller/listings/{product_id}/photos/{first.id}/delete", follow_redirects=True
    )

    assert response.status_code == 200
    assert [row.id for row in image_rows(product_id)] == [second.id]
    assert bucket_keys(bucket) == {f"market/{key}" for key in variant_keys(second)}


@pytest.mark.parametrize("fault", ["unreachable", "no_bucket"])
def test_a_storage_fault_refuses_the_upload_clearly_and_records_nothing(
    tmp_path: Path, s3_endpoint: str, bucket, fault: str
):
    endpoint = f"http://127.0.0.1:{free_port()}" if fault == "unreachable" else s3_endpoint
    name = bucket[0] if fault == "unreachable" else f"missing-{uuid.uuid4().hex[:8]}"
    settings = s3_settings(endpoint, name, S3_CONNECT_TIMEOUT=0.5, S3_MAX_ATTEMPTS=1)
    for app in running_app(tmp_path, **settings):
        client, product_id = shop_with_listing(app)

        response = upload(client, product_id, jpeg((800, 600), RED), follow_redirects=True)

        assert response.status_code == 200
        (message,) = flashes(response)
        assert "file storage cannot be reached" in message
        assert "Nothing was changed" in message
        assert image_rows(product_id) == []

        client.set_cookie("locale", "fa")
        persian = upload(client, product_id, jpeg((800, 600), RED), follow_redirects=True)
        assert any("فضای نگهداری فایل‌ها در دسترس نیست" in m for m in flashes(persian))
        client.set_cookie("locale", "en")

        answer = upload(
            client, product_id, jpeg((800, 600), GREEN), headers={"X-Requested-With": "fetch"}
        )
        assert answer.status_code == 503
        assert answer.get_json()["added"] == 0
        assert image_rows(product_id) == []
        assert app.test_client().get("/media/ab/cd/abc.webp").status_code == 503

        seller = db.session.scalars(sa.select(Seller)).one()
        bio = seller.bio
        profile = client.post(
            "/seller/profile",
            data=profile_form(seller, bio="new words", logo=(io.BytesIO(jpeg()), "logo.jpg")),
            content_type="multipart/form-data",
        )
        assert profile.status_code == 400  # the form again, with the error beside the logo
        assert "file storage cannot be reached" in unescape(profile.get_data(as_text=True))
        db.session.expire_all()
        assert (seller.bio, seller.logo_key) == (bio, None)
    assert bucket_keys(bucket) == set()


def profile_form(seller, **fields) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "display_name": seller.display_name,
        "slug": seller.slug,
        "bio": seller.bio or "",
        "county_id": str(seller.county_id),
        "sector_id": str(seller.sector_id),
        "phone": "09121234567",
    }
    data.update(fields)
    return data
