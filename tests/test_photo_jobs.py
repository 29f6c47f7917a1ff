"""A seller's photo upload with a real job queue (a SQLite queue file of the test's own): the
request stores the upload and answers at once, the photo waits as "processing" and stays out of
the shop until the queued task has made its variants; the task acts once however often it runs;
a picture that fails the full decode ends as failed with its reason; the sweep hands lost photos
to the worker again; a photo deleted before its task runs leaves no file behind.
"""

from __future__ import annotations

import hashlib
import io
import os
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
from app.catalog.models import PhotoStatus, Product, ProductImage, ProductStatus, SellerStatus
from app.catalog.rules import MAX_IMAGES
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.jobs import tasks
from app.media.storage import LocalStorage
from app.web.messages import ERROR_TEXT
from tests import factories
from tests.helpers import flashes, jpeg
from tests.test_jobs import queued, run_waiting_tasks  # noqa: F401 (fixture)

VARIANT_RE = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.webp")
ORIGINAL_RE = re.compile(r"originals/([0-9a-f]{64})\.jpg")


def message(code: str) -> str:
    with force_locale("en"):
        return str(ERROR_TEXT[code])


def media_files(app) -> set[str]:  # type: ignore[no-untyped-def]
    root = Path(app.config["MEDIA_DIR"])
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def rows(product_id: int) -> list[ProductImage]:
    db.session.rollback()  # a new snapshot: the task committed in a session of its own
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(ProductImage)
            .where(ProductImage.product_id == product_id)
            .order_by(ProductImage.position)
        )
    )


def catalog_version() -> int:
    return factories.pages_changed_count()


def uploaded_long_ago() -> None:
    """As if every photo had been uploaded six minutes ago (the sweep's wait is five)."""
    db.session.execute(sa.update(ProductImage).values(created_at=utcnow() - timedelta(minutes=6)))
    db.session.commit()


def truncated_jpeg() -> bytes:
    """A valid JPEG header (its size reads fine) over a body cut short."""
    img = Image.effect_noise((400, 300), 64).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95)
    body = buf.getvalue()
    return body[: len(body) * 6 // 10]


@pytest.fixture
def shop(app, queued):  # type: ignore[no-untyped-def]  # noqa: F811
    owner = factories.user(Role.SELLER, name="Golbibi")
    seller = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    product = factories.product(seller, status=ProductStatus.DRAFT, with_image=False)
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, owner.email)
    return client, product.id


def upload(client, product_id: int, *bodies: bytes, **kwargs):  # type: ignore[no-untyped-def]
    return client.post(
        f"/seller/listings/{product_id}/photos",
        data={"photos": [(io.BytesIO(body), f"p{n}.jpg") for n, body in enumerate(bodies)]},
        content_type="multipart/form-data",
        **kwargs,
    )


def publish(client, product_id: int) -> None:  # type: ignore[no-untyped-def]
    client.post(f"/seller/listings/{product_id}/status", data={"status": "published"})
    db.session.rollback()
    assert db.session.get(Product, product_id).status == ProductStatus.PUBLISHED


def shown_keys(html: str) -> set[str]:
    return set(VARIANT_RE.findall(html))


def test_the_upload_answers_before_the_variants_exist(app, shop):
    client, product_id = shop
    picture = jpeg((900, 600))

    response = upload(client, product_id, picture, follow_redirects=True)

    assert response.status_code == 200
    assert flashes(response, "success") == ["1 photo(s) added."]
    [row] = rows(product_id)
    assert row.status == PhotoStatus.PROCESSING and row.variants == [] and row.storage_key == ""
    assert (row.width, row.height) == (900, 600)  # from the header
    # Only the upload itself is stored, under its content hash; the worker has not run.
    [original] = media_files(app)
    match = ORIGINAL_RE.fullmatch(original)
    assert match and row.original_key == original
    assert (Path(app.config["MEDIA_DIR"]) / original).read_bytes() == picture
    assert jobs.pending() == 1
    page = client.get(f"/seller/listings/{product_id}/edit").get_data(as_text=True)
    assert "Processing" in page and "photo-processing" in page
    # The upload waiting for its variants is never served (it still carries its metadata).
    assert app.test_client().get(f"/media/{original}").status_code == 404


