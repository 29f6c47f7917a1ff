"""``url_for`` for templates, with the layout's fixed links built once.

Every page's layout links the same static files and the same pages without values (the home
page, search, the cart); building each with ``url_for`` on every request costs more than the
rest of the header. Their addresses depend only on the endpoint, the file name and where the
app is mounted (the request's script root), all part of the key; every other call (values,
an external address, a blueprint-relative endpoint, no request) is ``url_for`` itself.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, request


def install_template_url_for(app: Flask) -> None:
    """Templates' ``url_for``: the app's, remembered for static files and value-less
    endpoints (a bounded set: those the templates name)."""
    build = app.url_for
    built: dict[tuple[str, str, str | None], str] = {}

    def url_for(endpoint: str, **values: Any) -> str:
        if endpoint[:1] == "." or not has_request_context():
            return build(endpoint, **values)
        if values:
            if endpoint != "static" or len(values) != 1 or "filename" not in values:
                return build(endpoint, **values)
            key = (request.script_root, endpoint, values["filename"])
        else:
            key = (request.script_root, endpoint, None)
        url = built.get(key)
        if url is None:
            url = built[key] = build(endpoint, **values)
        return url

    app.jinja_env.globals["url_for"] = url_for
