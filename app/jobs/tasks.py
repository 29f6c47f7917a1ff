"""The market's tasks and scheduled jobs. Each runs inside the app (an app context of its own),
is safe to run twice (the services it calls act once), and logs what it did.

Scheduled (run by ``flask jobs worker``'s scheduler, in UTC):

- every 5 minutes: unpaid online checkouts past their time give their stock back
  (``flask orders expire``);
- every 15 minutes: online payments whose notice never came are asked about
  (``flask payments reconcile``);
- every hour: orders whose receipt window ran out complete (``flask orders complete-due``);
- every 10 minutes: products changed but not yet in the search index are indexed
  (``flask search sync``; a web request enqueues the same right after a change);
- every hour: listings whose price now changed at a market-day boundary (a sale or a market
  campaign started or ended) are marked and indexed (the index's price is the price now);
- every day at 00:30 UTC: the sales summary rows are checked against the orders
  (``flask reports verify``; a difference fails the run, which staff see);
- every 5 minutes (defined in :mod:`app.notifications.queued`): stored e-mails whose delivery
  task was lost (the broker was down, a worker was killed) are enqueued again;
- every 5 minutes: listing photos still owed their variants (or the removal of their original)
  minutes after their upload are handed to the worker again (the queue was down at upload, or a
  worker died meanwhile);
- every hour: photos uploaded on a listing form that no save took within hours are removed
  with their files;
- every hour: the fair-price hints' summary rows are rebuilt from the listings
  (``flask reports price-hints``).

Enqueued by requests: the search sync after a catalogue change, e-mails
(:mod:`app.notifications.queued`) and a seller's photo upload (:func:`make_photo_variants`).

Every task acts on what the database records, never only on what the queue holds: a task lost
(never enqueued because the broker was down, or taken off the queue by a worker that was
killed) is found again by the sweep above that covers its work.
"""

from __future__ import annotations

import logging

from huey import crontab

from app.catalog import campaigns, photos, stock_alerts
from app.catalog.indexing import sync_dirty, sync_quietly
from app.jobs import failures, in_app, queue, submit
from app.orders.completion import complete_due
from app.payments.online import expire_all, reconcile_all
from app.payments.services import PaymentUnavailable
from app.program import price_hints
from app.program.rebuild import verify as verify_summaries

log = logging.getLogger(__name__)


@queue.task(retries=3, retry_delay=30)
@in_app
def sync_search() -> tuple[int, int]:
    """Index the products changed since the last sync (at most one run at a time matters
    little: each product is written once per change)."""
    done = sync_dirty()
    log.info("job: search sync indexed %s, removed %s", *done)
    return done


@queue.task(retries=2, retry_delay=60)
@in_app
def make_photo_variants(image_id: int) -> None:
    """Make an uploaded photo's variants and show it (:func:`app.catalog.photos.make_variants`:
    acts once however often it runs). Returns nothing, so immediate mode keeps no result."""
    done = photos.make_variants(image_id)
    log.info("job: photo %s: %s", image_id, done)
    if done == "ready" and not queue.immediate:
        # The listing changed (its photos): index it now, not at the next scheduled sync (in
        # immediate mode the request that ran this indexes it after its commit).
        sync_quietly()


@queue.periodic_task(crontab(minute="*/5"))
@in_app
def resubmit_stuck_photos() -> int:
    """Hand the worker again every photo still owed work minutes after its upload."""
    owed = photos.owed_photos()
    sent = sum(submit(make_photo_variants, image_id) for image_id in owed)
    if owed:
        log.info("job: %s photos still processing handed to the worker again", sent)
    return sent


@queue.periodic_task(crontab(minute="23"))
@in_app
def sweep_staged_photos() -> int:
    """Remove photos uploaded on a listing form that no save took within hours, with their
    files (:func:`app.catalog.photos.sweep_staged`)."""
    swept = photos.sweep_staged()
    if swept:
        log.info("job: %s photos never saved with a listing removed", swept)
    return swept


@queue.periodic_task(crontab(minute="*/5"))
@in_app
def expire_unpaid_checkouts() -> int:
    expired = expire_all()
    stock_alerts.send_restocked()  # expired orders gave their stock back
    log.info("job: expired %s unpaid online checkouts", expired)
    return expired


@queue.periodic_task(crontab(minute="*/15"))
@in_app
def reconcile_payments() -> dict[str, int]:
    try:
        counts = reconcile_all(15)
    except PaymentUnavailable:
        return {}  # online payments are off: nothing to ask
    stock_alerts.send_restocked()  # checkouts that failed gave their stock back
    log.info("job: reconciled %s", counts or "nothing")
    return counts


@queue.periodic_task(crontab(minute="7"))
@in_app
def complete_due_orders() -> int:
    completed = complete_due()
    log.info("job: completed %s orders whose receipt window ran out", completed)
    return completed


@queue.periodic_task(crontab(minute="*/10"))
@in_app
def sync_search_regularly() -> tuple[int, int]:
    return sync_dirty()


@queue.periodic_task(crontab(minute="41"))
@in_app
def refresh_price_hints() -> int:
    """Rebuild the fair-price hints from the listings (:mod:`app.program.price_hints`)."""
    kept = price_hints.refresh()
    log.info("job: %s price hint rows rebuilt", kept)
    return kept


@queue.periodic_task(crontab(minute="2"))
@in_app
def reindex_price_boundaries() -> tuple[int, int]:
    """Listings whose price now changed at a market-day boundary (a sale or a campaign started
    or ended) are marked and indexed: the index's price field is the price now."""
    marked = campaigns.mark_price_boundaries()
    log.info("job: %s listings changed price at a market-day boundary", marked)
    return sync_dirty() if marked else (0, 0)


class SummariesDisagree(RuntimeError):
    """The sales summary rows do not match the orders (the failure staff see at /admin/jobs)."""


@queue.periodic_task(crontab(hour="0", minute="30"))
@in_app
def verify_sales_summaries() -> int:
    """Check the sales summary rows against the orders once a day (``flask reports verify``);
    a difference fails the run, so it is recorded and shown to staff (``flask reports rebuild``
    mends it)."""
    problems = verify_summaries()
    if problems:
        raise SummariesDisagree(f"{len(problems)} differences, first: {problems[0]}")
    return 0


# Failed runs are recorded by the worker (imported for its signal handler).
RECORDED_BY = failures

SCHEDULE = (
    resubmit_stuck_photos,
    sweep_staged_photos,
    expire_unpaid_checkouts,
    reconcile_payments,
    complete_due_orders,
    sync_search_regularly,
    verify_sales_summaries,
    refresh_price_hints,
    reindex_price_boundaries,
)
