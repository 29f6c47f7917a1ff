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
from flask.globals import _cv_app
from flask_babel import get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

_MEMO = "bazarche_locale_memo"


def _current() -> tuple[Any, str, Any]:
    """(the Locale in force, its code, its translations); ``fa`` with no app context, as
    Flask-Babel gives no locale there."""
    # The app context itself, not through the ``g`` proxy (a page asks dozens of times).
    app_context = _cv_app.get(None)
    if app_context is None:
        return None, "fa", get_translations()
    ctx = app_context.g.__dict__.get("_flask_babel")
    if ctx is not None:
        memo = ctx.__dict__.get(_MEMO)
        if (
            memo is not None
            and memo[0] is ctx.__dict__.get("babel_locale")
            and memo[3] is ctx.__dict__.get("babel_domain")
        ):
            return memo[:3]
    # Not chosen yet in this context, refreshed, or forced: Flask-Babel chooses.
    locale = get_locale()
    translations = get_translations()
    ctx = g._flask_babel
    memo = (locale, str(locale or "fa"), translations, ctx.__dict__.get("babel_domain"))
    setattr(ctx, _MEMO, memo)
    return memo[:3]


def locale_code() -> str:
    """The code of the locale in force (``fa``, ``en``); ``fa`` outside an app context."""
    return _current()[1]


def gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's ``gettext`` (the same answer), through the translations :func:`_current`
    keeps: for code that writes many messages a page (product cards, head tags)."""
    text = _current()[2].ugettext(string)
    return text % variables if variables else text


def install_template_gettext(app: Flask) -> None:
    """Templates' ``_``/``gettext``/``ngettext``/``pgettext``/``npgettext``: Flask-Babel's
    translations of the locale in force (see :func:`_current`), as Jinja's "newstyle" gettext
    gives them (marked safe under autoescape, then ``%``-formatted with their keyword values,
    escaped), each one call away (Jinja's own wrappers go through three).
    """

    def done(context: Context, text: str, variables: dict[str, Any]) -> str:
        if not variables and "%" not in text:  # nothing to put in or unescape: as it is
            return Markup(text) if context.eval_ctx.autoescape else text  # noqa: S704
        if context.eval_ctx.autoescape:
            # A catalogue message is trusted markup, as Jinja treats it; the values are escaped.
            return Markup(text) % variables  # noqa: S704
        return text % variables

    @pass_context
    def gettext(__context: Context, __string: str, **variables: Any) -> str:
        return done(__context, _current()[2].ugettext(__string), variables)

    @pass_context
    def ngettext(
        __context: Context, __singular: str, __plural: str, __num: int, **variables: Any
    ) -> str:
        variables.setdefault("num", __num)
        return done(__context, _current()[2].ungettext(__singular, __plural, __num), variables)

    @pass_context
    def pgettext(__context: Context, __string_ctx: str, __string: str, **variables: Any) -> str:
        variables.setdefault("context", __string_ctx)
        return done(__context, _current()[2].upgettext(__string_ctx, __string), variables)

    @pass_context
    def npgettext(
        __context: Context,
        __string_ctx: str,
        __singular: str,
        __plural: str,
        __num: int,
        **variables: Any,
    ) -> str:
        variables.setdefault("context", __string_ctx)
        variables.setdefault("num", __num)
        text = _current()[2].unpgettext(__string_ctx, __singular, __plural, __num)
        return done(__context, text, variables)

    app.jinja_env.newstyle_gettext = True  # type: ignore[attr-defined]
    app.jinja_env.globals.update(
        _=gettext, gettext=gettext, ngettext=ngettext, pgettext=pgettext, npgettext=npgettext
    )
