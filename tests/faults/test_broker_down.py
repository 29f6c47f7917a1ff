"""The job queue's broker (Redis) down: the market keeps taking photos and orders, and the work
they leave for the job worker (the search index, the e-mails) is done once the broker is back.

gunicorn runs with ``JOBS_BACKEND=redis`` on a private ``redis-server`` that the test stops (it
keeps nothing on disk, so whatever it held would be lost too). While it is down a seller uploads
a photo and a customer checks out: both are accepted, the enqueues fail with a logged warning,
and the work stays recorded in the database (the product is search-dirty, the e-mails are stored
unsent). The broker comes back, the scheduled sweeps run (here enqueued by hand, as the
scheduler does when they are due, once the e-mails are old enough for the mail sweep), and a
job worker does all of it: the product is indexed, every e-mail is sent once, and the photo is
on the listing.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.catalog.models import Product, ProductImage
from app.core.extensions import db
from app.notifications.models import OutgoingMail
from app.notifications.outbox import sent_mail
from app.orders.models import Order
from tests import factories
from tests.conftest import DATABASE_URL
from tests.faults.services import PrivateRedis, job_worker, private_redis
from tests.helpers import jpeg
from tests.live_server import (
    Browser,
    Server,
    count,
    customers,
    fresh,
    log_in,
    placed,
    post_checkout,
    put_in_cart,
)

pytestmark = pytest.mark.slow

SETTINGS = {"SEARCH_SYNC_ON_REQUEST": True}  # a catalogue change enqueues the index's task


@pytest.fixture(scope="module")
def broker() -> Iterator[PrivateRedis]:
    with private_redis() as redis:
        yield redis


@pytest.fixture(scope="module")
def server_env(broker: PrivateRedis) -> dict[str, str]:
    return {"JOBS_BACKEND": "redis", "JOBS_REDIS_URL": broker.url()}


@pytest.fixture(scope="module")
def server_settings() -> dict[str, Any]:
    return SETTINGS


def worker_env(server: Server, broker: PrivateRedis) -> dict[str, str]:
    """What a job worker beside the web workers gets: the same queue, database and folders."""
    return {
        "JOBS_BACKEND": "redis",
        "JOBS_REDIS_URL": broker.url(),
        "BAZARCHE_TEST_DATABASE_URL": DATABASE_URL,
        "BAZARCHE_TEST_INSTANCE_DIR": str(server.instance),
        "BAZARCHE_INSTANCE": str(server.instance),
        "BAZARCHE_TEST_STRIPE_URL": server.stripe.url,
        "BAZARCHE_TEST_SETTINGS": json.dumps(SETTINGS),
    }


def upload_photo(browser: Browser, product_id: int) -> Any:
    """POST one photo as the listing page's script does; its JSON answer."""
    boundary = secrets.token_hex(16)
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="photos"; filename="bowl.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + jpeg((320, 240))
        + f"\r\n--{boundary}--\r\n".encode()
    )
    reply = browser.request(
        "POST",
        f"/seller/listings/{product_id}/photos",
        body=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Requested-With": "fetch",
        },
    )
    assert 200 <= reply.status < 300, (reply.status, reply.text[:1000])
    return json.loads(reply.text)


def unsent() -> list[OutgoingMail]:
    fresh()
    return list(db.session.scalars(sa.select(OutgoingMail).where(OutgoingMail.sent_at.is_(None))))


def owed_photos(product_id: int) -> int:
    """The listing's photos still waiting for the job worker (their original kept)."""
    fresh()
    return len(
        db.session.scalars(
            sa.select(ProductImage.id).where(
                ProductImage.product_id == product_id, ProductImage.original_key.is_not(None)
            )
        ).all()
    )


def dirty(product_id: int) -> bool:
    fresh()
    return bool(db.session.scalar(sa.select(Product.search_dirty).where(Product.id == product_id)))


def test_with_the_broker_down_photos_and_orders_are_taken_and_the_work_done_when_it_returns(
    live: Server, broker: PrivateRedis, tmp_path: Path
) -> None:
    shop = factories.seller(name="Kalpurgan Pottery")
    bowl = factories.product(shop, title="Clay bowl", stock=5, with_image=False)
    bowl_id = bowl.id
    (mina,) = customers(1)
    put_in_cart(mina, (bowl, 1))
    (seller, buyer) = log_in(live, [shop.user, mina])
    fresh()
    db.session.execute(sa.update(Product).values(search_dirty=False))
    db.session.commit()

    broker.stop()

    answer = upload_photo(seller, bowl_id)
    assert answer["added"] == 1 and not answer["errors"], answer
    result = post_checkout(buyer)
    assert placed(result), result.reply
    assert "job queue unavailable" in live.log()
    assert " 500 " not in live.log()
    # The work is recorded, not done: the product waits to be indexed, the e-mails to be sent.
    fresh()
    assert count(Order) == 1
    assert dirty(bowl_id)
    waiting = unsent()
    assert len(waiting) == 2  # "order placed" to the customer and to the seller
    assert sent_mail(live.mail_dir) == []

    # The photo is kept and waits for its variants (a photo made in the request is ready).
    assert owed_photos(bowl_id) in (0, 1)
    # Minutes pass (the sweeps leave young messages and photos to their own task), the broker
    # returns.
    for row in waiting:
        row.created_at -= timedelta(minutes=10)
    for image in db.session.scalars(
        sa.select(ProductImage).where(ProductImage.product_id == bowl_id)
    ):
        image.created_at -= timedelta(minutes=10)
    db.session.commit()
    broker.start()
    sweeps = (
        "from app.notifications import queued\nqueued.resend_unsent()\n"
        "tasks.sync_search_regularly()\ntasks.resubmit_stuck_photos()"
    )
    with job_worker(worker_env(live, broker), tmp_path / "worker.log", sweeps) as worker:
        deadline = time.monotonic() + 30
        while (unsent() or dirty(bowl_id) or owed_photos(bowl_id)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not unsent() and not dirty(bowl_id) and not owed_photos(bowl_id), worker.output()[
            -5000:
        ]

    # Each e-mail sent once, to whom it was written.
    delivered = sent_mail(live.mail_dir)
    assert sorted(m.to for m in delivered) == sorted(row.to for row in waiting)
    # The photo is on the listing.
    page = buyer.get(f"/p/{bowl_id}")
    pictures = set(re.findall(r'src="(/media/[^"]+)"', page.text))
    assert pictures, page.text[:2000]
    for src in pictures:
        assert buyer.get(src).status == 200
