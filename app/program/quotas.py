"""County quotas: how many trained businesses a county is to connect to the market (and how much
it is to sell) in a programme year. Set one at a time from the staff form or many at once from
a CSV file that is checked row by row first and then saved all or none; every change is in the
audit log.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.audit import log as audit
from app.core.csvcells import csv_text
from app.core.db import transaction
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.core.inputs import optional_int, optional_money
from app.program.models import Quota
from app.program.monthly import names_of
from app.reference.models import County

MIN_YEAR, MAX_YEAR = 1390, 1500
MAX_TARGET_SELLERS = 1_000_000
MAX_TARGET_SALES = 10**15  # rials: far above any county's, far below the column's limit
MAX_QUOTA_FILE_BYTES = 512 * 1024
MAX_QUOTA_ROWS = 5000


@dataclass
class QuotaInput:
    county_id: int | None
    programme_year: int | None
    target_sellers: int | None
    # None: keep the current target (0 for a new quota)
    target_sales_amount: int | None = None


def number(text: object) -> int | None:
    """Digits of any script with separators (``1,250``, ``۱٬۲۵۰``); None when empty; -1 when
    not a whole number (or absurdly long)."""
    try:
        return optional_int(text)
    except ValueError:
        return -1


def money(text: object, currency: str) -> int | None:
    """An amount typed in the market's unit (toman for rials), in the stored unit; None when
    empty; -1 when it is no amount (refused as out of range)."""
    try:
        return optional_money(text, currency)
    except ValueError:
        return -1


def quota_errors(item: QuotaInput) -> dict[str, list[str]]:
    """Field -> error codes of one quota (nothing looked up but the county)."""
    errors: dict[str, list[str]] = {}
    if item.county_id is None or item.county_id <= 0:
        errors["county_id"] = ["required"]
    elif db.session.get(County, item.county_id) is None:
        errors["county_id"] = ["county_unknown"]
    if item.programme_year is None:
        errors["programme_year"] = ["required"]
    elif not MIN_YEAR <= item.programme_year <= MAX_YEAR:
        errors["programme_year"] = ["year_range"]
    if item.target_sellers is None:
        errors["target_sellers"] = ["required"]
    elif not 0 <= item.target_sellers <= MAX_TARGET_SELLERS:
        errors["target_sellers"] = ["sellers_range"]
    if item.target_sales_amount is not None and not (
        0 <= item.target_sales_amount <= MAX_TARGET_SALES
    ):
        errors["target_sales_amount"] = ["sales_range"]
    return errors


def _save(actor_id: int | None, item: QuotaInput, source: str) -> bool:
    quota = db.session.scalar(
        sa.select(Quota).where(
            Quota.county_id == item.county_id, Quota.programme_year == item.programme_year
        )
    )
    before = (
        {"target_sellers": quota.target_sellers, "target_sales_amount": quota.target_sales_amount}
        if quota is not None
        else None
    )
    after = {
        "target_sellers": item.target_sellers,
        "target_sales_amount": item.target_sales_amount
        if item.target_sales_amount is not None
        else (quota.target_sales_amount if quota is not None else 0),
    }
    if before == after:
        return False
    if quota is None:
        quota = Quota(county_id=item.county_id, programme_year=item.programme_year)
        db.session.add(quota)
    quota.target_sellers = after["target_sellers"] or 0
    quota.target_sales_amount = after["target_sales_amount"] or 0
    db.session.flush()
    audit.record(
        actor_id,
        "quota.update" if before is not None else "quota.create",
        "quota",
        quota.id,
        data={"county_id": item.county_id, "programme_year": item.programme_year,
              "before": before, "after": after, "source": source},
    )  # fmt: skip
    return True


def save_quotas(actor_id: int | None, items: list[QuotaInput], source: str = "form") -> int:
    """Set the quotas of ``items`` (county and programme year each), all or none, with an audit
    event for each one that changes; returns how many changed. Raises ValidationFailed (keys
    ``"<index>.<field>"``, or the field alone for one item) and changes nothing then. Commits."""
    errors: dict[str, list[str]] = {}
    seen: set[tuple[int | None, int | None]] = set()
    for n, item in enumerate(items):
        prefix = f"{n}." if len(items) > 1 else ""
        for name, codes in quota_errors(item).items():
            errors[prefix + name] = codes
        key = (item.county_id, item.programme_year)
        if key in seen:
            errors.setdefault(f"{prefix}county_id", []).append("duplicate")
        seen.add(key)
    if errors:
        raise ValidationFailed(errors)
    with transaction():
        return sum(_save(actor_id, item, source) for item in items)


def delete_quota(actor_id: int | None, quota_id: int) -> None:
    """Remove a quota (with an audit event). Raises NotFound. Commits."""
    with transaction() as session:
        quota = session.get(Quota, quota_id)
        if quota is None:
            raise NotFound("quota")
        audit.record(
            actor_id,
            "quota.delete",
            "quota",
            quota.id,
            data={"county_id": quota.county_id, "programme_year": quota.programme_year,
                  "before": {"target_sellers": quota.target_sellers,
                             "target_sales_amount": quota.target_sales_amount}},
        )  # fmt: skip
        session.delete(quota)


def quotas(year: int | None = None, locale: str = "fa") -> list[tuple[Quota, str]]:
    """The quotas (of one programme year, or all), newest year first, with county names."""
    stmt = (
        sa.select(Quota, names_of(County, locale))
        .join(County, County.id == Quota.county_id)
        .order_by(Quota.programme_year.desc(), names_of(County, locale), County.id)
    )
    if year is not None:
        stmt = stmt.where(Quota.programme_year == year)
    return [(q, name) for q, name in db.session.execute(stmt).tuples()]


def county_choices(locale: str) -> list[tuple[int, str]]:
    """(id, name) of every county, by name, for the quota form."""
    name = names_of(County, locale)
    return [(r[0], r[1]) for r in db.session.execute(sa.select(County.id, name).order_by(name))]


def county_name(county_id: int | None, locale: str) -> str:
    county = db.session.get(County, county_id) if county_id else None
    return county.name(locale) if county is not None else ""


# ---- the quota file ---------------------------------------------------------------------------

# The columns of the quota file (export and upload); Persian headings are accepted too.
QUOTA_COLUMNS = ("county_id", "county_slug", "county_fa", "county_en", "programme_year",
                 "target_sellers", "target_sales_amount_rial")  # fmt: skip
_QUOTA_ALIASES = {
    "county": "county_name",
    "شهرستان": "county_name",
    "شناسه شهرستان": "county_id",
    "سال برنامه": "programme_year",
    "هدف فروشندگان": "target_sellers",
    "سهمیه": "target_sellers",
    "هدف فروش (ریال)": "target_sales_amount_rial",
    "هدف فروش": "target_sales_amount_rial",
}
_COUNTY_COLUMNS = frozenset({"county_id", "county_slug", "county_fa", "county_en", "county_name"})


class QuotaFileRejected(Exception):
    """The file as a whole cannot be read: ``code`` says why (nothing was changed)."""

    def __init__(self, code: str, line: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.line = line


@dataclass
class QuotaRow:
    line: int
    source: dict[str, str]
    item: QuotaInput
    county_name: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field, code)
    change: str = ""  # "new", "changed" or "same"

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class QuotaPlan:
    rows: list[QuotaRow]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def error_rows(self) -> list[QuotaRow]:
        return [r for r in self.rows if not r.ok]

    @property
    def items(self) -> list[QuotaInput]:
        return [r.item for r in self.rows]


def decode_quota_file(data: bytes) -> str:
    """The text of an uploaded quota file (UTF-8, with or without a BOM). Raises
    QuotaFileRejected (``too_large``, ``empty``, ``not_utf8``)."""
    if len(data) > MAX_QUOTA_FILE_BYTES:
        raise QuotaFileRejected("too_large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuotaFileRejected("not_utf8") from exc
    if not text.strip():
        raise QuotaFileRejected("empty")
    return text


def _header(name: str) -> str:
    clean = " ".join(str(name or "").replace("\ufeff", "").split()).strip()
    low = clean.lower()
    if low in QUOTA_COLUMNS or low == "county_name":
        return low
    return _QUOTA_ALIASES.get(clean, _QUOTA_ALIASES.get(low, low))


def _plain(name: str) -> str:
    return re.sub(r"\s+", " ", (name or "").replace("\u200c", " ")).strip().lower()


class _Counties:
    """Every county by id, slug and (Persian or English) name."""

    def __init__(self) -> None:
        counties = db.session.scalars(sa.select(County)).all()
        self.by_id = {c.id: c for c in counties}
        self.by_slug = {c.slug.lower(): c for c in counties}
        self.by_name: dict[str, County] = {}
        for c in counties:
            for name in (c.name_fa, c.name_en):
                self.by_name.setdefault(_plain(name), c)

    def find(self, source: dict[str, str], row: QuotaRow) -> County | None:
        """The county a row names by id, slug or name; every one given must name the same."""
        found: list[County | None] = []
        if source.get("county_id", ""):
            value = number(source["county_id"])
            found.append(self.by_id.get(value) if value and value > 0 else None)
        if source.get("county_slug"):
            found.append(self.by_slug.get(source["county_slug"].lower()))
        for key in ("county_fa", "county_en", "county_name"):
            if source.get(key):
                found.append(self.by_name.get(_plain(source[key])))
        if not found:
            row.errors.append(("county_id", "required"))
            return None
        if any(c is None for c in found):
            row.errors.append(("county_id", "county_unknown"))
            return None
        if len({c.id for c in found if c is not None}) > 1:
            row.errors.append(("county_id", "county_mismatch"))
            return None
        return found[0]


def _records(text: str) -> tuple[list[str], list[list[str]]]:
    """The header (as column names) and the non-blank rows of a quota file. Raises
    QuotaFileRejected (``malformed``, ``no_header``, ``missing_columns``, ``too_many_rows``)."""
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise QuotaFileRejected("malformed") from exc
    records = [r for r in records if any(cell.strip() for cell in r)]
    if not records:
        raise QuotaFileRejected("no_header")
    header = [_header(h) for h in records[0]]
    if not _COUNTY_COLUMNS & set(header) or not {"programme_year", "target_sellers"} <= set(header):
        raise QuotaFileRejected("missing_columns")
    if len(records) - 1 > MAX_QUOTA_ROWS:
        raise QuotaFileRejected("too_many_rows")
    return header, records[1:]


def _read_row(n: int, source: dict[str, str], counties: _Counties, locale: str) -> QuotaRow:
    """One row of the file as a quota, with the errors of its fields."""
    row = QuotaRow(n, source, QuotaInput(None, None, None))
    county = counties.find(source, row)
    row.item = QuotaInput(
        county.id if county else None,
        number(source.get("programme_year")),
        number(source.get("target_sellers")),
        number(source.get("target_sales_amount_rial")),
    )
    if county is not None:
        row.county_name = county.name(locale)
    for name, codes in quota_errors(row.item).items():
        if name == "county_id" and row.errors:
            continue  # the county's own error is already there
        row.errors.extend((name, code) for code in codes if code != "county_unknown")
    return row


def _change(item: QuotaInput, have: tuple[int, int] | None) -> str:
    """``new``, ``changed`` or ``same``: what saving ``item`` does to the quota it names."""
    if have is None:
        return "new"
    sales = item.target_sales_amount
    want = (item.target_sellers, have[1] if sales is None else sales)
    return "same" if want == have else "changed"


def plan_quotas(text: str, locale: str = "fa") -> QuotaPlan:
    """Read and check every row of a quota file without changing anything. Raises
    QuotaFileRejected for a file that cannot be read as a whole (``malformed``,
    ``no_header``, ``missing_columns``, ``too_many_rows``)."""
    header, records = _records(text)
    counties = _Counties()
    current: dict[tuple[int | None, int | None], tuple[int, int]] = {
        (q.county_id, q.programme_year): (q.target_sellers, q.target_sales_amount)
        for q in db.session.scalars(sa.select(Quota))
    }
    rows: list[QuotaRow] = []
    seen: set[tuple[int | None, int | None]] = set()
    for n, record in enumerate(records, start=2):
        source = {
            h: (csv_text(record[i].strip()) if i < len(record) else "")
            for i, h in enumerate(header)
        }
        row = _read_row(n, source, counties, locale)
        if row.ok:
            key = (row.item.county_id, row.item.programme_year)
            if key in seen:
                row.errors.append(("county_id", "duplicate"))
            else:
                seen.add(key)
                row.change = _change(row.item, current.get(key))
        rows.append(row)
    return QuotaPlan(rows)


def quota_csv_rows() -> list[list[object]]:
    """Every quota as rows of ``QUOTA_COLUMNS`` (the file that uploads back unchanged)."""
    return [
        list(r)
        for r in db.session.execute(
            sa.select(
                Quota.county_id, County.slug, County.name_fa, County.name_en,
                Quota.programme_year, Quota.target_sellers, Quota.target_sales_amount,
            )
            .join(County, County.id == Quota.county_id)
            .order_by(Quota.programme_year.desc(), County.name_fa, County.id)
        )
    ]  # fmt: skip
