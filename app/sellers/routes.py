from __future__ import annotations

from flask import render_template
from flask_login import current_user

from app.sellers import bp


@bp.get("/")
def dashboard():
    return render_template("sellers/dashboard.html", user=current_user)
