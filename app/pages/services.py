"""Reading and editing the market's own pages.

Each page is cached by the storefront's page cache under its own scope (:func:`scope_of`); a
staff edit bumps it in the edit's transaction, so the next visitor sees the new text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from markupsafe import Markup

from app.audit.log import record
from app.catalog.changes import mark_pages_changed
from app.core.db import transaction
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.pages.defaults import PAGES, PageText
from app.pages.markup import render_body
from app.pages.models import SitePage

KEYS: tuple[str, ...] = tuple(PAGES)
MAX_TITLE = 200
MAX_BODY = 20_000
FIELDS = ("title_fa", "title_en", "body_fa", "body_en")


def scope_of(key: str) -> str:
    """The page cache's scope of the page ``key``."""
    return f"site:{key}"


@dataclass(frozen=True)
class Page:
    """A page as stored (or its built-in text when no row exists)."""

    key: str
    title_fa: str
    title_en: str
    body_fa: str
    body_en: str
    updated_at: datetime | None = None
    updated_by_id: int | None = None

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_fa

    def body(self, locale: str) -> str:
        return self.body_en if locale == "en" else self.body_fa

    def html(self, locale: str, values: dict[str, str] | None = None) -> Markup:
        """The body in ``locale`` as safe HTML, with ``{name}`` of ``values`` filled in."""
        text = self.body(locale)
        for name, value in (values or {}).items():
            text = text.replace("{" + name + "}", value)
        return render_body(text)


def _of(key: str, row: SitePage | None) -> Page:
    if row is not None:
        return Page(
            key,
            row.title_fa,
            row.title_en,
            row.body_fa,
            row.body_en,
            row.updated_at,
            row.updated_by_id,
        )
    text: PageText = PAGES[key]
    return Page(key, text.title_fa, text.title_en, text.body_fa, text.body_en)


def get_page(key: str) -> Page | None:
    """The page ``key``, or None when there is no such page."""
    if key not in PAGES:
        return None
    return _of(key, db.session.get(SitePage, key))


def all_pages() -> list[Page]:
    """Every page, in the footer's order."""
    rows = {row.key: row for row in db.session.scalars(sa.select(SitePage))}
    return [_of(key, rows.get(key)) for key in KEYS]


def _check(values: dict[str, str]) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for name in FIELDS:
        value = (values.get(name) or "").replace("\r\n", "\n").strip()
        limit = MAX_TITLE if name.startswith("title") else MAX_BODY
        if name.startswith("title"):
            value = " ".join(value.split())
        if not value:
            errors[name] = ["required"]
        elif len(value) > limit:
            errors[name] = ["too_long"]
        clean[name] = value
    if errors:
        raise ValidationFailed(errors)
    return clean


def save_page(actor_id: int, key: str, values: dict[str, str]) -> bool:
    """Store staff's text of the page ``key`` (titles and bodies in both languages), audited,
    and make its cached copies stale. False when nothing changed (nothing written)."""
    if key not in PAGES:
        raise NotFound(key)
    clean = _check(values)
    with transaction() as session:
        row = session.get(SitePage, key, with_for_update=True)
        before = _of(key, row)
        changed = [name for name in FIELDS if getattr(before, name) != clean[name]]
        if row is not None and not changed:
            return False
        if row is None:
            row = SitePage(key=key, **clean)
            session.add(row)
        else:
            for name in changed:
                setattr(row, name, clean[name])
        row.updated_at = utcnow()
        row.updated_by_id = actor_id
        record(actor_id, "site_page.edit", "site_page", None, data={"key": key, "fields": changed})
        session.flush()
        mark_pages_changed(session, [scope_of(key)])
    return True
