"""The beneficiary's record, loans, the portal import, the self-dealing check and the impact
figures, on a small hand-built market whose answers are worked out by hand below."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.audit.models import AuditEvent
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.orders.models import SavedAddress
from app.payments import state as payment_state
from app.payments.models import Provider
from app.program import beneficiaries, impact, offline, self_dealing
from app.program.impact_models import Beneficiary, FlagStatus, IncomeBand, Loan, SalesFlag
from app.program.offline import OfflineLineInput
from tests import factories
from tests.helpers import client_for
from tests.test_order_flow import ADDRESS, place
from tests.test_sales_reports import at, deliver_cash

TODAY = date(2026, 7, 9)
SELF_PHONE = "09151112233"


def noon(y: int, m: int, d: int) -> datetime:
    """Noon UTC: the same day in Tehran."""
    return datetime(y, m, d, 12, 0, tzinfo=UTC)


def pay(monkeypatch, customer, items, moment, card=None):  # type: ignore[no-untyped-def]
    """A card checkout paid at ``moment`` (with the gateway's masked card, if given)."""
    payment = place(customer, *items, provider=Provider.STRIPE)
    payment.card_pan = card
    db.session.commit()
    at(monkeypatch, moment)
    assert payment_state.mark_payment_paid(payment) == "paid"
    db.session.commit()
    return payment


def loan(seller, amount, purpose, day=date(2026, 1, 15)):  # type: ignore[no-untyped-def]
    return beneficiaries.add_loan(
        None, seller.id, beneficiaries.loan_input(amount, day.isoformat(), "بانک ملی", purpose, "")
    )


@pytest.fixture
def market(app, monkeypatch):  # type: ignore[no-untyped-def]
    """Zahedan: A (handicrafts, approved 10 Jan 2026, 180 days = 6 months before TODAY) and B
    (tourism, approved 19 Jun 2026, 20 days before: counted as 1 month). Zabol: C (handicrafts,
    approved 11 Mar 2026, 120 days = 4 months before TODAY).

    A sells by card 1,000,000 to Mina on 9 Feb (30 days after approval: 1.0 month to the first
    sale), 500,000 to Mina on 1 Mar, 300,000 to Reza on 1 Apr, and 1,200,000 at a fair on 1 May;
    and 2,000,000 on 20 Jan to "Self", whose account phone is A's shop phone: flagged, left out.
    Counted: 3,000,000; buyers Mina (2 orders) and Reza (1): 2 buyers, 1 repeat. Loans 10,000,000
    (handicrafts) and 5,000,000 (tourism). Income band under 5 million toman: midpoint 25,000,000
    rials. Cohort 1404-1.
    B sells nothing; income band "no income"; cohort 1404-1.
    C sells 600,000 cash to Reza completed on 10 Apr (30 days: 1.0 month) and 600,000 by card to
    Reza on 10 May: 1 buyer, 1 repeat. Loan 4,000,000 (handicrafts). Band 5–10 million toman:
    midpoint 75,000,000. No cohort.
    """
    monkeypatch.setattr(impact, "tehran_today", lambda: TODAY)
    zahedan, zabol = factories.county("zahedan"), factories.county("zabol")
    crafts, tourism = factories.sector("handicrafts"), factories.sector("tourism")
    a = factories.seller(county_row=zahedan, sector_row=crafts, name="سوزن‌دوزی")
    b = factories.seller(county_row=zahedan, sector_row=tourism, name="اقامتگاه")
    c = factories.seller(county_row=zabol, sector_row=crafts, name="سفال")
    a.approved_at = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
    b.approved_at = datetime(2026, 6, 19, 8, 0, tzinfo=UTC)
    c.approved_at = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    a.phone = SELF_PHONE
    db.session.commit()
    cloth = factories.product(a, price_amount=100_000, stock=100)
    bowl = factories.product(c, price_amount=200_000, stock=100)
    mina = factories.user(email="mina@example.com", name="مینا")
    reza = factories.user(email="reza@example.com", name="رضا")
    self_buyer = factories.user(email="self@example.com", name="خودم")
    self_buyer.phone = "۰۹۱۵ ۱۱۱ ۲۲۳۳"  # the same number, typed otherwise
    db.session.commit()

    pay(monkeypatch, self_buyer, [(cloth, 20)], noon(2026, 1, 20))
    pay(monkeypatch, mina, [(cloth, 10)], noon(2026, 2, 9))
    pay(monkeypatch, mina, [(cloth, 5)], noon(2026, 3, 1))
    pay(monkeypatch, reza, [(cloth, 3)], noon(2026, 4, 1))
    staff = factories.user(role=factories.Role.STAFF, email="impact-staff@example.com")
    offline.record_offline_sale(
        a, staff.id, sold_on=date(2026, 5, 1), place="نمایشگاه",
        lines=[OfflineLineInput(None, "کیف", 1, 1_200_000)], today=TODAY,
    )  # fmt: skip
    deliver_cash(monkeypatch, reza, c, [(bowl, 3)], noon(2026, 4, 10))
    pay(monkeypatch, reza, [(bowl, 3)], noon(2026, 5, 10))

    loan(a, 10_000_000, "handicrafts")
    loan(a, 5_000_000, "tourism")
    loan(c, 4_000_000, "handicrafts")
    for seller, cohort, band in [
        (a, "1404-1", "under_5m"), (b, "1404-1", "none"), (c, "", "5m_10m"),
    ]:  # fmt: skip
        beneficiaries.save_record(
            staff.id, seller.id, beneficiaries.RecordInput(cohort=cohort, income_band=band)
        )
    return {"a": a, "b": b, "c": c, "staff": staff, "mina": mina, "reza": reza,
            "self": self_buyer, "cloth": cloth, "zahedan": zahedan}  # fmt: skip


def by_id(rows: list[impact.SellerImpact]) -> dict[int, impact.SellerImpact]:
    return {s.seller_id: s for s in rows}


def test_each_sellers_figures_match_the_hand_computation(app, market):
    """A: counted sales 1,000,000 + 500,000 + 300,000 + 1,200,000 = 3,000,000 over 180/30 = 6
    months: 500,000 a month; first sale 9 Feb, 30 days after 10 Jan: 1.0 month; repeat share
    1/2; sales per toman of loan 3,000,000 / 15,000,000 = 0.2; against the band 500,000 /
    25,000,000 = 0.02; one order (2,000,000) left out.
    B: nothing sold, 20 days counted as 1 month: 0 a month, no first sale, no buyers, no loan, no
    ratio for "no income".
    C: 1,200,000 over 120/30 = 4 months: 300,000 a month; first sale 10 Apr, 30 days after 11 Mar:
    1.0; repeat 1/1; 1,200,000 / 4,000,000 = 0.3; 300,000 / 75,000,000 = 0.004."""
    a, b, c = market["a"], market["b"], market["c"]
    got = by_id(impact.seller_impacts("en"))
    sa_, sb, sc = got[a.id], got[b.id], got[c.id]
    assert (sa_.sales, sa_.months, sa_.orders, sa_.buyers, sa_.repeat_buyers) == (
        3_000_000, 6.0, 3, 2, 1)  # fmt: skip
    assert sa_.first_sale == date(2026, 2, 9)
    assert sa_.months_to_first_sale == pytest.approx(1.0)
    assert sa_.sales_per_month == pytest.approx(500_000)
    assert sa_.repeat_share == pytest.approx(0.5)
    assert sa_.loan_total == 15_000_000
    assert sa_.sales_per_loan == pytest.approx(0.2)
    assert sa_.income_ratio == pytest.approx(0.02)
    assert sa_.left_out == 1
    assert sorted(sa_.purposes) == ["handicrafts", "tourism"]
    assert (sb.sales, sb.months, sb.months_to_first_sale, sb.repeat_share) == (0, 1.0, None, None)
    assert (sb.sales_per_loan, sb.income_ratio, sb.sales_per_month) == (None, None, 0)
    assert (sc.sales, sc.months, sc.buyers, sc.repeat_buyers) == (1_200_000, 4.0, 1, 1)
    assert sc.months_to_first_sale == pytest.approx(1.0)
    assert sc.sales_per_month == pytest.approx(300_000)
    assert sc.sales_per_loan == pytest.approx(0.3)
    assert sc.income_ratio == pytest.approx(0.004)
    assert impact.seller_impact(a.id).sales == 3_000_000


def test_group_figures_match_the_hand_computation(app, market):
    """By county: Zahedan (A, B) 2 sellers, 1 with a sale (1.0 month), 3,000,000 over 6 + 1 = 7
    months = 428,571.43 a month, repeat 1/2, loans 15,000,000 with A's 3,000,000: 0.2, income
    ratio mean of A's 0.02 (B has none). Zabol (C) as C.
    By cohort: 1404-1 = A and B; C has none ("—" group, last).
    By purpose: handicrafts = A and C: 4,200,000 over 10 months = 420,000, loans 19,000,000:
    4,200,000 / 19,000,000; tourism = A alone; B, with no loan, in the group of none.
    The whole: 3 sellers, 2 with a sale, mean 1.0 month, 4,200,000 over 11 months = 381,818.18,
    repeat 2/3, 4,200,000 / 19,000,000, income ratios (0.02 + 0.004) / 2 = 0.012."""
    sellers = impact.seller_impacts("en")
    county = {g.name: g for g in impact.groups(sellers, "county")}
    z = county[market["zahedan"].name_en]
    assert (z.sellers, z.with_sale, z.sales, z.months, z.buyers, z.repeat_buyers) == (
        2, 1, 3_000_000, 7.0, 2, 1)  # fmt: skip
    assert z.months_to_first_sale == pytest.approx(1.0)
    assert z.sales_per_month == pytest.approx(3_000_000 / 7)
    assert z.sales_per_loan == pytest.approx(0.2)
    assert z.income_ratio == pytest.approx(0.02)
    assert z.left_out == 1

    cohort = impact.groups(sellers, "cohort", {"": "none"})
    assert [(g.key, g.sellers) for g in cohort] == [("1404-1", 2), (None, 1)]
    assert cohort[-1].name == "none"

    purpose = {g.key: g for g in impact.groups(sellers, "purpose")}
    assert set(purpose) == {"handicrafts", "tourism", None}
    crafts = purpose["handicrafts"]
    assert (crafts.sellers, crafts.sales, crafts.months, crafts.loan_total) == (
        2, 4_200_000, 10.0, 19_000_000)  # fmt: skip
    assert crafts.sales_per_month == pytest.approx(420_000)
    assert crafts.sales_per_loan == pytest.approx(4_200_000 / 19_000_000)
    assert purpose["tourism"].sellers == 1
    assert purpose[None].sellers == 1 and purpose[None].sales_per_loan is None

    sector = {g.key: g.sellers for g in impact.groups(sellers, "sector")}
    assert sorted(sector.values()) == [1, 2]

    whole = impact.totals(sellers, "all")
    assert (whole.sellers, whole.with_sale, whole.sales, whole.months) == (3, 2, 4_200_000, 11.0)
    assert whole.months_to_first_sale == pytest.approx(1.0)
    assert whole.sales_per_month == pytest.approx(4_200_000 / 11)
    assert whole.repeat_share == pytest.approx(2 / 3)
    assert whole.income_ratio == pytest.approx(0.012)


def test_a_cleared_flag_counts_and_a_confirmed_one_stays_out(app, market):
    """Cleared, the Self order counts: A's sales 5,000,000 over 6 months = 833,333.33; first sale
    20 Jan, 10 days after approval: 1/3 month; 3 buyers, 1 repeat. Confirmed again: back out."""
    a, staff = market["a"], market["staff"]
    (flag,) = db.session.scalars(sa.select(SalesFlag)).all()
    assert (flag.seller_id, flag.reason_list, flag.status) == (a.id, ["phone"], FlagStatus.PENDING)
    self_dealing.decide(staff.id, flag.order_id, FlagStatus.CLEARED, "خریدار همسایه است")
    s = impact.seller_impact(a.id)
    assert (s.sales, s.buyers, s.repeat_buyers, s.left_out) == (5_000_000, 3, 1, 0)
    assert s.months_to_first_sale == pytest.approx(10 / 30)
    assert s.sales_per_month == pytest.approx(5_000_000 / 6)
    self_dealing.decide(staff.id, flag.order_id, FlagStatus.CONFIRMED, "")
    assert impact.seller_impact(a.id).sales == 3_000_000
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.target_type == "order")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["sales_flag.cleared", "sales_flag.confirmed"]
    # The backfill finds nothing new and leaves the decision alone.
    assert self_dealing.flag_all() == 0
    assert db.session.get(SalesFlag, flag.order_id).status == FlagStatus.CONFIRMED


