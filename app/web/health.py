"""Probes and metrics for the machines that run the market: ``/healthz``, ``/readyz``, ``/metrics``.

``/healthz`` says the process answers: 200 and ``{"status": "ok"}``, with no database, session,
template or other hook's work of its own. ``/readyz`` says whether this instance can serve: it
checks the database, the search index, the media storage and the job queue (when one is
configured), each in a thread with a deadline (``READYZ_TIMEOUT_SECONDS``) so a hung part makes
the probe answer 503 in time instead of hanging it; the answer names every part and why a part is
degraded. Both answer JSON with ``Cache-Control: no-store``, are exempt from rate limits and are
answered for any ``Host`` (a load balancer or orchestrator probes an instance by its address, not
the site's name): they build no link from the host, set no cookie and show nothing that depends
on it, so the trusted-host check protects nothing there. A burst of ``/readyz`` requests costs at
most one round of checks per second and process (the answer is kept for a second).

``/metrics`` gives the Prometheus text format (see :mod:`app.core.metrics` for the several-worker
mode) only to a request with ``Authorization: Bearer <METRICS_TOKEN>``, the token compared in
constant time; 401 without it or with another, 404 while no token is configured. It stays behind
the trusted-host check: a scraper that reaches an instance by address needs that address in
``ALLOWED_HOSTS``.

Every request is timed (first ``before_request`` hook to last ``after_request`` hook) into a
histogram by endpoint and status class; answers of the page cache (``X-Page-Cache``) are counted
as hits and misses.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Flask, Response, abort, current_app, jsonify, request
from prometheus_client.core import GaugeMetricFamily
from werkzeug.exceptions import SecurityError

from app import jobs
from app.core import metrics
from app.core.extensions import db, limiter
from app.core.links import refuse_foreign_host

# Threads that run the checks. A hung check keeps its thread until it ends; with every thread
# hung, later checks time out too, which is the right answer (the part is still hung).
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")
READY_MEMO_SECONDS = 1.0
_READY_MEMO = "bazarche_readyz"
_memo_lock = threading.Lock()
_STARTED = "bazarche.request_started"
_PROBE_FILE = b"readyz\n"

OK = "ok"
DEGRADED = "degraded"
NOT_CONFIGURED = "not configured"


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def healthz() -> Response:
    """200 while the process answers requests; touches nothing else."""
    return _no_store(jsonify(status=OK))


# --------------------------------------------------------------------------------------------
# Readiness: each check raises (the part is degraded) or returns a dict of details


def check_database(app: Flask) -> dict[str, Any]:
    """A trivial query on a connection of the app's engine (PostgreSQL: under a statement
    timeout of the probe's deadline)."""
    with app.app_context():
        engine = db.engine
    timeout_ms = int(float(app.config["READYZ_TIMEOUT_SECONDS"]) * 1000)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(timeout_ms, 1)}")
        conn.exec_driver_sql("SELECT 1").scalar_one()
        conn.rollback()
    return {}


def check_search(app: Flask) -> dict[str, Any]:
    """The configured index opens and answers (PostgreSQL backend: its tables exist). An index
    marked degraded still answers (perhaps stale) and is rebuilt in the background: that is
    reported as a warning, not a failure, since every instance shares the mark."""
    from app.catalog.indexing import backend

    with app.app_context():
        index = backend()
        health = index.health()
        if not health.get("ok"):
            raise RuntimeError(str(health.get("error") or "the search index does not answer"))
        details: dict[str, Any] = {"backend": app.config["SEARCH_BACKEND"]}
        reason = index.degraded()
        if reason:
            details["warning"] = reason
        return details


def check_storage(app: Flask) -> dict[str, Any]:
    """A small file is written, read back and deleted in the media storage."""
    from app.media.store import storage

    key = f"readyz/probe-{os.getpid()}-{threading.get_ident()}.txt"
    with app.app_context():
        store = storage()
        store.put(key, _PROBE_FILE, "text/plain")
        try:
            if store.get(key) != _PROBE_FILE:
                raise RuntimeError("the probe file read back differs from the one written")
        finally:
            store.delete(key)
    return {}


def check_queue(app: Flask) -> dict[str, Any] | None:
    """The job queue answers (its Redis or SQLite store), with how many tasks wait; None when
    tasks run where they are enqueued (``JOBS_BACKEND=immediate``: no queue to reach)."""
    if jobs.queue.immediate:
        return None
    return {"waiting": jobs.pending(), "scheduled": jobs.scheduled()}


# name → (check, required): a part not required is reported but never makes the answer 503.
CHECKS: dict[str, tuple[Callable[[Flask], dict[str, Any] | None], bool]] = {
    "database": (check_database, True),
    "search": (check_search, True),
    "storage": (check_storage, True),
    "queue": (check_queue, True),
}


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())[:300]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def readiness(app: Flask) -> tuple[dict[str, Any], bool]:
    """Run every check in parallel, each within ``READYZ_TIMEOUT_SECONDS``: the report per part
    (``status`` ok / degraded / not configured, ``reason`` when degraded) and whether every
    required part is fine. Never raises."""
    timeout = float(app.config["READYZ_TIMEOUT_SECONDS"])
    deadline = time.monotonic() + timeout
    futures = {name: _checks.submit(check, app) for name, (check, _req) in CHECKS.items()}
    parts: dict[str, Any] = {}
    ready = True
    for name, future in futures.items():
        required = CHECKS[name][1]
        try:
            details = future.result(timeout=max(deadline - time.monotonic(), 0.0))
        except FutureTimeout:
            future.cancel()
            report: dict[str, Any] = {
                "status": DEGRADED,
                "reason": f"no answer within {timeout:g} s",
            }
        except Exception as error:  # each part's failure is reported, whatever it is
            report = {"status": DEGRADED, "reason": _describe(error)}
        else:
            report = {"status": NOT_CONFIGURED} if details is None else {"status": OK, **details}
        if report["status"] == DEGRADED:
            if required:
                ready = False
            app.logger.warning("readyz: %s degraded: %s", name, report["reason"])
        parts[name] = report
    return parts, ready


