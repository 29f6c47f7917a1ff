"""What the job worker records of tasks that went wrong (the queue itself lives in Huey's
storage): one row per failed run, whether it will be tried again, and the error."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.dbtypes import UTCDateTime
from app.core.extensions import Model
from app.core.timeutil import utcnow


class JobFailure(Model):
    __tablename__ = "job_failure"
    __table_args__ = (sa.Index("ix_job_failure_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(sa.String(120))
    task_id: Mapped[str] = mapped_column(sa.String(64))
    retrying: Mapped[bool] = mapped_column(default=False)  # False: it was the last try
    error: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
