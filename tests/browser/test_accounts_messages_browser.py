"""Accounts, orders and messages in Persian in a real browser, end to end: a new customer signs
up with a mobile number (typed in Persian digits) and a texted code, and buys with cash on
delivery; the seller moves the order to delivered and the customer is texted at each move; the
customer asks the seller a question and reads the answer; a seller resets a forgotten password
by the e-mailed link; a new applicant proves a mobile number, applies to sell, is approved by
staff and is told by SMS and e-mail.

Everything is done through the pages, in one browser context per person; only the messages are
read from the development backends' files (the live server's ``mail`` and ``sms`` folders).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.core.formatting import persian_digits
from app.core.inputs import ascii_digits
from app.notifications.outbox import SentMail, sent_mail
from app.notifications.sms_gateway import WrittenSms, written_sms
from tests.browser.conftest import Visit, assert_only_loopback, open_visit

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "bazarche-demo-1234"  # noqa: S105  (the demo accounts' password)
SELLER = "seller1@bazarche.example"  # approved: sells and answers the customer
SELLER_MOBILE = "09151000000"  # the first demo seller's verified number
FORGETFUL_SELLER = "seller2@bazarche.example"  # approved: forgets the password
STAFF = "staff@bazarche.example"

CUSTOMER_NAME = "مهسا کریمی"
CUSTOMER_EMAIL = "mahsa@example.com"
CUSTOMER_MOBILE = "09121110001"
APPLICANT_NAME = "زهرا نوری"
APPLICANT_EMAIL = "zahra@example.com"
APPLICANT_MOBILE = "09121110002"
APPLICANT_SHOP = "سفال‌های زهرا"
NEW_PASSWORD = "a brand new passphrase 7"  # noqa: S105

TIMEOUT = 30_000  # ms, for a loaded machine


# --- the pages ------------------------------------------------------------------------------------


@contextmanager
def person(browser, live_server: str) -> Iterator[Visit]:  # type: ignore[no-untyped-def]
    """A fresh browser context (one person); on leaving, nothing left 127.0.0.1 and no page
    logged an error."""
    context, visit = open_visit(browser, live_server)
    context.set_default_timeout(TIMEOUT)
    visit.page.on("dialog", lambda dialog: dialog.accept())  # the forms' "are you sure?"
    try:
        yield visit
    finally:
        context.close()
    assert_only_loopback(visit)
    assert not visit.errors, visit.errors


def submit(visit: Visit, selector: str = "main form button[type=submit]") -> str:
    """Click ``selector``, wait for the page it leads to; that page's main text."""
    with visit.page.expect_navigation():
        visit.page.click(selector)
    return visit.page.inner_text("main")


