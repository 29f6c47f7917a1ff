"""Lexemes and tsqueries: a document's tagged terms and a query word's tagged forms.

Each lexeme carries a tag saying where its term comes from (see :mod:`app.search.postgres`);
a query word becomes tsqueries of its quoted, tagged forms, so the user's text is never parsed
as query syntax. Also the edit distance "did you mean" keeps candidates by.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.search.backend import SearchDoc
from app.search.normalize import QueryWord, index_forms, title_heads

TITLE, META, BODY, TITLE_STEM, STEM, HEAD = "T", "M", "B", "U", "S", "H"
"""Tags of the lexemes: where a term comes from (see :mod:`app.search.postgres`)."""

_MAX_LEXEME_BYTES = 2000  # PostgreSQL refuses lexemes of 2,047 bytes or more
_MAX_TERMS_BYTES = 512 * 1024  # a tsvector holds at most 1 MiB of lexemes


def _fits(lexeme: str) -> bool:
    return len(lexeme) * 4 <= _MAX_LEXEME_BYTES or len(lexeme.encode()) <= _MAX_LEXEME_BYTES


def _quote(term: str) -> str | None:
    """``term`` as a quoted tsquery operand; ``None`` when it is too long to be a lexeme
    (such a term can be neither stored nor found)."""
    if not _fits(term):
        return None
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def document_terms(doc: SearchDoc) -> tuple[list[str], set[str]]:
    """The tagged lexemes of ``doc`` (for ``array_to_tsvector``) and its vocabulary (title
    and category/seller terms, offered as corrections)."""
    title_exact, title_stems = index_forms(doc.title)
    if doc.title_en:
        en_exact, en_stems = index_forms(doc.title_en)
        title_exact, title_stems = title_exact + en_exact, title_stems + en_stems
    meta_exact, meta_stems = index_forms(
        f"{doc.category_path} ; {doc.category_path_en} ; {doc.seller_name}"
    )
    body_exact, body_stems = index_forms(doc.description)
    lexemes: dict[str, None] = {}
    size = 0
    for tag, terms in (
        (HEAD, title_heads(doc.title)),
        (TITLE, title_exact),
        (META, meta_exact),
        (TITLE_STEM, title_stems),
        (STEM, meta_stems),
        (BODY, body_exact),
        (STEM, body_stems),
    ):
        for term in terms:
            lexeme = tag + term
            if lexeme in lexemes or not _fits(lexeme):
                continue
            size += len(lexeme) * 2 + 8
            if size > _MAX_TERMS_BYTES:
                break  # an absurdly long description: the rest is not indexed
            lexemes[lexeme] = None
    vocabulary = {t for t in (*title_exact, *meta_exact) if _fits(t)}
    return list(lexemes), vocabulary


def _clean(text: str) -> str:
    """Text PostgreSQL accepts: it stores no NUL character (SQLite and Whoosh do)."""
    return text.replace("\x00", "") if "\x00" in text else text


def _tagged(tags: str, forms: Iterable[str], suffix: str = "") -> list[str]:
    out = []
    for form in forms:
        for tag in tags:
            quoted = _quote(tag + form)
            if quoted is not None:
                out.append(quoted + suffix)
    return out


def _or(operands: list[str]) -> str | None:
    if not operands:
        return None
    return operands[0] if len(operands) == 1 else "(" + " | ".join(operands) + ")"


class _Word:
    """One query word as tsqueries: ``match`` (any form, anywhere) and ``tiers`` (weight,
    tsquery) from the best tier down, without the last (0.5: whatever else matched)."""

    def __init__(self, w: QueryWord) -> None:
        self.query = w
        extra = [f for f in w.loose if f not in w.exact]
        # a form too long to be a lexeme matches nothing; a word with no form left, nothing
        self.match = _or(_tagged(TITLE + META + BODY + TITLE_STEM + STEM, w.loose))
        tiers = [
            (5.0, _tagged(HEAD, w.heads)),
            (4.0, _tagged(TITLE, [w.word])),
            (3.5, _tagged(TITLE, w.exact[1:])),
            (2.0, _tagged(TITLE, extra) + _tagged(TITLE_STEM, w.loose) + _tagged(META, w.exact)),
            (1.0, _tagged(BODY, w.exact)),
        ]
        self.tiers = [(weight, q) for weight, ops in tiers if (q := _or(ops)) is not None]


def _match_all(words: Sequence[_Word]) -> str | None:
    """The tsquery that every word must match; ``None`` when a word cannot match at all."""
    if any(w.match is None for w in words):
        return None
    return " & ".join(w.match for w in words if w.match is not None)


# --- edit distance (for "did you mean") -------------------------------------------------------


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