def test_each_reason_of_a_flag(app, monkeypatch):
    shop = factories.seller()
    owner = shop.user
    item = factories.product(shop, price_amount=100_000, stock=50)
    # card: the seller's owner paid with this card on the market before
    other = factories.product(price_amount=100_000, stock=5)
    pay(monkeypatch, owner, [(other, 1)], noon(2026, 1, 1), card="603799******1234")
    stranger = factories.user(email="stranger@example.com")
    by_card = pay(monkeypatch, stranger, [(item, 1)], noon(2026, 1, 2), card="603799******1234")
    plain = pay(monkeypatch, stranger, [(item, 1)], noon(2026, 1, 3), card="603799******9999")
    # address: the owner saved this address (other digits, spacing and letters) at a checkout
    db.session.add(SavedAddress(
        user_id=owner.id, recipient_name="x", mobile="09120000000", province="p", city="c",
        address="خيابان  دانشگاه، کوچه 3، پلاک 12", postal_code="0000000000",
    ))  # fmt: skip
    db.session.commit()
    neighbour = factories.user(email="neighbour@example.com")
    by_address = pay(monkeypatch, neighbour, [(item, 1)], noon(2026, 1, 4))
    # phone: the order's delivery mobile is the owner's mobile
    factories.with_mobile(owner, ADDRESS.mobile)
    db.session.execute(sa.delete(SavedAddress).where(SavedAddress.user_id == owner.id))
    db.session.commit()
    friend = factories.user(email="friend@example.com")
    by_phone = pay(monkeypatch, friend, [(item, 1)], noon(2026, 1, 6))
    flags = {f.order_id: f.reason_list for f in db.session.scalars(sa.select(SalesFlag))}
    assert flags[by_card.orders[0].id] == ["card"]
    assert plain.orders[0].id not in flags
    assert flags[by_address.orders[0].id] == ["address"]
    assert flags[by_phone.orders[0].id] == ["phone"]
    # account: the checkout refuses a seller's own products, but an order of the owner's account
    # (made before that rule) is caught too
    order = {"customer_id": owner.id, "buyer_phone": None, "buyer_mobile": None, "mobile": "",
             "postal_code": "", "address": "", "card_pan": None}  # fmt: skip
    side = self_dealing._seller_sides(db.session, {shop.id})[shop.id]
    assert self_dealing.reasons_for(order, side) == ["account"]
    # The backfill flags orders counted before the check existed.
    db.session.execute(sa.delete(SalesFlag))
    db.session.commit()
    # (with today's contacts: the owner's mobile is now the delivery mobile of every order above,
    # so the order paid with another card is caught too)
    assert self_dealing.flag_all() == len(flags) + 1
    again = {f.order_id: f.reason_list for f in db.session.scalars(sa.select(SalesFlag))}
    assert again[plain.orders[0].id] == ["phone"] and set(flags) < set(again)


def test_record_edit_is_audited_and_checked(app, market):
    a, b, staff = market["a"], market["b"], market["staff"]
    changes = beneficiaries.save_record(
        staff.id, a.id,
        beneficiaries.RecordInput(registration_code="sb-۱۴۰۳-۰۰۷", gender="زن",
                                  age_band="25_34", locality="rural", other_support="کارگاه"),
    )  # fmt: skip
    assert changes["registration_code"][1] == "SB-1403-007"
    assert changes["gender"] == [None, "female"]
    record = db.session.get(Beneficiary, a.id)
    assert (record.gender, record.locality, record.income_band) == (
        "female", "rural", IncomeBand.UNDER_5M)  # fmt: skip
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "beneficiary.update",
                                    AuditEvent.target_id == a.id).order_by(AuditEvent.id.desc())
    ).first()  # fmt: skip
    assert event.actor_id == staff.id and "gender" in event.data["changes"]
    with pytest.raises(ValidationFailed) as caught:
        beneficiaries.save_record(
            staff.id,
            b.id,
            beneficiaries.RecordInput(registration_code="SB-1403-007", gender="other"),
        )
    assert caught.value.errors == {"gender": ["unknown_choice"], "registration_code": ["taken"]}
    assert (
        beneficiaries.save_record(staff.id, a.id, beneficiaries.RecordInput(gender="female")) == {}
    )


