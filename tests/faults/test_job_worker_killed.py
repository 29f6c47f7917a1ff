"""A job worker killed (SIGKILL) in the middle of a task: Huey had taken the task off the queue,
so it is lost with the process and nothing runs it again by itself; the scheduled sweep that
covers its work (here the mail sweep, :func:`app.notifications.queued.resend_unsent`) enqueues it
again, a new worker runs it, and its effect happens once: one e-mail in the mail folder.

The workers are real processes (``app.jobs.run_worker``) on a SQLite queue file; the first is
held just before it hands the message to the mail backend by the ``TEST_HOLD_MAIL`` hook of
:mod:`tests.concurrency_app`. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app import jobs
from app.core.extensions import db
from app.notifications import mail, queued
from app.notifications.models import OutgoingMail
from app.notifications.outbox import sent_mail
from tests import factories
from tests.conftest import DATABASE_URL, running_app
from tests.faults.services import job_worker

pytestmark = pytest.mark.slow


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    folder = tmp_path / "instance"
    folder.mkdir()
    return folder


@pytest.fixture
def queued_app(tmp_path: Path, instance: Path) -> Iterator[Any]:
    """The test process's app, enqueuing on the workers' queue file."""
    gen = running_app(tmp_path, lambda: None, MAIL_DIR=str(instance / "mail"))
    app = next(gen)
    jobs.queue.storage_kwargs["filename"] = str(instance / "jobs.sqlite3")
    jobs.queue.immediate = False
    try:
        yield app
    finally:
        jobs.queue.flush()
        jobs.queue.immediate = True
        next(gen, None)


def worker_env(instance: Path) -> dict[str, str]:
    return {
        "JOBS_BACKEND": "sqlite",
        "JOBS_SQLITE_PATH": str(instance / "jobs.sqlite3"),
        "BAZARCHE_TEST_DATABASE_URL": DATABASE_URL,
        "BAZARCHE_TEST_INSTANCE_DIR": str(instance),
        "BAZARCHE_INSTANCE": str(instance),
        "BAZARCHE_TEST_SETTINGS": json.dumps({"TEST_HOLD_MAIL": True}),
    }


def the_row(mail_id: int) -> OutgoingMail:
    db.session.rollback()  # what the workers committed
    row = db.session.get(OutgoingMail, mail_id)
    assert row is not None
    db.session.refresh(row)
    return row


def wait_until(check: Any, what: str, worker: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s\n" + worker.output()
        time.sleep(0.1)


def test_a_task_lost_with_its_killed_worker_is_run_again_by_the_sweep_and_acts_once(
    queued_app: Any, instance: Path, tmp_path: Path
) -> None:
    user = factories.user(email="mina@example.com")
    letter = mail.message(user.email, "fa", "سفارش شما ارسال شد", "متن", "<p>متن</p>")
    (instance / "hold-mail").touch()
    mail.send([(user.id, letter)], "order_shipped")  # stored, and its delivery enqueued
    mail_id = db.session.scalar(sa.select(OutgoingMail.id))
    assert mail_id is not None and jobs.pending() == 1

    log = tmp_path / "workers.log"
    with job_worker(worker_env(instance), log) as first:
        wait_until(lambda: list(instance.glob("held-mail-*")), "the task held", first)
        held = next(instance.glob("held-mail-*"))
        assert held.name == f"held-mail-{first.pid}"
        first.kill()  # mid-task: the message was read, not yet handed over
    # The task is gone with the worker: off the queue, the message neither sent nor tried.
    assert jobs.pending() == 0 and jobs.scheduled() == 0
    row = the_row(mail_id)
    assert row.sent_at is None and row.attempts == 0
    assert sent_mail(instance / "mail") == []

    with job_worker(worker_env(instance), log) as second:
        time.sleep(2)  # a new worker alone does not bring the task back
        assert the_row(mail_id).sent_at is None
        # Minutes later the schedule runs the mail sweep (enqueued here as the scheduler does).
        row.created_at -= timedelta(minutes=10)
        db.session.commit()
        queued.resend_unsent()
        wait_until(lambda: the_row(mail_id).sent_at is not None, "the e-mail sent", second)

    # The sweep's next run finds nothing lost any more: nothing is sent again.
    assert queued.resend_unsent.call_local() == 0
    assert jobs.pending() == 0
    row = the_row(mail_id)
    assert row.attempts == 1
    [sent] = sent_mail(instance / "mail")
    assert sent.to == "mina@example.com" and "سفارش شما ارسال شد" in sent.subject
