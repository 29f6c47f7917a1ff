"""``flask jobs …``: the job worker (tasks and the schedule) and the queue's state."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app import jobs

jobs_cli = AppGroup("jobs", help="The job queue: run the worker, see what waits.")


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32))
@click.option("--no-schedule", is_flag=True, help="Run tasks only (another worker schedules).")
def worker_command(workers: int, no_schedule: bool) -> None:
    """Run queued tasks and the scheduled jobs (expire, reconcile, complete-due, search sync)
    until stopped (Ctrl-C). Needs JOBS_BACKEND=sqlite or redis."""
    if jobs.queue.immediate:
        raise click.ClickException(
            "JOBS_BACKEND=immediate runs every task where it is enqueued: there is nothing for a "
            "worker to do. Set JOBS_BACKEND=sqlite (one machine) or redis (several)."
        )
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's app
    jobs.run_worker(app, workers=workers, periodic=not no_schedule)


@jobs_cli.command("status")
def status_command() -> None:
    """How many tasks wait and how many are scheduled for later."""
    click.echo(f"backend: {current_app.config['JOBS_BACKEND']}")
    click.echo(f"waiting: {jobs.pending()}, scheduled for later: {jobs.scheduled()}")