def test_loans_add_edit_remove_are_audited(app, market):
    c, staff = market["c"], market["staff"]
    bad = beneficiaries.loan_input(0, "1405/13/01", "", "fishing", "soon")
    with pytest.raises(ValidationFailed) as caught:
        beneficiaries.add_loan(staff.id, c.id, bad)
    assert set(caught.value.errors) == {"amount", "granted_on", "purpose", "repayment"}
    item = beneficiaries.loan_input(30_000_000, "۱۴۰۴/۰۵/۲۰", "بانک کشاورزی", "گردشگری", "معوق")
    made = beneficiaries.add_loan(staff.id, c.id, item)
    assert (made.granted_on, made.purpose, made.repayment) == (date(2025, 8, 11), "tourism", "late")
    item.repayment = "repaid"
    assert beneficiaries.update_loan(staff.id, made.id, item) is True
    assert beneficiaries.update_loan(staff.id, made.id, item) is False
    beneficiaries.delete_loan(staff.id, made.id)
    assert db.session.get(Loan, made.id) is None
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.action.like("loan.%"), AuditEvent.actor_id == staff.id)
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["loan.create", "loan.update", "loan.delete"]


IMPORT = (
    "registration_code,cohort,training_provider,gender,age_band,locality,income_band,"
    "loan_amount_rial,loan_date,bank,loan_purpose,repayment_status\n"
    "{a},۱۴۰۴-۲,فنی و حرفه‌ای,زن,۲۵-۳۴,روستایی,under_5m,۲۰٬۰۰۰٬۰۰۰,۱۴۰۴/۰۳/۱۰,بانک ملی,صنایع دستی,جاری\n"
    "{a},,,,,,,10000000,2026-01-15,بانک ملی,handicrafts,\n"
    "{c},,,male,,urban,,,,,,\n"
)


