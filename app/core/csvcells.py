"""Cells of the CSV files the market writes and reads back: safe from spreadsheet formulas."""

from __future__ import annotations

from decimal import Decimal

# A spreadsheet runs a cell that begins with one of these as a formula (OWASP's CSV injection
# list, with line feed and the full-width forms some spreadsheet programs also accept).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: object) -> object:
    """One cell as written: numbers stay numbers (a negative int stays a negative number), None
    is empty, and any text a spreadsheet would run as a formula gets a leading ``'`` so it is
    shown as the text it is."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)):  # bool is an int: written as True/False
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(cell: str) -> str:
    """A cell of a CSV the market wrote, read back as it was typed (without the ``'`` that
    :func:`csv_cell` put before a formula character), so an export uploads back unchanged."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell
