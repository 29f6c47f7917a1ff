"""Small helpers shared by the blueprints (HTTP side only)."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

from flask import Response, request


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
    from app.inputs import lenient_int

    # A page past the end shows the last one, however many digits the number has.
    page = lenient_int(request.args.get(name, "1")[:400], 1, max_digits=400)
    return min(max(page or 1, 1), maximum)


def csv_response(header: list[str], rows: list[list[object]], filename: str) -> Response:
    """UTF-8 with a byte order mark, so spreadsheet programs read the Persian correctly."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return Response(
        out.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
