"""The one SQL statement a search runs, and reading its rows into a result.

The statement returns the page and, in one pass over the materialised matches (a grouping set
per facet, each count with every *other* filter applied), the facet counts, the total and the
number of matches without the filters. Only text is built here; the parts that depend on the
query's words are bound parameters (tsqueries of quoted, tagged forms), never spliced in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.search.backend import FACETS, SearchQuery, SearchResult
from app.search.normalize import excerpt
from app.search.postgres.terms import _clean, _Word

_BIGINT = (-(2**63), 2**63 - 1)
_ORDERS = {
    "newest": "created_at DESC, id",
    "price_asc": "price, id",
    "price_desc": "price DESC, id",
}


def filters(q: SearchQuery, params: dict[str, Any]) -> dict[str, str]:
    """The condition of each filter of ``q`` by facet name (their values go to ``params``)."""
    out: dict[str, str] = {}
    if q.category is not None:
        if _BIGINT[0] <= q.category <= _BIGINT[1]:
            params["f_cat"] = int(q.category)
            out["category"] = "category_ids @> ARRAY[CAST(:f_cat AS bigint)]"
        else:
            out["category"] = "FALSE"
    if q.county:
        params["f_county"] = _clean(q.county)
        out["county"] = "county = :f_county"
    if q.sector:
        params["f_sector"] = _clean(q.sector)
        out["sector"] = "sector = :f_sector"
    if q.min_price is not None or q.max_price is not None:
        lo = q.min_price if q.min_price is not None else _BIGINT[0]
        hi = q.max_price if q.max_price is not None else _BIGINT[1]
        params["f_lo"] = max(_BIGINT[0], min(_BIGINT[1], int(lo)))
        params["f_hi"] = max(_BIGINT[0], min(_BIGINT[1], int(hi)))
        out["price"] = "price BETWEEN :f_lo AND :f_hi"
    if q.in_stock:
        out["in_stock"] = "in_stock"
    return out


def _case(whens: list[str]) -> str:
    """A word's score: the weight of the first tier it is in, 0.5 when none (it matched some
    other way)."""
    return f"CASE {' '.join(whens)} ELSE 0.5 END" if whens else "0.5"


@dataclass(slots=True)
class Statement:
    """One search statement being put together: ``source`` is where the page is read from
    (the document table, ``m`` the materialised matches, or ``r`` the scored matches)."""

    doc: str  # the document table, schema-qualified
    filters: dict[str, str]
    params: dict[str, Any]
    order: str
    source: str = ""
    words: bool = False
    ctes: list[str] = field(default_factory=list)

    def where(self, skip: str | None = None) -> str:
        """Every filter's condition but ``skip``'s, ANDed."""
        conds = [sql for name, sql in self.filters.items() if name != skip]
        return " AND ".join(conds) if conds else "TRUE"

    def match(self, match: str | None) -> None:
        """Read the products matching the tsquery ``match`` (materialised once)."""
        self.words = True
        self.params["match"] = match
        self.ctes.append(
            "m AS MATERIALIZED (SELECT id, leaf, county, sector, category_ids, price,"
            f" created_at, in_stock FROM {self.doc} WHERE terms @@ CAST(:match AS tsquery))"
        )
        self.source = "m"

    def rank_one(self, word: _Word) -> None:
        """Order the matches of one word by relevance: its products are the matches, and each
        of its tiers is one exact index lookup, hashed once (an uncorrelated IN) and probed by
        every match in tier order; a product's tier is the first it is in."""
        whens = []
        for k, (weight, tq) in enumerate(word.tiers):
            self.params[f"t0_{k}"] = tq
            whens.append(
                f"WHEN m.id IN (SELECT id FROM {self.doc}"
                f" WHERE terms @@ CAST(:t0_{k} AS tsquery)) THEN {weight}"
            )
        self.order = f"{_case(whens)} DESC, m.created_at DESC, m.id"

    def rank_many(self, words: Sequence[_Word], idf: Sequence[float]) -> None:
        """Order the matches of several words by relevance: the products that have them all
        are usually far fewer than those of any one word, so each is scored from its own
        terms (decompressed once: OFFSET 0 keeps the copy from being inlined into every
        test), each word weighed by its rarity ``idf``, as in the Whoosh backend."""
        score = []
        for i, w in enumerate(words):
            whens = []
            for k, (weight, tq) in enumerate(w.tiers):
                self.params[f"t{i}_{k}"] = tq
                whens.append(f"WHEN t.v @@ CAST(:t{i}_{k} AS tsquery) THEN {weight}")
            self.params[f"idf{i}"] = idf[i]
            score.append(f"CAST(:idf{i} AS float8) * {_case(whens)}")
        self.ctes.append(
            f"r AS MATERIALIZED (SELECT m.id, m.created_at, {' + '.join(score)} AS score"
            f" FROM m CROSS JOIN LATERAL (SELECT terms || CAST('' AS tsvector) AS v"
            f" FROM {self.doc} AS d WHERE d.id = m.id OFFSET 0) AS t WHERE {self.where()})"
        )
        self.source = "r"
        self.order = "round(CAST(score AS numeric), 9) DESC, created_at DESC, id"

    def sql(self) -> str:
        """The statement: the page, then the counts, over the common table expressions."""
        source = self.source or self.doc
        page_sql = (
            "SELECT 'p' AS kind, s.id AS id, NULL::text AS leaf, NULL::text AS county,"
            " NULL::text AS sector, NULL::int AS g, s.rn AS c_category, NULL::bigint AS c_county,"
            " NULL::bigint AS c_sector, NULL::bigint AS c_total, NULL::bigint AS c_all,"
            " d.title AS title, left(d.description, 2000) AS description"
            f" FROM (SELECT id, row_number() OVER () AS rn FROM (SELECT {source}.id FROM"
            f" {source} WHERE {'TRUE' if source == 'r' else self.where()} ORDER BY {self.order}"
            " LIMIT :limit OFFSET :offset) AS o) AS s"
            f" JOIN {self.doc} AS d ON d.id = s.id"
        )
        counts_sql = (
            "SELECT 'c', NULL, leaf::text, county, sector, GROUPING(leaf, county, sector),"
            f" count(*) FILTER (WHERE {self.where('category')}),"
            f" count(*) FILTER (WHERE {self.where('county')}),"
            f" count(*) FILTER (WHERE {self.where('sector')}),"
            f" count(*) FILTER (WHERE {self.where()}), count(*), NULL, NULL"
            f" FROM {'m' if self.words else self.doc}"
            " GROUP BY GROUPING SETS ((leaf), (county), (sector), ())"
        )
        ctes = self.ctes
        return ("WITH " + ", ".join(ctes) + " " if ctes else "") + (
            f"({page_sql}) UNION ALL ({counts_sql})"
        )


