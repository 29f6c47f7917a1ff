"""``url_for`` for templates, remembering the addresses it built.

A page links many addresses (static files, the header's pages, sort orders, page numbers,
breadcrumbs); building each with ``url_for`` on every request costs more than the rest of the
header. An address is a function of the URL map (fixed once the app is set up), where the app is
mounted (the request's script root), the endpoint and its values, and nothing else when no URL
defaults are registered and no ``_external``, ``_scheme``, ``_anchor`` or ``_method`` option is
given: those calls are remembered by all of that, in a bounded table (values come from requests,
so the table is emptied when full). Any other call is ``url_for`` itself.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.globals import _cv_request

_MAX_ADDRESSES = 4096


def install_template_url_for(app: Flask) -> None:
    """Templates' ``url_for``: the app's, its addresses remembered (see the module)."""
    build = app.url_for
    built: dict[tuple[Any, ...], str] = {}

    def url_for(endpoint: str, **values: Any) -> str:
        # The request context itself, not through the ``request`` proxy (dozens of calls a page).
        context = _cv_request.get(None)
        if context is None or endpoint[:1] == "." or app.url_default_functions:
            return build(endpoint, **values)
        key: tuple[Any, ...] = (context.request.script_root, endpoint)
        if values:
            for name, value in values.items():
                if name[:1] == "_" or type(value) not in (str, int):
                    return build(endpoint, **values)
            key += tuple(values.items())
        url = built.get(key)
        if url is None:
            url = build(endpoint, **values)
            if len(built) >= _MAX_ADDRESSES:
                built.clear()
            built[key] = url
        return url

    app.jinja_env.globals["url_for"] = url_for
