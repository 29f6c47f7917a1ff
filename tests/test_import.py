"""CSV import of listings: the parser, the seller-area preview and confirmation, the command."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from PIL import Image

from app.catalog import importer
from app.catalog.models import PendingImport, Product, ProductStatus
from app.core.errors import NotAllowed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.media.images import is_variant_key
from tests import factories

ENGLISH = (
    "title,description,category,price,stock,status,images\n"
    "Balochi needlework cushion,Hand stitched,{cat},1250000,3,draft,\n"
    '"Bam dates, 1 kg","Fresh\nthis year",{cat},180000,20,,\n'
)


# Persian text as older Windows programs save it (Arabic yeh: cp1256 has no Persian one).
WINDOWS_1256 = "عنوان,قيمت\nروميزي,100\n".encode("cp1256")


def _products() -> list[Product]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Product).order_by(Product.id)))


def _upload(client, body: bytes | str, name: str = "listings.csv"):  # type: ignore[no-untyped-def]
    data = body.encode("utf-8") if isinstance(body, str) else body
    return client.post(
        "/seller/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _token(html: str) -> str:
    match = re.search(r'name="token"[^>]*value="([0-9a-f]+)"', html) or re.search(
        r'value="([0-9a-f]{32})"[^>]*name="token"', html
    )
    assert match, "the preview offers no confirmation"
    return match.group(1)


def _kept() -> list[PendingImport]:
    """The previewed files waiting for confirmation."""
    db.session.expire_all()
    return list(db.session.scalars(sa.select(PendingImport)))


def _flashes(client) -> list[str]:  # type: ignore[no-untyped-def]
    with client.session_transaction() as sess:
        return [message for _category, message in sess.get("_flashes", [])]


def _jpeg(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (480, 360)) -> None:
    Image.new("RGB", size, colour).save(path, "JPEG", quality=85)


@pytest.fixture
def seller_client(client):  # type: ignore[no-untyped-def]
    seller = factories.seller()
    factories.login(client, seller.user.email)
    client.set_cookie("locale", "en")  # the assertions read English messages
    return client, seller


# ---- parser -----------------------------------------------------------------------------------


def test_parse_english_headers_with_line_numbers(app):
    rows = importer.parse_csv(
        ENGLISH.format(cat="rugs").encode() + b"\n\nThird,,,100,,,a.jpg; b.jpg|c.jpg\n"
    )
    assert [r.line for r in rows] == [2, 3, 7]  # the quoted description spans lines 3-4
    assert rows[1].title == "Bam dates, 1 kg" and rows[1].description == "Fresh\nthis year"
    assert rows[2].images == ["a.jpg", "b.jpg", "c.jpg"]


def test_parse_persian_headers_bom_and_variants(app):
    # Arabic yeh in «دسته‌بندي», spaced ZWNJ in «عکس ها», a semicolon-separated export.
    text = "\ufeffعنوان;قیمت (تومان);دسته‌بندي;موجودی;وضعیت;عکس ها\nرومیزی;۱۲۰٬۰۰۰;rugs;۳;منتشر;x.jpg،y.jpg\n"
    (row,) = importer.parse_csv(text.encode("utf-8"))
    assert (row.title, row.price, row.category, row.stock, row.status) == (
        "رومیزی", "۱۲۰٬۰۰۰", "rugs", "۳", "منتشر",
    )  # fmt: skip
    assert row.images == ["x.jpg", "y.jpg"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"  \r\n\r\n", "empty"),
        (b"title,price\n", "no_rows"),
        (os.urandom(0) + bytes(range(256)) * 8, "binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (WINDOWS_1256, "not_utf8"),
        ("title,price\nx,1\n".encode("utf-16"), "not_utf8"),
        (b"title,description\nx,y\n", "missing_columns"),
        (b"title,price,colour\nx,1,red\n", "unknown_column"),
        (b"title,price,Title\nx,1,y\n", "duplicate_column"),
        (b'title,price\n"unterminated,1\n', "malformed"),
        (b"title,price\n" + b"x" * (importer.MAX_FIELD_CHARS + 1) + b",1\n", "field_too_long"),
        (b"title,price\n" + b"x,1\n" * (importer.MAX_ROWS + 1), "too_many_rows"),
        (b"title,price\n" + b"x" * importer.MAX_FILE_BYTES, "too_large"),
    ],
)
def test_parse_rejects_bad_files(app, data, code):
    with pytest.raises(importer.ImportRejected) as info:
        importer.parse_csv(data)
    assert info.value.code == code
    with force_locale("en"):
        assert info.value.message and info.value.message != code


def test_validate_row_rules(app):
    seller = factories.seller()
    cat = factories.category(slug="rugs")
    factories.product(seller, title="Existing")
    csv_text = (
        "title,category,price,stock,status\n"
        f"Existing,{cat.name_fa},۱۲٬۵۰۰ تومان,,draft\n"  # 2: ok, name match, toman suffix
        ",nope,-5,x,maybe\n"  # 3: five errors
        "Published,,100,1,published\n"  # 4: publish rules (no photo, no category)
        "Free,rugs,0,1,منتشر\n"  # 5: needs a price above 0
    )
    plan = importer.validate(importer.parse_csv(csv_text.encode()), seller, None)
    by_line = {row.line: row for row in plan.rows}
    ok = by_line[2]
    assert ok.ok and ok.price_amount == 125_000 and ok.stock == 1 and ok.category_id == cat.id
    assert [w.code for w in ok.warnings] == ["duplicate_title"]
    assert {e.code for e in by_line[3].errors} == {
        "title_required", "category_unknown", "price_out_of_range", "stock_invalid",
        "status_invalid",
    }  # fmt: skip
    assert {e.code for e in by_line[4].errors} == {"needs_photo_web", "needs_category"}
    assert {e.code for e in by_line[5].errors} == {"needs_photo_web", "needs_price"}
    assert not plan.ok and [r.line for r in plan.error_rows] == [3, 4, 5]


def test_directory_lookup_stays_inside_the_folder(app, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    _jpeg(folder / "a.jpg", (10, 20, 30))
    (tmp_path / "secret.jpg").write_bytes(b"outside")
    (folder / "link.jpg").symlink_to(tmp_path / "secret.jpg")
    lookup = importer.directory_images(folder, 10_000_000)
    assert lookup("a.jpg")
    for name in (
        "../secret.jpg",
        "link.jpg",
        "/etc/passwd",
        "..",
        ".hidden",
        "sub\\a.jpg",
        "b.jpg",
    ):
        assert lookup(name) is None
    assert not importer.is_plain_file_name("../secret.jpg")


# ---- seller area ------------------------------------------------------------------------------


def test_import_page_and_samples(seller_client):
    client, seller = seller_client
    cat = factories.category(slug="pottery")
    page = client.get("/seller/import")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/seller/import/sample.csv" in html and 'enctype="multipart/form-data"' in html
    for query in ("", "?headers=fa"):
        sample = client.get(f"/seller/import/sample.csv{query}")
        assert sample.status_code == 200
        assert (
            sample.mimetype == "text/csv" and "attachment" in sample.headers["Content-Disposition"]
        )
        assert sample.data.startswith(b"\xef\xbb\xbf")
        rows = importer.parse_csv(sample.data)
        assert len(rows) == 2 and rows[0].category == cat.slug
        plan = importer.validate(rows, seller, None)
        assert plan.ok, [e.code for r in plan.rows for e in r.errors]
    assert "عنوان" in client.get("/seller/import/sample.csv?headers=fa").data.decode("utf-8-sig")


def test_web_import_english_headers(seller_client, app):
    client, seller = seller_client
    cat = factories.category(slug="rugs")
    preview = _upload(client, ENGLISH.format(cat="rugs"))
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert 'lang="en"' in html
    assert "Balochi needlework cushion" in html and "Save 2 listings" in html
    assert _products() == []  # a preview saves nothing

    done = client.post("/seller/import/confirm", data={"token": _token(html)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/seller/listings")
    assert "2 listings imported." in _flashes(client)
    products = _products()
    assert [p.title for p in products] == ["Balochi needlework cushion", "Bam dates, 1 kg"]
    first, second = products
    assert first.price_amount == 12_500_000 and first.stock == 3  # toman x 10 = rials
    assert first.seller_id == seller.id and first.category_id == cat.id
    assert second.description == "Fresh\nthis year" and second.stock == 20
    assert {p.status for p in products} == {ProductStatus.DRAFT}

    # The kept file is gone: confirming twice imports nothing more.
    again = client.post("/seller/import/confirm", data={"token": _token(html)})
    assert again.status_code == 302 and again.headers["Location"].endswith("/seller/import")
    assert len(_products()) == 2
    assert _kept() == []


def test_web_import_persian_headers_and_digits(seller_client):
    client, _seller = seller_client
    cat = factories.category(slug="dates")
    text = (
        "\ufeffعنوان,توضیحات,دسته,قیمت,موجودی,وضعیت\r\n"
        f"خرمای مضافتی,برداشت امسال,{cat.name_fa},۱۸۰٬۰۰۰,۲۰,پیش‌نویس\r\n"
        f"کشک محلی,,{cat.name_en},۹۵۰۰۰,۵,\r\n"
    )
    preview = _upload(client, text)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    done = client.post(
        "/seller/import/confirm", data={"token": _token(preview.get_data(as_text=True))}
    )
    assert done.status_code == 302
    products = _products()
    assert [(p.title, p.price_amount, p.stock, p.category_id) for p in products] == [
        ("خرمای مضافتی", 1_800_000, 20, cat.id),
        ("کشک محلی", 950_000, 5, cat.id),
    ]


def test_web_preview_reports_bad_row_and_saves_nothing(seller_client, app):
    client, _seller = seller_client
    factories.category(slug="rugs")
    text = (
        "title,price,category,stock\n"
        "Good one,1000,rugs,1\n"
        "Bad price,twelve,rugs,1\n"
        "Good two,2000,rugs,2\n"
    )
    preview = _upload(client, text)
    assert preview.status_code == 400
    html = preview.get_data(as_text=True)
    assert 'id="line-3"' in html and "row-error" in html
    assert 'href="#line-3"' in html and "whole number of toman" in html
    assert 'name="token"' not in html and "/seller/import/confirm" not in html
    assert _products() == []
    assert _kept() == []


def test_web_import_refuses_photos_and_unphotographed_published_rows(seller_client):
    client, _seller = seller_client
    factories.category(slug="rugs")
    text = "title,price,category,status,images\nA,100,rugs,draft,a.jpg\nB,100,rugs,published,\n"
    html = _upload(client, text).get_data(as_text=True)
    assert "Photos cannot be imported here" in html
    assert "A published listing needs a photo" in html
    assert _products() == []


@pytest.mark.parametrize(
    "data",
    [
        b"",
        bytes(range(256)) * 4,
        WINDOWS_1256,
        b"title,stock\nx,1\n",
    ],
    ids=["empty", "binary", "not-utf8", "missing-header"],
)
def test_web_bad_files_get_a_clear_error(seller_client, data):
    client, _seller = seller_client
    response = _upload(client, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error"' in html and 'id="file-error"' in html
    assert _products() == []


def test_web_upload_without_file(seller_client):
    client, _seller = seller_client
    response = client.post("/seller/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert _products() == []


def test_confirm_with_another_sellers_token_saves_nothing(app, seller_client):
    client, _seller = seller_client
    factories.category(slug="rugs")
    token = _token(_upload(client, ENGLISH.format(cat="rugs")).get_data(as_text=True))

    other = factories.seller()
    intruder = app.test_client()
    factories.login(intruder, other.user.email)
    response = intruder.post("/seller/import/confirm", data={"token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/seller/import")
    assert _products() == []
    for forged in ("../../secret", "ABC", token.upper(), ""):
        intruder.post("/seller/import/confirm", data={"token": forged})
    assert _products() == []

    # The owner's token still works.
    assert client.post("/seller/import/confirm", data={"token": token}).status_code == 302
    assert len(_products()) == 2


def test_confirm_revalidates(seller_client):
    client, _seller = seller_client
    cat = factories.category(slug="rugs")
    token = _token(_upload(client, ENGLISH.format(cat="rugs")).get_data(as_text=True))
    db.session.delete(cat)
    db.session.commit()

    response = client.post("/seller/import/confirm", data={"token": token})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is no category" in html and 'id="line-2"' in html
    assert _products() == []


def test_confirm_after_expiry(seller_client, app):
    client, _seller = seller_client
    factories.category(slug="rugs")
    token = _token(_upload(client, ENGLISH.format(cat="rugs")).get_data(as_text=True))
    (kept,) = _kept()
    assert token not in kept.token_hash  # only a hash of the token is stored
    kept.created_at = utcnow() - importer.PENDING_MAX_AGE - timedelta(seconds=1)
    db.session.commit()
    response = client.post("/seller/import/confirm", data={"token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/seller/import")
    assert _products() == []
    assert _kept() == []


def test_keeping_a_file_removes_the_expired_ones(seller_client, app):
    client, seller = seller_client
    factories.category(slug="rugs")
    old = _token(_upload(client, ENGLISH.format(cat="rugs")).get_data(as_text=True))
    (kept,) = _kept()
    kept.created_at = utcnow() - importer.PENDING_MAX_AGE - timedelta(seconds=1)
    db.session.commit()
    new = importer.keep_pending(seller.id, b"title,price\nA,1\n")
    assert len(_kept()) == 1
    assert importer.claim_pending(seller.id, old) is None
    assert importer.claim_pending(seller.id, new) == b"title,price\nA,1\n"
    assert importer.claim_pending(seller.id, new) is None  # once


def test_import_with_csrf_protection(csrf_app):
    client = csrf_app.test_client()
    client.set_cookie("locale", "en")
    seller = factories.seller()
    factories.category(slug="rugs")

    def csrf(html: str) -> str:
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)

    login_page = client.get("/auth/login").get_data(as_text=True)
    client.post(
        "/auth/login",
        data={
            "email": seller.user.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf(login_page),
        },
    )
    page = client.get("/seller/import").get_data(as_text=True)
    upload = {"file": (io.BytesIO(ENGLISH.format(cat="rugs").encode()), "in.csv")}
    refused = client.post("/seller/import", data=upload, content_type="multipart/form-data")
    assert refused.status_code == 400

    upload = {
        "csrf_token": csrf(page),
        "file": (io.BytesIO(ENGLISH.format(cat="rugs").encode()), "in.csv"),
    }
    preview = client.post("/seller/import", data=upload, content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert client.post("/seller/import/confirm", data={"token": _token(html)}).status_code == 400
    assert _products() == []
    done = client.post(
        "/seller/import/confirm", data={"token": _token(html), "csrf_token": csrf(html)}
    )
    assert done.status_code == 302 and len(_products()) == 2


def test_customers_cannot_import(client):
    customer = factories.user()
    factories.login(client, customer.email)
    assert client.get("/seller/import").status_code == 403
    assert _upload(client, ENGLISH.format(cat="")).status_code == 403


# ---- command line -----------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_imports_published_listings_with_photos(runner, app, tmp_path):
    seller = factories.seller()
    cat = factories.category(slug="pottery")
    photos = tmp_path / "photos"
    photos.mkdir()
    _jpeg(photos / "bowl.jpg", (180, 90, 40))
    _jpeg(photos / "bowl-side.jpg", (40, 90, 180), size=(300, 400))
    _jpeg(photos / "plate.jpg", (90, 180, 40))
    csv_file = _write(
        tmp_path / "in.csv",
        "title,price,category,stock,status,images\n"
        "Kalpurgan bowl,450000,pottery,4,published,bowl.jpg; bowl-side.jpg\n"
        "Kalpurgan plate,380000,pottery,2,published,plate.jpg\n"
        "Kalpurgan cup,90000,pottery,6,draft,\n",
    )
    result = runner.invoke(
        args=["import-products", "--seller", seller.slug, str(csv_file), "--images", str(photos)]
    )
    assert result.exit_code == 0, result.output
    assert "Imported 3 listings." in result.output

    bowl, plate, cup = _products()
    assert bowl.status == ProductStatus.PUBLISHED and bowl.published_at is not None
    assert bowl.category_id == cat.id and bowl.price_amount == 4_500_000
    assert [(img.width, img.height) for img in bowl.images] == [(480, 360), (300, 400)]
    assert plate.status == ProductStatus.PUBLISHED and len(plate.images) == 1
    assert cup.status == ProductStatus.DRAFT and cup.images == []
    media = Path(app.config["MEDIA_DIR"])
    for image in (*bowl.images, *plate.images):
        assert is_variant_key(image.storage_key)
        for _w, _h, key in image.variants:
            assert (media / key).is_file()  # stored through the image pipeline, as WebP
            assert (media / key).read_bytes()[8:12] == b"WEBP"


def test_cli_reports_bad_rows_and_saves_nothing(runner, tmp_path):
    seller = factories.seller()
    factories.category(slug="rugs")
    csv_file = _write(
        tmp_path / "in.csv",
        "title,price,category\nGood,100,rugs\nAlso good,200,rugs\nBad,200,no-such-category\n",
    )
    result = runner.invoke(args=["import-products", "--seller", seller.slug, str(csv_file)])
    assert result.exit_code != 0
    assert "line 4" in result.output and "no-such-category" in result.output
    assert "line 2" not in result.output and "line 3" not in result.output
    assert "Nothing imported: 1 of 3 rows have errors." in result.output
    assert _products() == []


def test_cli_rejects_traversal_in_image_names(runner, tmp_path):
    seller = factories.seller()
    factories.category(slug="rugs")
    photos = tmp_path / "photos"
    photos.mkdir()
    _jpeg(photos / "ok.jpg", (1, 2, 3))
    _jpeg(tmp_path / "outside.jpg", (4, 5, 6))
    csv_file = _write(
        tmp_path / "in.csv",
        "title,price,category,status,images\n"
        "Fine,100,rugs,published,ok.jpg\n"
        "Sneaky,100,rugs,published,../outside.jpg\n",
    )
    result = runner.invoke(
        args=["import-products", "--seller", seller.slug, str(csv_file), "--images", str(photos)]
    )
    assert result.exit_code != 0
    assert "line 3" in result.output and "not a plain file name" in result.output
    assert _products() == []
    assert not list(Path(runner.app.config["MEDIA_DIR"]).rglob("*.webp"))


def test_cli_refused_photo_saves_nothing_and_removes_written_files(runner, app, tmp_path):
    seller = factories.seller()
    factories.category(slug="rugs")
    photos = tmp_path / "photos"
    photos.mkdir()
    _jpeg(photos / "good.jpg", (200, 10, 10))
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff this is not really a jpeg")
    csv_file = _write(
        tmp_path / "in.csv",
        "title,price,category,status,images\n"
        "Good,100,rugs,published,good.jpg\n"
        "Broken,100,rugs,published,broken.jpg\n",
    )
    result = runner.invoke(
        args=["import-products", "--seller", seller.slug, str(csv_file), "--images", str(photos)]
    )
    assert result.exit_code != 0
    assert "line 3" in result.output and "broken.jpg" in result.output
    assert "line 2" not in result.output
    assert _products() == []
    assert not list(Path(app.config["MEDIA_DIR"]).rglob("*.webp"))


@pytest.mark.parametrize(
    "data",
    [b"", bytes(range(256)) * 4, WINDOWS_1256, b"title\nx\n"],
    ids=["empty", "binary", "not-utf8", "missing-header"],
)
def test_cli_bad_files(runner, tmp_path, data):
    seller = factories.seller()
    csv_file = tmp_path / "in.csv"
    csv_file.write_bytes(data)
    result = runner.invoke(args=["import-products", "--seller", seller.slug, str(csv_file)])
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output
    assert _products() == []


def test_cli_unknown_seller_and_missing_photo_folder(runner, tmp_path):
    csv_file = _write(tmp_path / "in.csv", "title,price,images\nA,100,a.jpg\n")
    result = runner.invoke(args=["import-products", "--seller", "nobody", str(csv_file)])
    assert result.exit_code == 1 and "No seller has the shop address 'nobody'" in result.output

    seller = factories.seller()
    result = runner.invoke(args=["import-products", "--seller", seller.slug, str(csv_file)])
    assert result.exit_code == 1 and "--images DIR" in result.output
    assert _products() == []


def test_cli_dry_run_saves_nothing(runner, tmp_path):
    seller = factories.seller()
    csv_file = _write(tmp_path / "in.csv", "title,price\nA,100\nB,200\n")
    result = runner.invoke(
        args=["import-products", "--seller", seller.slug, "--dry-run", str(csv_file)]
    )
    assert result.exit_code == 0 and "2 listings are ready" in result.output
    assert _products() == []


def test_save_refuses_invalid_or_foreign_plans(app):
    seller = factories.seller()
    other = factories.seller()
    plan = importer.validate(importer.parse_csv(b"title,price\nA,100\n"), seller, None)
    with pytest.raises(NotAllowed):
        importer.save(plan, other)
    bad = importer.validate(importer.parse_csv(b"title,price\n,100\n"), seller, None)
    with pytest.raises(importer.ImportInvalid):
        importer.save(bad, seller)
    assert _products() == []
    (product,) = importer.save(plan, seller)
    assert product.title == "A" and product.price_amount == 1000


def test_persian_pages_render(client):
    seller = factories.seller()
    factories.login(client, seller.user.email)
    page = client.get("/seller/import")
    assert page.status_code == 200 and 'dir="rtl"' in page.get_data(as_text=True)
    preview = _upload(client, "عنوان,قیمت,وضعیت\nرومیزی,۱۰۰,منتشر\n,x,\n")
    assert preview.status_code == 400
    html = preview.get_data(as_text=True)
    assert 'id="line-2"' in html and 'id="line-3"' in html and "row-error" in html
