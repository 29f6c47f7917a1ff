"""A mixed workload against gunicorn (4 sync workers) on PostgreSQL, beside a Flask hello world.

    .venv/bin/python bench/load.py [--quick] [--uploads] [--clients 16] [--jobs redis]

Creates a fresh PostgreSQL database with about 10,000 products (``bench/pages.py``'s loader), a few
hundred customers and a few dozen sellers whose password the script knows, indexes the catalogue
and serves the app with the sandbox bank gateway (``PAYMENT_SANDBOX=1``) behind gunicorn, plus a
job worker (``flask jobs worker``) unless ``--jobs immediate``. Every simulated user logs in
through the login form once, before any measurement, each from an address of its own (the app
runs with ``PROXY_FIX=1`` and the client sends ``X-Forwarded-For``, as behind the reverse proxy of
docs/deploy.md; the login limit is per address).

``--clients`` threads of one client process (keep-alive ``http.client`` connections, cookies and
CSRF tokens per session, redirects followed by hand) then run, each for ``--seconds``:

1. the hello world (``bench/hello.py`` under the same gunicorn settings), ``GET /`` in a loop;
2. the mix, each step chosen by weight (``MIX``): anonymous browsing (home, category, product),
   signed-in browsing, search (Persian queries), cart adds and removes, checkouts (cash, and the
   sandbox gateway with the payment completed), and sellers editing their listings (full form
   or the quick price/stock form) at the same time.

Products, categories and search queries are picked with Zipf-like popularity (a few often, most
rarely). Sellers' edits and the sales change the versions of the pages they show on (a listing's
own page, its category, shop, county and the home page), so the run also shows what the page
cache keeps under edits: the hits per page kind are printed.

Per page kind it prints count, errors, p50/p95/p99; then throughput, the client's and the
servers' CPU use and the goals. An error is a transport failure, a status other than the one the
step expects (200 for pages, 302/303 for posts and the payment hops: none other is expected), or
a step that did not do what it should (a cart add not in the cart, a listing not saved, a
signed-in page without the customer's header, a checkout that made no order: every checkout is
checked in the database at the end). Customers buy only from sellers who do not edit during the
run, so a price change never refuses a checkout, and a customer pays cash only while under
``MAX_OPEN_CASH_ORDERS``.

``--uploads`` adds two phases: the browsing part of the mix alone, then the same with 20 sellers
uploading a 10 MB photo at once in a loop (each upload is deleted again), and prints browse p95
with and without uploads. The uploads go as a deployment's reverse proxy sends them
(docs/deploy.md): each photo POST to the upload pool, a second gunicorn serving the same app
with threaded workers under ``nice`` (``scripts/run-upload-pool``'s settings; ``--upload-nice``),
everything else, the uploaders' edit pages and deletes included, to the web pool.
``--no-upload-pool`` sends the uploads to the web pool too. The job worker (which makes the
photos' variants, whole cores' worth for 24 MP pictures) runs at a lower priority too, as
docs/deploy.md runs it beside web workers (``--jobs-nice``, 0 for the web's). Each server runs in
a session of its own, so the priority is given to the session's scheduling group (the kernel's
autogroup, where a process's own nice value would rank it only within its session), as a service
manager gives a service its CPU weight. The last line is ``ratio: N``: mixed requests/s ÷ hello-world
requests/s. Servers, the worker, the database, the Redis keys and the files are removed at the
end (``--keep`` keeps the database and files).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import io
import json
import logging
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Generic, TypeVar

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from flask import Flask

from bench.common import (
    HOST,
    ROOT,
    Server,
    free_port,
    group_cpu_seconds,
    lower_session_priority,
    postgres_cpu_seconds,
    venv_tool,
)
from bench.pages import create_database, drop_database, load_products, migrate

PASSWORD = "bench-load-Persian-market-1404"  # every bench customer's and editing seller's
ADDRESS = {
    "recipient_name": "مینا رضایی",
    "mobile": "09121234567",
    "province": "خراسان رضوی",
    "city": "مشهد",
    "address": "خیابان دانشگاه، کوچه ۳، پلاک ۱۲",
    "postal_code": "9816745639",
}
# (step, weight in percent); each client thread picks its next step by these weights
MIX: tuple[tuple[str, int], ...] = (
    ("anonymous browsing", 45),
    ("signed-in browsing", 20),
    ("search", 15),
    ("cart add/remove", 10),
    ("checkout", 5),
    ("seller edits", 5),
)
BROWSE_MIX = MIX[:3]
# page kinds whose p95 goal is 100 ms at 16 clients
BROWSE_KINDS = (
    "home",
    "category",
    "product",
    "home, signed in",
    "category, signed in",
    "product, signed in",
    "search",
)
P95_GOAL_MS = 100.0
RATIO_GOAL = 0.25
UPLOAD_SLOWDOWN_GOAL = 2.0
UPLOADERS = 20
UPLOAD_POOL_WORKERS = 2  # scripts/run-upload-pool's defaults
UPLOAD_POOL_THREADS = 4
IMAGE_BYTES_MAX = 10 * 1024 * 1024
REQUEST_TIMEOUT = 120.0
T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Recording


@dataclass
class Record:
    """What one client thread saw: latencies (ms) and errors per page kind."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    payments: list[tuple[str, int]] = field(default_factory=list)  # (provider, payment id)
    steps: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    done: int = 0  # requests answered within the measured time (for the throughput)
    # page kind -> X-Page-Cache answers ("hit", "miss", "-" when the page says none)
    cache: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.samples) < 5:
            self.samples.append(f"{kind}: {what}"[:400])