def readyz() -> Response:
    """200 when every required part is fine, else 503; the JSON names each part's state."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    with _memo_lock:
        memo = app.extensions.get(_READY_MEMO)
        if memo is None or time.monotonic() - memo[0] > READY_MEMO_SECONDS:
            parts, ready = readiness(app)
            memo = app.extensions[_READY_MEMO] = (time.monotonic(), parts, ready)
    _at, parts, ready = memo
    response = jsonify(status=OK if ready else DEGRADED, checks=parts)
    response.status_code = 200 if ready else 503
    return _no_store(response)


# --------------------------------------------------------------------------------------------
# Metrics


def _search_degraded() -> GaugeMetricFamily:
    """1 while the search index is marked degraded or cannot be opened, else 0 (read now)."""
    from app.catalog.indexing import backend

    try:
        value = 1.0 if backend().degraded() else 0.0
    except Exception:  # an index that cannot even be opened is degraded too
        value = 1.0
    family = GaugeMetricFamily(
        "bazarche_search_degraded",
        "1 while the search index is marked degraded or cannot be opened.",
    )
    family.add_metric([], value)
    return family


def _job_queue() -> list[GaugeMetricFamily]:
    """The job queue's depth (waiting, scheduled: retries included) and the failed runs of the
    last 24 hours; nothing while tasks run where they are enqueued."""
    if jobs.queue.immediate:
        return []
    from app.jobs import failures

    out = []
    for name, text, read in (
        ("bazarche_jobs_waiting", "Tasks waiting for a job worker.", jobs.pending),
        ("bazarche_jobs_scheduled", "Tasks scheduled for later, retries included.", jobs.scheduled),
        (
            "bazarche_job_failures_last_day",
            "Failed task runs in the last 24 hours.",
            failures.last_day_count,
        ),
    ):
        try:
            value = float(read())
        except Exception as exc:  # an unreachable queue is /readyz's to report
            current_app.logger.warning("metrics: %s not read: %s", name, exc)
            continue
        family = GaugeMetricFamily(name, text)
        family.add_metric([], value)
        out.append(family)
    return out


class _ScrapeTime:
    """Collector of the values read when scraped."""

    def collect(self) -> list[GaugeMetricFamily]:
        return [_search_degraded(), *_job_queue()]


def _authorised(token: str) -> bool:
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def metrics_view() -> Response:
    """The metrics, to the holder of ``METRICS_TOKEN`` only (404 while none is set)."""
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if not token:
        abort(404)
    if not _authorised(token):
        response = Response("", 401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        return _no_store(response)
    body = metrics.exposition(extra=[_ScrapeTime()])
    return _no_store(Response(body, 200, content_type=metrics.CONTENT_TYPE))


def _start_timer() -> None:
    request.environ[_STARTED] = time.perf_counter()


def _observe(response: Response) -> Response:
    started = request.environ.get(_STARTED)
    if started is not None:
        try:
            metrics.REQUEST_LATENCY.labels(
                request.endpoint or "none", f"{response.status_code // 100}xx"
            ).observe(time.perf_counter() - started)
            state = response.headers.get("X-Page-Cache")
            if state in ("hit", "miss"):
                metrics.PAGE_CACHE.labels(state).inc()
        except Exception:  # counting never fails a request
            current_app.logger.exception("could not record the request's metrics")
    return response


PROBES: dict[str, Callable[[], Response]] = {"/healthz": healthz, "/readyz": readyz}


def _probe_for_any_host() -> Response | None:
    """``before_request``: answer a probe whose host is not trusted (the trusted-host hook would
    refuse it next)."""
    if isinstance(request.routing_exception, SecurityError) and request.method in ("GET", "HEAD"):
        probe = PROBES.get(request.path)
        if probe is not None:
            return probe()
    return None


def init_app(app: Flask) -> None:
    """Serve the probes and the metrics on ``app`` and time its requests. Call last in
    ``create_app``: the timer must be the first ``before_request`` hook and the last
    ``after_request`` one, and the probes' host exemption must run before the trusted-host
    check."""
    app.add_url_rule("/healthz", "healthz", limiter.exempt(healthz), methods=["GET"])
    app.add_url_rule("/readyz", "readyz", limiter.exempt(readyz), methods=["GET"])
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
    before = app.before_request_funcs.setdefault(None, [])
    # Just before the trusted-host check (after the request id is given); the timer first.
    at = before.index(refuse_foreign_host) if refuse_foreign_host in before else 0
    before.insert(at, _probe_for_any_host)
    before.insert(0, _start_timer)
    # after_request hooks run last registered first: at the front, this one runs last.
    app.after_request_funcs.setdefault(None, []).insert(0, _observe)
