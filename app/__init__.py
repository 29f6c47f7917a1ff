"""Bazarche, the online market of the national home-business programme."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    abort,
    g,
    render_template,
    request,
    session,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup

from app.catalog.indexing import sync_quietly
from app.core import logs
from app.core.db import (
    end_request_write_transaction,
    is_busy_error,
    is_unavailable_error,
    write_intent,
)
from app.core.extensions import db
from app.core.links import install_trusted_hosts
from app.media.storage import StorageUnavailable
from config import Config, load_secret_key, secret_key_in_environment


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build an app; ``overrides`` replaces settings (tests pass their database here)."""
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=Config.INSTANCE_DIR,
        instance_relative_config=False,
    )
    from app.web.templating import AppEnvironment

    app.jinja_environment = AppEnvironment  # before anything makes app.jinja_env
    app.config.from_object(Config)
    app.config.update(overrides or {})
    if not app.config.get("SECRET_KEY"):
        from pathlib import Path

        app.config["SECRET_KEY"] = load_secret_key(Path(app.config["INSTANCE_DIR"]))
        app.config["SECRET_KEY_FROM_INSTANCE"] = not secret_key_in_environment()
    if app.debug or app.testing:
        app.config.setdefault("SESSION_COOKIE_SECURE", False)
    from app.web.session_cookie import SessionInterface

    app.session_interface = SessionInterface()

    from app.shop import lane  # cached pages for cookie-less visitors, answered before Flask

    lane.install(app)
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    register_url_converters(app)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_error_pages(app)
    register_security_headers(app)
    mimetypes.add_type("font/woff2", ".woff2")  # not in every system's mime.types
    register_search_sync(app)
    register_cli(app)
    register_notifications(app)
    register_service_hooks()
    register_payment_checks(app)
    register_machine_checks(app)
    register_input_guard(app)
    register_trusted_hosts(app)
    register_logs(app)
    register_health(app)
    return app


def register_logs(app: Flask) -> None:
    """Log configuration and the request id (first before_request hook; see :mod:`app.logs`)."""
    logs.install(app)


def register_health(app: Flask) -> None:
    """``/healthz``, ``/readyz``, ``/metrics`` and the request timer (last: its hooks must come
    first; see :mod:`app.web.health`)."""
    from app.web import health

    health.init_app(app)


