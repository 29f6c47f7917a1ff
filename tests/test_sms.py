"""The SMS channel: Kavenegar's HTTP API (against a local fake of it), the file backend and its
development page, texts in the recipient's language, and the outbox's retries."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app import jobs
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.notifications import queued as outbox_queue
from app.notifications import sms, sms_gateway
from app.notifications.models import OutgoingSms
from app.notifications.sms_gateway import FileSms, KavenegarSms, SmsFailed, written_sms
from tests import factories
from tests.conftest import make_app
from tests.fake_kavenegar import API_KEY, SENDER, FakeKavenegar, fake_kavenegar  # noqa: F401
from tests.test_jobs import queued, run_waiting_tasks  # noqa: F401 (fixture)


def kavenegar(fake: FakeKavenegar, timeout: float = 2.0) -> KavenegarSms:
    return KavenegarSms(api_key=API_KEY, sender=SENDER, base_url=fake.url, timeout=timeout)


@pytest.fixture
def on_kavenegar(app, fake_kavenegar):  # type: ignore[no-untyped-def]  # noqa: F811
    app.config.update(
        SMS_BACKEND="kavenegar",
        KAVENEGAR_API_KEY=API_KEY,
        KAVENEGAR_SENDER=SENDER,
        KAVENEGAR_URL=fake_kavenegar.url,
        SMS_TIMEOUT=2,
    )
    return fake_kavenegar


# --- the provider ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["۰۹۱۲۱۲۳۴۵۶۷", "+98 912 123 4567", "0098-912-1234567", "9121234567"]
)
def test_a_text_goes_to_the_normalised_number(fake_kavenegar, typed):  # noqa: F811
    message_id = kavenegar(fake_kavenegar).send(typed, "بازارچه: سفارش ۱۲ ارسال شد.")
    assert message_id == "8792343"
    assert fake_kavenegar.sent == [
        {"receptor": "09121234567", "message": "بازارچه: سفارش ۱۲ ارسال شد.", "sender": SENDER}
    ]


def test_no_call_is_made_for_a_number_that_is_no_mobile(fake_kavenegar):  # noqa: F811
    with pytest.raises(SmsFailed) as failed:
        kavenegar(fake_kavenegar).send("02112345678", "متن")
    assert failed.value.code == "invalid_number" and not failed.value.retry
    assert fake_kavenegar.calls == 0


@pytest.mark.parametrize(
    ("status", "retry"),
    [(411, False), (413, False), (422, False), (409, True), (418, True), (451, True), (500, True)],
)
def test_the_providers_errors_say_whether_to_try_again(fake_kavenegar, status, retry):  # noqa: F811
    fake_kavenegar.errors = [status]
    with pytest.raises(SmsFailed) as failed:
        kavenegar(fake_kavenegar).send("09121234567", "متن")
    assert failed.value.code == str(status) and failed.value.retry is retry
    assert fake_kavenegar.sent == []


def test_a_wrong_api_key_is_not_tried_again(fake_kavenegar):  # noqa: F811
    wrong = KavenegarSms(api_key="not-ours", sender=SENDER, base_url=fake_kavenegar.url)
    with pytest.raises(SmsFailed) as failed:
        wrong.send("09121234567", "متن")
    assert failed.value.code == "403" and not failed.value.retry


def test_a_slow_provider_times_out_and_may_be_tried_again(fake_kavenegar):  # noqa: F811
    fake_kavenegar.delay = 1.0
    with pytest.raises(SmsFailed) as failed:
        kavenegar(fake_kavenegar, timeout=0.2).send("09121234567", "متن")
    assert failed.value.code == "timeout" and failed.value.retry


def test_an_answer_that_is_not_the_providers_json_may_be_tried_again(fake_kavenegar):  # noqa: F811
    fake_kavenegar.garbage = True
    with pytest.raises(SmsFailed) as failed:
        kavenegar(fake_kavenegar).send("09121234567", "متن")
    assert failed.value.code == "bad_answer" and failed.value.retry


def test_a_provider_that_cannot_be_reached_may_be_tried_again():
    fake = FakeKavenegar().start()
    fake.stop()  # the port is closed now
    with pytest.raises(SmsFailed) as failed:
        kavenegar(fake).send("09121234567", "متن")
    assert failed.value.code == "connection" and failed.value.retry


def test_settings_that_cannot_work_stop_the_app_at_start(tmp_path: Path):
    with pytest.raises(RuntimeError, match="SMS_BACKEND"):
        make_app(tmp_path, SMS_BACKEND="pigeon")
    with pytest.raises(RuntimeError, match="KAVENEGAR_API_KEY"):
        make_app(tmp_path, SMS_BACKEND="kavenegar", KAVENEGAR_API_KEY="")
    with pytest.raises(RuntimeError, match="KAVENEGAR_URL"):
        make_app(
            tmp_path,
            SMS_BACKEND="kavenegar",
            KAVENEGAR_API_KEY=API_KEY,
            KAVENEGAR_URL="file:///etc/passwd",
        )


# --- the file backend and its page -------------------------------------------------------------


def test_the_file_backend_writes_each_text_and_reads_them_back_newest_first(tmp_path: Path):
    backend = FileSms(tmp_path / "sms")
    backend.send("۰۹۱۲۱۲۳۴۵۶۷", "اول")
    backend.send("09351234567", "دوم")
    (tmp_path / "sms" / "broken.json").write_text("{not json", encoding="utf-8")
    assert [(m.to, m.text) for m in written_sms(tmp_path / "sms")] == [
        ("09351234567", "دوم"),
        ("09121234567", "اول"),
    ]
    assert not list((tmp_path / "sms").glob(".*.part"))


def test_the_development_page_lists_the_texts_in_debug_mode_only(tmp_path: Path, client):
    assert client.get("/dev/sms").status_code == 404
    app = make_app(tmp_path, DEBUG=True)
    with app.app_context():
        sms_gateway.backend().send("09121234567", "بازارچه: کد شما ۴۸۲۹۱۷ است.")
        page = app.test_client()
        html = page.get("/dev/sms").get_data(as_text=True)
        assert "بازارچه: کد شما ۴۸۲۹۱۷ است." in html and "۰۹۱۲۱۲۳۴۵۶۷" in html
        db.session.remove()
        db.engine.dispose()


def test_the_development_page_says_when_there_is_nothing(tmp_path: Path):
    app = make_app(tmp_path, DEBUG=True)
    with app.app_context():
        page = app.test_client()
        page.set_cookie("locale", "en")
        assert "No text message has been written yet." in page.get("/dev/sms").get_data(
            as_text=True
        )
        db.session.remove()
        db.engine.dispose()


# --- the channel -----------------------------------------------------------------------------


def test_a_text_is_in_its_recipients_language_with_its_digits(app):
    with force_locale("fa"):
        _id, number, locale, persian = sms.compose(
            None,
            "09121234567",
            "fa",
            "login_code",
            {
                "code": "482917",
                "minutes": 2,
            },
        )
    with force_locale("en"):
        english = sms.compose(
            None,
            "09121234567",
            "en",
            "login_code",
            {
                "code": "482917",
                "minutes": 2,
            },
        )[3]
    assert (number, locale) == ("09121234567", "fa")
    assert "۴۸۲۹۱۷" in persian and "۲" in persian and "482917" not in persian
    assert "482917" in english and "2 minutes" in english


def test_in_immediate_mode_a_text_is_sent_at_once_and_a_failure_is_only_logged(
    app, on_kavenegar, caplog
):
    user = factories.user(email="mina@example.com")
    sms.send([(user.id, "09121234567", "fa", "اول")], "test")
    assert [m["message"] for m in on_kavenegar.sent] == ["اول"]

    on_kavenegar.errors = [500]
    sms.send([(user.id, "09121234567", "fa", "دوم"), (user.id, "09121234567", "fa", "سوم")], "t")
    assert [m["message"] for m in on_kavenegar.sent] == ["اول", "سوم"]  # one failure, not all
    assert "could not send the 't' text" in caplog.text
    assert db.session.scalar(sa.select(sa.func.count(OutgoingSms.id))) == 0


def _stored() -> list[OutgoingSms]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutgoingSms).order_by(OutgoingSms.id)))


@pytest.mark.usefixtures("queued")
def test_with_a_worker_texts_go_through_the_outbox_and_are_tried_again(app, on_kavenegar):
    user = factories.user(email="mina@example.com")
    on_kavenegar.errors = [500]
    sms.send([(user.id, "۰۹۱۲۱۲۳۴۵۶۷", "fa", "سفارش ۱۲ ارسال شد")], "order_shipped")
    [row] = _stored()
    assert row.sent_at is None and row.kind == "order_shipped" and on_kavenegar.calls == 0

    assert run_waiting_tasks() == 1  # the provider fails: counted, kept, tried later
    [row] = _stored()
    assert row.attempts == 1 and row.sent_at is None and "500" in (row.last_error or "")
    assert jobs.scheduled() == 1

    assert outbox_queue.deliver_sms.call_local(row.id) is True  # the retry
    [row] = _stored()
    assert row.sent_at is not None and row.provider_id == "8792343" and row.attempts == 2
    assert outbox_queue.deliver_sms.call_local(row.id) is False  # sent once, whatever runs again
    assert len(on_kavenegar.sent) == 1


@pytest.mark.usefixtures("queued")
def test_a_text_the_provider_refuses_for_good_is_given_up_at_once(app, on_kavenegar):
    on_kavenegar.errors = [411]  # a number the provider does not serve
    sms.send([(None, "09121234567", "fa", "متن")], "login_code")
    assert run_waiting_tasks() == 1
    [row] = _stored()
    assert row.failed_at is not None and row.sent_at is None and row.attempts == 1
    assert jobs.scheduled() == 0  # no retry waits
    assert outbox_queue.deliver_sms.call_local(row.id) is False and on_kavenegar.calls == 1


@pytest.mark.usefixtures("queued")
def test_the_sweep_enqueues_again_only_texts_whose_task_was_lost(app, on_kavenegar):
    now = utcnow()

    def stored(minutes_ago: int, attempts: int = 0, sent: bool = False, failed: bool = False):
        row = OutgoingSms(
            kind="order_shipped",
            to="09121234567",
            locale="fa",
            text=f"{minutes_ago}-{attempts}-{sent}-{failed}",
            attempts=attempts,
            sent_at=now if sent else None,
            failed_at=now if failed else None,
            created_at=now - timedelta(minutes=minutes_ago),
        )
        db.session.add(row)
        db.session.commit()
        return row.text

    lost = [stored(6), stored(61, attempts=2)]
    for kept in (stored(1), stored(30, attempts=1), stored(61, sent=True, attempts=1)):
        assert kept
    stored(61, attempts=1, failed=True)
    assert outbox_queue.resend_unsent.call_local() == 2
    run_waiting_tasks()
    assert sorted(m["message"] for m in on_kavenegar.sent) == sorted(lost)
