"""The beneficiary's record and loans: staff's edits (each one audited: who changed what, from
what to what) and the import of the national portal's CSV export.

The record's programme fields on ``Seller`` (the national-portal registration code, the training
provider) are edited on the same form and audited with it. The import file is checked row by row
first (nothing saved) and then saved all or none, as the quota file is
(``app.program.quotas``, whose file reading it shares); its columns are in docs/beneficiaries.md.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from app.audit import log as audit
from app.catalog.models import Seller
from app.core.csvcells import csv_text
from app.core.db import transaction
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.core.inputs import ascii_digits, normalise_code, optional_date
from app.program.impact_models import (
    AgeBand,
    Beneficiary,
    Gender,
    IncomeBand,
    Loan,
    LoanPurpose,
    Locality,
    Repayment,
)
from app.program.quotas import QuotaFileRejected, number

MAX_CODE, MAX_PROVIDER, MAX_COHORT, MAX_BANK, MAX_SUPPORT = 40, 160, 60, 100, 2000
MAX_LOAN = 10**14  # rials: far above any programme loan, far below the column's limit
MIN_LOAN_DAY = date(2000, 1, 1)
MAX_IMPORT_ROWS = 5000

RECORD_FIELDS = ("cohort", "gender", "age_band", "locality", "income_band", "other_support")
SELLER_FIELDS = ("registration_code", "training_provider")
ENUMS: dict[str, type[StrEnum]] = {
    "gender": Gender,
    "age_band": AgeBand,
    "locality": Locality,
    "income_band": IncomeBand,
    "purpose": LoanPurpose,
    "repayment": Repayment,
}

# The portal's Persian words for the enums' values (the file may use either).
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "gender": {"زن": "female", "مرد": "male"},
    "age_band": {"زیر ۲۵": "under_25", "زیر 25": "under_25", "۲۵-۳۴": "25_34", "25-34": "25_34",
                 "۳۵-۴۴": "35_44", "35-44": "35_44", "۴۵-۵۴": "45_54", "45-54": "45_54",
                 "۵۵+": "55_plus", "55+": "55_plus"},
    "locality": {"روستایی": "rural", "روستا": "rural", "شهری": "urban", "شهر": "urban"},
    "income_band": {"بدون درآمد": "none", "کمتر از ۵ میلیون": "under_5m",
                    "۵ تا ۱۰ میلیون": "5m_10m", "۱۰ تا ۲۰ میلیون": "10m_20m",
                    "بیش از ۲۰ میلیون": "over_20m"},
    "purpose": {"صنایع دستی": "handicrafts", "گردشگری": "tourism", "صنعت": "industry",
                "خدمات": "services"},
    "repayment": {"جاری": "current", "معوق": "late", "تسویه": "repaid",
                  "تسویه شده": "repaid", "سوخت شده": "defaulted", "مشکوک الوصول": "defaulted"},
}  # fmt: skip


def enum_value(kind: str, text: object) -> str | None:
    """The stored value a typed or imported ``text`` names (a value or a Persian word); ``""``
    when empty; None when it names nothing."""
    raw = " ".join(str(text or "").replace("\u200c", " ").split())
    if not raw:
        return ""
    low = raw.lower().replace("-", "_") if raw.isascii() else raw
    values = {m.value for m in ENUMS[kind]}
    if low in values:
        return low
    return VALUE_ALIASES[kind].get(raw)


# ---- the record -------------------------------------------------------------------------------


@dataclass
class RecordInput:
    """The staff form's (or an import row's) fields, as typed; ``None`` leaves a field as it is."""

    registration_code: str | None = None
    training_provider: str | None = None
    cohort: str | None = None
    gender: str | None = None
    age_band: str | None = None
    locality: str | None = None
    income_band: str | None = None
    other_support: str | None = None


def _record_values(item: RecordInput) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The cleaned values (``None`` for empty) of the fields given, and the errors."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    limits = {"registration_code": MAX_CODE, "training_provider": MAX_PROVIDER,
              "cohort": MAX_COHORT, "other_support": MAX_SUPPORT}  # fmt: skip
    for name in (*SELLER_FIELDS, *RECORD_FIELDS):
        raw = getattr(item, name)
        if raw is None:
            continue
        if name in ENUMS:
            value = enum_value(name, raw)
            if value is None:
                errors[name] = ["unknown_choice"]
                continue
            values[name] = value or None
            continue
        if name == "registration_code":
            text = normalise_code(raw)
        elif name == "cohort":
            text = " ".join(ascii_digits(raw).split())
        else:
            text = " ".join(str(raw).split())
        if name == "other_support":
            text = str(raw).strip()
        if len(text) > limits[name]:
            errors[name] = ["too_long"]
            continue
        values[name] = text or (None if name != "other_support" else "")
    return values, errors


def _code_taken(code: str | None, seller_id: int) -> bool:
    if not code:
        return False
    return (
        db.session.scalar(
            sa.select(Seller.id).where(Seller.registration_code == code, Seller.id != seller_id)
        )
        is not None
    )


def _apply_record(
    actor_id: int | None, seller: Seller, values: dict[str, Any], source: str
) -> dict[str, list[Any]]:
    """Write ``values`` to the seller and its record; audit what changed. Returns the changes
    (field -> [before, after])."""
    record = db.session.get(Beneficiary, seller.id)
    changes: dict[str, list[Any]] = {}
    for name, value in values.items():
        target: Any = seller if name in SELLER_FIELDS else record
        before = getattr(target, name) if target is not None else None
        before = getattr(before, "value", before)
        if name == "other_support" and before is None:
            before = ""
        if before != value:
            changes[name] = [before, value]
    if not changes:
        return changes
    if record is None and any(name in RECORD_FIELDS for name in changes):
        record = Beneficiary(seller_id=seller.id, other_support="")
        db.session.add(record)
    for name, (_before, value) in changes.items():
        if name in SELLER_FIELDS:
            setattr(seller, name, value)
        elif record is not None:
            setattr(record, name, ENUMS[name](value) if name in ENUMS and value else value)
    if record is not None:
        record.updated_by_id = actor_id
    audit.record(
        actor_id, "beneficiary.update", "seller", seller.id,
        data={"changes": changes, "source": source},
    )  # fmt: skip
    return changes


def save_record(actor_id: int | None, seller_id: int, item: RecordInput) -> dict[str, list[Any]]:
    """Save the staff form: the record's fields and the seller's portal code and training
    provider; returns what changed. Raises NotFound, ValidationFailed (``registration_code``:
    ``taken``, ``too_long``; a choice: ``unknown_choice``). Commits."""
    with transaction() as session:
        seller = session.get(Seller, seller_id, with_for_update=True)
        if seller is None:
            raise NotFound("seller")
        values, errors = _record_values(item)
        if "registration_code" in values and _code_taken(values["registration_code"], seller_id):
            errors.setdefault("registration_code", []).append("taken")
        if errors:
            raise ValidationFailed(errors)
        return _apply_record(actor_id, seller, values, "form")


def record_of(seller_id: int) -> Beneficiary | None:
    return db.session.get(Beneficiary, seller_id)


# ---- loans ------------------------------------------------------------------------------------


@dataclass
class LoanInput:
    amount: int | None  # rials; -1 when the text was no amount
    granted_on: date | None
    bank: str
    purpose: str | None  # a value, or None when it names nothing; "" when empty
    repayment: str | None
    granted_on_bad: bool = False


def loan_errors(item: LoanInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if item.amount is None:
        errors["amount"] = ["required"]
    elif not 0 < item.amount <= MAX_LOAN:
        errors["amount"] = ["loan_range"]
    if item.granted_on_bad:
        errors["granted_on"] = ["bad_date"]
    elif item.granted_on is None:
        errors["granted_on"] = ["required"]
    elif not MIN_LOAN_DAY <= item.granted_on <= date(2100, 1, 1):
        errors["granted_on"] = ["bad_date"]
    if len(item.bank) > MAX_BANK:
        errors["bank"] = ["too_long"]
    for name in ("purpose", "repayment"):
        value = getattr(item, name)
        if value is None:
            errors[name] = ["unknown_choice"]
        elif value == "" and name == "purpose":
            errors[name] = ["required"]
    return errors


def loan_input(
    amount: int | None, granted_on: str, bank: str, purpose: str, repayment: str
) -> LoanInput:
    """A loan as typed (the amount already read); the date Jalali or Gregorian, any digits; an
    empty repayment status is ``current``."""
    bad = False
    try:
        day = optional_date(granted_on)
    except ValueError:
        day, bad = None, True
    status = enum_value("repayment", repayment)
    return LoanInput(
        amount=amount,
        granted_on=day,
        bank=" ".join((bank or "").split()),
        purpose=enum_value("purpose", purpose),
        repayment=Repayment.CURRENT.value if status == "" else status,
        granted_on_bad=bad,
    )


def _loan_data(loan: Loan) -> dict[str, Any]:
    return {"amount": loan.amount, "granted_on": loan.granted_on.isoformat(), "bank": loan.bank,
            "purpose": str(loan.purpose), "repayment": str(loan.repayment)}  # fmt: skip


def _new_loan(actor_id: int | None, seller_id: int, item: LoanInput, source: str) -> Loan:
    loan = Loan(
        seller_id=seller_id,
        amount=item.amount,
        granted_on=item.granted_on,
        bank=item.bank,
        purpose=LoanPurpose(item.purpose or ""),
        repayment=Repayment(item.repayment or Repayment.CURRENT.value),
    )
    db.session.add(loan)
    db.session.flush()
    audit.record(
        actor_id, "loan.create", "seller", seller_id,
        data={"loan_id": loan.id, "after": _loan_data(loan), "source": source},
    )  # fmt: skip
    return loan


def add_loan(actor_id: int | None, seller_id: int, item: LoanInput) -> Loan:
    """Record a loan of a seller. Raises NotFound, ValidationFailed. Commits."""
    errors = loan_errors(item)
    if errors:
        raise ValidationFailed(errors)
    with transaction() as session:
        if session.get(Seller, seller_id) is None:
            raise NotFound("seller")
        return _new_loan(actor_id, seller_id, item, "form")


def update_loan(actor_id: int | None, loan_id: int, item: LoanInput) -> bool:
    """Change a loan; returns whether anything changed. Raises NotFound, ValidationFailed.
    Commits."""
    errors = loan_errors(item)
    if errors:
        raise ValidationFailed(errors)
    with transaction() as session:
        loan = session.get(Loan, loan_id, with_for_update=True)
        if loan is None:
            raise NotFound("loan")
        before = _loan_data(loan)
        loan.amount = item.amount or 0
        loan.granted_on = item.granted_on or loan.granted_on
        loan.bank = item.bank
        loan.purpose = LoanPurpose(item.purpose or "")
        loan.repayment = Repayment(item.repayment or Repayment.CURRENT.value)
        after = _loan_data(loan)
        if before == after:
            return False
        audit.record(
            actor_id, "loan.update", "seller", loan.seller_id,
            data={"loan_id": loan.id, "before": before, "after": after},
        )  # fmt: skip
        return True


def delete_loan(actor_id: int | None, loan_id: int) -> int:
    """Remove a loan; returns its seller's id. Raises NotFound. Commits."""
    with transaction() as session:
        loan = session.get(Loan, loan_id, with_for_update=True)
        if loan is None:
            raise NotFound("loan")
        seller_id = loan.seller_id
        audit.record(
            actor_id, "loan.delete", "seller", seller_id,
            data={"loan_id": loan.id, "before": _loan_data(loan)},
        )  # fmt: skip
        session.delete(loan)
        return seller_id


