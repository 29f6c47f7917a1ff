"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Any value can be overridden on the command line or with ``GUNICORN_CMD_ARGS``. The worker
timeout stays well above ``SQLITE_BUSY_TIMEOUT_SECONDS`` (10 s by default), so a write that waits
for the SQLite lock too long ends in the market's own 503 "busy, try again" page, never in
gunicorn killing the worker.

The same file serves the photo upload pool (``scripts/run-upload-pool``, docs/deploy.md): the
same app on a port of its own, with threaded workers (``GUNICORN_WORKER_CLASS=gthread``,
``GUNICORN_THREADS``) at a lower CPU priority, to which the reverse proxy sends the photo uploads.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
graceful_timeout = 30
# Import the app once in the master, then fork the workers.
preload_app = True
accesslog = "-"
errorlog = "-"