def test_the_portal_import_checks_then_saves(app, market):
    """Row 2 changes A's record and adds a loan of 20,000,000 on 10 Khordad 1404 (31 May 2025);
    row 3 names the loan A already has (10,000,000 on 15 Jan 2026): nothing new; row 4 sets C's
    gender and locality."""
    a, c, staff = market["a"], market["c"], market["staff"]
    text = IMPORT.format(a=a.registration_code, c=c.registration_code)
    plan = beneficiaries.plan_import(text)
    assert plan.ok, [r.errors for r in plan.rows]
    assert [r.loan_change for r in plan.rows] == ["new", "same", ""]
    assert db.session.get(Beneficiary, a.id).cohort == "1404-1"  # nothing saved yet
    records, loans = beneficiaries.save_import(staff.id, plan)
    assert (records, loans) == (2, 1)
    record = db.session.get(Beneficiary, a.id)
    assert (record.cohort, record.gender, record.age_band, record.locality) == (
        "1404-2", "female", "25_34", "rural")  # fmt: skip
    assert db.session.get(type(a), a.id).training_provider == "فنی و حرفه‌ای"
    new = db.session.scalars(sa.select(Loan).where(Loan.amount == 20_000_000)).one()
    assert (new.seller_id, new.granted_on) == (a.id, date(2025, 5, 31))
    assert db.session.get(Beneficiary, c.id).gender == "male"
    # The same file again changes nothing.
    again = beneficiaries.plan_import(text)
    assert [r.loan_change for r in again.rows] == ["same", "same", ""]
    assert beneficiaries.save_import(staff.id, again) == (0, 0)


