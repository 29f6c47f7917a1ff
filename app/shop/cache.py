"""A cache of storefront pages, shared by every visitor, made stale by the catalogue changes
they show.

Entries are keyed by the catalogue version, the version of the page's scope (its product, its
category, its shop...: :mod:`app.catalog.changes`), the locale and the full path, so a change in
price, stock or status is never shown stale: the transaction that made it also bumped the
versions of the pages it shows on, and every request reads the committed versions once (never
remembered across requests) before it looks a page up or renders one. Each worker keeps its own
bounded LRU in memory. Pages carry per-visitor pieces as markers that are filled in when served
(the header links, flashed messages, the CSRF token of the add-to-cart form).

Hits are served by a ``before_request`` hook that runs before every other one: no view, no
template, no ORM session. A visitor without a session or remember-me cookie cannot be logged in,
have flashed messages or a cart, so for them a hit costs one read of the versions (two primary keys), the
locale selector and a dictionary lookup (Flask-Login is handed its anonymous user instead of
looking for one). Visitors with a session are checked as before, and those who must not get a
shared page (logged in, with flashed messages or a cart) go on to the view as usual. On a miss the
view's :func:`cached_page` decorator renders the page and stores it. Cached views are served
before rate limiting, so a view with a rate limit of its own should not be cached. After-request
hooks still run for a hit (a hit is the hook's response), which is where a product page's view is
counted, once, whether it was a hit or not.

On PostgreSQL the version is read on a connection of its own in autocommit mode (one round trip,
prepared by the driver after a few runs), not through the request's ORM session, whose pool
checkout would add a ping, a ``BEGIN`` and a ``ROLLBACK``; a hit never opens the ORM session. For
a signed-in visitor the same round trip also reads their login (open and young enough, by the
accounts' own rules), name, role, cart units and last order's province, and Flask-Login is handed
that user: a signed-in hit costs about what an anonymous one does. On SQLite the session reads
them (no network, and a second engine would not see an in-memory database).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any, Generic, NamedTuple, TypeVar

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request, session
from flask.sansio.app import App
from flask_babel import get_babel
from flask_login import AnonymousUserMixin, current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app.accounts import sessions
from app.accounts.models import LoginSession, Role, User
from app.catalog.browse import page_versions
from app.catalog.models import CatalogVersion, PageVersion
from app.core.reads import first_row, read_engine
from app.notifications import site
from app.orders import cart as carts
from app.orders import lookups as order_lookups
from app.shipping.rates import market_today
from app.shop import bp

CSRF_MARKER = "__bazarche_csrf_token__"
_CSRF_MARKER_BYTES = CSRF_MARKER.encode()
# Where the visitor's own parts go; base.html puts them before the page's content, so the
# first occurrence is always the layout's, whatever a product's text holds.
_MARKUP = {"nav": Markup("<!--bazarche:nav-->"), "flashes": Markup("<!--bazarche:flashes-->")}
_MARKERS = {name: str(markup).encode() for name, markup in _MARKUP.items()}
MAX_ENTRIES = 2000
V = TypeVar("V")
_CACHED_VIEW = "_bazarche_page_cached"
_LANE_VIEW = "_bazarche_page_lane"
_SCOPE_VIEW = "_bazarche_page_scope"
# Set in the WSGI environ when a cached page was answered as every cookie-less visitor gets it:
# the endpoint's name (app.shop.lane keeps such answers).
LANE_ENDPOINT = "bazarche.lane_endpoint"
_VERSION_SQL = (
    "SELECT (SELECT version FROM catalog_version WHERE id = 1),"
    " (SELECT version FROM page_version WHERE scope = %(scope)s)"
)


class _Entry(NamedTuple):
    """A stored page: as an anonymous visitor without a cart or messages sees it, and with
    markers for the visitor's own parts (header links, flashed messages)."""

    anonymous: bytes
    personal: bytes
    status: int
    mimetype: str | None
    needs_csrf: bool


