"""Searching the PostgreSQL index: the search statement, "did you mean" and completion.

Text searches run with sequential scans, JIT and parallel workers off (see :meth:`_tune`); the
statement itself is put together in :mod:`app.search.postgres.statement`.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from app.search.backend import FACETS, SUGGEST_BELOW, SearchQuery, SearchResult
from app.search.normalize import (
    completion_prefix,
    is_latin,
    parse_query,
    rank_completions,
    transliterate,
    typo_budget,
    typo_words,
    widen,
    word_for,
)
from app.search.postgres.statement import _ORDERS, Statement, filters, read
from app.search.postgres.store import _PostgresStore
from app.search.postgres.terms import META, TITLE, _distance, _match_all, _or, _tagged, _Word


class _PostgresReader(_PostgresStore):
    """Searching the tables: :meth:`search` (one statement) and :meth:`suggest`."""

    def search(self, q: SearchQuery) -> SearchResult:
        """See :meth:`app.search.backend.SearchBackend.search`."""
        q = q.clamped()
        with self._reading() as conn:
            result = self._search(conn, q)
            if result.total == 0 and result.suggestion and not q.exact:
                # nothing found: answer with the correction at once
                again = self._search(conn, replace(q, text=result.suggestion, exact=True))
                if again.total:
                    again.corrected = result.suggestion
                    return again
        return result

    def _search(self, conn: sa.Connection, q: SearchQuery) -> SearchResult:
        words = [_Word(w) for w in parse_query(q.text, synonyms=q.synonyms)]
        self._tune(conn, text=bool(words))
        result, matched = self._once(conn, q, words)
        tried: set[str] = set()
        if words and matched == 0:
            # a word may be unknown (then nothing matches): forgive it as Whoosh does
            forgiven, corrected, tried = self._forgive(conn, q, words)
            if forgiven is not words:
                words = forgiven
                result, matched = self._once(conn, q, words)
                if corrected is not None and result.total:
                    result.corrected = corrected
        if words and result.total < SUGGEST_BELOW and result.corrected is None:
            result.suggestion = self._did_you_mean(conn, words, matched, tried)
        return result

    def _once(
        self, conn: sa.Connection, q: SearchQuery, words: list[_Word]
    ) -> tuple[SearchResult, int]:
        if not words:
            return self._run(conn, q, [], None)
        match = _match_all(words)
        if match is None:  # a word too long to be a lexeme: nothing has it
            return SearchResult(facets={name: {} for name in FACETS}), 0
        return self._run(conn, q, words, match)

    def _forgive(
        self, conn: sa.Connection, q: SearchQuery, words: list[_Word]
    ) -> tuple[list[_Word], str | None, set[str]]:
        """As :meth:`app.search.whoosh.reader._WhooshReader._forgive`: unknown Latin words
        also as their Persian spellings in the vocabulary; unless ``q.exact``, unknown words
        of four letters or more as their closest vocabulary term (one edit). The same list
        when nothing changed; the words looked up in vain."""
        if q.exact and not any(is_latin(w.query.word) for w in words):
            return words, None, set()
        known = self._known(conn, words)
        out = list(words)
        changed = False
        for i, w in enumerate(words):
            if known[i] or not is_latin(w.query.word):
                continue
            spellings = list(transliterate(w.query.word))
            if not spellings:
                continue
            rows = conn.execute(
                sa.text(f"SELECT term, df FROM {self._term} WHERE term = ANY(:c)"),
                {"c": spellings},
            ).all()
            found = {term: int(df) for term, df in rows}
            if found:
                best = max(sorted(found), key=found.__getitem__)
                out[i] = _Word(widen(word_for(best, q.synonyms), [*sorted(found), w.query.word]))
                known[i] = changed = True
        corrected = None
        tried: set[str] = set()
        if not q.exact:
            texts = [w.query.word for w in out]
            unknown = [i for i in typo_words(texts) if not known[i] and len(texts[i]) >= 4]
            fixed = False
            for i in typo_budget(texts, unknown):
                fix = self._closest_term(conn, texts[i], 1)
                if fix is not None:
                    out[i] = _Word(word_for(fix, q.synonyms))
                    texts[i], fixed = fix, True
                else:
                    tried.add(texts[i])
            if fixed:
                corrected, changed = " ".join(texts), True
        return (out if changed else words), corrected, tried

    @staticmethod
    def _tune(conn: sa.Connection, text: bool) -> None:
        """Settings for this transaction's searches (see :mod:`app.search.postgres`): no JIT, no
        parallel workers, room for the hashes of large match sets and, when the query has
        words, no sequential scan."""
        conn.execute(
            sa.text(
                "SELECT set_config('jit', 'off', true),"
                " set_config('max_parallel_workers_per_gather', '0', true),"
                " set_config('work_mem', '32MB', true),"
                " set_config('enable_seqscan', :seqscan, true)"
            ),
            {"seqscan": "off" if text else "on"},
        )

    def _run(
        self, conn: sa.Connection, q: SearchQuery, words: list[_Word], match: str | None
    ) -> tuple[SearchResult, int]:
        """One statement: the page (ids and display strings), the number of matches with and
        without the filters, and the facet counts, over one materialised set of matches."""
        params: dict[str, Any] = {
            "limit": q.per_page,
            "offset": (q.page - 1) * q.per_page,
        }
        # Relevance is ranked below; rating is the caller's to order (newest here).
        sort = q.sort if q.sort in _ORDERS else "newest"
        statement = Statement(self._doc, filters(q, params), params, _ORDERS[sort])
        if words:
            statement.match(match)
            if q.sort == "relevance" and len(words) == 1:
                statement.rank_one(words[0])
            elif q.sort == "relevance":
                statement.rank_many(words, self._idf(conn, words))
        rows = conn.execute(sa.text(statement.sql()), params).all()
        return read(rows, words)

    def _idf(self, conn: sa.Connection, words: list[_Word]) -> list[float]:
        """Each word's rarity, ``ln(1 + N / (1 + df))`` as in the Whoosh backend, from the
        planner's row estimates (its statistics of the terms column): exact counts of common
        words cost more than the rest of the search, and a weight needs no exactness. The
        estimates change only when the table is analysed, so pages of one search agree."""

        def rows(where: str, params: dict[str, Any]) -> float:
            plan = conn.execute(
                sa.text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {self._doc} WHERE {where}"), params
            ).scalar_one()
            if isinstance(plan, str):
                plan = json.loads(plan)
            return float(plan[0]["Plan"]["Plan Rows"])

        total = max(1.0, rows("TRUE", {}))
        out = []
        for w in words:
            df = rows("terms @@ CAST(:q AS tsquery)", {"q": w.match}) if w.match else 0.0
            out.append(math.log(1.0 + total / (1.0 + min(df, total))))
        return out

    # --- did you mean -------------------------------------------------------------------------

    def _did_you_mean(
        self, conn: sa.Connection, words: list[_Word], found: int, tried: set[str]
    ) -> str | None:
        """A query with unknown words replaced by the most frequent indexed title or
        category/seller word within one (two, for words of five letters or more) edits and
        with the same first letter, if it finds more than ``found``. Only the unknown words that
        :func:`typo_words` allows (not too long) and :func:`typo_budget` keeps are looked up,
        so a query of long or many words costs what a short one does. A word of ``tried``
        (no term one edit away) shorter than five letters is not looked up again."""
        out = [w.query.word for w in words]
        candidates = typo_words(out)[:8]
        if not candidates:
            return None
        known = self._known(conn, [words[i] for i in candidates])
        unknown = [i for i, is_known in zip(candidates, known, strict=True) if not is_known]
        changed = False
        for i in typo_budget(out, unknown):
            if out[i] in tried and len(out[i]) < 5:
                continue
            fix = self._closest_term(conn, out[i])
            if fix is not None:
                out[i], changed = fix, True
        if not changed:
            return None
        suggestion = " ".join(out)
        match = _match_all([_Word(w) for w in parse_query(suggestion)])
        if match is None:
            return None
        better = conn.execute(
            sa.text(f"SELECT count(*) FROM {self._doc} WHERE terms @@ CAST(:q AS tsquery)"),
            {"q": match},
        ).scalar()
        return suggestion if (better or 0) > found else None

    def _known(self, conn: sa.Connection, words: list[_Word]) -> list[bool]:
        """Whether each word occurs (in any form) in any product."""
        params: dict[str, Any] = {}
        cols = []
        for i, w in enumerate(words):
            if w.match is None:
                cols.append("FALSE")
                continue
            params[f"k{i}"] = w.match
            cols.append(f"EXISTS (SELECT 1 FROM {self._doc} WHERE terms @@ CAST(:k{i} AS tsquery))")
        row = conn.execute(sa.text(f"SELECT {', '.join(cols)}"), params).one()
        return [bool(v) for v in row]

    def _closest_term(self, conn: sa.Connection, word: str, most: int = 2) -> str | None:
        """The most frequent vocabulary term within 1 edit of ``word`` (2 for words of five
        letters or more, unless ``most`` is 1) that starts with the same letter; trigram
        similarity finds the candidates through the index, the edit distance decides."""
        conn.execute(sa.text("SELECT set_config('pg_trgm.similarity_threshold', '0.2', true)"))
        rows = conn.execute(
            sa.text(
                f"SELECT term, df FROM {self._term} WHERE term % :w AND left(term, 1) = :first"
                " ORDER BY similarity(term, :w) DESC, term LIMIT 200"
            ),
            {"w": word, "first": word[0]},
        ).all()
        for maxdist in (1, 2) if len(word) >= 5 and most >= 2 else (1,):
            counts: dict[str, int] = {
                term: int(df)
                for term, df in rows
                if term != word and _distance(term, word, maxdist) <= maxdist
            }
            if counts:
                return max(sorted(counts), key=counts.__getitem__)
        return None

    # --- completion ---------------------------------------------------------------------------

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """See :meth:`app.search.backend.SearchBackend.suggest`.

        The last word (unless followed by a space) is a prefix of at least two letters of a
        title or category/seller term (a tsquery prefix match); the words before it must
        occur. Candidates are the category names, seller names and titles of up to 100
        matching products (newest first), ranked as
        :func:`app.search.normalize.rank_completions` does.
        """
        parsed = completion_prefix(prefix)
        if parsed is None or limit <= 0:
            return []
        norm, head, last = parsed
        head_words = [_Word(w) for w in head]
        operands = [w.match for w in head_words]
        if last:
            operands.append(_or(_tagged(TITLE + META, [last], ":*")))
        if not operands or any(op is None for op in operands):
            return []
        with self._reading() as conn:
            self._tune(conn, text=True)
            # materialised: the matches come from the index, then the newest of them
            # (rather than walking the newest products, reading each one's terms, until 100 match)
            rows = conn.execute(
                sa.text(
                    f"WITH c AS MATERIALIZED (SELECT id, created_at FROM {self._doc}"
                    " WHERE terms @@ CAST(:q AS tsquery))"
                    " SELECT d.title, d.category_path, d.seller_name FROM"
                    " (SELECT id FROM c ORDER BY created_at DESC, id LIMIT 100) AS n"
                    f" JOIN {self._doc} AS d ON d.id = n.id ORDER BY d.created_at DESC, d.id"
                ),
                {"q": " & ".join(op for op in operands if op is not None)},
            ).all()
        return rank_completions([tuple(r) for r in rows], head, last, norm, limit)