def merge(records: Iterable[Record]) -> Record:
    total = Record()
    for record in records:
        for kind, times in record.times.items():
            total.times[kind].extend(times)
        for kind, n in record.errors.items():
            total.errors[kind] += n
        for step, n in record.steps.items():
            total.steps[step] += n
        total.done += record.done
        for kind, states in record.cache.items():
            for state, n in states.items():
                total.cache[kind][state] += n
        total.samples.extend(record.samples[: max(0, 10 - len(total.samples))])
        total.payments.extend(record.payments)
    return total


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of ``values`` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-int(share * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


# --------------------------------------------------------------------------------------------
# The client: one connection per thread, cookies per simulated user


class StepFailed(Exception):
    """A step went wrong; the error is already recorded."""


@dataclass
class Reply:
    status: int
    location: str  # the path (and query) of a redirect's target, "" when none
    text: str


class Session:
    """One simulated user: cookies and the address the reverse proxy would report."""

    def __init__(self, address: str, email: str = "") -> None:
        self.address = address
        self.email = email
        self.cookies: dict[str, str] = {}
        self.cart: list[int] = []  # product ids this customer put in the cart
        self.cash_open = 0  # cash checkouts made (never completed during a run)
        self.products: list[int] = []  # a seller's published products
        self.draft = 0  # a seller's draft product (photo uploads)

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def take_cookies(self, headers: list[str]) -> None:
        for header in headers:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                expires = morsel["expires"]
                if morsel["max-age"] == "0" or (expires and "1970" in expires):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


class Agent:
    """One client thread's connection to the server, recording into ``record`` (and one to
    each other server a request names by ``port``: the upload pool).

    gunicorn's sync workers close the connection after each answer; ``http.client`` opens a
    new one for the next request by itself.
    """

    def __init__(self, port: int, record: Record, window: list[float]) -> None:
        self.port = port
        self.record = record
        self.window = window  # [start, end] of the measured time; nothing outside it is kept
        self.conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        self.others: dict[int, http.client.HTTPConnection] = {}

    def close(self) -> None:
        self.conn.close()
        for conn in self.others.values():
            conn.close()

    def connection(self, port: int | None) -> http.client.HTTPConnection:
        if port is None or port == self.port:
            return self.conn
        if port not in self.others:
            self.others[port] = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        return self.others[port]

    def request(
        self,
        session: Session,
        method: str,
        path: str,
        kind: str,
        *,
        expect: int = 200,
        form: dict[str, str] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        port: int | None = None,
    ) -> Reply:
        """``port``: another server than the agent's (the upload pool), reached as the reverse
        proxy reaches it: with the site's own Host header."""
        conn = self.connection(port)
        sent = {
            "Accept-Language": "fa",
            "User-Agent": "bazarche-bench-load",
            "X-Forwarded-For": session.address,
            **(headers or {}),
        }
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if session.cookies:
            sent["Cookie"] = session.cookie_header()
        if conn is not self.conn:
            sent["Host"] = f"{HOST}:{self.port}"
            # A threaded pool keeps idle connections only a moment: a body sent on one it has
            # just closed fails halfway. One connection per upload, as the proxy's would be.
            sent["Connection"] = "close"
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            self.error(kind, f"{method} {path}: {exc!r}")
            raise StepFailed from exc
        ended = time.perf_counter()
        session.take_cookies(response.headers.get_all("Set-Cookie") or [])
        location = response.headers.get("Location") or ""
        if location:
            parts = urllib.parse.urlsplit(location)
            location = parts.path + (f"?{parts.query}" if parts.query else "")
        text = data.decode("utf-8", "replace")
        # A request started in the measured time counts with its whole wait, however long;
        # the throughput counts the answers that arrived in it.
        if self.counting(started):
            self.record.times[kind].append((ended - started) * 1000)
            if method == "GET" and kind in BROWSE_KINDS:
                self.record.cache[kind][response.headers.get("X-Page-Cache", "-")] += 1
        if self.counting(ended):
            self.record.done += 1
        if response.status != expect:
            self.error(kind, f"{method} {path} answered {response.status}: {text[-300:]}")
            raise StepFailed
        return Reply(response.status, location, text)

    def counting(self, when: float | None = None) -> bool:
        when = time.perf_counter() if when is None else when
        return self.window[0] <= when <= self.window[1]

    def error(self, kind: str, what: str) -> None:
        if self.counting():
            self.record.error(kind, what)

    def fail(self, kind: str, what: str) -> None:
        self.error(kind, what)
        raise StepFailed


_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf(agent: Agent, kind: str, page: Reply) -> str:
    found = _CSRF.search(page.text)
    if found is None:
        agent.fail(kind, "no CSRF token on the page")
        raise AssertionError  # unreachable: fail raises
    return html.unescape(found.group(1))


class FormParser(HTMLParser):
    """The fields of the forms of a page: ``{action: {name: value}}`` as a browser would post
    them (checked radios and boxes, selected options, textareas)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, str]] = {}
        self._form: dict[str, str] | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = self.forms.setdefault(a.get("action", ""), {})
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self._form[a["name"]] = a.get("value", "on")
            elif kind not in ("submit", "file", "button"):
                self._form[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
            self._first_option = None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self._form.setdefault(self._select, value)
            if "selected" in a:
                self._form[self._select] = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form[self._textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form is not None:
            self._form[self._textarea] += data


def forms(text: str) -> dict[str, dict[str, str]]:
    parser = FormParser()
    parser.feed(text)
    parser.close()
    return parser.forms


# --------------------------------------------------------------------------------------------
# The simulated users' steps


class Popular(Generic[T]):
    """Items picked with Zipf-like popularity (the n-th most popular item weighs 1/n), in an
    order shuffled once by a fixed seed, so a few products, categories and queries are asked
    for often and most rarely, as in a market's real traffic."""

    def __init__(self, items: Iterable[T], seed: int = 1404) -> None:
        self.items: list[T] = list(items)
        random.Random(seed).shuffle(self.items)
        total, self.cumulative = 0.0, []
        for rank in range(1, len(self.items) + 1):
            total += 1 / rank
            self.cumulative.append(total)

    def __len__(self) -> int:
        return len(self.items)

    def pick(self, rng: random.Random) -> T:
        return rng.choices(self.items, cum_weights=self.cumulative)[0]


@dataclass
class World:
    """What the steps choose from: set up once, read by every thread."""

    categories: Popular[str]
    products: Popular[int]  # public products of sellers who do not edit (browsed and bought)
    queries: Popular[str]
    cash_limit: int
    upload_body: bytes = b""
    upload_port: int | None = None  # the upload pool's, when the uploads go there


class User:
    """The steps of one client thread, over its own sessions."""

    def __init__(
        self,
        agent: Agent,
        world: World,
        customers: list[Session],
        sellers: list[Session],
        rng: random.Random,
    ) -> None:
        self.agent = agent
        self.world = world
        self.customers = customers
        self.sellers = sellers
        self.rng = rng
        self.anonymous = Session(f"198.19.{rng.randrange(256)}.{rng.randrange(1, 255)}")
        self.turn = 0

    def customer(self) -> Session:
        self.turn += 1
        return self.customers[self.turn % len(self.customers)]

    def page(self, session: Session, suffix: str) -> None:
        """Home, a category page or a product page, as an anonymous or a signed-in visitor."""
        roll = self.rng.random()
        if roll < 0.2:
            kind, path = "home", "/"
        elif roll < 0.6:
            kind = "category"
            path = "/c/" + urllib.parse.quote(self.world.categories.pick(self.rng))
            if self.rng.random() < 0.3:
                path += f"?page={self.rng.randint(2, 4)}"
        else:
            kind, path = "product", f"/p/{self.world.products.pick(self.rng)}"
        reply = self.agent.request(session, "GET", path, kind + suffix)
        if suffix and "/auth/logout" not in reply.text:
            self.agent.fail(kind + suffix, f"{path}: not the signed-in customer's page")

    def anonymous_browsing(self) -> None:
        self.page(self.anonymous, "")

    def signed_in_browsing(self) -> None:
        self.page(self.customer(), ", signed in")

    def search(self) -> None:
        query = urllib.parse.quote(self.world.queries.pick(self.rng))
        page = self.rng.choice(("", "", "", "&page=2"))
        self.agent.request(self.anonymous, "GET", f"/search?q={query}{page}", "search")

    def add_to_cart(self, session: Session) -> None:
        product_id = self.world.products.pick(self.rng)
        while product_id in session.cart:
            product_id = self.world.products.pick(self.rng)
        page = self.agent.request(session, "GET", f"/p/{product_id}", "product, signed in")
        form = {"csrf_token": csrf(self.agent, "cart add", page), "product_id": str(product_id)}
        reply = self.agent.request(
            session, "POST", "/cart/add", "cart add", expect=302, form=dict(form, quantity="1")
        )
        if reply.location != "/cart":
            self.agent.fail("cart add", f"product {product_id}: sent to {reply.location}")
        cart = self.agent.request(session, "GET", "/cart", "cart")
        if f'name="product_id" value="{product_id}"' not in cart.text:
            self.agent.fail("cart add", f"product {product_id} is not in the cart")
        session.cart.append(product_id)

    def cart_edit(self) -> None:
        session = self.customer()
        if len(session.cart) < 3:
            self.add_to_cart(session)
            return
        cart = self.agent.request(session, "GET", "/cart", "cart")
        product_id = session.cart[0]
        form = {
            "csrf_token": csrf(self.agent, "cart remove", cart),
            "product_id": str(product_id),
            "quantity": "0",
        }
        reply = self.agent.request(
            session, "POST", "/cart/update", "cart remove", expect=302, form=form
        )
        if reply.location != "/cart":
            self.agent.fail("cart remove", f"sent to {reply.location}")
        session.cart.pop(0)
        cart = self.agent.request(session, "GET", "/cart", "cart")
        if f'name="product_id" value="{product_id}"' in cart.text:
            self.agent.fail("cart remove", f"product {product_id} is still in the cart")

    def checkout(self) -> None:
        session = self.customer()
        if not session.cart:
            self.add_to_cart(session)
        page = self.agent.request(session, "GET", "/checkout", "checkout page")
        form = forms(page.text).get("", {})
        if "checkout_token" not in form:
            self.agent.fail("checkout page", "no checkout form")
        form.update(ADDRESS)
        for name, value in list(form.items()):  # each seller's shipping, priced for our province
            if name.startswith("shipping-"):
                found = re.search(
                    rf'name="{name}" value="{re.escape(value)}"[^>]*data-costs="([^"]*)"',
                    page.text,
                )
                costs = json.loads(html.unescape(found.group(1))) if found else {}
                if ADDRESS["province"] in costs:
                    form[name] = f"{value.partition(':')[0]}:{costs[ADDRESS['province']]}"
        cash = session.cash_open < self.world.cash_limit and self.rng.random() < 0.5
        form["payment_method"] = "cash" if cash else "ipg"
        reply = self.agent.request(session, "POST", "/checkout", "checkout", expect=303, form=form)
        session.cart.clear()  # placed or not, this customer starts again from an empty cart
        if cash:
            found = re.fullmatch(r"/checkout/return/(\d+)", reply.location)
            if found is None:
                self.agent.fail("checkout", f"cash checkout sent to {reply.location}")
                return
            session.cash_open += 1
            self.agent.record.payments.append(("cash", int(found.group(1))))
            self.agent.request(session, "GET", reply.location, "checkout return")
            return
        if not reply.location.startswith("/sandbox/gateway/"):
            self.agent.fail("checkout", f"sandbox checkout sent to {reply.location}")
        gateway = self.agent.request(session, "GET", reply.location, "sandbox gateway")
        decided = self.agent.request(
            session,
            "POST",
            reply.location,
            "sandbox pay",
            expect=303,
            form={"csrf_token": csrf(self.agent, "sandbox pay", gateway), "outcome": "pay"},
        )
        if not decided.location.startswith("/payments/ipg/callback?"):
            self.agent.fail("sandbox pay", f"sent to {decided.location}")
        back = self.agent.request(session, "GET", decided.location, "payment callback", expect=303)
        found = re.fullmatch(r"/checkout/return/(\d+)", back.location)
        if found is None:
            self.agent.fail("payment callback", f"sent to {back.location}")
            return
        self.agent.record.payments.append(("ipg", int(found.group(1))))
        self.agent.request(session, "GET", back.location, "checkout return")

    def seller_edit(self) -> None:
        seller = self.rng.choice(self.sellers)
        product_id = self.rng.choice(seller.products)
        price_toman = self.rng.randrange(50_000, 3_000_000, 1_000)
        stock = self.rng.randint(5, 40)
        if self.rng.random() < 0.5:
            page = self.agent.request(seller, "GET", "/seller/listings", "seller listings")
            action = f"/seller/listings/{product_id}/quick"
            form = forms(page.text).get(action)
            if form is None:  # not on the first page of the table: the edit form instead
                self.full_edit(seller, product_id, price_toman, stock)
                return
            form.update(price_toman=str(price_toman), stock=str(stock))
            reply = self.agent.request(
                seller, "POST", action, "listing quick edit", expect=302, form=form
            )
            page = self.agent.request(seller, "GET", reply.location, "seller listings")
            if "flash-success" not in page.text or "flash-warning" in page.text:
                self.agent.fail("listing quick edit", f"{product_id}: not saved")
            return
        self.full_edit(seller, product_id, price_toman, stock)

    def full_edit(self, seller: Session, product_id: int, price_toman: int, stock: int) -> None:
        path = f"/seller/listings/{product_id}/edit"
        page = self.agent.request(seller, "GET", path, "listing edit page")
        form = forms(page.text).get("")
        if form is None or "title" not in form:
            self.agent.fail("listing edit page", f"{path}: no listing form")
            return
        base = form["title"].split(" — ")[0]
        form.update(
            title=f"{base} — ویرایش {self.rng.randint(1, 999)}",
            price_toman=str(price_toman),
            stock=str(stock),
        )
        reply = self.agent.request(seller, "POST", path, "listing save", expect=302, form=form)
        page = self.agent.request(seller, "GET", reply.location, "listing edit page")
        if "flash-success" not in page.text or "flash-warning" in page.text:
            self.agent.fail("listing save", f"{product_id}: not saved")

    def upload(self) -> None:
        """A seller adds a 10 MB photo to their draft listing, then deletes it again: the edit
        page (as the seller's browser loads it), the upload (to the upload pool when there is
        one, as the reverse proxy of docs/deploy.md sends it), the edit page again (where the
        upload's script leads), and the delete (the benchmark's own clean-up: a listing holds
        at most 8 photos)."""
        seller = self.sellers[0]
        path = f"/seller/listings/{seller.draft}/edit"
        page = self.agent.request(seller, "GET", path, "upload: edit page")
        before = set(re.findall(rf"/seller/listings/{seller.draft}/photos/(\d+)/delete", page.text))
        token = csrf(self.agent, "photo upload", page)
        boundary = "bazarche-bench-" + secrets.token_hex(8)
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f'{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
            f'filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        body = head + self.world.upload_body + f"\r\n--{boundary}--\r\n".encode()
        reply = self.agent.request(
            seller,
            "POST",
            f"/seller/listings/{seller.draft}/photos",
            "photo upload",
            body=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-Requested-With": "fetch",
            },
            port=self.world.upload_port,  # routed as the reverse proxy routes it
        )
        if json.loads(reply.text).get("added") != 1:
            self.agent.fail("photo upload", reply.text[:300])
        page = self.agent.request(seller, "GET", path, "upload: edit page")
        after = set(re.findall(rf"/seller/listings/{seller.draft}/photos/(\d+)/delete", page.text))
        added = after - before
        if len(added) != 1:
            self.agent.fail("photo upload", f"{len(added)} new photos on the listing")
        self.agent.request(
            seller,
            "POST",
            f"/seller/listings/{seller.draft}/photos/{added.pop()}/delete",
            "photo delete",
            expect=302,
            form={"csrf_token": csrf(self.agent, "photo delete", page)},
        )