def test_a_large_upload_spooled_to_a_file_is_stored_as_sent_under_its_hash(app, shop):
    """Werkzeug spools a file part over 500 KB to a temporary file; the upload is stored from
    that file (not read whole into memory) under the SHA-256 of exactly the bytes sent."""
    client, product_id = shop
    img = Image.frombytes("RGB", (900, 700), os.urandom(900 * 700 * 3))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95)
    picture = buf.getvalue()
    assert len(picture) > 600 * 1024

    response = upload(client, product_id, picture, follow_redirects=True)

    assert flashes(response, "success") == ["1 photo(s) added."]
    [row] = rows(product_id)
    digest = hashlib.sha256(picture).hexdigest()
    assert row.original_key == f"originals/{digest}.jpg"
    assert (row.width, row.height) == (900, 700)
    assert media_files(app) == {row.original_key}  # no temporary file left beside it
    assert (Path(app.config["MEDIA_DIR"]) / row.original_key).read_bytes() == picture


def test_the_shop_shows_a_photo_only_once_the_worker_made_it_ready(app, shop):
    client, product_id = shop
    upload(client, product_id, jpeg((900, 600)))
    publish(client, product_id)  # a photo on its way counts for publishing
    visitor = app.test_client()

    page = visitor.get(f"/p/{product_id}").get_data(as_text=True)
    assert shown_keys(page) == set() and 'class="no-image' in page  # the placeholder
    assert shown_keys(visitor.get("/").get_data(as_text=True)) == set()
    assert visitor.get(f"/api/v1/products/{product_id}").get_json()["images"] == []

    version = catalog_version()
    assert run_waiting_tasks() == 1

    [row] = rows(product_id)
    assert row.status == PhotoStatus.READY and row.original_key is None
    assert [w for w, _, _ in row.variants] == [320, 640, 900]
    assert media_files(app) == {key for _, _, key in row.variants}  # the original is gone
    assert catalog_version() > version  # cached pages show it at once
    page = visitor.get(f"/p/{product_id}").get_data(as_text=True)
    assert shown_keys(page) == {key for _, _, key in row.variants}
    assert {key for _, _, key in row.variants} & shown_keys(visitor.get("/").get_data(as_text=True))
    [image] = visitor.get(f"/api/v1/products/{product_id}").get_json()["images"]
    assert [v["width"] for v in image["variants"]] == [320, 640, 900]
    edit = client.get(f"/seller/listings/{product_id}/edit").get_data(as_text=True)
    assert "photo-processing" not in edit


def test_running_the_task_twice_acts_once(app, shop):
    client, product_id = shop
    upload(client, product_id, jpeg((700, 500)))
    [row] = rows(product_id)
    assert run_waiting_tasks() == 1
    [ready] = rows(product_id)
    files, version = media_files(app), catalog_version()

    tasks.make_photo_variants.call_local(row.id)  # a retry, or a second worker
    assert photos.make_variants(row.id) == photos.NOTHING

    [again] = rows(product_id)
    assert (again.status, again.variants, again.attempts) == (
        PhotoStatus.READY,
        ready.variants,
        1,
    )
    assert media_files(app) == files
    assert catalog_version() == version  # nothing the shop shows changed


def test_a_worker_killed_after_the_photo_was_ready_is_finished_by_the_next_run(
    app, shop, monkeypatch
):
    client, product_id = shop
    upload(client, product_id, jpeg((700, 500)))
    [row] = rows(product_id)
    original = row.original_key
    # The worker dies between marking the photo ready and removing its original.
    monkeypatch.setattr(photos, "_drop_original", lambda *args: None)
    assert run_waiting_tasks() == 1
    monkeypatch.undo()
    [ready] = rows(product_id)
    assert ready.status == PhotoStatus.READY and ready.original_key == original
    assert original in media_files(app)

    # The sweep finds it once it is old enough, and the run it sends finishes the work.
    uploaded_long_ago()
    version = catalog_version()
    assert tasks.resubmit_stuck_photos.call_local() == 1
    assert run_waiting_tasks() == 1

    [done] = rows(product_id)
    assert done.original_key is None and done.variants == ready.variants
    assert media_files(app) == {key for _, _, key in done.variants}
    assert catalog_version() == version
    assert tasks.resubmit_stuck_photos.call_local() == 0


