"""The weekly early-warning digest: each county officer hears how many of their county's sellers
and orders need a hand (:mod:`app.program.warnings`), with a link to the lists, by the channels of
``warning.digest``. Sent by the job scheduler every Saturday morning (the week's first day in
Iran) and by ``flask reports warning-digest``."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

import sqlalchemy as sa
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from huey import crontab

from app.accounts.models import Role, User
from app.catalog.models import StaffScope
from app.catalog.scope import Scope
from app.core.extensions import db
from app.core.formatting import format_number
from app.core.links import site_url_for
from app.core.timeutil import utcnow
from app.jobs import in_app, queue
from app.notifications import events, mail, sms
from app.notifications.orders import mobile_or_none
from app.program import warnings
from app.reference.models import County

log = logging.getLogger(__name__)


@queue.periodic_task(crontab(day_of_week="6", hour="4", minute="30"))
@in_app
def weekly_warning_digests() -> None:
    """Every Saturday 04:30 UTC (08:00 in Tehran), the first morning of the Iranian week."""
    send_warning_digests()
    log.info("job: early-warning digests sent")


def send_warning_digests(now: datetime | None = None) -> None:
    """Write and send every county officer's digest. Never raises: failures are logged."""
    events.dispatch(
        "warning_digest",
        partial(_write, now or utcnow()),
        "write the weekly early-warning digests",
    )


def _write(now: datetime, batch: events.Batch) -> None:
    officers = db.session.execute(
        sa.select(User, County)
        .join(StaffScope, StaffScope.user_id == User.id)
        .join(County, County.id == StaffScope.county_id)
        .where(User.role == Role.STAFF, User.active.is_(True))
        .order_by(User.id)
    ).all()
    for officer, county in officers:
        report = warnings.early_warnings(county.id, now, Scope(county_id=county.id))
        batch.add(
            "warning.digest",
            events.STAFF,
            officer,
            email=partial(_message, officer, county, report),
            text=partial(_text, officer, county, report),
            notice=partial(_notice, officer, county, report),
            number=mobile_or_none(officer.mobile),
        )


def _counts(report: warnings.Warnings) -> dict[str, int]:
    return {one.key: one.total for one in report.lists}


def _subject(county: County, report: warnings.Warnings, locale: str) -> str:
    return _(
        "Early warning for %(county)s: %(count)s to follow up this week",
        county=county.name(locale),
        count=format_number(report.total, locale),
    )


def _summary(report: warnings.Warnings, locale: str) -> str:
    n = _counts(report)
    return _(
        "Sellers approved with nothing listed: %(idle)s. Listings that never sold: %(unsold)s. "
        "Sold out listings: %(sold_out)s. Orders waiting for their seller: %(late)s. Problems "
        "unanswered: %(problems)s.",
        idle=format_number(n["idle_sellers"], locale),
        unsold=format_number(n["unsold_listings"], locale),
        sold_out=format_number(n["sold_out"], locale),
        late=format_number(n["late_orders"], locale),
        problems=format_number(n["unanswered_problems"], locale),
    )


def _link(county: County) -> str:
    return site_url_for("admin.early_warnings", county=county.id)


def _message(officer: User, county: County, report: warnings.Warnings) -> mail.Outgoing:
    locale = mail.recipient_locale(officer)
    with force_locale(locale), mail.link_context():
        subject = _subject(county, report, locale)
        context = {
            "kind": "warning_digest",
            "recipient": officer,
            "subject": subject,
            "intro": _summary(report, locale),
            "changes": [],
            "site_link": site_url_for("shop.home"),
            "action_link": _link(county),
            "action_text": _("Open the lists"),
            "note": None,
        }
        return mail.compose(officer, locale, subject, "account_notice", context)


def _text(officer: User, county: County, report: warnings.Warnings, number: str) -> sms.Outgoing:
    locale = mail.recipient_locale(officer)
    with force_locale(locale), mail.link_context():
        context = {"subject": _subject(county, report, locale), "link": _link(county)}
        return sms.compose(officer.id, number, locale, "notice", context)


def _notice(officer: User, county: County, report: warnings.Warnings) -> tuple[str, str]:
    locale = mail.recipient_locale(officer)
    with force_locale(locale), mail.link_context():
        return (
            _subject(county, report, locale),
            url_for("admin.early_warnings", county=county.id),
        )