STEPS: dict[str, Callable[[Any], None]] = {
    "anonymous browsing": User.anonymous_browsing,
    "signed-in browsing": User.signed_in_browsing,
    "search": User.search,
    "cart add/remove": User.cart_edit,
    "checkout": User.checkout,
    "seller edits": User.seller_edit,
    "photo upload": User.upload,
}


Mix = tuple[tuple[str, int], ...]  # (step, weight)
Maker = Callable[["Agent", Record], Any]  # makes a thread's user (with .rng) on its connection


@dataclass
class PhaseResult:
    name: str
    seconds: float
    record: Record
    client_cpu: float  # seconds of this process's CPU during the phase
    server_cpu: float
    db_cpu: float
    worker_cpu: float
    upload_cpu: float = 0.0  # the upload pool's

    @property
    def requests(self) -> int:
        return self.record.done

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def kinds(self, names: Iterable[str]) -> list[float]:
        return [t for name in names for t in self.record.times.get(name, [])]


def run_phase(
    name: str,
    users: list[tuple[Maker, Mix]],
    port: int,
    seconds: float,
    warmup: float,
    cpu: Callable[[], tuple[float, ...]],
) -> PhaseResult:
    """Every user runs its steps (chosen by weight) until the time is up; only the ``seconds``
    after the first ``warmup`` are recorded."""
    stop = threading.Event()
    records: list[Record] = []
    window = [float("inf"), float("inf")]

    def loop(make: Maker, mix: Mix) -> None:
        record = Record()
        records.append(record)
        agent = Agent(port, record, window)
        user = make(agent, record)
        names = [step for step, _ in mix]
        weights = [weight for _, weight in mix]
        try:
            while not stop.is_set():
                step = user.rng.choices(names, weights)[0]
                try:
                    STEPS[step](user)
                except StepFailed:
                    pass
                except Exception as exc:  # a fault of the client: shown, and counted
                    agent.error(step, f"client: {exc!r}")
                if agent.counting():
                    record.steps[step] += 1
        finally:
            agent.close()

    threads = [
        threading.Thread(target=loop, args=(make, mix), daemon=True, name=f"{name}-{n}")
        for n, (make, mix) in enumerate(users)
    ]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    started, cpu_before, used = time.perf_counter(), time.process_time(), cpu()
    window[:] = [started, started + seconds]
    time.sleep(seconds)
    ended, cpu_after, used_after = time.perf_counter(), time.process_time(), cpu()
    stop.set()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT + 10)
    return PhaseResult(
        name,
        ended - started,
        merge(records),
        cpu_after - cpu_before,
        *(b - a for a, b in zip(used, used_after, strict=True)),
    )


