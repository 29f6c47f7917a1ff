"""/healthz, /readyz and /metrics (app/web/health.py, app/core/metrics.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.catalog.indexing import backend
from app.web import health
from tests.conftest import close_search, running_app, settings

TOKEN = "s3cret-metrics-token-for-tests"
ROOT = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_index(app) -> None:  # type: ignore[no-untyped-def]
    """An empty but present search index (a fresh test folder has none)."""
    backend().rebuild([])


@pytest.fixture
def ready_app(tmp_path: Path) -> Iterator:
    for app in running_app(tmp_path, METRICS_TOKEN=TOKEN):
        with_index(app)
        yield app


def readyz(app):  # type: ignore[no-untyped-def]
    app.extensions.pop("bazarche_readyz", None)  # no answer kept from a previous call
    return app.test_client().get("/readyz")


# --------------------------------------------------------------------------------------------
# /healthz


def test_healthz_answers_without_the_database(tmp_path: Path) -> None:
    app = create_app(
        settings(
            tmp_path, SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://u@127.0.0.1:{closed_port()}/x"
        )
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_probes_answer_any_host_but_the_site_does_not(ready_app) -> None:
    client = ready_app.test_client()
    assert client.get("/healthz", headers={"Host": "10.1.2.3:8000"}).status_code == 200
    assert client.get("/readyz", headers={"Host": "10.1.2.3:8000"}).status_code == 200
    assert client.get("/", headers={"Host": "10.1.2.3:8000"}).status_code == 400
    bearer = {"Host": "10.1.2.3", "Authorization": f"Bearer {TOKEN}"}
    assert client.get("/metrics", headers=bearer).status_code == 400


# --------------------------------------------------------------------------------------------
# /readyz


def test_readyz_is_200_when_every_part_answers(ready_app) -> None:
    response = readyz(ready_app)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["search"]["status"] == "ok"
    assert body["checks"]["storage"] == {"status": "ok"}
    assert body["checks"]["queue"] == {"status": "not configured"}
    assert response.headers["Cache-Control"] == "no-store"
    # The probe file is gone again.
    assert not any(p.is_file() for p in (Path(ready_app.config["MEDIA_DIR"])).rglob("*"))


@pytest.mark.parametrize("kind", ["closed port", "missing file"])
def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path, kind: str) -> None:
    if kind == "closed port":
        url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/nothing"
    else:
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}"
    app = create_app(settings(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        with_index(app)
    try:
        response = readyz(app)
    finally:
        close_search(app)
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["status"] == "degraded"
    assert body["checks"]["database"]["reason"]
    assert body["checks"]["storage"]["status"] == "ok"  # only the broken part is named


def test_readyz_is_503_when_the_media_folder_is_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for app in running_app(tmp_path, MEDIA_DIR=str(blocker / "media")):
        with_index(app)
        response = readyz(app)
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["storage"]["status"] == "degraded"
    assert "NotADirectoryError" in checks["storage"]["reason"] or checks["storage"]["reason"]
    assert checks["database"]["status"] == "ok"


def test_readyz_is_503_without_a_search_index(app) -> None:
    response = readyz(app)
    assert response.status_code == 503
    assert response.get_json()["checks"]["search"]["status"] == "degraded"


def test_readyz_checks_the_job_queue(tmp_path: Path) -> None:
    from huey.storage import RedisStorage

    from app import jobs

    for app in running_app(tmp_path):
        with_index(app)
        assert readyz(app).get_json()["checks"]["queue"]["status"] == "not configured"
        jobs.queue.storage_kwargs["filename"] = str(tmp_path / "jobs.sqlite3")
        jobs.queue.immediate = False
        try:
            assert readyz(app).get_json()["checks"]["queue"]["status"] == "ok"
            time.sleep(1.1)  # past the probe's one-second memo
            jobs.queue.storage = RedisStorage(
                "bazarche", url=f"redis://127.0.0.1:{closed_port()}/0"
            )
            response = readyz(app)
        finally:
            jobs.queue.immediate = True
    assert response.status_code == 503
    assert response.get_json()["checks"]["queue"]["status"] == "degraded"


def test_a_hung_part_cannot_hang_the_probe(ready_app, monkeypatch) -> None:
    def hangs(app):  # type: ignore[no-untyped-def]
        time.sleep(3)
        return {}

    monkeypatch.setitem(health.CHECKS, "storage", (hangs, True))
    ready_app.config["READYZ_TIMEOUT_SECONDS"] = 0.3
    started = time.monotonic()
    response = readyz(ready_app)
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.get_json()["checks"]["storage"] == {
        "status": "degraded",
        "reason": "no answer within 0.3 s",
    }


# --------------------------------------------------------------------------------------------
# /metrics


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found: dict[tuple[str, tuple], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(app) -> dict[tuple[str, tuple], float]:  # type: ignore[no-untyped-def]
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return samples(response.get_data(as_text=True))


HEALTHZ_COUNT = (
    "bazarche_request_duration_seconds_count",
    (("endpoint", "healthz"), ("status", "2xx")),
)


def test_metrics_is_404_without_a_configured_token(app) -> None:
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer ﺗﻮﮐﻦ"]
)
def test_metrics_refuses_a_missing_or_wrong_token(ready_app, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = ready_app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert b"bazarche_" not in response.data
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_metrics_count_requests_and_their_latency(ready_app) -> None:
    before = scrape(ready_app).get(HEALTHZ_COUNT, 0.0)
    client = ready_app.test_client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    after = scrape(ready_app)
    assert after[HEALTHZ_COUNT] == before + 3
    seconds = after[("bazarche_request_duration_seconds_sum", HEALTHZ_COUNT[1])]
    assert 0 < seconds < 10
    assert after[("bazarche_search_degraded", ())] == 0.0
    # 404s of unknown paths share one label, whatever the path.
    client.get("/no/such/page")
    assert (
        scrape(ready_app)[
            ("bazarche_request_duration_seconds_count", (("endpoint", "none"), ("status", "4xx")))
        ]
        >= 1
    )


def test_metrics_count_page_cache_hits_and_misses(ready_app) -> None:
    def count(result: str) -> float:
        return scrape(ready_app).get(
            ("bazarche_page_cache_requests_total", (("result", result),)), 0.0
        )

    hits, misses = count("hit"), count("miss")
    client = ready_app.test_client()
    states = [client.get("/").headers.get("X-Page-Cache") for _ in range(3)]
    assert states == ["miss", "hit", "hit"]
    assert count("miss") == misses + 1
    assert count("hit") == hits + 2


def test_search_degraded_gauge(ready_app) -> None:
    backend().mark_degraded("a write failed half-way")
    assert scrape(ready_app)[("bazarche_search_degraded", ())] == 1.0
    body = readyz(ready_app).get_json()
    assert body["checks"]["search"]["warning"] == "a write failed half-way"


_COUNT_ONE_EMAIL_FAILURE = "from app.core import metrics; metrics.EMAILS_FAILED.inc()"
_PRINT_METRICS = "from app.core import metrics; print(metrics.exposition().decode())"


def test_several_workers_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _worker in range(2):
        subprocess.run(
            [sys.executable, "-c", _COUNT_ONE_EMAIL_FAILURE], env=env, cwd=ROOT, check=True
        )
    shown = subprocess.run(
        [sys.executable, "-c", _PRINT_METRICS],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert samples(shown)[("bazarche_emails_failed_total", ())] == 2.0


def test_readyz_checks_the_postgres_search_schema(tmp_path: Path) -> None:
    for app in running_app(tmp_path, SEARCH_BACKEND="postgres"):
        if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            pytest.skip("the PostgreSQL search backend needs a PostgreSQL database")
        index = backend()
        index.drop()  # type: ignore[attr-defined]
        try:
            response = readyz(app)
            assert response.status_code == 503
            assert response.get_json()["checks"]["search"]["status"] == "degraded"
            index.rebuild([])
            response = readyz(app)
            assert response.status_code == 200, response.get_json()
            assert response.get_json()["checks"]["search"]["backend"] == "postgres"
        finally:
            index.drop()  # type: ignore[attr-defined]


def test_metrics_count_an_unreachable_payment_gateway(ready_app) -> None:
    from app.payments.providers import ipg_api

    key = ("bazarche_payment_provider_errors_total", (("provider", "ipg"),))
    before = scrape(ready_app).get(key, 0.0)
    gateway = ipg_api.HttpTransport(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(ipg_api.GatewayError):
        gateway.post("request.json", {})
    assert scrape(ready_app)[key] == before + 1