def log_in(visit: Visit, email: str, password: str = DEMO_PASSWORD) -> None:
    page = visit.page
    visit.go("/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    submit(visit)
    assert "/auth/login" not in page.url, page.inner_text("main")


def type_persian(visit: Visit, selector: str, number: str) -> None:
    """Type ``number`` (any digits) key by key in Persian digits, as on a Persian keyboard."""
    visit.page.fill(selector, "")
    visit.page.type(selector, persian_digits(number))


# --- the messages ---------------------------------------------------------------------------------


def texts_to(live_dir: Path, number: str) -> list[WrittenSms]:
    """The texts written to ``number``, oldest first."""
    return [t for t in reversed(written_sms(live_dir / "sms")) if t.to == number]


def mail_to(live_dir: Path, address: str) -> list[SentMail]:
    """The e-mails written to ``address``, oldest first."""
    return [m for m in reversed(sent_mail(live_dir / "mail")) if address in m.to]


def texted_code(live_dir: Path, number: str) -> str:
    """The code in the newest text to ``number``, in the Persian digits it was written in."""
    text = texts_to(live_dir, number)[-1].text
    assert re.search(r"[۰-۹]{6}", text), text
    return re.search(r"[۰-۹]{6}", text).group(0)  # type: ignore[union-attr]


# --- the steps ------------------------------------------------------------------------------------


def prove_mobile(visit: Visit, live_dir: Path, number: str) -> None:
    """On the "verify my mobile number" page: the number in Persian digits, then the texted
    code, also in Persian digits."""
    type_persian(visit, "input[name=mobile]", number)
    submit(visit)
    assert visit.page.url.split("?")[0].endswith("/auth/account/mobile/code"), visit.page.url
    type_persian(visit, "input[name=code]", texted_code(live_dir, number))
    text = submit(visit)
    assert "شمارهٔ همراه شما تأیید شد" in text, text


def sign_up_by_mobile(visit: Visit, live_dir: Path) -> None:
    """A new customer signs up with a mobile number typed in Persian digits and the texted
    code, gives a name and an e-mail address on the welcome page, and proves the address by
    the e-mailed link."""
    page = visit.page
    visit.go("/auth/mobile")
    type_persian(visit, "input[name=mobile]", CUSTOMER_MOBILE)
    submit(visit)
    assert page.url.split("?")[0].endswith("/auth/mobile/code"), page.url
    [code_text] = texts_to(live_dir, CUSTOMER_MOBILE)  # a number no account has gets it too
    assert code_text.text.startswith("بازارچه"), code_text.text
    type_persian(visit, "input[name=code]", texted_code(live_dir, CUSTOMER_MOBILE))
    submit(visit)
    assert page.url.split("?")[0].endswith("/auth/mobile/welcome"), page.url
    page.fill("input[name=name]", CUSTOMER_NAME)
    page.fill("input[name=email]", CUSTOMER_EMAIL)
    submit(visit)
    assert CUSTOMER_NAME in page.inner_text("header")  # logged in, with the new account
    [letter] = [m for m in mail_to(live_dir, CUSTOMER_EMAIL) if "/auth/email/" in m.text]
    assert letter.language == "fa", letter.language
    link = re.search(r"https?://\S+(/auth/email/\S+)", letter.text)
    assert link, letter.text
    visit.go(link.group(1))
    assert CUSTOMER_EMAIL in page.inner_text("main")  # the account page shows its address


def a_product_of(seller: Visit) -> str:
    """The path of a product in stock in the logged-in seller's public shop."""
    page = seller.page
    seller.go("/seller/profile")
    with page.expect_navigation():
        page.click("main a:has-text('صفحهٔ عمومی فروشگاه')")
    products = seller.js(
        "[...new Set([...document.querySelectorAll(\"main a[href^='/p/']\")]"
        ".map(a => a.getAttribute('href')))]"
    )
    assert products, "the seller's shop shows no product"
    for path in products:  # type: ignore[union-attr]
        seller.go(str(path))
        if page.locator("form.add-to-cart").count():
            return str(path)
    raise AssertionError("none of the seller's products is in stock")


def buy_with_cash(customer: Visit, product: str) -> int:
    """The customer puts ``product`` in the cart and orders it, cash on delivery; the order's id."""
    page = customer.page
    customer.go(product)
    submit(customer, "form.add-to-cart button[type=submit]")
    customer.go("/checkout")
    page.fill("input[name=recipient_name]", CUSTOMER_NAME)
    type_persian(customer, "input[name=mobile]", CUSTOMER_MOBILE)
    page.select_option("select[name=province]", index=1)
    page.fill("input[name=city]", "زاهدان")
    page.fill("textarea[name=address]", "خیابان دانشگاه، کوچه ۳، پلاک ۱۲")
    type_persian(customer, "input[name=postal_code]", "9816745639")
    page.check("input[name=payment_method][value=cash]")
    submit(customer, "form.checkout-form button[data-place-order]")
    assert "/checkout/return/" in page.url, page.inner_text("main")
    links = customer.js(
        "[...document.querySelectorAll('main a[href*=\"/orders/\"]')].map(a => a.pathname)"
    )
    ids = {int(m.group(1)) for path in links if (m := re.fullmatch(r"/orders/(\d+)", path))}  # type: ignore[union-attr]
    assert len(ids) == 1, links
    return ids.pop()


def move_order(seller: Visit, order_id: int) -> None:
    """The seller confirms the order, sends it with a tracking code, marks it delivered (each
    step says so: "Order <number in Persian digits>: <its new status>.")."""
    page = seller.page
    moved = f"سفارش {persian_digits(order_id)}: "
    seller.go(f"/seller/orders/{order_id}")
    assert moved in submit(seller, "form:has(input[name=action][value=confirm]) button")
    if not page.input_value("select[name=carrier]"):
        page.select_option("select[name=carrier]", index=1)
    page.fill("input[name=tracking_code]", "IR123456789")
    assert moved in submit(seller, "form.ship-form button[type=submit]")
    assert moved in submit(seller, "form:has(input[name=action][value=deliver]) button")
    assert page.locator("form:has(input[name=action][value=deliver])").count() == 0


def assert_order_texts(live_dir: Path, order_id: int) -> None:
    """One text to the customer's number per move, in Persian, naming the order in Persian digits."""
    number = persian_digits(order_id)
    about_order = [t.text for t in texts_to(live_dir, CUSTOMER_MOBILE) if "سفارش" in t.text]
    expected = [
        f"سفارش {number} شما ثبت شد",
        f"سفارش {number} تأیید شد",
        f"سفارش {number} در راه است",
        f"سفارش {number} تحویل داده شد",
    ]
    assert len(about_order) == len(expected), about_order
    for text, subject in zip(about_order, expected, strict=True):
        assert text.startswith("بازارچه: "), text
        assert subject in text, (subject, text)
    assert "کد رهگیری: IR123456789" in about_order[2]
    to_seller = [t.text for t in texts_to(live_dir, SELLER_MOBILE) if number in t.text]
    assert any(f"سفارش جدید {number}: لطفاً تأیید کنید" in t for t in to_seller), to_seller


def assert_order_notices(customer: Visit, order_id: int) -> None:
    """The customer's notices in the site list the order's moves too."""
    customer.go("/notifications")
    shown = customer.page.inner_text("main")
    for subject in ("شما ثبت شد", "تأیید شد", "در راه است", "تحویل داده شد"):
        assert f"سفارش {persian_digits(order_id)} {subject}" in shown, (subject, shown)


def ask_and_answer(customer: Visit, seller: Visit, product: str, live_dir: Path) -> None:
    """The customer asks from the product page; the seller answers from the seller area (the
    customer is e-mailed a link to the conversation); the customer reads the answer there."""
    question = "سلام، این کالا را در رنگ سبز هم دارید؟"
    answer = "بله، رنگ سبز هم داریم و همین هفته می‌فرستیم."
    customer.go(product)
    with customer.page.expect_navigation():
        customer.page.click("main a:has-text('از فروشنده بپرسید')")
    conversation = customer.page.url
    assert re.search(r"/messages/\d+$", conversation), conversation
    customer.page.fill("textarea[name=body]", question)
    assert "پیام شما فرستاده شد." in submit(customer)

    seller.go("/seller/messages")
    with seller.page.expect_navigation():
        seller.page.click(f"main .conversation-list a:has-text('{CUSTOMER_NAME}')")
    assert question in seller.page.inner_text("main")
    seller.page.fill("textarea[name=body]", answer)
    assert "پیام شما فرستاده شد." in submit(seller)

    path = conversation.removeprefix(customer.base_url)
    told = [m for m in mail_to(live_dir, CUSTOMER_EMAIL) if path in m.text]
    assert len(told) == 1 and told[0].language == "fa", [m.subject for m in told]
    customer.go(path)
    shown = customer.page.inner_text("main")
    assert question in shown and answer in shown


def reset_forgotten_password(visit: Visit, live_dir: Path) -> None:
    """A seller asks for a reset link from the login page, follows the e-mailed link, chooses a
    new password and logs in with it (the old one no longer works)."""
    page = visit.page
    visit.go("/auth/login")
    with page.expect_navigation():
        page.click("main a[href$='/auth/reset']")
    page.fill("input[name=email]", FORGETFUL_SELLER)
    submit(visit)
    [letter] = [m for m in mail_to(live_dir, FORGETFUL_SELLER) if "/auth/reset/" in m.text]
    assert letter.language == "fa" and "انتخاب رمز عبور تازه" in letter.text, letter.text
    link = re.search(r"https?://\S+(/auth/reset/\S+)", letter.text)
    assert link, letter.text
    visit.go(link.group(1))
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=confirm]", NEW_PASSWORD)
    assert "رمز عبور شما تغییر کرد. با رمز تازه وارد شوید." in submit(visit)

    page.fill("input[name=email]", FORGETFUL_SELLER)
    page.fill("input[name=password]", DEMO_PASSWORD)
    submit(visit)
    assert "/auth/login" in page.url  # the old password is refused
    log_in(visit, FORGETFUL_SELLER, NEW_PASSWORD)
    visit.go("/seller/")


