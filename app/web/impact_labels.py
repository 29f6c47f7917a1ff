"""Labels of the beneficiary record's bands, loans and self-dealing flags, and of the impact
figures' columns, in the page's language (the stored values are in app.program.impact_models)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

LABELS = {
    "gender": {"female": _l("Woman"), "male": _l("Man")},
    "age_band": {
        "under_25": _l("Under 25"),
        "25_34": _l("25 to 34"),
        "35_44": _l("35 to 44"),
        "45_54": _l("45 to 54"),
        "55_plus": _l("55 or older"),
    },
    "locality": {"rural": _l("Rural"), "urban": _l("Urban")},
    "income_band": {
        "none": _l("No income"),
        "under_5m": _l("Under 5 million toman a month"),
        "5m_10m": _l("5 to 10 million toman a month"),
        "10m_20m": _l("10 to 20 million toman a month"),
        "over_20m": _l("Over 20 million toman a month"),
    },
    "purpose": {
        "handicrafts": _l("Handicrafts"),
        "tourism": _l("Tourism"),
        "industry": _l("Industry"),
        "services": _l("Services"),
    },
    "repayment": {
        "current": _l("Being repaid"),
        "late": _l("Late"),
        "repaid": _l("Repaid"),
        "defaulted": _l("Defaulted"),
    },
    "flag_status": {
        "pending": _l("Waiting for a decision"),
        "cleared": _l("Cleared: counts"),
        "confirmed": _l("Confirmed: left out"),
    },
    "reason": {
        "account": _l("The buyer is the seller's own account"),
        "phone": _l("Same phone number"),
        "address": _l("Same address"),
        "card": _l("Same bank card"),
    },
}


def label(kind: str, value: object) -> str:
    """The label of a stored value (``—`` for none)."""
    raw = getattr(value, "value", value)
    if raw is None or raw == "":
        return "—"
    return str(LABELS[kind].get(str(raw), raw))


def choices(kind: str, blank: str = "") -> list[tuple[str, str]]:
    """(value, label) of a band for a drop-down, after a blank choice."""
    return [("", blank or "—"), *((k, str(v)) for k, v in LABELS[kind].items())]


# The impact tables' columns (CSV and XLSX keys), in order.
IMPACT_COLUMNS = {
    "group": _l("Group"),
    "sellers": _l("Sellers"),
    "with_sale": _l("With a sale"),
    "months_to_first_sale": _l("Months to first sale"),
    "sales_toman": _l("Sales (toman)"),
    "sales_per_month_toman": _l("Sales per month (toman)"),
    "repeat_share": _l("Share of repeat buyers"),
    "loan_toman": _l("Loans (toman)"),
    "sales_per_loan_toman": _l("Sales per toman of loan"),
    "income_ratio": _l("Monthly sales ÷ income band midpoint"),
    "left_out": _l("Orders left out (self-dealing)"),
    "seller_id": _l("Seller ID"),
    "seller": _l("Seller"),
    "registration_code": _l("Registration code"),
    "county": _l("County"),
    "sector": _l("Sector"),
    "cohort": _l("Training cohort"),
    "purposes": _l("Loan purposes"),
    "income_band": _l("Income before the programme"),
    "approved_on": _l("Approved on"),
    "first_sale": _l("First sale"),
    "orders": _l("Orders"),
    "buyers": _l("Buyers"),
    "repeat_buyers": _l("Repeat buyers"),
}