def test_a_picture_that_fails_the_full_decode_ends_failed_with_its_reason(app, shop):
    client, product_id = shop
    upload(client, product_id, jpeg((400, 300)), truncated_jpeg())
    assert [row.status for row in rows(product_id)] == [PhotoStatus.PROCESSING] * 2

    assert run_waiting_tasks() == 2

    good, bad = rows(product_id)
    assert good.status == PhotoStatus.READY
    assert (bad.status, bad.failure, bad.variants, bad.original_key) == (
        PhotoStatus.FAILED,
        "corrupt",
        [],
        None,
    )
    assert media_files(app) == {key for _, _, key in good.variants}  # its original is gone
    page = client.get(f"/seller/listings/{product_id}/edit").get_data(as_text=True)
    assert message("corrupt") in unescape(page)
    publish(client, product_id)
    assert shown_keys(app.test_client().get(f"/p/{product_id}").get_data(as_text=True)) == {
        key for _, _, key in good.variants
    }

    # The seller deletes it (a published listing keeps its one good photo).
    response = client.post(
        f"/seller/listings/{product_id}/photos/{bad.id}/delete", follow_redirects=True
    )
    assert flashes(response) == []
    assert [row.id for row in rows(product_id)] == [good.id]
    # The last good photo of a published listing still cannot go.
    response = client.post(
        f"/seller/listings/{product_id}/photos/{good.id}/delete", follow_redirects=True
    )
    assert message("last_photo_of_published") in flashes(response)


def test_a_published_listing_whose_only_photo_failed_may_delete_it(app, shop):
    client, product_id = shop
    upload(client, product_id, truncated_jpeg())
    publish(client, product_id)
    run_waiting_tasks()
    [bad] = rows(product_id)
    assert bad.status == PhotoStatus.FAILED

    response = client.post(
        f"/seller/listings/{product_id}/photos/{bad.id}/delete", follow_redirects=True
    )

    assert flashes(response) == []
    assert rows(product_id) == []


def test_a_photo_that_keeps_failing_its_runs_is_given_up(app, shop):
    client, product_id = shop
    upload(client, product_id, jpeg())
    [row] = rows(product_id)
    db.session.execute(sa.update(ProductImage).values(attempts=photos.MAX_ATTEMPTS))
    db.session.commit()

    assert photos.make_variants(row.id) == photos.FAILED

    [failed] = rows(product_id)
    assert (failed.status, failed.failure) == (PhotoStatus.FAILED, photos.NOT_PROCESSED)
    assert media_files(app) == set()
    page = client.get(f"/seller/listings/{product_id}/edit").get_data(as_text=True)
    assert message("not_processed") in unescape(page)


def test_the_sweep_hands_a_photo_whose_task_was_lost_to_the_worker(app, shop, monkeypatch):
    client, product_id = shop

    def broker_down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("the queue cannot be reached")

    monkeypatch.setattr(jobs.queue.storage, "enqueue", broker_down)
    response = upload(client, product_id, jpeg((500, 400)), follow_redirects=True)
    monkeypatch.undo()

    assert flashes(response, "success") == ["1 photo(s) added."]  # the upload is kept
    [row] = rows(product_id)
    assert row.status == PhotoStatus.PROCESSING and jobs.pending() == 0
    assert tasks.resubmit_stuck_photos.call_local() == 0  # too recent: its task may be on its way

    uploaded_long_ago()
    assert photos.owed_photos() == [row.id]
    assert tasks.resubmit_stuck_photos.call_local() == 1
    assert jobs.pending() == 1
    assert run_waiting_tasks() == 1

    [ready] = rows(product_id)
    assert ready.status == PhotoStatus.READY
    assert photos.owed_photos() == []


def test_a_photo_deleted_before_its_task_runs_leaves_no_files(app, shop):
    client, product_id = shop
    upload(client, product_id, jpeg((600, 400)))
    [row] = rows(product_id)
    assert len(media_files(app)) == 1

    response = client.post(
        f"/seller/listings/{product_id}/photos/{row.id}/delete", follow_redirects=True
    )
    assert flashes(response) == []
    assert rows(product_id) == [] and media_files(app) == set()

    assert run_waiting_tasks() == 1
    assert photos.make_variants(row.id) == photos.GONE
    assert media_files(app) == set()


