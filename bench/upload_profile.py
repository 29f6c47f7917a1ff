"""Where one seller's 10 MB photo upload spends its time and CPU in the web process.

    .venv/bin/python bench/upload_profile.py [--rounds 3] [--products 10000] [--top 25]

Builds the load benchmark's PostgreSQL database (``bench/load.py``'s loaders: about 10,000
products, a seller with a draft listing), logs the seller in through the login form of the Flask
test client, and runs the benchmark uploader's loop ``--rounds`` times: the listing's edit page,
the multipart upload of ``bench/load.py``'s 10 MB JPEG, the edit page again, the photo's delete.
Each request is timed (wall and process CPU) and the upload is run under cProfile, whose
heaviest functions (by their own time, then by cumulative time) are printed. Tasks are queued
(``JOBS_BACKEND=sqlite``) and never run, so only the web process's share is measured. The test
client hands the body to Werkzeug as a stream in memory: gunicorn's socket reading is not part
of these figures. The database and files are removed at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import html
import io
import os
import pstats
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import PASSWORD, big_photo, load_people
from bench.pages import PG_SERVER, create_database, drop_database, load_products, migrate

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _csrf(text: str) -> str:
    found = _CSRF.search(text)
    if found is None:
        raise RuntimeError("no CSRF token on the page")
    return html.unescape(found.group(1))


PROFILES: dict[str, cProfile.Profile] = {}


def timed(label: str, call: Callable[[], Any], measured: bool = True) -> Any:
    """Run ``call``, print its wall and CPU time; when ``measured``, under ``label``'s profile."""
    profile = PROFILES.setdefault(label, cProfile.Profile()) if measured else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profile is not None:
        profile.enable()
    try:
        return call()
    finally:
        if profile is not None:
            profile.disable()
        print(
            f"  {label:<22} wall {1000 * (time.perf_counter() - wall):7.1f} ms, "
            f"CPU {1000 * (time.process_time() - cpu):7.1f} ms",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--database", default="bz_uploads_profile")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bazarche-upload-profile-"))
    url = f"{PG_SERVER}/{args.database}"
    env = {
        "DATABASE_URL": "postgresql://" + url.split("://", 1)[1],
        "SECRET_KEY": secrets.token_hex(32),
        "BAZARCHE_INSTANCE": str(tmp),
        "PATH": "/usr/bin:/bin",
    }
    # The queue is chosen from the environment when app.jobs is first imported.
    os.environ.update(JOBS_BACKEND="sqlite", JOBS_SQLITE_PATH=str(tmp / "jobs.sqlite3"))
    create_database(args.database)
    try:
        migrate(env)
        from app import create_app

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": env["SECRET_KEY"],
                "INSTANCE_DIR": str(tmp),
                "MEDIA_DIR": str(tmp / "media"),
                "SEARCH_INDEX_DIR": str(tmp / "search"),
                "MAIL_DIR": str(tmp / "mail"),
                "SEARCH_BACKEND": "postgres",
                "SESSION_COOKIE_SECURE": False,
                "RATELIMIT_ENABLED": False,
            }
        )
        load_products(app, args.products)
        people = load_people(app, 1)
        email, _own, draft = people.sellers[0]
        photo = big_photo()
        print(
            f"{args.products} products; a {len(photo) / 2**20:.1f} MiB JPEG; seller's draft {draft}"
        )

        client = app.test_client()
        page = client.get("/auth/login")
        reply = client.post(
            "/auth/login",
            data={"csrf_token": _csrf(page.text), "email": email, "password": PASSWORD, "next": ""},
        )
        if reply.status_code != 302:
            raise RuntimeError(f"log in failed: {reply.status_code}")
        edit = f"/seller/listings/{draft}/edit"
        for n in range(args.rounds):
            print(f"round {n + 1}:")
            page = timed("edit page", lambda: client.get(edit), bool(n))
            boundary = "bazarche-profile-" + secrets.token_hex(8)
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
                    f"{_csrf(page.text)}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                    f'name="photos"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
                ).encode()
                + photo
                + f"\r\n--{boundary}--\r\n".encode()
            )
            reply = timed(
                "upload",
                lambda body=body, boundary=boundary: client.post(
                    f"/seller/listings/{draft}/photos",
                    input_stream=io.BytesIO(body),
                    content_length=len(body),
                    content_type=f"multipart/form-data; boundary={boundary}",
                    headers={"X-Requested-With": "fetch"},
                ),
                bool(n),  # the first round warms the caches up
            )
            if reply.status_code != 200 or reply.json.get("added") != 1:
                raise RuntimeError(f"upload failed: {reply.status_code} {reply.text[:300]}")
            page = timed("edit page again", lambda: client.get(edit), bool(n))
            ids = re.findall(rf"/seller/listings/{draft}/photos/(\d+)/delete", page.text)
            reply = timed(
                "photo delete",
                lambda page=page, ids=ids: client.post(
                    f"/seller/listings/{draft}/photos/{ids[-1]}/delete",
                    data={"csrf_token": _csrf(page.text)},
                ),
                bool(n),
            )
            if reply.status_code != 302:
                raise RuntimeError(f"delete failed: {reply.status_code}")
        for label, profile in PROFILES.items():
            stats = pstats.Stats(profile)
            stats.strip_dirs()
            print(f"\n==== {label}, {args.rounds - 1} rounds, by own time:")
            stats.sort_stats("tottime").print_stats(args.top)
            print(f"==== {label}, by cumulative time:")
            stats.sort_stats("cumulative").print_stats(args.top)
        return 0
    finally:
        drop_database(args.database)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