# --------------------------------------------------------------------------------------------
# Set-up: data, servers, logins


def big_photo() -> bytes:
    """A real JPEG just under 10 MiB (MAX_IMAGE_BYTES) of 6000×4000 pixels (24 MP, within
    MAX_IMAGE_PIXELS): noise over a gradient, at the highest quality that fits."""
    from PIL import Image

    width, height = 6000, 4000
    rng = random.Random(1404)
    noise = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    picture = Image.blend(noise, gradient, 0.55)
    best = b""
    low, high = 30, 95
    while low <= high:
        quality = (low + high) // 2
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=quality)
        data = out.getvalue()
        if len(data) <= IMAGE_BYTES_MAX - 64 * 1024:
            best, low = data, quality + 1
        else:
            high = quality - 1
    if not best:
        raise RuntimeError("could not make a photo under 10 MiB")
    return best


@dataclass
class People:
    password_hash: str
    sellers: list[tuple[str, list[int], int]]  # (e-mail, published products, a draft)
    world: World


def load_people(app: Flask, sellers_wanted: int) -> People:
    """The password hash for customers, ``sellers_wanted`` approved sellers given the known
    password, and what the steps choose from."""
    from app.accounts.models import User
    from app.accounts.passwords import hash_password
    from app.catalog import changes
    from app.catalog.models import Category, Product, ProductStatus, Seller, SellerStatus
    from app.core.extensions import db
    from app.demo import data

    with app.app_context():
        password_hash = hash_password(PASSWORD)
        sellers = db.session.execute(
            sa.select(Seller.id, User.email)
            .join(User, User.id == Seller.user_id)
            .where(Seller.status == SellerStatus.APPROVED)
            .order_by(Seller.id)
            .limit(sellers_wanted)
        ).all()
        db.session.execute(
            sa.update(User)
            .where(User.email.in_([email for _id, email in sellers]))
            .values(password_hash=password_hash)
        )
        editing = {seller_id for seller_id, _email in sellers}
        own: dict[int, list[int]] = defaultdict(list)
        drafts: dict[int, int] = {}
        for product_id, seller_id, status in db.session.execute(
            sa.select(Product.id, Product.seller_id, Product.status)
            .where(Product.seller_id.in_(editing))
            .order_by(Product.id)
        ):
            if status == ProductStatus.PUBLISHED:
                own[seller_id].append(product_id)
            elif status == ProductStatus.DRAFT:
                drafts[seller_id] = product_id
        buyable = db.session.scalars(
            sa.select(Product.id)
            .join(Seller, Seller.id == Product.seller_id)
            .where(
                Product.status == ProductStatus.PUBLISHED,
                Seller.status == SellerStatus.APPROVED,
                Product.seller_id.not_in(editing),
                Product.stock >= 10,
            )
            .order_by(Product.id)
        ).all()
        # Enough stock that the popular products do not sell out within a run (a refused cart
        # add or checkout would count as an error).
        db.session.execute(
            sa.update(Product).where(Product.id.in_(buyable)).values(stock=1_000_000)
        )
        changes.mark_catalog_changed(db.session())
        categories = db.session.scalars(sa.select(Category.slug).order_by(Category.id)).all()
        words = sorted(
            {
                word
                for _cat, _kind, _sector, templates in data.PRODUCT_LINES.values()
                for title, *_rest in templates
                for word in title.split()
                if len(word) >= 3
            }
        )
        pairs = sorted(
            {
                " ".join(title.split()[:2])
                for _cat, _kind, _sector, templates in data.PRODUCT_LINES.values()
                for title, *_rest in templates
                if len(title.split()) >= 2
            }
        )
        db.session.commit()
        db.session.remove()
        return People(
            password_hash=password_hash,
            sellers=[
                (email, own[seller_id], drafts.get(seller_id, 0)) for seller_id, email in sellers
            ],
            world=World(
                categories=Popular(categories),
                products=Popular(buyable),
                queries=Popular(words + pairs),
                cash_limit=int(app.config["MAX_OPEN_CASH_ORDERS"]),
            ),
        )