class LRU(Generic[V]):
    """Bounded, least recently used first out; keys start with the catalogue version."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[tuple, V] = OrderedDict()
        self.lock = threading.Lock()
        self.newest_version = 0

    def get(self, key: tuple) -> V | None:
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key: tuple, value: V) -> None:
        with self.lock:
            if key[0] > self.newest_version:
                # Pages of older versions can only be asked for by requests already running.
                self.newest_version = key[0]
                for old in [k for k in self.data if k[0] < key[0]]:
                    del self.data[old]
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()
            self.newest_version = 0


_pages: LRU[_Entry] = LRU(MAX_ENTRIES)


def clear() -> None:
    _pages.clear()
    _navs.clear()


def page_cache_marker(name: str) -> Markup:
    """The placeholder of the visitor's own part ``name`` in a page being cached."""
    return _MARKUP[name]


def csrf_field() -> str:
    """The CSRF token to put in a form of a cacheable page (a marker while caching)."""
    if g.get("page_cache_rendering"):
        return CSRF_MARKER
    return generate_csrf()


# --------------------------------------------------------------------------------------------
# The catalogue version, read once per request


def version_engine(app: Flask) -> sa.Engine | None:
    """The autocommit engine the versions are read on (:func:`app.core.reads.read_engine`:
    PostgreSQL through psycopg only; None elsewhere, where the ORM session reads them)."""
    return read_engine(app)


Versions = tuple[int, int]


def committed_version(engine: sa.Engine, scope: str = "") -> Versions:
    """The committed catalogue version and the version of the pages' ``scope`` (0 when it never
    changed), read on ``engine`` (:func:`version_engine`'s)."""
    row = first_row(engine, _VERSION_SQL, {"scope": scope})
    return ((row[0] or 1), (row[1] or 0)) if row else (1, 0)


def _read_version(app: Flask, scope: str) -> Versions:
    engine = version_engine(app)
    return page_versions(scope) if engine is None else committed_version(engine, scope)


VERSION_KEY = "bazarche.catalog_version"
# The scope of the cached page this request asks for (app.catalog.changes names them).
SCOPE_KEY = "bazarche.page_scope"
# The signed-in visitor's cart units and last order's province, when read with their login by
# :func:`_signed_in_at_once` (the header and the product page then need no query of their own).
KNOWN_CART_UNITS = "bazarche.cart_units"
KNOWN_PROVINCE = "bazarche.last_province"
KNOWN_UNREAD = "bazarche.unread_notices"


