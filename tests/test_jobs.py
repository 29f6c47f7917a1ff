"""The job queue: a catalogue change made in a request is indexed by a task the worker runs
(queued mode) or at once (immediate mode); tasks run inside the app and act once however often
they run; the schedule names the market's housekeeping; the worker command explains itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import jobs
from app.catalog import indexing
from app.catalog.models import Product
from app.core.extensions import db
from app.jobs import tasks
from app.search import SearchQuery
from tests import factories
from tests.conftest import running_app

EDIT = {
    "title": "گلدان سفالی کلپورگان",
    "description": "",
    "price_toman": "50000",
    "stock": "3",
    "status": "published",
}


@pytest.fixture
def synced_app(tmp_path: Path) -> Iterator:
    """An app that indexes after every request that changed the catalogue (as in production)."""
    yield from running_app(tmp_path, lambda: None, SEARCH_SYNC_ON_REQUEST=True)


@pytest.fixture
def queued(tmp_path: Path) -> Iterator[None]:
    """The job queue in queued mode, on a queue file of this test's own."""
    jobs.queue.storage_kwargs["filename"] = str(tmp_path / "jobs.sqlite3")
    jobs.queue.immediate = False
    try:
        yield
    finally:
        jobs.queue.flush()
        jobs.queue.immediate = True


def found(text: str) -> list[int]:
    return indexing.backend().search(SearchQuery(text=text, per_page=100)).ids


def dirty(product_id: int) -> bool:
    db.session.rollback()  # a new snapshot: the task committed in a session of its own
    return bool(db.session.scalar(sa.select(Product.search_dirty).where(Product.id == product_id)))


def edit_listing(app, product: Product) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    factories.login(client, product.seller.user.email)
    response = client.post(
        f"/seller/listings/{product.id}/edit", data={**EDIT, "category_id": product.category_id}
    )
    assert response.status_code == 302


def run_waiting_tasks() -> int:
    """What the worker does: take each waiting task and run it; how many ran."""
    ran = 0
    while (task := jobs.queue.dequeue()) is not None:
        jobs.queue.execute(task)
        ran += 1
    return ran


def test_a_change_is_indexed_by_the_worker_once_it_runs_the_task(synced_app, queued) -> None:
    product = factories.product(title="کوزهٔ سفالی")
    indexing.reindex()
    edit_listing(synced_app, product)

    # The request only enqueued the work: the product waits, dirty, for the worker.
    assert jobs.pending() >= 1
    assert dirty(product.id) and found("کلپورگان") == []

    assert run_waiting_tasks() >= 1
    assert jobs.pending() == 0
    assert not dirty(product.id) and found("کلپورگان") == [product.id]
    # Running the task again (a retry, a second worker) changes nothing.
    assert tasks.sync_search.call_local() == (0, 0)
    assert indexing.verify() == {"missing": [], "extra": [], "stale": []}


def test_in_immediate_mode_the_request_indexes_at_once(synced_app) -> None:
    assert jobs.queue.immediate
    product = factories.product(title="کوزهٔ سفالی")
    indexing.reindex()
    edit_listing(synced_app, product)
    assert jobs.pending() == 0
    assert not dirty(product.id) and found("کلپورگان") == [product.id]


def test_a_task_runs_inside_the_app_even_where_no_request_is(synced_app, queued) -> None:
    product = factories.product(title="کوزهٔ سفالی")
    db.session.execute(sa.update(Product).values(search_dirty=True))
    db.session.commit()
    tasks.sync_search()  # enqueued from outside any request, as a command would
    with synced_app.app_context():
        db.session.remove()
    assert run_waiting_tasks() == 1
    assert not dirty(product.id)


def test_the_schedule_holds_the_markets_housekeeping() -> None:
    def due(hour: int, minute: int) -> set[str]:
        moment = datetime(2026, 12, 5, hour, minute, tzinfo=UTC).replace(tzinfo=None)
        return {task.name for task in jobs.queue.read_periodic(moment)}

    every_5 = {"expire_unpaid_checkouts", "resend_unsent", "resubmit_stuck_photos"}
    assert due(0, 0) == every_5 | {"reconcile_payments", "sync_search_regularly"}
    assert due(0, 30) == every_5 | {
        "reconcile_payments",
        "sync_search_regularly",
        "verify_sales_summaries",
    }
    assert due(3, 7) == {"complete_due_orders"}
    assert due(3, 5) == every_5
    assert due(3, 50) == every_5 | {"sync_search_regularly"}
    assert due(3, 23) == {"sweep_staged_photos"}
    assert due(20, 2) == {"reindex_price_boundaries"}


