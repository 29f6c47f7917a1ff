"""A database that cannot be reached answers 503 "temporarily unavailable" with Retry-After,
translated, on pages, forms and the API alike, never 500; the page reads nothing from the
database (no visitor, no cart). Nothing listens on the port the app is given, on both passes of
the suite (the live restart is tests/faults/test_database_restart.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.core.extensions import db
from tests.conftest import close_search, settings
from tests.faults.services import free_port


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[Any]:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    app = create_app(settings(tmp_path, SQLALCHEMY_DATABASE_URI=url, PAGE_CACHE_ENABLED=True))
    yield app
    with app.app_context():
        db.engine.dispose()
    close_search(app)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/p/1"), ("POST", "/cart/add"), ("GET", "/auth/login")],
)
def test_pages_answer_503_in_the_visitors_language(
    unreachable: Any, method: str, path: str
) -> None:
    client = unreachable.test_client()
    response = client.open(path, method=method, data={"product_id": "1", "quantity": "1"})
    if path == "/auth/login":  # a page that needs no database still answers
        assert response.status_code == 200
        return
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "بازار موقتاً در دسترس نیست" in page and 'dir="rtl"' in page
    client.set_cookie("locale", "en")
    english = client.open(path, method=method, data={"product_id": "1", "quantity": "1"})
    assert english.status_code == 503
    assert "The market is temporarily unavailable." in english.get_data(as_text=True)


def test_the_api_answers_503_in_json(unreachable: Any) -> None:
    response = unreachable.test_client().get("/api/v1/products")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.get_json()["error"]["status"] == 503