def loans_of(seller_id: int) -> list[Loan]:
    return list(
        db.session.scalars(
            sa.select(Loan).where(Loan.seller_id == seller_id).order_by(Loan.granted_on, Loan.id)
        )
    )


def get_loan(loan_id: int) -> Loan | None:
    return db.session.get(Loan, loan_id)


# ---- the national portal's export ---------------------------------------------------------------

IMPORT_COLUMNS = ("registration_code", "cohort", "training_provider", "gender", "age_band",
                  "locality", "income_band", "loan_amount_rial", "loan_date", "bank",
                  "loan_purpose", "repayment_status")  # fmt: skip
_IMPORT_ALIASES = {
    "کد ثبت نام": "registration_code",
    "کد پرتال": "registration_code",
    "کد رهگیری": "registration_code",
    "دوره": "cohort",
    "دوره آموزشی": "cohort",
    "آموزش دهنده": "training_provider",
    "مجری آموزش": "training_provider",
    "جنسیت": "gender",
    "گروه سنی": "age_band",
    "محل سکونت": "locality",
    "درآمد پیش از طرح": "income_band",
    "مبلغ وام (ریال)": "loan_amount_rial",
    "مبلغ وام": "loan_amount_rial",
    "تاریخ وام": "loan_date",
    "بانک": "bank",
    "موضوع وام": "loan_purpose",
    "وضعیت بازپرداخت": "repayment_status",
}


