"""The app's Jinja environment, template helpers and session cookie behave as Flask's and
Jinja's own."""

from __future__ import annotations

from collections import ChainMap

import itsdangerous
import pytest

from app.web.templating import TemplateGlobals


def test_template_globals_read_as_a_chain_map():
    env_globals = {"a": 1, "b": 2}
    own = {"b": 3}
    mine, theirs = TemplateGlobals(own, env_globals), ChainMap(own, env_globals)
    assert dict(mine) == dict(theirs) == {"a": 1, "b": 3}
    assert list(mine) == list(theirs) and set(mine.keys()) == {"a", "b"}
    assert "a" in mine and "c" not in mine and mine.get("c") is None
    empty = TemplateGlobals({}, env_globals)
    assert list(empty) == ["a", "b"] and empty["b"] == 2
    env_globals["c"] = 4  # a change of the environment's globals shows through
    assert mine["c"] == 4 and "c" in empty and dict(empty) == {"a": 1, "b": 2, "c": 4}


def test_templates_see_globals_added_after_they_were_loaded(app):
    template = app.jinja_env.from_string("{{ late_global|default('none') }}")
    assert template.render() == "none"
    app.jinja_env.globals["late_global"] = "here"
    assert template.render() == "here"


def test_template_links_are_flasks_own(app):
    from flask import url_for

    page = app.jinja_env.from_string(
        "{{ url_for('shop.category', slug=slug, sort='price_asc', page=2) }} "
        "{{ url_for('shop.search', q=q) }} {{ url_for('shop.home', _external=True) }} "
        "{{ url_for('static', filename='css/bazarche.css') }}"
    )
    with app.test_request_context("/"):
        for slug, q in (("سفال", "a&b c/?"), ("x y", "<b>"), ("سفال", "a&b c/?")):
            expected = " ".join(
                [
                    url_for("shop.category", slug=slug, sort="price_asc", page=2),
                    url_for("shop.search", q=q),
                    url_for("shop.home", _external=True),
                    url_for("static", filename="css/bazarche.css"),
                ]
            )
            assert page.render(slug=slug, q=q) == str(
                app.jinja_env.from_string("{{ v }}").render(v=expected)
            )


def test_the_session_serializer_follows_the_secret_key(app):
    """The session's signing serializer is made once per key: a new key (or fallback) makes a
    new one, so a session signed with a key no longer listed is refused."""
    iface = app.session_interface
    first = iface.get_signing_serializer(app)
    assert iface.get_signing_serializer(app) is first
    cookie = first.dumps({"locale": "en"})
    old_key = app.secret_key
    app.secret_key = app.config["SECRET_KEY"] = "another-key-" + "x" * 40
    second = iface.get_signing_serializer(app)
    assert second is not first
    assert second.loads(second.dumps({"a": 1})) == {"a": 1}
    with pytest.raises(itsdangerous.BadSignature):
        second.loads(cookie)
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert iface.get_signing_serializer(app).loads(cookie) == {"locale": "en"}