def _visitor_statement() -> sa.Select:
    """The catalogue and page scope's versions with the signed-in visitor's open login, name, role, state,
    locale, cart units, last order's province and unread notices (parameters ``uid`` and ``login_id``): one
    row, or none when the login is not open. Each part is the owning service's own clause (accounts' open login, the cart's
    units, the orders' last province)."""
    uid = sa.bindparam("uid", type_=sa.Integer)
    return (
        sa.select(
            sa.select(CatalogVersion.version).where(CatalogVersion.id == 1).scalar_subquery(),
            sa.select(PageVersion.version)
            .where(PageVersion.scope == sa.bindparam("scope", type_=sa.String))
            .scalar_subquery(),
            User.name,
            User.role,
            User.active,
            User.locale,
            LoginSession.created_at,
            LoginSession.last_seen_at,
            carts.units_of(User.id),
            order_lookups.last_province_of(User.id),
            site.unread_of(User.id),
        )
        .select_from(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(sessions.open_login_where(uid, sa.bindparam("login_id", type_=sa.String)))
    )


_VISITOR_SQL_KEY = "bazarche_page_cache_visitor_sql"


def _visitor_sql(app: Flask, engine: sa.Engine) -> tuple[str, dict[str, Any]]:
    """:func:`_visitor_statement` compiled once for the driver: its SQL and fixed parameters."""
    compiled = app.extensions.get(_VISITOR_SQL_KEY)
    if compiled is None:
        statement = _visitor_statement().compile(dialect=engine.dialect)
        compiled = app.extensions[_VISITOR_SQL_KEY] = (str(statement), dict(statement.params))
    return compiled


def _read_visitor(app: Flask, uid: int, login_id: str, scope: str) -> tuple | None:
    engine = version_engine(app)
    assert engine is not None
    sql, fixed = _visitor_sql(app, engine)
    return first_row(engine, sql, {**fixed, "uid": uid, "login_id": login_id, "scope": scope})


def _signed_in_at_once(app: Flask) -> bool:
    """On PostgreSQL, for a visitor whose session names a login: read the catalogue version and
    the visitor (login, name, role, cart units, last province) in one round trip on the
    autocommit connection, and hand Flask-Login the user, so the hit opens no ORM session.
    False (nothing set) when the usual loading must decide: no such session, SQLite, a login
    that is not open or too old."""
    user_id = session.get("_user_id")
    if not user_id or version_engine(app) is None:
        return False
    manager = getattr(app, "login_manager", None)
    if manager is None or manager._session_protection_failed():
        return False
    parsed = sessions.parse_user_id(str(user_id))
    if parsed is None:
        return False
    uid, login_id = parsed
    environ = request.environ
    row = _read_visitor(app, uid, login_id, environ.get(SCOPE_KEY, ""))
    if row is None:
        return False
    version, page, name, role, active, locale, created_at, last_seen_at, units, province, unread = (
        row
    )
    if not sessions.accept_login(login_id, created_at, last_seen_at):
        return False
    # A user object for the header and the after-request hooks, never added to a session.
    # What a hit reads of the user: the header (name, role), the locale selector (locale),
    # Flask-Login (active) and the after-request hooks (id).
    user = User(id=uid, name=name, role=Role(role), active=active, locale=locale)
    user.login_id = login_id
    manager._update_request_context_with_user(user)
    environ[VERSION_KEY] = (version or 1, page or 0)
    environ[KNOWN_CART_UNITS] = 0 if role == Role.STAFF else units
    environ[KNOWN_PROVINCE] = province
    environ[KNOWN_UNREAD] = unread or 0
    return True


def request_version() -> Versions:
    """The committed catalogue version and the requested page scope's, read at most once during
    this request.

    Kept in the WSGI environ, which lives exactly as long as the request (``g`` belongs to the
    app context, which a test may share between requests).
    """
    environ = request.environ
    version = environ.get(VERSION_KEY)
    if version is None:
        scope = environ.get(SCOPE_KEY, "")
        version = environ[VERSION_KEY] = _read_version(current_app, scope)
    return version


# --------------------------------------------------------------------------------------------
# Who may get a shared page


def _has_visitor_state() -> bool:
    """True when the request carries a session or a remembered login (cookies of this site)."""
    cookies = request.cookies
    if not cookies:
        return False
    config = current_app.config
    return (
        config["SESSION_COOKIE_NAME"] in cookies
        or config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies
    )


def _login_by_request(app: Flask) -> bool:
    """Could Flask-Login log a visitor in from the request itself (a request or header loader)?"""
    manager = getattr(app, "login_manager", None)
    return bool(
        getattr(manager, "_request_callback", None) or getattr(manager, "_header_callback", None)
    )


def _anonymous_visitor(app: Flask) -> None:
    """Give Flask-Login the anonymous user it would load for a visitor without any cookie.

    Loading it the usual way hashes the address and user agent for session protection and
    looks for a session, a remember cookie and loaders first; all of them are known absent here.
    """
    manager = getattr(app, "login_manager", None)
    setter = getattr(manager, "_update_request_context_with_user", None)
    if setter is not None:
        setter(None)


def _cacheable() -> bool:
    """May this request be answered from (and fill) the shared pages?"""
    return current_app.config["PAGE_CACHE_ENABLED"] and request.method == "GET"


def _personal() -> bool:
    """Does this visitor need their own parts filled in (logged in, a cart or messages)?

    A visitor without a session or remember cookie cannot have any of them: Flask-Login is
    handed its anonymous user at once.
    """
    if not _has_visitor_state() and not _login_by_request(current_app):
        _anonymous_visitor(current_app)
        return False
    if _signed_in_at_once(current_app):
        return True
    return bool(current_user.is_authenticated or session.get("_flashes") or session.get("cart"))


def _locale_code() -> str:
    """The locale this request renders in, as Flask-Babel's selector names it.

    The selector's answer decides the locale ``get_locale()`` parses, so it identifies the
    rendered language; calling it directly spares parsing a ``Locale`` on every hit.
    """
    environ = request.environ
    code = environ.get(_LOCALE_KEY)
    if code is None:
        babel = get_babel()
        chosen = babel.locale_selector() if babel.locale_selector is not None else None
        code = environ[_LOCALE_KEY] = str(chosen or babel.instance.default_locale)
    return code


_LOCALE_KEY = "bazarche.page_locale"
# Signed CSRF tokens by the session's raw token: (signed, signed at). Signing (HMAC, zlib)
# cost as much as the rest of a signed-in hit; a token signed a few minutes ago is as good
# (it is checked against WTF_CSRF_TIME_LIMIT from its signing time: a page served now may
# carry a token that much older).
_signed_tokens: dict[str, tuple[str, float]] = {}
_SIGNED_FOR_SECONDS = 300.0
_MAX_SIGNED = 4096


def _page_csrf_token() -> str:
    """This visitor's CSRF token for a served page: Flask-WTF's, signed at most
    :data:`_SIGNED_FOR_SECONDS` ago for the same session token."""
    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    raw = session.get(field)
    limit = config.get("WTF_CSRF_TIME_LIMIT", 3600)
    if not isinstance(raw, str) or field in g or (limit is not None and limit < 3600):
        return generate_csrf()
    now = time.monotonic()
    kept = _signed_tokens.get(raw)
    if kept is None or now - kept[1] > _SIGNED_FOR_SECONDS:
        signed = generate_csrf()
        if len(_signed_tokens) >= _MAX_SIGNED:
            _signed_tokens.clear()
        _signed_tokens[raw] = (signed, now)
        return signed
    setattr(g, field, kept[0])  # what generate_csrf answers for the rest of this request
    return kept[0]


def _key(vary: Callable[[], Any] | None) -> tuple:
    # The market's date too: pages show delivery dates and vacation notices that end by date.
    # ``vary`` names what else the view's page depends on (the same for many visitors).
    extra = vary() if vary is not None else None
    return (*request_version(), market_today(), _locale_code(), request.full_path, extra)


def _render_part(name: str, **context: Any) -> bytes:
    """One of the visitor's own parts, rendered from its small template."""
    template = current_app.jinja_env.get_template(f"_{name}.html")
    return template.render(request=request, g=g, **context).encode()


# Rendered header links, by everything they show (the CSRF token is a marker in them).
_navs: dict[tuple, bytes] = {}
_MAX_NAVS = 4096


def _visitor_nav() -> bytes:
    """This visitor's header links, rendered once for everyone who would see the same ones.

    The key holds all the fragment shows: the locale, who (role and name, or anonymous with
    the path the log-in link returns to), the cart count and the unread notices; the log-out form's token is a
    marker filled in per request like the page's own.
    """
    from app.shop.cart_routes import cart_count  # these modules use this one
    from app.shop.notices_routes import unread_count

    user = current_user._get_current_object()
    in_cart = cart_count()
    unread = unread_count()
    if user.is_authenticated:
        who: tuple = (str(user.role), user.name)
    else:
        who = (None, request.path)
    key = (id(current_app._get_current_object()), _locale_code(), who, in_cart, unread)  # type: ignore[attr-defined]
    nav = _navs.get(key)
    if nav is None:
        g.page_cache_rendering = True
        try:
            nav = _render_part("account_nav", nav_user=user, nav_in_cart=in_cart, nav_unread=unread)
        finally:
            g.page_cache_rendering = False
        if len(_navs) >= _MAX_NAVS:
            _navs.clear()
        _navs[key] = nav
    return nav


def _fill_personal(body: bytes) -> bytes:
    """``body`` with this visitor's header links and flashed messages in place of the markers
    (CSRF markers are left for :func:`_response`)."""
    body = body.replace(_MARKERS["nav"], _visitor_nav(), 1)
    messages = _render_part("flashes") if session.get("_flashes") else b""
    return body.replace(_MARKERS["flashes"], messages, 1)


def _store(key: tuple, body: bytes, status: int, mimetype: str | None) -> _Entry:
    """Keep a freshly rendered page, with its anonymous copy made once now."""
    anonymous = body.replace(
        _MARKERS["nav"],
        _render_part("account_nav", nav_user=AnonymousUserMixin(), nav_in_cart=0, nav_unread=0),
        1,
    ).replace(_MARKERS["flashes"], b"", 1)
    entry = _Entry(anonymous, body, status, mimetype, _CSRF_MARKER_BYTES in body)
    _pages.put(key, entry)
    return entry


def _response(entry: _Entry, state: str, personal: bool, lane: bool) -> Response:
    if lane and not personal and not entry.needs_csrf and not _has_visitor_state():
        request.environ[LANE_ENDPOINT] = request.endpoint
    body = _fill_personal(entry.personal) if personal else entry.anonymous
    if entry.needs_csrf or personal:  # a signed-in visitor's log-out form has one too
        body = body.replace(_CSRF_MARKER_BYTES, _page_csrf_token().encode())
    response = Response(body, entry.status, mimetype=entry.mimetype)
    response.headers["X-Page-Cache"] = state
    return response


def serve_hit() -> Response | None:
    """``before_request``: answer a cached view from the cache, before any other hook."""
    if request.method != "GET":
        return None
    app = current_app
    view = app.view_functions.get(request.endpoint or "")
    if view is None or not hasattr(view, _CACHED_VIEW) or not _cacheable():
        return None
    _name_scope(view, request.view_args or {})
    personal = _personal()
    entry = _pages.get(_key(getattr(view, _CACHED_VIEW)))
    if entry is None:
        return None
    return _response(entry, "hit", personal, getattr(view, _LANE_VIEW, False))


def _name_scope(view: Callable[..., Any], view_args: dict[str, Any]) -> None:
    """Say which pages' scope this request asks for (before the version is read)."""
    scope = getattr(view, _SCOPE_VIEW, None)
    request.environ[SCOPE_KEY] = scope(**view_args) if scope is not None else ""


def install(app: App) -> None:
    """Serve hits from the first ``before_request`` hook of ``app`` (idempotent)."""
    hooks = app.before_request_funcs.setdefault(None, [])
    if serve_hit not in hooks:
        hooks.insert(0, serve_hit)


# The shop blueprint holds the cached views: registering it on an app installs the hook.
bp.record_once(lambda state: install(state.app))
bp.add_app_template_global(page_cache_marker, "page_cache_marker")


def cached_page(
    view: Callable[..., Any] | None = None,
    *,
    vary: Callable[[], Any] | None = None,
    scope: Callable[..., str] | None = None,
    lane: bool = True,
) -> Any:
    """Serve ``view``'s page to every visitor from the shared pages, each with their own parts
    filled in: hits are served by :func:`serve_hit`; a miss renders the page here and stores it.

    Only for views whose page is the same for everyone apart from the layout's visitor parts
    (header links, cart count, flashed messages) and the CSRF marker. ``vary`` returns what else
    the page depends on for this visitor (the same for many, e.g. their province); it is part of
    the key. ``scope`` names the pages' scope from the view's arguments
    (:mod:`app.catalog.changes`): the page is stale when that scope or the whole catalogue
    changed; without it, only the whole catalogue's changes make it stale. ``lane``: may :mod:`app.shop.lane` answer cookie-less visitors before Flask
    (False for a view with per-visit work in an after-request hook). Usable bare
    (``@cached_page``) or with arguments.
    """
    if view is None:
        return lambda actual: cached_page(actual, vary=vary, scope=scope, lane=lane)

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not _cacheable():
            return view(*args, **kwargs)
        _name_scope(wrapped, kwargs)
        personal = _personal()
        key = _key(vary)
        entry = _pages.get(key)
        if entry is not None:  # the hook was not installed, or another thread just stored it
            return _response(entry, "hit", personal, lane)
        g.page_cache_rendering = True
        try:
            response = current_app.make_response(view(*args, **kwargs))
        finally:
            g.page_cache_rendering = False
        if response.status_code in (200, 404) and not response.direct_passthrough:
            entry = _store(key, response.get_data(), response.status_code, response.mimetype)
            return _response(entry, "miss", personal, lane)
        response.headers["X-Page-Cache"] = "miss"
        return response

    setattr(wrapped, _CACHED_VIEW, vary)
    setattr(wrapped, _SCOPE_VIEW, scope)
    setattr(wrapped, _LANE_VIEW, lane)
    return wrapped