def add_customers(app: Flask, count: int, password_hash: str) -> list[str]:
    from datetime import UTC, datetime

    from app.accounts.models import Role, User
    from app.core.extensions import db
    from app.demo import data

    emails = [f"bench-load-customer{n + 1}@bazarche.example" for n in range(count)]
    with app.app_context():
        db.session.execute(
            sa.insert(User),
            [
                {
                    "email": email,
                    "name": f"{data.FIRST_NAMES[n % len(data.FIRST_NAMES)]} "
                    f"{data.FAMILY_NAMES[n % len(data.FAMILY_NAMES)]}",
                    "password_hash": password_hash,
                    "role": Role.CUSTOMER,
                    "locale": "fa",
                    "created_at": datetime.now(UTC),
                }
                for n, email in enumerate(emails)
            ],
        )
        db.session.commit()
        db.session.remove()
    return emails


def log_in_all(port: int, sessions: list[Session]) -> None:
    """Each session logs in through the login form (four at a time); any failure stops the
    benchmark."""
    lock = threading.Lock()
    todo = list(sessions)
    failures: list[str] = []

    def work() -> None:
        record = Record()
        agent = Agent(port, record, [0.0, float("inf")])
        try:
            while True:
                with lock:
                    if not todo or failures:
                        return
                    session = todo.pop()
                try:
                    page = agent.request(session, "GET", "/auth/login", "login page")
                    form = {
                        "csrf_token": csrf(agent, "login", page),
                        "email": session.email,
                        "password": PASSWORD,
                        "next": "",
                    }
                    agent.request(session, "POST", "/auth/login", "login", expect=302, form=form)
                except StepFailed:
                    with lock:
                        failures.extend(record.samples)
        finally:
            agent.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError("log in failed: " + "; ".join(failures[:3]))


