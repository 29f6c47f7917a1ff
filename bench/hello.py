"""The Flask "hello world" that ``bench/pages.py`` measures the storefront against.

Served by gunicorn with the same settings as the app: ``gunicorn bench.hello:app``.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
