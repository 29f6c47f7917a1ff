"""Settings, read from environment variables. This module is the only place settings are read.

Every setting has a safe default for development on one machine (SQLite, Whoosh and media files
under ``instance/``). The secret key is never a constant: when ``SECRET_KEY`` is not set, one is
generated into ``instance/secret_key`` on first run and reused afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_INSTANCE_DIR = Path(os.environ.get("BAZARCHE_INSTANCE", BASE_DIR / "instance")).resolve()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _json_dict(name: str) -> dict[str, str]:
    value = os.environ.get(name, "").strip()
    if not value:
        return {}
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError(f"{name} must be a JSON object")
    return {str(k): str(v) for k, v in parsed.items()}


# Public tracking pages of the carriers; {code} is replaced by the (URL-quoted) tracking code.
DEFAULT_TRACKING_URL_TEMPLATES = {
    "post_pishtaz": "https://tracking.post.ir/?id={code}",
    "post_sefareshi": "https://tracking.post.ir/?id={code}",
    "tipax": "https://tipaxco.com/tracking?code={code}",
}


def load_secret_key(instance_dir: Path = DEFAULT_INSTANCE_DIR) -> str:
    """The secret key from ``SECRET_KEY``, else from ``instance/secret_key`` (created once)."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two workers starting together agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def secret_key_in_environment() -> bool:
    """Is ``SECRET_KEY`` given (the same on every machine), rather than made in the instance
    folder by :func:`load_secret_key`?"""
    return bool(os.environ.get("SECRET_KEY"))


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{DEFAULT_INSTANCE_DIR / 'bazarche.sqlite3'}"
    # psycopg 3 is the PostgreSQL driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Settings of one app instance; ``create_app(overrides)`` can replace any of them."""

    DEBUG = _bool("FLASK_DEBUG", False)
    SECRET_KEY: str | None = None  # filled by create_app via load_secret_key()
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # SQLite: how long a write waits for another writer before the visitor gets a 503 "busy,
    # try again" page. Keep it well below gunicorn's worker timeout (gunicorn.conf.py: 30 s).
    SQLITE_BUSY_TIMEOUT_SECONDS = float(os.environ.get("SQLITE_BUSY_TIMEOUT_SECONDS") or 10)
    INSTANCE_DIR = str(DEFAULT_INSTANCE_DIR)

    # Market
    MARKET_CURRENCY = os.environ.get("MARKET_CURRENCY", "IRR")
    # Carrier code -> tracking page with {code}: a JSON object in the environment, added to and
    # replacing the defaults (a carrier set to "" has no link).
    TRACKING_URL_TEMPLATES = {
        **DEFAULT_TRACKING_URL_TEMPLATES,
        **_json_dict("TRACKING_URL_TEMPLATES"),
    }
    PAGE_SIZE = _int("PAGE_SIZE", 24)
    # The national e-commerce trust symbol's snippet (a link around an image) for the footer;
    # only <a> and <img> with https addresses are allowed (app.web.badge). Empty: no symbol.
    TRUST_BADGE_HTML = os.environ.get("TRUST_BADGE_HTML", "")

    # Locale
    BABEL_DEFAULT_LOCALE = os.environ.get("DEFAULT_LOCALE", "fa")
    BABEL_DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Asia/Tehran")
    LANGUAGES = ("fa", "en")
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", not DEBUG)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # A login (and its remember cookie) lasts at most this long; logout ends it at once.
    REMEMBER_COOKIE_DURATION = timedelta(days=_int("REMEMBER_DAYS", 30))
    # One-time codes by SMS: minutes a code works, and code requests per address (each number
    # also waits longer between sends, in the database: app/accounts/codes.py).
    OTP_MINUTES = _int("OTP_MINUTES", 3)
    OTP_RATE_LIMIT = os.environ.get("OTP_RATE_LIMIT", "5 per minute;30 per hour")
    # How long a link that proves an e-mail address works.
    EMAIL_LINK_HOURS = _int("EMAIL_LINK_HOURS", 24)
    # How long a "forgotten password" link works (it also stops once used).
    PASSWORD_RESET_MINUTES = _int("PASSWORD_RESET_MINUTES", 60)
    # Reset links e-mailed per account (the form is also limited per address by LOGIN_RATE_LIMIT).
    PASSWORD_RESET_RATE_LIMIT = os.environ.get("PASSWORD_RESET_RATE_LIMIT", "3 per hour")
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Rate limits (Flask-Limiter): memory:// on one process, redis://127.0.0.1:6379 for several
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    # When that storage cannot be reached (Redis down): a warning is logged and each process
    # counts the same limits in its own memory until the storage answers again (checked after
    # 1, 2, 4… seconds); any other storage error is logged and the request goes on unlimited.
    # The market keeps serving either way (docs/deploy.md, "When a server is down").
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = _bool("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    RATELIMIT_SWALLOW_ERRORS = _bool("RATELIMIT_SWALLOW_ERRORS", True)
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "5 per minute;20 per hour")
    # Photos a seller uploads one by one on the listing form (per account).
    PHOTO_UPLOAD_RATE_LIMIT = os.environ.get(
        "PHOTO_UPLOAD_RATE_LIMIT", "60 per 10 minutes;300 per day"
    )
    # Hearts and follow buttons pressed (per address; each press is one small write).
    FAVOURITE_RATE_LIMIT = os.environ.get("FAVOURITE_RATE_LIMIT", "60 per minute;600 per hour")
    RATELIMIT_HEADERS_ENABLED = True

    # Anonymous page cache: pages anonymous visitors see, invalidated by catalogue changes
    PAGE_CACHE_ENABLED = _bool("PAGE_CACHE_ENABLED", True)

    # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto/-Host (0: none).
    # Rate limits key on the client address, so this must be right in production.
    PROXY_FIX = _int("PROXY_FIX", 0)

    # Logs (app/logs.py): "text" (time level logger [request id] message) or "json" (one object
    # per line); the root level (DEBUG, INFO, WARNING, ERROR).
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # The site's address (scheme, host, optional port and path): every link in every message
    # and the card payment's return addresses are built from it, never from the request.
    # MAIL_SITE_URL is its former name, read when SITE_URL is empty. Requests for any host other
    # than this one and ALLOWED_HOSTS (comma-separated; ".example.org" admits its subdomains)
    # get 400; localhost and 127.0.0.1 are also served in debug and testing mode.
    SITE_URL = os.environ.get("SITE_URL", "")
    ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]

    # Media
    MEDIA_DIR = os.environ.get("MEDIA_DIR", str(DEFAULT_INSTANCE_DIR / "media"))
    # "local" (files in MEDIA_DIR) or "s3" (an S3-compatible bucket: the S3_* settings below)
    MEDIA_BACKEND = os.environ.get("MEDIA_BACKEND", "local")
    # Where browsers fetch media from: a CDN or the bucket's public address; empty = this app's
    # own /media/<key> route (which streams objects from the bucket with the s3 backend)
    MEDIA_BASE_URL = os.environ.get("MEDIA_BASE_URL", "")
    S3_BUCKET = os.environ.get("S3_BUCKET", "")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL", "")  # empty = AWS itself
    S3_REGION = os.environ.get("S3_REGION", "")
    S3_ACCESS_KEY_ID = os.environ.get("S3_ACCESS_KEY_ID", "")
    S3_SECRET_ACCESS_KEY = os.environ.get("S3_SECRET_ACCESS_KEY", "")
    S3_PREFIX = os.environ.get("S3_PREFIX", "")
    S3_CONNECT_TIMEOUT = float(os.environ.get("S3_CONNECT_TIMEOUT") or 3)
    S3_READ_TIMEOUT = float(os.environ.get("S3_READ_TIMEOUT") or 10)
    S3_MAX_ATTEMPTS = _int("S3_MAX_ATTEMPTS", 3)

    # The job queue (app/jobs): "immediate" runs each task where it is enqueued (no worker);
    # "sqlite" keeps a local queue file for `flask jobs worker`; "redis" for several machines.
    JOBS_BACKEND = os.environ.get("JOBS_BACKEND", "immediate")
    JOBS_SQLITE_PATH = os.environ.get(
        "JOBS_SQLITE_PATH", str(DEFAULT_INSTANCE_DIR / "jobs.sqlite3")
    )
    JOBS_REDIS_URL = os.environ.get("JOBS_REDIS_URL", "redis://127.0.0.1:6379/1")
    # The queue's name: its Redis keys are named after it, so two markets (or test runs) may
    # share one Redis database under different names.
    JOBS_QUEUE_NAME = os.environ.get("JOBS_QUEUE_NAME", "bazarche")
    MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_BYTES", 12 * 1024 * 1024)
    MAX_IMAGE_BYTES = _int("MAX_IMAGE_BYTES", 10 * 1024 * 1024)
    MAX_IMAGE_PIXELS = _int("MAX_IMAGE_PIXELS", 40_000_000)

    # Search
    # "whoosh" (embedded index in SEARCH_INDEX_DIR) or "postgres" (tables in the PostgreSQL database)
    SEARCH_BACKEND = os.environ.get("SEARCH_BACKEND", "whoosh")
    SEARCH_INDEX_DIR = os.environ.get("SEARCH_INDEX_DIR", str(DEFAULT_INSTANCE_DIR / "search"))
    SEARCH_SYNC_ON_REQUEST = _bool("SEARCH_SYNC_ON_REQUEST", True)
    # how long a worker trusts its last count of indexed against public products
    SEARCH_CHECK_SECONDS = float(os.environ.get("SEARCH_CHECK_SECONDS") or 10)
    # an index found lost, damaged or short is rebuilt in a thread of the worker that found it,
    # at most once per SEARCH_REBUILD_RETRY_SECONDS per worker
    SEARCH_REBUILD_IN_BACKGROUND = _bool("SEARCH_REBUILD_IN_BACKGROUND", True)
    SEARCH_REBUILD_RETRY_SECONDS = float(os.environ.get("SEARCH_REBUILD_RETRY_SECONDS") or 300)

    # Health and metrics (app/web/health.py). /metrics answers only a request carrying
    # "Authorization: Bearer <METRICS_TOKEN>"; with no token set it is a 404.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
    # how long each /readyz check may take before its part counts as degraded
    READYZ_TIMEOUT_SECONDS = float(os.environ.get("READYZ_TIMEOUT_SECONDS") or 2)

    # Product-page views: counted in memory per process, written in batches
    VIEW_FLUSH_SECONDS = _int("VIEW_FLUSH_SECONDS", 60)
    VIEW_FLUSH_VIEWS = _int("VIEW_FLUSH_VIEWS", 1000)
    VIEW_FLUSH_LOCK_TIMEOUT_MS = _int("VIEW_FLUSH_LOCK_TIMEOUT_MS", 2000)

    # Payments
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
    # The bank gateway (IPG, Zarinpal's v4 API, in rials): on when IPG_MERCHANT_ID is set.
    IPG_MERCHANT_ID = os.environ.get("IPG_MERCHANT_ID", "")
    IPG_API_BASE = os.environ.get("IPG_API_BASE", "https://payment.zarinpal.com")
    IPG_START_BASE = os.environ.get("IPG_START_BASE", "https://payment.zarinpal.com")
    IPG_TIMEOUT_SECONDS = _int("IPG_TIMEOUT_SECONDS", 20)
    # A simulated gateway served by the app itself (no real money); `make run` turns it on.
    PAYMENT_SANDBOX = _bool("PAYMENT_SANDBOX", False)
    CHECKOUT_EXPIRY_MINUTES = _int("CHECKOUT_EXPIRY_MINUTES", 60)
    # Days a seller has to answer a reported problem before the customer may ask the market.
    PROBLEM_ANSWER_DAYS = _int("PROBLEM_ANSWER_DAYS", 3)
    # How long a customer may edit their review after writing it.
    REVIEW_EDIT_DAYS = _int("REVIEW_EDIT_DAYS", 30)
    MAX_OPEN_CASH_ORDERS = _int("MAX_OPEN_CASH_ORDERS", 3)
    # Days the customer has after shipping to confirm receipt (or report a problem) before the
    # order completes by itself; and the market's commission where a category names none, in
    # basis points (1000 = 10%).
    RECEIPT_WINDOW_DAYS = _int("RECEIPT_WINDOW_DAYS", 10)
    COMMISSION_RATE_BP = _int("COMMISSION_RATE_BP", 1000)

    # Mail (Flask-Mailman). "file" writes each message under MAIL_DIR (development, tests; see
    # /dev/mail in debug mode or with DEV_OUTBOX); "smtp" sends through MAIL_SERVER.
    # MAIL_FILE_PATH follows MAIL_DIR.
    MAIL_DIR = os.environ.get("MAIL_DIR", str(DEFAULT_INSTANCE_DIR / "mail"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "Bazarche <no-reply@bazarche.example>")
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "file")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)
    # Former name of SITE_URL (above), still read when SITE_URL is empty
    MAIL_SITE_URL = os.environ.get("MAIL_SITE_URL", "")

    # SMS (app/notifications/sms_gateway.py). "file" writes each message under SMS_DIR
    # (development, tests; see /dev/sms in debug mode or with DEV_OUTBOX); "kavenegar" sends
    # through Kavenegar's HTTP API with KAVENEGAR_API_KEY from the line KAVENEGAR_SENDER.
    # SMS_TIMEOUT: seconds per call to the provider.
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "file")
    # Serve /dev/mail and /dev/sms (the file backends' messages) outside debug mode too (`make
    # run` turns it on so the demo's log-in codes can be read). Outside debug mode they answer
    # only requests from this machine (loopback). Never on a public server.
    DEV_OUTBOX = _bool("DEV_OUTBOX", False)
    SMS_DIR = os.environ.get("SMS_DIR", str(DEFAULT_INSTANCE_DIR / "sms"))
    SMS_TIMEOUT = _int("SMS_TIMEOUT", 10)
    KAVENEGAR_API_KEY = os.environ.get("KAVENEGAR_API_KEY", "")
    KAVENEGAR_SENDER = os.environ.get("KAVENEGAR_SENDER", "")
    KAVENEGAR_URL = os.environ.get("KAVENEGAR_URL", "https://api.kavenegar.com/v1")
