"""The seller's statement: every ledger entry with the balance after it, and as a CSV."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from app.core.formatting import to_local
from app.payouts import ledger
from app.program.calendar import jalali_iso
from app.sellers import bp
from app.sellers.routes import current_seller
from app.web.http import csv_response, page_arg
from app.web.messages import entry_label

ENTRIES_PER_PAGE = 30


@bp.get("/statement")
def statement() -> ResponseReturnValue:
    seller = current_seller()
    return render_template(
        "sellers/statement.html",
        seller=seller,
        balance=ledger.balance(seller.id),
        page=ledger.statement(seller.id, page_arg(), ENTRIES_PER_PAGE),
        entry_label=entry_label,
    )


@bp.get("/statement.csv")
def statement_csv() -> ResponseReturnValue:
    seller = current_seller()
    rows = [
        [
            jalali_iso(to_local(row.entry.created_at).date()),
            to_local(row.entry.created_at).strftime("%H:%M"),
            row.entry.kind.value,
            entry_label(row.entry.kind),
            row.entry.order_id,
            row.entry.amount,
            row.running,
        ]
        for row in ledger.all_entries(seller.id)
    ]
    header = ["date_jalali", "time", "kind", "description", "order", "amount_rial", "balance_rial"]
    return csv_response(header, rows, f"statement-{seller.slug}.csv")
