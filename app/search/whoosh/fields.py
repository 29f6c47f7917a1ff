"""What the Whoosh index holds: its schema, and the fields of one product as it is indexed.

The fields are described in :mod:`app.search.whoosh`; ``attrs`` packs the values filters,
facets and sorting need into one column, read back by :class:`~app.search.whoosh.views._Segment`.
"""

from __future__ import annotations

from datetime import UTC

from whoosh import columns, formats
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, FieldType, Schema

from app.search.backend import SearchDoc, doc_stamp
from app.search.normalize import HEAD, index_forms, title_heads
from app.search.whoosh.internals import PersianTokenizer

_SEP = "\x1f"
_ATTRS = 10  # values in ``attrs`` (an index written before options holds 9: read as none)
_OPT_SEP = "\x1e"  # between a product's option pairs in ``attrs``
_OPT_PAIR = "\x1d"  # between an option's name and value


def encode_options(options: list[tuple[str, str]]) -> str:
    """A product's option pairs as the last value of ``attrs``."""
    return _OPT_SEP.join(
        f"{name}{_OPT_PAIR}{value}"
        for name, value in options
        if _SEP not in name + value
        and _OPT_SEP not in name + value
        and _OPT_PAIR not in name + value
    )


def _term_field(mode: str) -> FieldType:
    return FieldType(formats.Existence(), PersianTokenizer(mode), scorable=False)


def make_schema() -> Schema:
    """The index schema (see :mod:`app.search.whoosh`)."""
    return Schema(
        id=ID(unique=True, stored=True),
        title=_term_field("exact"),
        meta=_term_field("exact"),
        body=_term_field("exact"),
        tstem=_term_field("stem"),
        stem=_term_field("stem"),
        county=ID(),
        sector=ID(),
        category=KEYWORD(),
        attrs=COLUMN(columns.VarBytesColumn()),
        doc=STORED(),
    )


def _doc_fields(doc: SearchDoc) -> dict[str, object]:
    created = doc.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    title_exact, title_stems = index_forms(doc.title)
    if doc.title_en:
        en_exact, en_stems = index_forms(doc.title_en)
        title_exact, title_stems = title_exact + en_exact, title_stems + en_stems
    title_exact += [HEAD + t for t in title_heads(doc.title)]
    meta = f"{doc.category_path} ; {doc.category_path_en} ; {doc.seller_name}"
    if doc.options:  # the values are searchable words: «آبی» finds the blue variant
        meta += " ; " + " ; ".join(dict.fromkeys(value for _name, value in doc.options))
    meta_exact, meta_stems = index_forms(meta)
    body_exact, body_stems = index_forms(doc.description)
    cats = [str(c) for c in doc.category_ids]
    attrs = _SEP.join(
        [
            str(int(doc.id)),
            cats[0] if cats else "",
            doc.county or "",
            doc.sector or "",
            ",".join(cats),
            str(int(doc.price_amount)),
            str(int(created.timestamp())),
            "1" if doc.in_stock else "0",
            doc_stamp(doc),
            encode_options(doc.options),
        ]
    )
    fields: dict[str, object] = {
        "id": str(int(doc.id)),
        "title": title_exact,
        "meta": meta_exact,
        "body": body_exact,
        "tstem": title_stems,
        "stem": meta_stems + body_stems,
        "attrs": attrs.encode(),
        "doc": (doc.title, doc.description, doc.category_path, doc.seller_name),
    }
    if doc.county:
        fields["county"] = doc.county
    if doc.sector:
        fields["sector"] = doc.sector
    if cats:
        fields["category"] = " ".join(cats)
    return fields
