"""One row per page of the market's own (``site_page``): its title and body in each language."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.dbtypes import UTCDateTime
from app.core.extensions import Model
from app.core.timeutil import utcnow


class SitePage(Model):
    """A page such as /about: plain-text bodies (paragraphs, ``## `` headings, ``- `` items and
    ``[text](address)`` links; see :mod:`app.pages.markup`), never HTML. A key without a row
    shows its built-in text (:mod:`app.pages.defaults`)."""

    __tablename__ = "site_page"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    title_fa: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    body_fa: Mapped[str] = mapped_column(sa.Text)
    body_en: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