def test_a_photo_deleted_while_its_variants_are_made_leaves_no_files(app, shop, monkeypatch):
    client, product_id = shop
    upload(client, product_id, jpeg((600, 400)))
    [row] = rows(product_id)
    image_id, original = row.id, row.original_key
    real = photos.process_image
    written: list[str] = []

    def deleted_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        stored = real(*args, **kwargs)  # the variants are written...
        written.extend(stored.keys)
        with db.engine.begin() as conn:  # ...and the seller deletes the photo meanwhile
            conn.execute(sa.delete(ProductImage).where(ProductImage.id == image_id))
        return stored

    monkeypatch.setattr(photos, "process_image", deleted_meanwhile)

    assert photos.make_variants(image_id) == photos.GONE
    # The variants this run wrote are removed again; the original is the deletion's to remove
    # (the route removes it after its commit), so here only it remains.
    assert written and media_files(app) == {original}


def test_photos_still_processing_count_toward_the_limit(app, shop):
    client, product_id = shop
    bodies = [jpeg(colour=(20 * n, 90, 200)) for n in range(MAX_IMAGES + 1)]

    response = upload(client, product_id, *bodies, follow_redirects=True)

    assert message("too_many_photos") in flashes(response)
    assert len(rows(product_id)) == MAX_IMAGES
    assert all(row.status == PhotoStatus.PROCESSING for row in rows(product_id))
    page = client.get(f"/seller/listings/{product_id}/edit").get_data(as_text=True)
    assert 'name="photos"' not in page


def test_identical_uploads_share_one_original_until_the_last_is_ready(app, shop):
    client, product_id = shop
    picture = jpeg((500, 400))
    upload(client, product_id, picture)
    upload(client, product_id, picture)
    first, second = rows(product_id)
    original = first.original_key
    assert original and second.original_key == original
    assert media_files(app) == {original}

    task = jobs.queue.dequeue()
    jobs.queue.execute(task)  # the first photo's run: the second still needs the original
    assert [row.status for row in rows(product_id)] == [PhotoStatus.READY, PhotoStatus.PROCESSING]
    assert original in media_files(app)

    assert run_waiting_tasks() == 1
    done = rows(product_id)
    assert [row.status for row in done] == [PhotoStatus.READY] * 2
    assert media_files(app) == {key for _, _, key in done[0].variants}


class DeleteRacingStorage(LocalStorage):
    """The media directory, where an identical upload records its photo row just as this run
    deletes the original they share (the upload found the file present, so wrote nothing)."""

    def __init__(self, root: str, on_delete) -> None:  # type: ignore[no-untyped-def]
        super().__init__(root, fsync=False)
        self.on_delete = on_delete

    def delete(self, key: str) -> None:
        super().delete(key)
        hook, self.on_delete = self.on_delete, None
        if hook:
            hook(key)


def test_an_original_deleted_as_an_identical_upload_is_saved_is_put_back(app, shop):
    client, product_id = shop
    picture = jpeg((500, 400))
    upload(client, product_id, picture)
    [row] = rows(product_id)
    image_id, original = row.id, row.original_key

    def identical_upload_saved(key: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(
                sa.insert(ProductImage).values(
                    product_id=product_id,
                    position=1,
                    storage_key="",
                    variants=[],
                    width=500,
                    height=400,
                    alt_text="",
                    status=PhotoStatus.PROCESSING,
                    original_key=key,
                    attempts=0,
                    created_at=utcnow(),
                )
            )

    store = DeleteRacingStorage(app.config["MEDIA_DIR"], identical_upload_saved)
    assert photos.make_variants(image_id, store) == photos.READY

    first, twin = rows(product_id)
    assert first.status == PhotoStatus.READY and first.original_key is None
    assert twin.original_key == original
    assert (Path(app.config["MEDIA_DIR"]) / original).read_bytes() == picture  # put back
    assert photos.make_variants(twin.id) == photos.READY
    assert original not in media_files(app)
