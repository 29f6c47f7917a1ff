"""XLSX workbooks for staff and funders (openpyxl, only here): one sheet per table, right-to-left
in the Persian interface, a bold frozen header, and text cells kept as text (a value starting with
``=`` is never a formula)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_BAD_TITLE = str.maketrans({c: " " for c in "[]:*?/\\"})


def workbook_bytes(
    sheets: Sequence[tuple[str, list[str], Iterable[Iterable[object]]]], rtl: bool = True
) -> bytes:
    """A workbook of (title, header, rows) sheets."""
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title.translate(_BAD_TITLE)[:31] or "Sheet")
        sheet.sheet_view.rightToLeft = rtl
        sheet.append([str(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in rows:
            sheet.append([v if isinstance(v, int | float) or v is None else str(v) for v in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text stays text: no formulas from typed names
        for column, name in zip(sheet.columns, header, strict=False):
            width = max([len(str(name)), *(len(str(c.value or "")) for c in column)][:200])
            sheet.column_dimensions[column[0].column_letter].width = min(40, width + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(
    sheets: Sequence[tuple[str, list[str], Iterable[Iterable[object]]]],
    filename: str,
    rtl: bool = True,
) -> Response:
    return Response(
        workbook_bytes(sheets, rtl),
        mimetype=XLSX_MIME,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