def test_the_portal_import_names_bad_rows(app, market):
    text = (
        "کد ثبت نام,جنسیت,مبلغ وام,تاریخ وام,موضوع وام\n"
        "NOPE-1,زن,,,\n"
        f"{market['a'].registration_code},x,-5,1404/15/40,ماهیگیری\n"
        ",,,,\n"
        f"{market['c'].registration_code},مرد,=1+1,,\n"
    )
    plan = beneficiaries.plan_import(text)
    assert not plan.ok
    errors = [sorted(r.errors) for r in plan.rows]
    assert errors[0] == [("registration_code", "seller_unknown")]
    assert errors[1] == [("gender", "unknown_choice"), ("loan_amount_rial", "loan_range"),
                         ("loan_date", "bad_date"), ("loan_purpose", "unknown_choice")]  # fmt: skip
    assert ("loan_date", "required") in errors[2] or ("loan_amount_rial", "loan_range") in errors[2]


# ---- pages ------------------------------------------------------------------------------------


def staff_client(app, market):  # type: ignore[no-untyped-def]
    client = client_for(app, market["staff"])
    client.set_cookie("locale", "en")
    return client


def test_the_staff_pages_and_exports(app, market):
    client = staff_client(app, market)
    a = market["a"]
    page = client.get("/admin/impact?by=purpose")
    assert page.status_code == 200
    assert b"<svg" in page.data and "سوزن‌دوزی".encode() in page.data
    for by in ("county", "cohort", "sector"):
        assert client.get(f"/admin/impact?by={by}").status_code == 200
    csv_text = client.get("/admin/impact.csv?by=county").data.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("group,sellers,with_sale")
    sellers_csv = client.get("/admin/impact.csv?by=seller").data.decode("utf-8-sig")
    assert "300000" in sellers_csv  # A: 3,000,000 rials = 300,000 toman
    workbook = client.get("/admin/impact.xlsx")
    assert workbook.status_code == 200
    book = load_workbook(io.BytesIO(workbook.data))
    assert len(book.sheetnames) == 5
    assert all(not sheet.sheet_view.rightToLeft for sheet in book.worksheets)  # English page
    client.set_cookie("locale", "fa")
    book = load_workbook(io.BytesIO(client.get("/admin/impact.xlsx").data))
    assert all(sheet.sheet_view.rightToLeft for sheet in book.worksheets)
    client.set_cookie("locale", "en")

    record = client.get(f"/admin/sellers/{a.id}/beneficiary")
    assert record.status_code == 200 and b"1404-1" in record.data
    saved = client.post(
        f"/admin/sellers/{a.id}/beneficiary",
        data={"registration_code": a.registration_code, "cohort": "1404-3", "gender": "female",
              "age_band": "", "locality": "", "income_band": "under_5m", "other_support": ""},
    )  # fmt: skip
    assert saved.status_code == 302
    assert db.session.get(Beneficiary, a.id).cohort == "1404-3"
    added = client.post(
        f"/admin/sellers/{a.id}/loans",
        data={"amount": "۲٬۰۰۰٬۰۰۰", "granted_on": "1404/01/15", "bank": "ملت",
              "purpose": "services", "repayment": "current"},
    )  # fmt: skip
    assert added.status_code == 302
    new = db.session.scalars(sa.select(Loan).where(Loan.amount == 20_000_000)).one()
    assert client.get(f"/admin/loans/{new.id}").status_code == 200
    assert client.get(f"/admin/loans/{new.id}/delete").status_code == 200
    assert db.session.get(Loan, new.id) is not None  # asking removes nothing
    assert client.post(f"/admin/loans/{new.id}/delete").status_code == 302
    assert db.session.get(Loan, new.id) is None

    flags = client.get("/admin/self-dealing")
    assert flags.status_code == 200 and b"Same phone number" in flags.data
    (flag,) = db.session.scalars(sa.select(SalesFlag)).all()
    assert (
        client.post(f"/admin/self-dealing/{flag.order_id}", data={"action": "clear"}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(SalesFlag, flag.order_id).status == FlagStatus.CLEARED

    upload = client.post(
        "/admin/beneficiaries/import",
        data={"file": (io.BytesIO(IMPORT.format(a=a.registration_code, c=market["c"].registration_code).encode()), "portal.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert upload.status_code == 200 and b"Save the file" in upload.data


def test_the_seller_sees_the_record_read_only(app, market):
    a = market["a"]
    client = client_for(app, a.user)
    client.set_cookie("locale", "en")
    page = client.get("/seller/")
    assert page.status_code == 200
    assert b"Your programme record" in page.data and b"1404-1" in page.data
    assert f"/admin/sellers/{a.id}/beneficiary".encode() not in page.data
    assert client_for(app, a.user).get(f"/admin/sellers/{a.id}/beneficiary").status_code in (
        302, 403, 404)  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [
        "/admin/impact?by=../../etc",
        "/admin/impact.csv?by=%00",
        "/admin/impact?page=99999999999999999999",
        "/admin/self-dealing?status=bogus",
        "/admin/self-dealing?page=-3",
    ],
)
def test_hostile_queries_are_no_500(app, market, path):
    assert staff_client(app, market).get(path).status_code in (200, 400)


def test_hostile_posts_are_no_500(app, market):
    client = staff_client(app, market)
    a = market["a"]
    for data in (
        {"gender": "x" * 5000, "cohort": "y" * 500},
        {"income_band": "\u202e", "registration_code": "<script>"},
    ):
        assert client.post(f"/admin/sellers/{a.id}/beneficiary", data=data).status_code in (
            302, 400)  # fmt: skip
    for data in (
        {"amount": "9" * 40, "granted_on": "9999/99/99", "purpose": "x"},
        {"amount": "-1", "granted_on": "", "purpose": "tourism"},
    ):
        assert client.post(f"/admin/sellers/{a.id}/loans", data=data).status_code == 400
    assert client.post("/admin/self-dealing/999999", data={"action": "clear"}).status_code == 404
    assert client.post("/admin/self-dealing/1", data={"action": "pending"}).status_code == 400
    assert client.get("/admin/loans/999999").status_code == 404
    for body in (b"\xff\xfe\x00bad", b"", b'"unclosed,quote\n', b"a,b\n1,2\n"):
        response = client.post(
            "/admin/beneficiaries/import",
            data={"file": (io.BytesIO(body), "x.csv")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400
    assert (
        client.post("/admin/beneficiaries/import/confirm", data={"csv_text": ""}).status_code == 400
    )