def register_url_converters(app: Flask) -> None:
    """``<int:…>`` in every route stops at the largest database id, so an absurd id in a URL is a
    404, never an overflow error from the database."""
    from werkzeug.routing import IntegerConverter

    class DatabaseId(IntegerConverter):
        def __init__(self, map, *args, **kwargs):
            kwargs.setdefault("max", 2**31 - 1)
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = DatabaseId


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every table on the metadata)
    from app.core.db import configure_engine_options, install_sqlite_hooks, sqlite_busy_timeout
    from app.core.extensions import babel, csrf, db, limiter, login_manager, mail, migrate
    from app.notifications.sms_gateway import check_settings as check_sms_settings

    check_sms_settings(app.config)  # before anything connects: a bad setting stops here
    configure_engine_options(app)
    db.init_app(app)
    with app.app_context():
        install_sqlite_hooks(db.engine, sqlite_busy_timeout(app))
    migrate.init_app(
        app,
        db,
        directory=str(app.root_path + "/../migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    from app.core.timeutil import check_timezone

    check_timezone(app.config["BABEL_DEFAULT_TIMEZONE"])  # a misspelt DEFAULT_TIMEZONE stops here
    babel.init_app(app, locale_selector=select_locale, timezone_selector=market_timezone_name)
    limiter.init_app(app)
    app.config.setdefault("MAIL_FILE_PATH", app.config["MAIL_DIR"])
    mail.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to see this page.")

    from app.accounts.services import load_user

    login_manager.user_loader(load_user)

    from app.catalog import changes, stock_alerts
    from app.core.extensions import MarketSession
    from app.program import summaries

    changes.install(MarketSession)
    summaries.install(MarketSession)
    stock_alerts.install(MarketSession)


def market_timezone_name() -> str:
    """Babel's time zone: the market's (``DEFAULT_TIMEZONE``)."""
    from app.core.timeutil import market_timezone

    return market_timezone().key


def select_locale() -> str:
    """The visitor's language: the address's ``lang`` (the language links search engines
    follow, app.shop.seo), the explicit choice (cookie/session), the account, then ``fa``."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in languages:
        return str(asked)
    chosen = session.get("locale") or request.cookies.get("locale")
    if chosen in languages:
        return str(chosen)
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return str(current_user.locale)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.auth import bp as auth_bp
    from app.sellers import bp as sellers_bp
    from app.shop import bp as shop_bp

    app.register_blueprint(shop_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(sellers_bp, url_prefix="/seller")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api/v1")


def register_template_helpers(app: Flask) -> None:
    from app.core import formatting
    from app.web.i18n import install_template_gettext, locale_code
    from app.web.urls import install_template_url_for

    install_template_gettext(app)
    install_template_url_for(app)

    @app.template_filter("money")
    def money_filter(amount: int | None, currency: str | None = None) -> str:
        if amount is None:
            return ""
        return formatting.format_money(
            amount, currency or app.config["MARKET_CURRENCY"], locale_code()
        )

    @app.template_filter("num")
    def number_filter(value: int | None) -> str:
        return "" if value is None else formatting.format_number(int(value), locale_code())

    @app.template_filter("rating")
    def rating_filter(value: float | None) -> str:
        return formatting.format_rating(float(value or 0), locale_code())

    @app.template_filter("digits")
    def digits_filter(value: object) -> str:
        return formatting.persian_digits(value) if locale_code() == "fa" else str(value)

    @app.template_filter("date")
    def date_filter(value, with_time: bool = False) -> str:
        return formatting.format_date(value, locale_code(), with_time=with_time)

    @app.template_filter("month")
    def month_filter(value) -> str:
        return formatting.format_month(value, locale_code())

    @app.template_filter("localname")
    def localname_filter(obj: Any) -> str:
        return obj.name(locale_code()) if obj is not None else ""

    from app.web.messages import carrier_label, status_label

    app.jinja_env.globals["status_label"] = status_label
    app.jinja_env.globals["carrier_label"] = carrier_label

    from app.media.store import media_url, srcset
    from app.web.tracking import tracking_url

    app.jinja_env.globals["media_url"] = media_url
    app.jinja_env.globals["srcset"] = srcset

    from app.web.cards import product_cards

    app.jinja_env.globals["product_cards"] = product_cards

    app.jinja_env.globals["tracking_url"] = tracking_url
    # Between two items on one line (county | sector): a bar, muted, that no one reads as the
    # digit zero (a middle dot beside Persian digits reads like «۰»); screen readers skip it.
    app.jinja_env.globals["sep"] = Markup(' <span class="sep" aria-hidden="true">|</span> ')

    from app.web import badge

    badge.install(app)

    @app.context_processor
    def inject_locale() -> dict[str, Any]:
        code = locale_code()
        return {
            "locale": code,
            "text_dir": "rtl" if code == "fa" else "ltr",
            "other_locale": "en" if code == "fa" else "fa",
        }


def register_error_pages(app: Flask) -> None:
    """Error pages (JSON under ``/api/``), the 503 "busy, try again" page for a database that
    was busy, the 503 "temporarily unavailable" page for one that cannot be reached
    (:func:`database_unavailable`), and the end of a SQLite write transaction a request left
    open."""
    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You do not have permission to see this page."),
        404: lambda: _("We could not find that page."),
        405: lambda: _("That action is not possible here."),
        413: lambda: _("The file is too large. Please choose a smaller one."),
        429: lambda: _("Too many attempts. Please wait a minute and try again."),
        500: lambda: _("Something went wrong on our side. Please try again."),
        503: lambda: _("The market is busy right now. Please try again in a few seconds."),
    }

    def render_error(code: int, message: str | None = None) -> tuple[Any, int]:
        if request.path.startswith("/api/"):
            return {"error": {"status": code, "message": message or messages[code]()}}, code
        return (
            render_template("error.html", code=code, message=message or messages[code]()),
            code,
        )

    def busy() -> ResponseReturnValue:
        db.session.rollback()
        # The page itself only reads (the visitor, their language): never wait for the lock again.
        with write_intent(writes=False):
            body, code = render_error(503)
        return body, code, {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)}

    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, lambda e, code=code: render_error(code))

    @app.errorhandler(CSRFError)
    def csrf_error(e: CSRFError) -> ResponseReturnValue:
        return render_error(
            400, _("Your form expired or was sent from elsewhere. Please try again.")
        )

    @app.errorhandler(sa.exc.DBAPIError)
    def database_error(e: sa.exc.DBAPIError) -> ResponseReturnValue:
        # The database was busy (a lock wait ran out) or cannot be reached: a 503 asking to try
        # again. Any other database error is a bug: on to the 500 handler (and the log).
        if is_busy_error(e):
            app.logger.warning("database busy on %s %s: %s", request.method, request.path, e.orig)
            return busy()
        if is_unavailable_error(e):
            return database_unavailable(app, e)
        raise e

    @app.errorhandler(StorageUnavailable)
    def storage_unavailable(e: StorageUnavailable) -> ResponseReturnValue:
        # The media storage (an S3 bucket) is unreachable: the picture was not saved.
        app.logger.warning(
            "media storage unreachable on %s %s: %s", request.method, request.path, e
        )
        db.session.rollback()
        message = _("Files cannot be saved right now. Nothing was changed; please try again soon.")
        body, code = render_error(503, message)
        return body, code, {"Retry-After": "30"}

    @app.errorhandler(500)
    def server_error(e: Exception) -> ResponseReturnValue:
        # A busy database met outside the view (an after-request hook) arrives here.
        original = getattr(e, "original_exception", None)
        if is_busy_error(original):
            return busy()
        if original is not None and is_unavailable_error(original):
            # Outside the view (a hook) or the driver's own error (the page cache's read).
            return database_unavailable(app, original)
        return rendered_unless_unavailable(app, lambda: render_error(500))

    @app.teardown_request
    def end_write_transaction(_exc: BaseException | None) -> None:
        end_request_write_transaction()

    register_lost_connections(app)


def database_unavailable(app: Flask, e: BaseException) -> ResponseReturnValue:
    """The 503 page for a database that cannot be reached (down, restarting): it needs none of
    it — no visitor loaded, no cart counted — and is in the visitor's chosen language."""
    app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, e)
    try:
        db.session.rollback()
    except sa.exc.DBAPIError:  # the connection is gone: the pool replaces it on next use
        db.session().invalidate()
    from app.core.extensions import login_manager

    g._login_user = login_manager.anonymous_user()
    message = _("The market is temporarily unavailable. Please try again in a minute.")
    headers = {"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if request.path.startswith("/api/"):
        return {"error": {"status": 503, "message": message}}, 503, headers
    return render_template("unavailable.html", message=message), 503, headers


def rendered_unless_unavailable(
    app: Flask, render: Callable[[], ResponseReturnValue]
) -> ResponseReturnValue:
    """``render()`` after rolling the session back; the "temporarily unavailable" page when that
    needs the database (the visitor, their cart) and it went away."""
    try:
        db.session.rollback()
        return render()
    except sa.exc.DBAPIError as error:
        if not is_unavailable_error(error):
            raise
        return database_unavailable(app, error)


def register_lost_connections(app: Flask) -> None:
    """End each app context's session before Flask-SQLAlchemy's own teardown (registered
    earlier, so run later): a transaction whose server went away cannot be rolled back, so its
    connection is dropped instead, and the response already made (or the 503 page) stands
    instead of a bare 500 from the server."""

    @app.teardown_appcontext
    def drop_lost_connection(_exc: BaseException | None) -> None:
        if not db.session.registry.has():
            return
        try:
            db.session.rollback()
        except sa.exc.DBAPIError as error:
            if not is_unavailable_error(error):
                raise
            app.logger.warning("database connection lost before the session ended: %s", error)
            db.session().invalidate()


# How long a visitor is asked to wait before trying again when the database was busy.
BUSY_RETRY_AFTER_SECONDS = 5
# ...and when the database could not be reached at all (a restart takes some seconds).
UNAVAILABLE_RETRY_AFTER_SECONDS = 30

SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
)


HSTS = "max-age=31536000; includeSubDomains"
# Bundled fonts (static/fonts): the file name carries the font's version, so a year's cache is
# safe; a new version is a new name.
FONT_CACHE = "public, max-age=31536000, immutable"


def register_security_headers(app: Flask) -> None:
    """Headers on every response: the fixed ones above; ``Strict-Transport-Security`` over
    HTTPS; ``Cache-Control: no-store`` on every response made for one visitor (see
    :func:`_private_response`), so no browser or proxy keeps a logged-in page."""

    from app.web.badge import image_origins

    fixed = _with_badge_images(SECURITY_HEADERS, image_origins(app))

    @app.after_request
    def headers(response: Response) -> Response:
        # Like headers.setdefault() for each, in one pass over the headers (runs on every hit).
        present = {name.lower() for name, _value in response.headers.items()}
        for name, value in fixed:
            if name.lower() not in present:
                response.headers.add(name, value)
        if request.is_secure and "strict-transport-security" not in present:
            response.headers.add("Strict-Transport-Security", HSTS)
        if request.endpoint == "static" and (request.view_args or {}).get(
            "filename", ""
        ).startswith("fonts/"):
            response.headers["Cache-Control"] = FONT_CACHE
        if _private_response(app, response):
            response.headers["Cache-Control"] = "no-store"
        return response


def _with_badge_images(
    headers: tuple[tuple[str, str], ...], origins: list[str]
) -> tuple[tuple[str, str], ...]:
    """``headers`` with the trust badge's image origins (``TRUST_BADGE_HTML``, checked to be
    https origins by :mod:`app.web.badge`) allowed in the Content-Security-Policy's ``img-src``."""
    if not origins:
        return headers
    extra = " ".join(origins)
    return tuple(
        (name, value.replace("img-src 'self' data:", f"img-src 'self' data: {extra}"))
        if name == "Content-Security-Policy"
        else (name, value)
        for name, value in headers
    )


def _private_response(app: Flask, response: Any) -> bool:
    """True for a response made for one visitor: to a logged-in visitor, or one that sets a
    cookie (the session changed: a new form token, a flashed message, a cart; or another
    cookie). Files marked public (static files, photos, the API's public answers) keep their
    long cache. Never touches the database: a visitor not loaded yet is judged by the session
    and the remember cookie."""
    cache_control = response.headers.get("Cache-Control", "")
    if "public" in cache_control or "no-store" in cache_control:
        return False
    if request.endpoint == "static":
        return False
    # The session cookie is written after this hook: its change is the sign.
    if response.headers.get("Set-Cookie") or getattr(session, "modified", False):
        return True
    user = g.get("_login_user")
    if user is not None:
        return bool(user.is_authenticated)
    remember = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    has_session = app.config.get("SESSION_COOKIE_NAME", "session") in request.cookies
    return remember in request.cookies or (has_session and "_user_id" in session)


# C0 control characters but tab, line feed and carriage return: no form, path or query has a
# use for them, and PostgreSQL refuses NUL in text outright.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _has_control_characters(values: Any) -> bool:
    return any(_CONTROL_CHARACTERS.search(value) for value in values if value)


def register_input_guard(app: Flask) -> None:
    """Refuse with 400, before any other hook (the page cache's included), a request whose
    path, query string (names or values) or form (names, values, file names) holds a NUL or
    another C0 control character but tab, line feed and carriage return."""

    def refuse_control_characters() -> None:
        if _has_control_characters([request.path]) or _has_control_characters(
            [item for pair in request.args.items(multi=True) for item in pair]
        ):
            abort(400)
        if request.mimetype in _FORM_TYPES:
            texts = [item for pair in request.form.items(multi=True) for item in pair]
            for name, upload in request.files.items(multi=True):
                texts += [name, upload.filename or ""]
            if _has_control_characters(texts):
                abort(400)

    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(0, refuse_control_characters)


def register_trusted_hosts(app: Flask) -> None:
    """Requests for a host other than the site's (``SITE_URL``, ``ALLOWED_HOSTS``) get 400 before
    any other hook runs, the page cache's included (see :mod:`app.links`)."""
    install_trusted_hosts(app)


def register_notifications(app: Flask) -> None:
    """E-mails for the domain packages' signals (login locked, seller details changed, order
    events) and, in debug mode, ``/dev/mail``: see :mod:`app.notifications`."""
    from app import notifications

    notifications.init_app(app)


def register_search_sync(app: Flask) -> None:
    """After a request that changed the catalogue, index its dirty products: at once when the
    job queue runs tasks in place (if the writer is free; otherwise they stay dirty for the next
    request or ``flask search sync``), else through a task for the job worker."""
    from app import jobs
    from app.catalog import stock_alerts
    from app.jobs import tasks as jobs_tasks

    jobs.init_app(app)

    @app.after_request
    def sync_search(response: Response) -> Response:
        # A request that never opened the ORM session changed nothing (a cached page, say): do
        # not create a session just to look.
        if not db.session.registry.has():
            return response
        # Products a committed change brought back in stock: tell who waits for them.
        stock_alerts.send_restocked()
        if db.session.info.pop("catalog_changed", False) and app.config["SEARCH_SYNC_ON_REQUEST"]:
            if jobs.queue.immediate:
                sync_quietly()
            else:  # the job worker indexes them (retried while the index writer is busy)
                jobs.submit(jobs_tasks.sync_search)
        return response


def register_cli(app: Flask) -> None:
    """The market's commands. Those that change the database run with
    :func:`app.db.write_intent`: on SQLite each of their transactions takes the write lock when
    it begins, as a web request that writes does (a read-then-write transaction would fail
    with "database is locked" while a worker writes). ``flask search`` only reads the
    database for long stretches (a reindex) and keeps to its own short writes."""
    from app.cli import register
    from app.core.db import write_intent_command

    before = set(app.cli.commands)
    register(app)
    for name in set(app.cli.commands) - before - {"search"}:
        write_intent_command(app.cli.commands[name])


def register_payment_checks(app: Flask) -> None:
    """Refuse to start with the payment sandbox on beside a real bank merchant id; say which
    online payment providers are on."""
    from app.payments import online as online_payments

    online_payments.check_settings(app)


# Settings that mean the market may run on several machines (docs/deploy.md).
_SHARED_SERVICES = {
    "MEDIA_BACKEND": "s3",
    "JOBS_BACKEND": "redis",
    "SEARCH_BACKEND": "postgres",
}


def register_machine_checks(app: Flask) -> None:
    """Warn when the app uses services that several machines share but signs its sessions with
    a key of this machine's own instance folder: every other machine would refuse its sessions
    and forms (docs/deploy.md: the same ``SECRET_KEY`` on every machine)."""
    from pathlib import Path

    if not app.config.get("SECRET_KEY_FROM_INSTANCE"):
        return
    shared = [
        f"{name}={value}"
        for name, value in _SHARED_SERVICES.items()
        if app.config.get(name) == value
    ]
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis", "rediss")):
        shared.append("RATELIMIT_STORAGE_URI=redis…")
    if shared:
        app.logger.warning(
            "SECRET_KEY is not set: sessions are signed with this machine's own key (%s), "
            "which no other machine has, although %s. Set the same SECRET_KEY on every machine.",
            Path(app.config["INSTANCE_DIR"]) / "secret_key",
            ", ".join(shared),
        )


def register_service_hooks() -> None:
    """Services that must not import each other meet here: payments refunds an order that the
    order service cancelled after it was paid, whichever path cancelled it, and a cash payment
    follows the moves people make of its orders, and a completed order credits the seller's
    ledger in the completion's own transaction. The order service logs each move once its
    transaction commits (a listener on the app's session class). Every price read asks the
    campaigns for the offers running on a listing (``app.catalog.pricing.use_offers``)."""
    from app.catalog import campaigns, pricing
    from app.core.extensions import MarketSession
    from app.disputes import services as disputes
    from app.orders import completion as order_completion
    from app.orders import services as order_services
    from app.payments import online as online_payments
    from app.payments import state as payment_state

    order_services.on_paid_order_cancelled(online_payments.refund_cancelled_order)
    order_services.on_order_moved(payment_state.sync_cash_payment)
    order_completion.on_order_completed(payment_state.order_completed)
    order_completion.on_completion_hold(disputes.holds_order)
    order_services.install(MarketSession)
    pricing.use_offers(campaigns.offers_for)
