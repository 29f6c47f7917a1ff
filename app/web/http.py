"""Small helpers shared by the blueprints (HTTP side only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Response, request

from app.core.csvcells import csv_cell
from app.core.inputs import lenient_int


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def page_arg(name: str = "page", maximum: int = 10_000) -> int:
    """A page number from the query string: bad or out-of-range values become 1 or the max."""

    # A page past the end shows the last one, however many digits the number has.
    page = lenient_int(request.args.get(name, "1")[:400], 1, max_digits=400)
    return min(max(page or 1, 1), maximum)


def csv_response(
    header: list[str],
    rows: Iterable[Iterable[object]],
    filename: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """Every CSV the market hands out: UTF-8 with a byte order mark, so spreadsheet programs
    read the Persian correctly, and every cell through :func:`csv_cell`, so no text from a
    seller, buyer or staff member reaches a spreadsheet as a live formula. ``headers`` adds
    response headers (e.g. ``Cache-Control``)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(v) for v in header])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return Response(
        out.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            **(headers or {}),
        },
    )