def test_the_scheduled_jobs_run_in_the_app_and_act_once(synced_app) -> None:
    # With nothing due they find nothing; run twice, they still find nothing.
    for _ in range(2):
        assert tasks.expire_unpaid_checkouts.call_local() == 0
        assert tasks.complete_due_orders.call_local() == 0
        assert tasks.reconcile_payments.call_local() == {}
        assert tasks.verify_sales_summaries.call_local() == 0
        assert tasks.resubmit_stuck_photos.call_local() == 0
        assert tasks.sweep_staged_photos.call_local() == 0


def test_the_worker_command_explains_immediate_mode(synced_app) -> None:
    runner = synced_app.test_cli_runner()
    result = runner.invoke(args=["jobs", "worker"])
    assert result.exit_code != 0 and "JOBS_BACKEND=immediate" in result.output
    status = runner.invoke(args=["jobs", "status"])
    assert status.exit_code == 0 and "waiting: 0" in status.output


@jobs.queue.task(retries=1, retry_delay=60)
def failing_task() -> None:
    raise RuntimeError("the gateway did not answer")


def test_failed_runs_are_recorded_and_shown_to_staff(synced_app, queued) -> None:
    from app.accounts.models import Role
    from app.jobs.models import JobFailure

    failing_task()
    run_waiting_tasks()
    db.session.rollback()
    rows = db.session.scalars(sa.select(JobFailure)).all()
    assert [(r.task, r.retrying) for r in rows] == [("failing_task", True)]
    assert "RuntimeError: the gateway did not answer" in rows[0].error
    assert jobs.scheduled() == 1  # its retry waits a minute

    staff = factories.user(role=Role.STAFF, email="staff@example.com")
    client = synced_app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, staff.email)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "the gateway did not answer" in page and "failing_task" in page


def test_the_staff_page_says_when_tasks_run_in_place(synced_app) -> None:
    from app.accounts.models import Role

    staff = factories.user(role=Role.STAFF, email="staff@example.com")
    client = synced_app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, staff.email)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "No task has failed." in page and "JOBS_BACKEND=immediate" in page


def test_a_worker_process_runs_what_the_web_side_enqueued(tmp_path: Path) -> None:
    """A real ``flask jobs worker`` style process on a SQLite queue file, as a second machine
    (or process) would run it, picks up the task the test enqueued and indexes the product."""
    import os
    import subprocess
    import sys
    import time

    from tests.conftest import DATABASE_URL

    instance = tmp_path / "instance"
    queue_file = instance / "jobs.sqlite3"
    log_path = tmp_path / "worker.log"
    instance.mkdir()
    gen = running_app(tmp_path, lambda: None, SEARCH_INDEX_DIR=str(instance / "search"))
    next(gen)
    worker = None
    try:
        product = factories.product(title="کوزهٔ سفالی")
        indexing.reindex()
        db.session.execute(sa.update(Product).values(title="گلدان کلپورگان", search_dirty=True))
        db.session.commit()

        env = {
            **os.environ,
            "JOBS_BACKEND": "sqlite",
            "JOBS_SQLITE_PATH": str(queue_file),
            "BAZARCHE_TEST_DATABASE_URL": DATABASE_URL,
            "BAZARCHE_TEST_INSTANCE_DIR": str(instance),
            "BAZARCHE_INSTANCE": str(instance),
        }
        code = (
            "from tests.concurrency_app import build; from app import jobs; "
            "jobs.run_worker(build(), workers=1, periodic=False)"
        )
        with open(log_path, "wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-c", code],
                cwd=Path(__file__).resolve().parents[1],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        jobs.queue.storage_kwargs["filename"] = str(queue_file)
        jobs.queue.immediate = False
        tasks.sync_search()
        deadline = time.monotonic() + 30
        while dirty(product.id) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not dirty(product.id), log_path.read_text(errors="replace")
        assert found("کلپورگان") == [product.id]
        assert jobs.pending() == 0
    finally:
        jobs.queue.immediate = True
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=15)
        next(gen, None)


