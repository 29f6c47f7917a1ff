"""The reader's language as templates need it, many times a page: its code and its message
catalogue, looked up through Flask-Babel once for each locale in force in an app context.

Flask-Babel answers every ``get_locale()`` and ``gettext()`` by walking its context, domain and
cache again; a page of product cards asks dozens of times. The answer kept here is Flask-Babel's
own, remembered beside its locale on Flask-Babel's context object and used only while that same
locale object is in force, so ``force_locale`` (e-mails in the recipient's language) and
``refresh()`` are followed at once.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import get_locale, get_translations

_MEMO = "bazarche_locale_memo"


def _current() -> tuple[Any, str, Any]:
    """(the Locale in force, its code, its translations); ``fa`` with no app context, as
    Flask-Babel gives no locale there."""
    if not g:
        return None, "fa", get_translations()
    ctx = g.get("_flask_babel")
    locale = getattr(ctx, "babel_locale", None)
    if locale is None:  # not chosen yet in this context (or refreshed): Flask-Babel chooses
        locale = get_locale()
        ctx = g.get("_flask_babel")
    domain = getattr(ctx, "babel_domain", None)
    memo = getattr(ctx, _MEMO, None)
    if memo is not None and memo[0] is locale and memo[3] is domain:
        return memo[:3]
    translations = get_translations()
    memo = (locale, str(locale or "fa"), translations, getattr(ctx, "babel_domain", None))
    setattr(ctx, _MEMO, memo)
    return memo[:3]


def locale_code() -> str:
    """The code of the locale in force (``fa``, ``en``); ``fa`` outside an app context."""
    return _current()[1]


def install_template_gettext(app: Flask) -> None:
    """Templates' ``_``/``gettext``/``ngettext``/``pgettext``/``npgettext``: Flask-Babel's
    translations of the locale in force, looked up once per locale (see :func:`_current`)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _current()[2].ugettext(s),
        ngettext=lambda s, p, n: _current()[2].ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _current()[2].upgettext(c, s),
        npgettext=lambda c, s, p, n: _current()[2].unpgettext(c, s, p, n),
    )
