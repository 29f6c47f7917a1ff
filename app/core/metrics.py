"""The market's Prometheus metrics: defined once here, counted anywhere, shown at ``/metrics``.

Every layer may count (this module imports nothing of the app), and counting never fails a
request. Two modes, chosen when this module is first imported:

* One process (``make run``, tests, a single gunicorn worker): the values live in this process
  and :func:`exposition` renders them.
* Several gunicorn workers: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder writable by the
  workers, in the environment of the gunicorn master *before it starts* (the workers inherit
  it). Each worker then writes its values to files in that folder and :func:`exposition` — in
  whichever worker answers the scrape — adds up the files of every worker, the ones of workers
  that have since exited included (counters and histograms keep their totals). Empty the folder
  when the master starts, never while it runs. The market defines no live gauges, so workers
  that exit need no clean-up call.

Gauges whose value is read at scrape time (search degraded) are not stored: a collector computes
them in the answering process (see :func:`exposition`'s ``extra``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.registry import Collector

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# The metrics of this process (single-process mode); in multiprocess mode values go to files and
# this registry only names the metrics.
REGISTRY = CollectorRegistry(auto_describe=True)

# Seconds: most pages answer in a few milliseconds (cache hits) to a few tens; uploads take longer.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "bazarche_request_duration_seconds",
    "Time to answer a request, by endpoint (Flask endpoint name) and status class (2xx...).",
    ["endpoint", "status"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
PAGE_CACHE = Counter(
    "bazarche_page_cache_requests",
    "Requests for cached pages, by result (hit: served from the cache; miss: rendered).",
    ["result"],
    registry=REGISTRY,
)
EMAILS_FAILED = Counter(
    "bazarche_emails_failed",
    "E-mails that could not be written or sent (each is logged).",
    registry=REGISTRY,
)
SMS_FAILED = Counter(
    "bazarche_sms_failed",
    "Text messages that could not be written or sent, or a try the provider refused (each is "
    "logged).",
    registry=REGISTRY,
)
PAYMENT_ERRORS = Counter(
    "bazarche_payment_provider_errors",
    "Calls to an online payment provider that failed (provider unreachable or refused).",
    ["provider"],
    registry=REGISTRY,
)


def multiprocess_dir() -> str | None:
    """The folder the workers share their values through, or None (single-process mode)."""
    return os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """Every metric in the Prometheus text format: this process's (single-process mode) or the sum
    over every worker's files (multiprocess mode), then the ``extra`` collectors' samples."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    if extra:
        scrape_time = CollectorRegistry()
        for collector in extra:
            scrape_time.register(collector)
        body += generate_latest(scrape_time)
    return body
