"""Small helpers many test modules share: reading flashed messages, a checkout address, test
pictures and a logged-in client. Fixtures stay in conftest; data rows are made in factories."""

from __future__ import annotations

import io
import re
from html import unescape

from PIL import Image

from tests import factories

ADDRESS = {
    "recipient_name": "مینا رضایی",
    "mobile": "09121234567",
    "province": "سیستان و بلوچستان",
    "city": "زاهدان",
    "address": "خیابان دانشگاه، کوچه ۳، پلاک ۱۲",
    "postal_code": "9816745639",
    "payment_method": "cash",
}
"""A valid checkout form (cash on delivery, Persian address)."""

GREEN = (40, 160, 60)


def flashes(response, category: str = "error") -> list[str]:  # type: ignore[no-untyped-def]
    """The flashed messages of ``category`` on the page of ``response``, unescaped, in order."""
    html = response.get_data(as_text=True)
    return [unescape(m) for m in re.findall(rf'<p class="flash flash-{category}">(.*?)</p>', html)]


def jpeg(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = GREEN) -> bytes:
    """A plain one-colour JPEG of ``size`` (quality 90)."""
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def png(size: tuple[int, int] = (80, 60)) -> bytes:
    """A half-transparent blue PNG of ``size`` (RGBA)."""
    buf = io.BytesIO()
    Image.new("RGBA", size, (10, 20, 200, 128)).save(buf, "PNG")
    return buf.getvalue()


def client_for(app, user):  # type: ignore[no-untyped-def]
    """A new test client of ``app`` logged in as ``user`` (with the factories' password)."""
    client = app.test_client()
    factories.login(client, user.email)
    return client


def assert_ledger_holds() -> None:
    """The sellers' ledger invariant holds for every seller: balance = sum of entries = sales −
    commission − refunds (+ commission given back) − cash kept − payouts, from the orders."""
    from app.core.extensions import db
    from app.payouts import ledger

    db.session.expire_all()
    bad = ledger.verify()
    assert bad == [], [m.describe() for m in bad]