def _import_header(name: str) -> str:
    clean = " ".join(str(name or "").replace("\ufeff", "").replace("\u200c", " ").split())
    low = clean.lower()
    return low if low in IMPORT_COLUMNS else _IMPORT_ALIASES.get(clean, low)


@dataclass
class ImportRow:
    line: int
    source: dict[str, str]
    seller_id: int | None = None
    seller_name: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    loan: LoanInput | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, code)
    changes: list[str] = field(default_factory=list)  # record fields that change
    loan_change: str = ""  # "new", "same" or "" (no loan on the row)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportPlan:
    rows: list[ImportRow]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def error_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.ok]


def _import_records(text: str) -> tuple[list[str], list[list[str]]]:
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise QuotaFileRejected("malformed") from exc
    records = [r for r in records if any(cell.strip() for cell in r)]
    if not records:
        raise QuotaFileRejected("no_header")
    header = [_import_header(h) for h in records[0]]
    if "registration_code" not in header:
        raise QuotaFileRejected("missing_columns")
    if len(records) - 1 > MAX_IMPORT_ROWS:
        raise QuotaFileRejected("too_many_rows")
    return header, records[1:]


_LOAN_COLUMNS = ("loan_amount_rial", "loan_date", "bank", "loan_purpose", "repayment_status")
_ERROR_COLUMNS = {"amount": "loan_amount_rial", "granted_on": "loan_date", "bank": "bank",
                  "purpose": "loan_purpose", "repayment": "repayment_status"}  # fmt: skip


