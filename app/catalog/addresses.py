"""Storefront addresses: free slugs for shops and categories, and the old addresses that lead on.

A shop or category whose slug changes keeps its old one in :class:`SlugHistory`; the storefront
answers an address no row holds by looking it up there (or by its normal spelling, e.g. typed
with Arabic letters) and redirecting permanently to the current address.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import Category, Seller, SlugHistory
from app.catalog.slugs import MAX_LENGTH, is_valid_slug, slugify
from app.core.extensions import db

SELLER = "seller"
CATEGORY = "category"
_MODELS: dict[str, type[Seller] | type[Category]] = {SELLER: Seller, CATEGORY: Category}


def free_slug(kind: str, name: str, exclude_id: int | None = None, fallback: str = "shop") -> str:
    """A slug made from ``name`` that no other row of ``kind`` holds (``-2``, ``-3``... added
    when taken); ``fallback`` when the name has no letters."""
    model = _MODELS[kind]
    base = slugify(name) or fallback
    if len(base) < 3:
        base = f"{fallback}-{base}"
    candidate, n = base, 2
    while not is_valid_slug(candidate) or _holder(model, candidate) not in (None, exclude_id):
        candidate = f"{base[: MAX_LENGTH - 5].strip('-')}-{n}"
        n += 1
    return candidate


def _holder(model: type[Seller] | type[Category], slug: str) -> int | None:
    return db.session.scalar(sa.select(model.id).where(model.slug == slug))


def remember(kind: str, old_slug: str, object_id: int) -> None:
    """Keep ``old_slug`` as an address of ``object_id`` (in the caller's transaction); the latest
    owner of an old slug wins."""
    row = db.session.scalar(
        sa.select(SlugHistory).where(SlugHistory.kind == kind, SlugHistory.old_slug == old_slug)
    )
    if row is None:
        db.session.add(SlugHistory(kind=kind, old_slug=old_slug, object_id=object_id))
    else:
        row.object_id = object_id


def current_slug(kind: str, slug: str) -> str | None:
    """The current slug of the shop or category ``slug`` names in another spelling or named
    before; None when nothing does (or it is already current)."""
    model = _MODELS[kind]
    if len(slug) > 200:
        return None
    spelled = slugify(slug, max_length=200)
    if spelled and spelled != slug:
        found = db.session.scalar(sa.select(model.slug).where(model.slug == spelled))
        if found is not None:
            return found
    return db.session.scalar(
        sa.select(model.slug)
        .join(SlugHistory, SlugHistory.object_id == model.id)
        .where(SlugHistory.kind == kind, SlugHistory.old_slug.in_({slug, spelled} - {""}))
        .limit(1)
    )