def _letter(app, user):  # type: ignore[no-untyped-def]
    from app.notifications import mail

    return (user.id, mail.message(user.email, "fa", "سفارش شما ارسال شد", "متن", "<p>متن</p>"))


def test_mail_goes_through_the_outbox_to_the_worker(synced_app, queued) -> None:
    from app.notifications import mail
    from app.notifications.models import OutgoingMail
    from app.notifications.outbox import sent_mail

    user = factories.user(email="mina@example.com")
    mail.send([_letter(synced_app, user)], "order_shipped")
    db.session.rollback()
    row = db.session.scalars(sa.select(OutgoingMail)).one()
    assert row.sent_at is None and row.to == "mina@example.com" and row.locale == "fa"
    assert sent_mail(synced_app.config["MAIL_DIR"]) == []  # nothing left the market yet

    assert run_waiting_tasks() == 1
    db.session.rollback()
    row = db.session.get(OutgoingMail, row.id)
    assert row.sent_at is not None and row.attempts == 1
    [sent] = sent_mail(synced_app.config["MAIL_DIR"])
    assert sent.to == "mina@example.com" and "سفارش شما ارسال شد" in sent.subject
    # Delivered once: running the task again sends nothing more.
    assert tasks_deliver(row.id) is False
    assert len(sent_mail(synced_app.config["MAIL_DIR"])) == 1


def tasks_deliver(mail_id: int) -> bool:
    from app.notifications import queued

    return bool(queued.deliver.call_local(mail_id))


def test_a_mail_server_that_fails_is_tried_again_later(synced_app, queued) -> None:
    from app.jobs.models import JobFailure
    from app.notifications import mail
    from app.notifications.models import OutgoingMail

    user = factories.user(email="mina@example.com")
    synced_app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=9)
    synced_app.extensions["mailman"].backend = "smtp"  # nothing listens on port 9
    mail.send([_letter(synced_app, user)], "order_shipped")
    run_waiting_tasks()
    db.session.rollback()
    row = db.session.scalars(sa.select(OutgoingMail)).one()
    assert row.sent_at is None and row.attempts == 1
    assert "Connection refused" in (row.last_error or "") or "ConnectionRefused" in (
        row.last_error or ""
    ), row.last_error
    assert jobs.scheduled() == 1  # its next try waits
    assert db.session.scalar(sa.select(JobFailure.task)) == "deliver"


def test_the_mail_sweep_enqueues_again_only_messages_whose_task_was_lost(
    synced_app, queued
) -> None:
    """Never tried and stored 5 minutes ago: lost (the broker was down, or a worker died with
    it); tried, not given up and stored an hour ago: its retries were lost. Young messages,
    messages sent and messages given up are left alone; delivery then sends each once."""
    from datetime import timedelta

    from app.core.timeutil import utcnow
    from app.notifications import queued as outbox_queue
    from app.notifications.models import OutgoingMail
    from app.notifications.outbox import sent_mail

    user = factories.user(email="mina@example.com")
    now = utcnow()

    def stored(minutes_ago: int, attempts: int = 0, sent: bool = False) -> int:
        row = OutgoingMail(
            kind="order_shipped",
            recipient_id=user.id,
            to=f"m{minutes_ago}-{attempts}-{int(sent)}@example.com",
            locale="fa",
            subject="سفارش شما ارسال شد",
            text="متن",
            html="<p>متن</p>",
            attempts=attempts,
            sent_at=now if sent else None,
            created_at=now - timedelta(minutes=minutes_ago),
        )
        db.session.add(row)
        db.session.commit()
        return row.id

    lost_now = stored(6)
    stored(2)  # its task is surely still on its way
    stored(30, attempts=2)  # its retries are still due
    lost_retries = stored(61, attempts=2)
    stored(120, attempts=outbox_queue.RETRIES + 1)  # given up: staff see it
    stored(120, sent=True)

    assert outbox_queue.resend_unsent.call_local() == 2
    assert jobs.pending() == 2
    assert run_waiting_tasks() == 2
    db.session.rollback()
    assert {
        db.session.get(OutgoingMail, i).sent_at is not None for i in (lost_now, lost_retries)
    } == {True}
    assert len(sent_mail(synced_app.config["MAIL_DIR"])) == 2
    # Nothing is lost any more: the next sweep finds nothing.
    assert outbox_queue.resend_unsent.call_local() == 0
