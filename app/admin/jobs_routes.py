"""Staff area: the job queue — what waits, what is scheduled (retries included), what failed."""

from __future__ import annotations

from flask import current_app, render_template
from flask.typing import ResponseReturnValue

from app import jobs
from app.admin import bp
from app.jobs import failures
from app.web.http import page_arg


@bp.get("/jobs")
def job_queue() -> ResponseReturnValue:
    return render_template(
        "admin/jobs.html",
        backend=current_app.config["JOBS_BACKEND"],
        immediate=jobs.queue.immediate,
        waiting=jobs.pending(),
        scheduled=jobs.scheduled(),
        failed_today=failures.last_day_count(),
        page=failures.recent(page_arg()),
    )
