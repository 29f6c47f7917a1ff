"""A seller on a phone lists a product with two photos in one save, and the product page's
gallery opens, swipes (mirrored in Persian) and closes, in a real Chromium."""

from __future__ import annotations

import re
import time

import pytest
from PIL import Image

from tests.browser.conftest import Visit

pytestmark = pytest.mark.browser

SELLER = "seller2@bazarche.example"
PASSWORD = "bazarche-demo-1234"  # noqa: S105  (the demo accounts' password)


def log_in(visit: Visit) -> None:
    page = visit.page
    visit.go("/auth/login")
    page.fill("input[name=email]", SELLER)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click("main form button[type=submit]")  # type: ignore[attr-defined]


def until(visit: Visit, expression: str, timeout: float = 10.0) -> None:
    """Wait for ``expression`` to hold (polled through the driver: the page's policy forbids
    the string evaluation ``wait_for_function`` would use)."""
    deadline = time.monotonic() + timeout
    while not visit.js(expression):
        assert time.monotonic() < deadline, f"still false: {expression}"
        time.sleep(0.05)


def touch(cdp, kind: str, x: float, y: float) -> None:  # type: ignore[no-untyped-def]
    points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def swipe(cdp, y: float, from_x: float, to_x: float) -> None:  # type: ignore[no-untyped-def]
    touch(cdp, "touchStart", from_x, y)
    for n in range(1, 9):
        touch(cdp, "touchMove", from_x + (to_x - from_x) * n / 8, y)
    touch(cdp, "touchEnd", to_x, y)


def test_a_listing_with_two_photos_in_one_save_and_its_gallery(phone390, tmp_path):
    visit = phone390
    page = visit.page
    files = []
    for name, colour, size in (("red.png", (220, 30, 30), (900, 700)),
                               ("blue.png", (30, 60, 220), (700, 900))):  # fmt: skip
        path = tmp_path / name
        Image.new("RGB", size, colour).save(path)
        files.append(str(path))

    log_in(visit)
    visit.go("/seller/listings/new")
    assert visit.js("document.dir") == "rtl"
    page.fill("input[name=title]", "کیف سوزن‌دوزی آزمایشی")
    page.select_option("select[name=category_id]", index=1)
    page.fill("input[name=price_toman]", "120000")
    page.fill("input[name=stock]", "2")
    page.select_option("select[name=status]", "published")
    page.set_input_files("#photos-input", files)

    # Each photo goes up on its own, with its progress, and gets its token.
    until(visit, "document.querySelectorAll('li.staged.uploaded').length === 2")
    assert visit.js("document.querySelector('#photos-input').value") == ""
    tokens = visit.js(
        "[...document.querySelectorAll('li.staged input[name=staged]')].map(i => i.value)"
    )
    assert len(tokens) == 2 and all(tokens)
    # The second photo moved first with its button becomes the cover.
    page.click("li.staged:nth-child(2) [data-move='-1']")
    assert visit.js("document.querySelector('li.staged').dataset.token") == tokens[1]
    page.check("li.staged:first-child input[name=cover]")

    with page.expect_navigation():
        page.click("form[data-listing-form] button[data-save-listing]")
    match = re.search(r"/seller/listings/(\d+)/edit", page.url)
    assert match, page.url
    assert visit.js("document.querySelectorAll('.photo-list > li').length") == 2

    # On the edit form a photo dropped on the box goes up too, and is removed after a confirm.
    dropped = page.evaluate_handle(
        """async () => {
            const canvas = document.createElement("canvas");
            canvas.width = 120; canvas.height = 80;
            canvas.getContext("2d").fillRect(0, 0, 120, 80);
            const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
            const data = new DataTransfer();
            data.items.add(new File([blob], "dropped.png", { type: "image/png" }));
            return data;
        }"""
    )
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": dropped})
    until(visit, "document.querySelectorAll('li.staged.uploaded').length === 1")
    assert visit.js("document.querySelector('li.staged .staged-name').textContent") == "dropped.png"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("li.staged [data-remove]")
    until(visit, "document.querySelectorAll('li.staged').length === 0")

    # The product page: published, the blue (portrait) photo first.
    visit.go(f"/p/{match[1]}")
    assert visit.js("document.querySelectorAll('[data-gallery-thumb]').length") == 2
    main_src = visit.js("document.querySelector('.main-photo').currentSrc")
    page.click("[data-gallery-thumb] >> nth=1")
    until(visit, f"document.querySelector('.main-photo').currentSrc !== {main_src!r}")
    assert (
        visit.js(
            "document.querySelectorAll('[data-gallery-thumb]')[1].getAttribute('aria-current')"
        )
        == "true"
    )
    page.click("[data-gallery-thumb] >> nth=0")

    # The viewer: opened from the main photo, focus on its close button.
    page.click("[data-gallery-main]")
    until(visit, "document.querySelector('dialog.viewer[open]') !== null")
    assert visit.js("document.activeElement.className") == "viewer-close"
    assert visit.js("document.querySelector('dialog.viewer').dataset.index") == "0"
    until(visit, "document.querySelector('.viewer-img').complete")
    assert "/media/" in visit.js("document.querySelector('.viewer-img').src")

    # In Persian the next photo comes from the left: a swipe to the right brings it.
    cdp = page.context.new_cdp_session(page)
    swipe(cdp, 420, 80, 320)
    until(visit, "document.querySelector('dialog.viewer').dataset.index === '1'")
    assert "۲" in visit.js("document.querySelector('.viewer-counter').textContent")
    swipe(cdp, 420, 320, 80)
    until(visit, "document.querySelector('dialog.viewer').dataset.index === '0'")

    # Double tap zooms in, and out again.
    for _ in range(2):
        touch(cdp, "touchStart", 195, 420)
        touch(cdp, "touchEnd", 195, 420)
    until(visit, "document.querySelector('dialog.viewer').classList.contains('zoomed')")
    for _ in range(2):
        touch(cdp, "touchStart", 195, 420)
        touch(cdp, "touchEnd", 195, 420)
    until(visit, "!document.querySelector('dialog.viewer').classList.contains('zoomed')")

    # The arrow keys, mirrored too, then Escape closes and gives focus back.
    page.keyboard.press("ArrowLeft")
    until(visit, "document.querySelector('dialog.viewer').dataset.index === '1'")
    page.keyboard.press("Escape")
    until(visit, "!document.querySelector('dialog.viewer').open")
    # The dialog's close event comes a moment after it closes: focus goes back to the main
    # photo, which now shows the photo the viewer was left on.
    until(visit, "document.activeElement.hasAttribute('data-gallery-main')")
    until(
        visit,
        "document.querySelectorAll('[data-gallery-thumb]')[1].getAttribute('aria-current') === 'true'",
    )