def read(rows: Sequence[Sequence[Any]], words: Sequence[_Word]) -> tuple[SearchResult, int]:
    """The result of a statement's ``rows`` (highlighted for ``words``) and the number of
    matches before the filters (the total when there are no words)."""
    page: list[tuple[int, int, str, str]] = []
    facets: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    total = matched = 0
    for (
        kind,
        pid,
        leaf,
        county,
        sector,
        g,
        c_cat,
        c_county,
        c_sector,
        c_total,
        c_all,
        *text,
    ) in rows:
        if kind == "p":
            page.append((int(c_cat), int(pid), text[0], text[1]))
        elif g == 0b011 and leaf is not None and c_cat:  # grouped by leaf only
            facets["category"][leaf] += int(c_cat)
        elif g == 0b101 and county and c_county:
            facets["county"][county] += int(c_county)
        elif g == 0b110 and sector and c_sector:
            facets["sector"][sector] += int(c_sector)
        elif g == 0b111:
            total, matched = int(c_total), int(c_all)
    page.sort()
    result = SearchResult(
        ids=[pid for _, pid, _, _ in page],
        total=total,
        facets={
            name: dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
            for name, counts in facets.items()
        },
    )
    if words:
        qwords = [w.query for w in words]
        for _, pid, title, description in page:
            result.highlights[pid] = excerpt(title, description, qwords)
    return result, matched if words else total