def apply_to_sell(visit: Visit, live_dir: Path) -> None:
    """A new account applies to sell: the apply page sends it to prove a mobile number first,
    then back to the application form."""
    page = visit.page
    visit.go("/auth/register")
    page.fill("input[name=name]", APPLICANT_NAME)
    page.fill("input[name=email]", APPLICANT_EMAIL)
    page.fill("input[name=password]", "zahra's long passphrase")
    page.fill("input[name=confirm]", "zahra's long passphrase")
    submit(visit)
    visit.go("/seller/apply")
    assert page.locator("input[name=display_name]").count() == 0  # not before the number
    with page.expect_navigation():
        page.click("main a[href*='/auth/account/mobile']")
    prove_mobile(visit, live_dir, APPLICANT_MOBILE)
    assert page.url.endswith("/seller/apply"), page.url
    page.fill("input[name=display_name]", APPLICANT_SHOP)
    page.select_option("select[name=county_id]", index=1)
    page.select_option("select[name=sector_id]", index=1)
    assert ascii_digits(page.input_value("input[name=phone]")) == APPLICANT_MOBILE
    assert "درخواست شما ارسال شد." in submit(visit)


def approve_application(staff: Visit) -> None:
    staff.go("/admin/sellers")
    with staff.page.expect_navigation():
        staff.page.click(f"main a:has-text('{APPLICANT_SHOP}')")
    text = submit(staff, "main form button[name=action][value=approve]")
    assert APPLICANT_SHOP in text


