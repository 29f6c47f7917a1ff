"""Staff page: early warning, per county — the sellers and orders that need a call or a hand now
(:mod:`app.program.warnings`)."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.admin import bp
from app.admin.report_args import bad_request, page_locale
from app.core.db import database_id
from app.program import warnings
from app.program.quotas import county_choices
from app.web.access import staff_scope


def _county_arg(choices: list[tuple[int, str]]) -> int | None:
    raw = (request.args.get("county") or "").strip()
    if not raw:
        return None
    value = database_id(raw)
    if value is None or value not in {county_id for county_id, _name in choices}:
        bad_request(_("There is no such county. Choose one from the list."))
    return value


@bp.get("/warnings")
def early_warnings() -> ResponseReturnValue:
    scope = staff_scope()
    choices = county_choices(page_locale())
    if scope.county_id is not None:  # a county officer: their county only
        choices = [choice for choice in choices if choice[0] == scope.county_id]
    county_id = _county_arg(choices)
    return render_template(
        "admin/warnings.html",
        report=warnings.early_warnings(county_id, scope=scope),
        counties=choices,
        county_id=county_id,
        idle_days=warnings.IDLE_AFTER.days,
        unsold_days=warnings.UNSOLD_AFTER.days,
        late_days=warnings.LATE_AFTER.days,
        limit=warnings.LIMIT,
    )
