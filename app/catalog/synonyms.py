"""The staff's list of search synonyms: pairs of words search treats as one, both ways
(a broken plural and its singular, «ظروف»/«ظرف»; «ترشیجات»/«ترشی»; «لباس»/«پیراهن»).

Applied at query time (:func:`synonym_map` goes into every :class:`app.search.SearchQuery`, on
either backend and in the database fallback), so adding or removing a pair needs no reindex.
Every change is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from app.audit import log as audit
from app.catalog.models import SearchSynonym
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.search.normalize import fold, words

MAX_SYNONYMS = 2000
"""At most this many pairs: every search reads the list."""

STARTER = [
    ("ظروف", "ظرف"),
    ("ترشیجات", "ترشی"),
    ("لباس", "پیراهن"),
    ("البسه", "لباس"),
    ("اسباب", "وسیله"),
    ("ادویه", "ادویهجات"),
    ("شیرینی", "شیرینیجات"),
    ("سبزی", "سبزیجات"),
    ("مربا", "مربیات"),
    ("جواهر", "جواهرات"),
    ("زیورآلات", "زیور"),
    ("عطر", "عطریات"),
]
"""The demo's starter list (also a sensible first list for a new market)."""


def _word(text: str, field: str) -> str:
    found = words(text)
    if len(found) != 1 or len(found[0]) < 2 or found[0].isdecimal():
        raise ValidationFailed({field: ["synonym_one_word"]})
    word = fold(found[0])
    if len(word) > 60:
        raise ValidationFailed({field: ["too_long"]})
    return word


def all_pairs() -> list[SearchSynonym]:
    return list(
        db.session.scalars(
            sa.select(SearchSynonym).order_by(SearchSynonym.word, SearchSynonym.other)
        )
    )


def synonym_map() -> dict[str, tuple[str, ...]]:
    """normalised word → the words that also satisfy it (both ways)."""
    out: dict[str, list[str]] = {}
    rows = db.session.execute(
        sa.select(SearchSynonym.word, SearchSynonym.other).limit(MAX_SYNONYMS)
    ).all()
    for word, other in rows:
        out.setdefault(word, []).append(other)
        out.setdefault(other, []).append(word)
    return {k: tuple(v) for k, v in out.items()}


def add(actor_id: int | None, word: str, other: str) -> SearchSynonym:
    """Add the pair (normalised; either order); the caller commits."""
    a, b = _word(word, "word"), _word(other, "other")
    if a == b:
        raise ValidationFailed({"other": ["synonym_same"]})
    a, b = min(a, b), max(a, b)
    exists = db.session.scalar(
        sa.select(SearchSynonym.id).where(SearchSynonym.word == a, SearchSynonym.other == b)
    )
    if exists is not None:
        raise ValidationFailed({"other": ["synonym_exists"]})
    if (db.session.scalar(sa.select(sa.func.count(SearchSynonym.id))) or 0) >= MAX_SYNONYMS:
        raise ValidationFailed({"word": ["synonyms_full"]})
    row = SearchSynonym(word=a, other=b)
    db.session.add(row)
    db.session.flush()
    audit.record(actor_id, "search.synonym_added", "search_synonym", row.id, data={"pair": [a, b]})
    return row


def remove(actor_id: int | None, synonym_id: int) -> None:
    """Remove one pair; the caller commits."""
    row = db.session.get(SearchSynonym, synonym_id)
    if row is None:
        raise NotFound("synonym")
    audit.record(
        actor_id,
        "search.synonym_removed",
        "search_synonym",
        row.id,
        data={"pair": [row.word, row.other]},
    )
    db.session.delete(row)


def seed(pairs: Iterable[tuple[str, str]] = STARTER) -> int:
    """Add the pairs that are missing (the demo's starter list); the caller commits."""
    have = {(r.word, r.other) for r in all_pairs()}
    added = 0
    for word, other in pairs:
        a, b = sorted((fold(word), fold(other)))
        if (a, b) not in have:
            db.session.add(SearchSynonym(word=a, other=b))
            have.add((a, b))
            added += 1
    return added