def assert_approval_told(live_dir: Path) -> None:
    subject = "فروشگاه شما در بازارچه تأیید شد"
    assert any(subject in t.text for t in texts_to(live_dir, APPLICANT_MOBILE))
    assert any(m.subject.strip() == subject for m in mail_to(live_dir, APPLICANT_EMAIL))


# --- the journey ----------------------------------------------------------------------------------


def test_a_customer_buys_is_texted_and_talks_to_the_seller(browser, live_server, live_dir):
    with person(browser, live_server) as customer, person(browser, live_server) as seller:
        sign_up_by_mobile(customer, live_dir)
        log_in(seller, SELLER)
        product = a_product_of(seller)

        order_id = buy_with_cash(customer, product)
        move_order(seller, order_id)
        assert_order_texts(live_dir, order_id)
        assert_order_notices(customer, order_id)

        ask_and_answer(customer, seller, product, live_dir)


def test_a_seller_resets_a_forgotten_password_by_the_emailed_link(browser, live_server, live_dir):
    with person(browser, live_server) as seller:
        reset_forgotten_password(seller, live_dir)


def test_an_applicant_is_approved_and_told_by_sms_and_email(browser, live_server, live_dir):
    with person(browser, live_server) as applicant, person(browser, live_server) as staff:
        apply_to_sell(applicant, live_dir)
        log_in(staff, STAFF)
        approve_application(staff)
    assert_approval_told(live_dir)
