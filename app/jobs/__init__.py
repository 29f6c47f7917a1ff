"""Work that does not belong in a web request, on a job queue (Huey): tasks the web workers
enqueue and a worker process runs, and the market's scheduled jobs (run by the same worker's
scheduler instead of cron).

The queue is chosen by ``JOBS_BACKEND`` (read once, at import, from the environment as every
setting is): ``immediate`` (the embedded default: a task runs at once in the process that
enqueues it, so ``make run`` needs no worker and the scheduled jobs stay with cron or the
``flask`` commands), ``sqlite`` (a local queue file, ``JOBS_SQLITE_PATH``, and ``flask jobs
worker`` beside the web server: no other server) or ``redis`` (``JOBS_REDIS_URL``, for several
machines; ``JOBS_QUEUE_NAME`` names its keys). See
:mod:`app.jobs.tasks` for the tasks and :func:`run_worker` for the worker.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey

from config import Config

log = logging.getLogger(__name__)

BACKENDS = ("sqlite", "redis", "immediate")
F = TypeVar("F", bound=Callable[..., Any])


def _make_queue() -> Huey:
    backend = Config.JOBS_BACKEND
    if backend not in BACKENDS:
        raise RuntimeError(f"JOBS_BACKEND={backend!r}: use one of {', '.join(BACKENDS)}")
    if backend == "redis":
        return RedisHuey(Config.JOBS_QUEUE_NAME, url=Config.JOBS_REDIS_URL, utc=True)
    path = Path(Config.JOBS_SQLITE_PATH)
    if backend == "sqlite":
        path.parent.mkdir(parents=True, exist_ok=True)
    # Immediate mode keeps its tasks in memory: the queue file is made only when it is used.
    return SqliteHuey(
        Config.JOBS_QUEUE_NAME, filename=str(path), utc=True, immediate=backend == "immediate"
    )


queue = _make_queue()

# The app the worker's tasks run in (set by init_app; the web app sets it too, for immediate runs).
_apps: list[Flask] = []


def init_app(app: Flask) -> None:
    """Remember ``app`` for tasks run in this process (immediate mode, or the worker)."""
    _apps[:] = [app]
    if app.config.get("JOBS_IMMEDIATE"):
        queue.immediate = True


def app_for_tasks() -> Flask:
    """The app a task runs in: the one this process set up."""
    if not _apps:
        raise RuntimeError("no app for the job queue: call app.jobs.init_app(app) first")
    return _apps[0]


def in_app(fn: F) -> F:
    """Run ``fn`` inside an app context of the process's app (the worker has none of its own)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with app_for_tasks().app_context():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def submit(task: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Enqueue ``task(*args, **kwargs)``; False (logged, nothing raised) when the queue cannot
    take it. Callers only submit work that the database already records (a dirty product, a
    stored message, a photo waiting for its variants), so a broker that is down delays the work
    until a scheduled sweep finds it again; it never fails the request that asked for it."""
    try:
        task(*args, **kwargs)
    except Exception:
        log.warning("job queue unavailable: %s not enqueued", _name(task), exc_info=True)
        return False
    return True


def _name(task: Callable[..., Any]) -> str:
    return str(getattr(task, "name", None) or getattr(task, "__name__", repr(task)))


def pending() -> int:
    """How many tasks wait in the queue (0 in immediate mode)."""
    return 0 if queue.immediate else int(queue.pending_count())


def scheduled() -> int:
    return 0 if queue.immediate else int(queue.scheduled_count())


def run_worker(app: Flask, workers: int = 2, periodic: bool = True) -> None:
    """Run the consumer (tasks and, with ``periodic``, the schedule) until stopped."""
    init_app(app)
    from app.jobs import tasks  # noqa: F401  (registers the tasks on the queue)

    if queue.immediate:
        raise RuntimeError("JOBS_BACKEND=immediate runs tasks where they are enqueued: no worker")
    log.info("job worker: %s workers, schedule %s, queue %s", workers, periodic, type(queue))
    consumer = queue.create_consumer(workers=workers, worker_type="thread", periodic=periodic)
    consumer.run()


__all__ = [
    "BACKENDS",
    "app_for_tasks",
    "in_app",
    "init_app",
    "pending",
    "queue",
    "run_worker",
    "submit",
]