def index_catalogue(env: dict[str, str]) -> None:
    done = subprocess.run(
        [venv_tool("flask"), "search", "reindex"],
        cwd=ROOT,
        env=dict(env, FLASK_APP="wsgi"),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask search reindex failed:\n{done.stdout}\n{done.stderr}")


class JobWorker:
    """``flask jobs worker`` in its own process group, stopped by that group's id."""

    def __init__(self, env: dict[str, str], log_path: Path, nice: int = 0) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        log = log_path.open("ab")
        command = [venv_tool("flask"), "jobs", "worker", "--workers", "2"]
        try:
            self.process = subprocess.Popen(
                ["nice", "-n", str(nice), *command] if nice else command,
                cwd=ROOT,
                env=dict(env, FLASK_APP="wsgi"),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        if nice:
            lower_session_priority(self.process.pid, nice)
        time.sleep(1.0)
        if self.process.poll() is not None:
            raise RuntimeError(f"the job worker exited at once; see {log_path}")

    def cpu_seconds(self) -> float:
        return group_cpu_seconds(self.process.pid) if self.process else 0.0

    def stop(self) -> None:
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


class PrivateRedis:
    """One Redis database number of the shared server, checked empty before use and emptied of
    the job queue's keys after."""

    def __init__(self, url: str, number: int) -> None:
        import redis

        self.url = f"{url.rstrip('/')}/{number}"
        self.client = redis.Redis.from_url(self.url)
        if self.client.dbsize():
            self.client.close()
            raise SystemExit(f"{self.url} is not empty: choose another --redis-db")

    def clean(self) -> None:
        keys = list(self.client.scan_iter("huey*"))
        if keys:
            self.client.delete(*keys)
        self.client.close()


def check_payments(database_url: str, payments: list[tuple[str, int]]) -> list[str]:
    """Each checkout the client saw made a payment of its kind with orders; a sandbox one paid."""
    from app.orders.models import Order
    from app.payments.models import Payment, PaymentStatus, Provider

    if not payments:
        return []
    orders = (
        sa.select(sa.func.count())
        .select_from(Order)
        .where(Order.payment_id == Payment.id)
        .scalar_subquery()
    )
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = {
                row[0]: row
                for row in conn.execute(
                    sa.select(Payment.id, Payment.provider, Payment.status, orders).where(
                        Payment.id.in_([payment_id for _kind, payment_id in payments])
                    )
                )
            }
    finally:
        engine.dispose()
    problems = []
    for kind, payment_id in payments:
        row = rows.get(payment_id)
        if row is None or row[3] < 1 or row[1] != Provider(kind):
            problems.append(f"payment {payment_id}: no {kind} payment with orders")
        elif row[1] == Provider.IPG and row[2] != PaymentStatus.SUCCEEDED:
            problems.append(f"payment {payment_id}: sandbox payment {row[2]}, not paid")
    return problems


# --------------------------------------------------------------------------------------------
# Report


def table(result: PhaseResult, order: list[str]) -> None:
    header = f"{'page':<24} {'count':>7} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    kinds = [k for k in order if k in result.record.times or k in result.record.errors]
    kinds += sorted(set(result.record.times) | set(result.record.errors) - set(kinds))
    for kind in dict.fromkeys(kinds):
        times = result.record.times.get(kind, [])
        print(
            f"{kind:<24} {len(times):>7} {result.record.errors.get(kind, 0):>6} "
            f"{percentile(times, 0.50):>8.1f} {percentile(times, 0.95):>8.1f} "
            f"{percentile(times, 0.99):>8.1f}"
        )


def cache_line(result: PhaseResult) -> str:
    """How often each page kind came from the page cache."""
    parts = []
    for kind in BROWSE_KINDS:
        states = result.record.cache.get(kind)
        if states:
            parts.append(f"{kind} {states.get('hit', 0)}/{sum(states.values())}")
    return "page cache hits: " + ", ".join(parts)


def usage(result: PhaseResult, workers_cpu: bool) -> str:
    seconds = result.seconds
    parts = [
        f"{result.requests} requests in {seconds:.1f}s = {result.rate:.1f} req/s",
        f"CPU: client {100 * result.client_cpu / seconds:.0f}% of a core",
        f"gunicorn {100 * result.server_cpu / seconds:.0f}%",
    ]
    if result.db_cpu:
        parts.append(f"PostgreSQL {100 * result.db_cpu / seconds:.0f}%")
    if workers_cpu:
        parts.append(f"job worker {100 * result.worker_cpu / seconds:.0f}%")
    if result.upload_cpu:
        parts.append(f"upload pool {100 * result.upload_cpu / seconds:.0f}%")
    # CPU time per answer depends far less than the rates on what else the machine runs.
    answers = max(result.requests, 1)
    per_request = f"{1000 * result.server_cpu / answers:.2f} ms gunicorn"
    if result.db_cpu:
        per_request += f" + {1000 * result.db_cpu / answers:.2f} ms PostgreSQL"
    return ", ".join(parts) + f"; CPU per request: {per_request}"


def client_bound(results: Iterable[PhaseResult]) -> list[str]:
    """Phases in which the client process used most of a core: their figures may be the
    client's, not the server's."""
    return [r.name for r in results if r.client_cpu / r.seconds > 0.8]


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short phases (15 s each)")
    parser.add_argument("--seconds", type=float, help="seconds per phase (default 60, quick 15)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent simulated users")
    parser.add_argument("--customers", type=int, help="customers (default 300, quick 100)")
    parser.add_argument("--products", type=int, default=10_000, help="products to load")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--uploads", action="store_true", help="also browse during 20 uploads")
    parser.add_argument(
        "--no-upload-pool",
        action="store_true",
        help="with --uploads: send the uploads to the web pool too (no upload pool, no routing)",
    )
    parser.add_argument(
        "--upload-nice", type=int, default=10, help="the upload pool's nice value (default 10)"
    )
    parser.add_argument(
        "--jobs-nice",
        type=int,
        default=10,
        help="the job worker's nice value (default 10, as docs/deploy.md; 0: the web's priority)",
    )
    parser.add_argument(
        "--jobs",
        choices=("redis", "sqlite", "immediate"),
        default="redis",
        help="JOBS_BACKEND (default redis, as docs/deploy.md); a job worker runs unless immediate",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    parser.add_argument("--redis-db", type=int, default=14, help="a Redis database of its own")
    parser.add_argument(
        "--search", choices=("postgres", "whoosh"), default="postgres", help="SEARCH_BACKEND"
    )
    parser.add_argument("--database", default="bz_load")
    parser.add_argument("--seed", type=int, default=1404)
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    args = parser.parse_args(argv)
    seconds = args.seconds or (15.0 if args.quick else 60.0)
    warmup = 3.0 if args.quick else 10.0
    customers_wanted = args.customers or (100 if args.quick else 300)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        parser.error("--database: lower-case letters, digits and underscores only")
    if args.clients < 1 or customers_wanted < args.clients:
        parser.error("--clients must be at least 1 and at most --customers")

    tmp = Path(tempfile.mkdtemp(prefix="bazarche-load-"))
    database_url = f"postgresql://postgres@{HOST}:5432/{args.database}"
    sqlalchemy_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DATABASE_", "PAGE_CACHE_", "FLASK_", "MEDIA_", "SEARCH_", "JOBS_", "IPG_")
        )
        and key not in ("SITE_URL", "ALLOWED_HOSTS", "PROXY_FIX", "RATELIMIT_ENABLED")
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_hex(32),
            "BAZARCHE_INSTANCE": str(tmp),
            "SESSION_COOKIE_SECURE": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PAYMENT_SANDBOX": "1",
            "SITE_URL": f"http://{HOST}:{port}",
            "PROXY_FIX": "1",  # one reverse proxy in front, as in docs/deploy.md
            "SEARCH_BACKEND": args.search,
            "JOBS_BACKEND": args.jobs,
            "MAIL_BACKEND": "file",
        }
    )
    redis_db: PrivateRedis | None = None
    if args.jobs == "redis":
        redis_db = PrivateRedis(args.redis_url, args.redis_db)
        env["JOBS_REDIS_URL"] = redis_db.url
    elif args.jobs == "sqlite":
        env["JOBS_SQLITE_PATH"] = str(tmp / "jobs.sqlite3")

    servers: list[Server] = []
    worker: JobWorker | None = None
    created_db = False
    try:
        started = time.monotonic()
        create_database(args.database)
        created_db = True
        migrate(env)
        logging.basicConfig(level=logging.WARNING)
        from app import create_app

        loader_app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": sqlalchemy_url,
                "SECRET_KEY": env["SECRET_KEY"],
                "INSTANCE_DIR": str(tmp),
                "MEDIA_DIR": str(tmp / "media"),
                "SEARCH_INDEX_DIR": str(tmp / "search"),
                "MAIL_DIR": str(tmp / "mail"),
                "JOBS_BACKEND": "immediate",
                "SITE_URL": env["SITE_URL"],
            }
        )
        loaded = load_products(loader_app, args.products)
        editing = args.clients
        people = load_people(loader_app, editing + (UPLOADERS if args.uploads else 0))
        emails = add_customers(loader_app, customers_wanted, people.password_hash)
        index_catalogue(env)
        world = people.world
        if args.uploads:
            world.upload_body = big_photo()
        rng = random.Random(args.seed)

        def address(n: int) -> str:
            return f"198.18.{n // 250}.{n % 250 + 1}"  # the benchmark range (RFC 2544)

        customers = [Session(address(n), email) for n, email in enumerate(emails)]
        sellers = []
        for n, (email, own, draft) in enumerate(people.sellers):
            seller = Session(address(len(customers) + n), email)
            seller.products, seller.draft = own, draft
            sellers.append(seller)
        if len(sellers) < editing + (UPLOADERS if args.uploads else 0):
            raise RuntimeError(f"only {len(sellers)} approved sellers: load more --products")
        print(
            f"loaded {loaded['products']} products of {loaded['sellers']} sellers, "
            f"{len(customers)} customers, {len(sellers)} sellers who log in, "
            f"{len(world.products)} products to buy, search on {args.search}, jobs on "
            f"{args.jobs}{' (' + env['JOBS_REDIS_URL'] + ')' if redis_db else ''}, in "
            f"{time.monotonic() - started:.1f}s",
            flush=True,
        )

        hello = Server("bench.hello:app", env, tmp / "hello.log", workers=args.workers)
        shop = Server("wsgi:app", env, tmp / "shop.log", workers=args.workers, port=port)
        servers.extend([hello, shop])
        pool: Server | None = None
        if args.uploads and not args.no_upload_pool:
            # scripts/run-upload-pool's settings: the same app, threaded, at a lower priority
            pool = Server(
                "wsgi:app",
                env,
                tmp / "uploads.log",
                workers=UPLOAD_POOL_WORKERS,
                worker_class="gthread",
                threads=UPLOAD_POOL_THREADS,
                nice=args.upload_nice,
            )
            servers.append(pool)
            world.upload_port = pool.port
        for server in servers:
            server.start()
        if args.jobs != "immediate":
            worker = JobWorker(env, tmp / "worker.log", nice=args.jobs_nice)
        log_in_all(port, customers + sellers)
        print(f"{len(customers) + len(sellers)} users logged in through the form", flush=True)

        def cpu_of(server: Server) -> Callable[[], tuple[float, float, float]]:
            def read() -> tuple[float, float, float, float]:
                return (
                    server.cpu_seconds(),
                    postgres_cpu_seconds(args.database),
                    worker.cpu_seconds() if worker else 0.0,
                    pool.cpu_seconds() if pool is not None and server is shop else 0.0,
                )

            return read

        def users_for(mix: Mix) -> list[tuple[Maker, Mix]]:
            """A user per client thread: its own customers and its own editing seller."""
            return [
                (
                    user_maker(world, customers[n :: args.clients], [sellers[n]], rng.random()),
                    mix,
                )
                for n in range(args.clients)
            ]

        print(
            "mix: " + ", ".join(f"{step} {weight}%" for step, weight in MIX) + "; "
            f"{args.clients} clients (threads of one process), gunicorn -w {args.workers} "
            f"-k sync, {seconds:.0f}s per phase after {warmup:.0f}s of warm-up; "
            f"{os.cpu_count()} CPUs",
            flush=True,
        )
        hello_users: list[tuple[Maker, Mix]] = [
            (hello_maker(Session(address(n))), (("hello", 1),)) for n in range(args.clients)
        ]
        hello_result = run_phase("hello", hello_users, hello.port, seconds, warmup, cpu_of(hello))
        mixed = run_phase("mixed", users_for(MIX), port, seconds, warmup, cpu_of(shop))
        problems = check_payments(sqlalchemy_url, mixed.record.payments)
        for problem in problems:
            mixed.record.error("checkout (database)", problem)

        print()
        hello_errors = sum(hello_result.record.errors.values())
        print(f"hello world: {usage(hello_result, False)}, errors {hello_errors}")
        print()
        print("mixed workload:")
        table(mixed, [*BROWSE_KINDS])
        steps = mixed.record.steps
        total_steps = sum(steps.values()) or 1
        print(cache_line(mixed))
        print(
            "steps done: "
            + ", ".join(f"{s} {steps[s]} ({100 * steps[s] / total_steps:.0f}%)" for s, _ in MIX)
        )
        paid = sum(1 for kind, _ in mixed.record.payments if kind == "ipg")
        print(
            f"checkouts: {len(mixed.record.payments)} made an order ({paid} through the sandbox "
            f"gateway, paid; {len(mixed.record.payments) - paid} cash), checked in the database"
        )
        print(f"mixed: {usage(mixed, worker is not None)}")
        for sample in mixed.record.samples:
            print(f"  error: {sample}")
        for log_path in (shop.log_path, tmp / "worker.log"):
            with contextlib.suppress(OSError):
                tracebacks = log_path.read_text(errors="replace").count("Traceback")
                if tracebacks:
                    print(f"  {log_path.name}: {tracebacks} tracebacks (--keep to read it)")

        if args.uploads:
            if pool is not None:
                print(
                    f"uploads: each POST of a photo goes to the upload pool (gunicorn -k gthread "
                    f"-w {UPLOAD_POOL_WORKERS} --threads {UPLOAD_POOL_THREADS} under nice -n "
                    f"{args.upload_nice}, as scripts/run-upload-pool), as the reverse proxy of "
                    f"docs/deploy.md routes it; the uploaders' edit pages and deletes go to the "
                    f"web pool; job worker at nice {args.jobs_nice}",
                    flush=True,
                )
            else:
                print("uploads: sent to the web pool (--no-upload-pool)", flush=True)
            browse = run_phase("browse", users_for(BROWSE_MIX), port, seconds, warmup, cpu_of(shop))
            uploaders: list[tuple[Maker, Mix]] = [
                (
                    user_maker(world, [customers[0]], [sellers[editing + n]], rng.random()),
                    (("photo upload", 1),),
                )
                for n in range(UPLOADERS)
            ]
            loaded_browse = run_phase(
                "browse + uploads",
                users_for(BROWSE_MIX) + uploaders,
                port,
                seconds,
                warmup,
                cpu_of(shop),
            )
            print()
            for result in (browse, loaded_browse):
                print(f"{result.name}:")
                table(result, [*BROWSE_KINDS])
                print(cache_line(result))
                print(f"{result.name}: {usage(result, worker is not None)}")
                for sample in result.record.samples:
                    print(f"  error: {sample}")
            quiet = percentile(browse.kinds(BROWSE_KINDS), 0.95)
            busy = percentile(loaded_browse.kinds(BROWSE_KINDS), 0.95)
            # No browse answer at all during the uploads is the worst case, not a zero.
            upload_ratio = busy / quiet if quiet and busy else float("inf")
            during = f"{busy:.1f} ms" if busy else "no browse request begun"
            where = "the upload pool" if pool is not None else "the web pool"
            print(
                f"browse p95: {quiet:.1f} ms alone, {during} during {UPLOADERS} uploads of "
                f"{len(world.upload_body) / 2**20:.1f} MiB to {where}: ×{upload_ratio:.2f} "
                f"(goal ≤ {UPLOAD_SLOWDOWN_GOAL:.0f}: {met(upload_ratio <= UPLOAD_SLOWDOWN_GOAL)})"
            )

        errors = sum(mixed.record.errors.values())
        worst = max(
            ((k, percentile(mixed.record.times.get(k, []), 0.95)) for k in BROWSE_KINDS),
            key=lambda item: item[1],
        )
        ratio = mixed.rate / hello_result.rate
        print()
        print(f"errors: {errors} (goal 0: {met(errors == 0)})")
        print(
            f"slowest browse or search p95: {worst[0]} {worst[1]:.1f} ms at {args.clients} "
            f"clients (goal ≤ {P95_GOAL_MS:.0f} ms: {met(worst[1] <= P95_GOAL_MS)})"
        )
        print(
            f"mixed {mixed.rate:.1f} req/s ÷ hello world {hello_result.rate:.1f} req/s: "
            f"{ratio:.2f} (goal ≥ {RATIO_GOAL}: {met(ratio >= RATIO_GOAL)})"
        )
        # On a busy machine the rates say more about the neighbours than about the app; the
        # CPU time each answer costs (app, database and job worker against the hello world's)
        # says what the ratio would be where the server has the cores to itself.
        hello_cost = hello_result.server_cpu / max(hello_result.requests, 1)
        mixed_cost = (mixed.server_cpu + mixed.db_cpu + mixed.worker_cpu) / max(mixed.requests, 1)
        if hello_cost and mixed_cost:
            print(f"the same by CPU time per request: {hello_cost / mixed_cost:.2f}")
        busy_client = client_bound([hello_result, mixed])
        if busy_client:
            print(f"warning: the client used over 80% of a core in: {', '.join(busy_client)}")
        print(f"ratio: {ratio:.2f}")
        return 0
    finally:
        if worker is not None:
            worker.stop()
        for server in servers:
            server.stop()
        if redis_db is not None:
            redis_db.clean()
        if not args.keep:
            if created_db:
                drop_database(args.database)
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept database {args.database} and {tmp}", file=sys.stderr)


def user_maker(
    world: World, customers: list[Session], sellers: list[Session], seed: float
) -> Maker:
    def make(agent: Agent, record: Record) -> User:
        return User(agent, world, customers, sellers, random.Random(seed))

    return make


def hello_maker(session: Session) -> Maker:
    def make(agent: Agent, record: Record) -> HelloUser:
        return HelloUser(agent, session)

    return make


class HelloUser:
    """The hello world's only step: ``GET /``."""

    def __init__(self, agent: Agent, session: Session) -> None:
        self.agent = agent
        self.session = session
        self.rng = random.Random()

    def hello(self) -> None:
        self.agent.request(self.session, "GET", "/", "hello world")


STEPS["hello"] = HelloUser.hello


if __name__ == "__main__":
    sys.exit(main())