def _loan_key(seller_id: int, amount: int | None, day: date | None) -> tuple:
    return (seller_id, amount, day)


def _read_import_row(
    n: int, source: dict[str, str], sellers: dict[str, tuple[int, str]], loans: set[tuple]
) -> ImportRow:
    row = ImportRow(n, source)
    code = normalise_code(source.get("registration_code", ""))
    if not code:
        row.errors.append(("registration_code", "required"))
    elif code not in sellers:
        row.errors.append(("registration_code", "seller_unknown"))
    else:
        row.seller_id, row.seller_name = sellers[code]
    item = RecordInput(**{
        name: (source.get(name) or None) for name in ("cohort", "training_provider", "gender",
                                                      "age_band", "locality", "income_band")
    })  # fmt: skip
    row.values, errors = _record_values(item)
    # An empty cell leaves the field as it is.
    row.values = {k: v for k, v in row.values.items() if v is not None}
    row.errors.extend((name, code) for name, codes in errors.items() for code in codes)
    if any(source.get(c, "").strip() for c in _LOAN_COLUMNS):
        amount = number(source.get("loan_amount_rial"))
        row.loan = loan_input(
            amount if amount is None or amount >= 0 else -1,
            source.get("loan_date", ""),
            source.get("bank", ""),
            source.get("loan_purpose", ""),
            source.get("repayment_status", ""),
        )
        row.errors.extend(
            (_ERROR_COLUMNS[name], code)
            for name, codes in loan_errors(row.loan).items()
            for code in codes
        )
    if row.ok and row.seller_id is not None and row.loan is not None:
        key = _loan_key(row.seller_id, row.loan.amount, row.loan.granted_on)
        row.loan_change = "same" if key in loans else "new"
        loans.add(key)
    return row


def plan_import(text: str) -> ImportPlan:
    """Read and check every row of a portal export without changing anything. Raises
    QuotaFileRejected for a file that cannot be read as a whole."""
    header, records = _import_records(text)
    sellers: dict[str, tuple[int, str]] = {
        str(code): (seller_id, name)
        for code, seller_id, name in db.session.execute(
            sa.select(Seller.registration_code, Seller.id, Seller.display_name).where(
                Seller.registration_code.is_not(None)
            )
        ).tuples()
    }
    loans = {
        _loan_key(s, a, d)
        for s, a, d in db.session.execute(sa.select(Loan.seller_id, Loan.amount, Loan.granted_on))
    }
    current: dict[int, dict[str, Any]] = {}
    for record in db.session.scalars(sa.select(Beneficiary)):
        current[record.seller_id] = {
            name: getattr(getattr(record, name), "value", getattr(record, name))
            for name in RECORD_FIELDS
        }
    providers = dict(
        db.session.execute(sa.select(Seller.id, Seller.training_provider)).tuples().all()
    )
    rows = []
    for n, rec in enumerate(records, start=2):
        source = {
            h: (csv_text(rec[i].strip()) if i < len(rec) else "") for i, h in enumerate(header)
        }
        row = _read_import_row(n, source, sellers, loans)
        if row.ok and row.seller_id is not None:
            have = current.get(row.seller_id, {}) | {
                "training_provider": providers.get(row.seller_id)
            }
            row.changes = [k for k, v in row.values.items() if have.get(k) != v]
        rows.append(row)
    return ImportPlan(rows)


def save_import(actor_id: int | None, plan: ImportPlan) -> tuple[int, int]:
    """Save a checked plan, all or none: (records changed, loans added). Commits."""
    changed = added = 0
    with transaction() as session:
        for row in plan.rows:
            if row.seller_id is None:
                continue
            seller = session.get(Seller, row.seller_id)
            if seller is None:
                raise NotFound("seller")
            if row.values and _apply_record(actor_id, seller, row.values, "import"):
                changed += 1
            if row.loan is not None and row.loan_change == "new":
                _new_loan(actor_id, row.seller_id, row.loan, "import")
                added += 1
    return changed, added
