"""The spend analysis, against a ledger small enough to work out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from journey import spend
from journey.ledger import (
    Bill,
    BillPayment,
    Ledger,
    PaymentMethod,
    Supplier,
    generate_ledger,
)
from journey.ledger.accounts import ACCOUNTS


def _tiny() -> Ledger:
    """Two suppliers, four bills, three payments over January and February 2026.

    B1  Anvil Ltd   due 4 Feb   100.00  paid 10 Feb by bank      (6 days late)
    B2  Anvil Ltd   due 3 Mar    50.00  unpaid                   (not yet due)
    B3  Bolt plc    due 10 Jan   30.00  paid 10 Jan by card      (on time)
    B4  Bolt plc    due 1 Feb    20.00  5.00 paid 5 Feb by card  (15.00 outstanding, 27 days late)
    """
    d = date
    return Ledger(
        entity_key="tiny",
        currency="GBP",
        period_start=d(2026, 1, 1),
        period_end=d(2026, 2, 28),
        accounts=ACCOUNTS,
        suppliers=(
            Supplier("S-A", "Anvil Ltd", "1", "GB", "GBP", 30, "PM-BANK", "Materials"),
            Supplier("S-B", "Bolt plc", "2", "GB", "GBP", 0, "PM-CARD", "Tools"),
        ),
        bills=(
            Bill(
                "B1",
                "S-A",
                d(2026, 1, 5),
                d(2026, 2, 4),
                Decimal("100.00"),
                "GBP",
                "ACC-5000",
                "Paid",
            ),
            Bill(
                "B2",
                "S-A",
                d(2026, 2, 1),
                d(2026, 3, 3),
                Decimal("50.00"),
                "GBP",
                "ACC-5000",
                "Open",
            ),
            Bill(
                "B3",
                "S-B",
                d(2026, 1, 10),
                d(2026, 1, 10),
                Decimal("30.00"),
                "GBP",
                "ACC-5000",
                "Paid",
            ),
            Bill(
                "B4",
                "S-B",
                d(2026, 2, 1),
                d(2026, 2, 1),
                Decimal("20.00"),
                "GBP",
                "ACC-5000",
                "PartiallyPaid",
            ),
        ),
        payments=(
            BillPayment("P1", "B1", "S-A", d(2026, 2, 10), Decimal("100.00"), "PM-BANK"),
            BillPayment("P2", "B3", "S-B", d(2026, 1, 10), Decimal("30.00"), "PM-CARD"),
            BillPayment("P3", "B4", "S-B", d(2026, 2, 5), Decimal("5.00"), "PM-CARD"),
        ),
        payment_methods=(
            PaymentMethod("PM-BANK", "Bank transfer", "BankTransfer"),
            PaymentMethod("PM-CARD", "Company card", "CreditCard"),
        ),
        profit_and_loss=(),
        balance_sheets=(),
    )


def test_summary_by_hand() -> None:
    report = spend.from_ledger("Tiny Ltd", _tiny())
    summary = report["summary"]
    assert summary["period"] == {"start": "2026-01-01", "end": "2026-02-28"}
    assert summary["months_reviewed"] == 2 and summary["suppliers_count"] == 2
    assert (summary["bills_count"], summary["bills_amount"]) == (4, "200.00")
    assert (summary["payments_count"], summary["payments_amount"]) == (3, "135.00")
    assert (summary["bills_outstanding_count"], summary["bills_outstanding_amount"]) == (2, "65.00")
    assert (summary["bills_paid_late_count"], summary["bills_paid_late_amount"]) == (2, "120.00")
    assert summary["average_payment_amount"] == "45.00"


def test_suppliers_ranked_by_spend_by_hand() -> None:
    anvil, bolt = spend.from_ledger("Tiny Ltd", _tiny())["suppliers"]
    assert anvil["supplier_name"] == "Anvil Ltd" and bolt["supplier_name"] == "Bolt plc"
    assert anvil["bills_amount"] == "150.00" and anvil["bills_outstanding_amount"] == "50.00"
    assert anvil["bills_outstanding_percentage_by_amount"] == "33.33"
    assert anvil["bills_paid_late_percentage_by_amount"] == "66.67"
    assert anvil["payment_terms_days"] == 30
    assert anvil["preferred_payment_method"] == "BankTransfer"
    assert anvil["biggest_count_payment_method"] == "BankTransfer"
    assert (bolt["payments_count"], bolt["payments_amount"]) == (2, "35.00")
    assert bolt["average_payment_amount"] == "17.50"
    assert (bolt["bills_paid_late_count"], bolt["bills_paid_late_amount"]) == (1, "20.00")
    assert bolt["bills_paid_late_percentage_by_amount"] == "40.00"


def test_payment_methods_months_and_late_payments_by_hand() -> None:
    report = spend.from_ledger("Tiny Ltd", _tiny())
    bank, card = report["payment_methods"]
    # The unpaid bill counts under its supplier's usual method.
    assert (bank["payment_method"], bank["bills_count"], bank["bills_amount"]) == (
        "BankTransfer",
        2,
        "150.00",
    )
    assert bank["percentage_bills_by_amount"] == "75.00" and bank["suppliers_count"] == 1
    assert bank["percentage_suppliers_by_count"] == "50.00"
    assert (card["payments_count"], card["payments_amount"]) == (2, "35.00")
    assert report["monthly"] == [
        {"month": "2026-01", "bills_amount": "130.00", "payments_amount": "30.00"},
        {"month": "2026-02", "bills_amount": "70.00", "payments_amount": "105.00"},
    ]
    late = [(r["bill_id"], r["days_late"], r["paid_date"]) for r in report["late_payments"]]
    assert late == [("B4", 27, None), ("B1", 6, "2026-02-10")]


def test_a_generated_ledger_adds_up() -> None:
    """Whatever the generator makes, the sections agree with each other and with it."""
    ledger = generate_ledger("Abra Kebabra/gbol", period_end=date(2026, 10, 31))
    report = spend.from_ledger("Abra Kebabra", ledger)
    bills = sum((b.amount for b in ledger.bills), Decimal(0))
    assert Decimal(report["summary"]["bills_amount"]) == bills
    assert sum(Decimal(s["bills_amount"]) for s in report["suppliers"]) == bills
    assert sum(Decimal(m["bills_amount"]) for m in report["payment_methods"]) == bills
    assert sum(Decimal(m["bills_amount"]) for m in report["monthly"]) == bills
    assert report["summary"]["months_reviewed"] == 12
    spends = [Decimal(s["bills_amount"]) for s in report["suppliers"]]
    assert spends == sorted(spends, reverse=True)


def test_combined_adds_entities_of_one_currency_only() -> None:
    one = spend.from_ledger("Tiny North", _tiny())
    two = spend.from_ledger("Tiny South", _tiny())
    other = {**spend.from_ledger("Tiny Canada", _tiny()), "currency": "CAD"}
    blocks = spend.combined([one, two, other])
    assert [b["currency"] for b in blocks] == ["CAD", "GBP"]
    gbp = blocks[1]
    assert gbp["entities"] == ["Tiny North", "Tiny South"]
    assert gbp["summary"]["bills_amount"] == "400.00" and gbp["summary"]["bills_count"] == 8
    assert gbp["suppliers"][0]["bills_amount"] == "150.00"
    assert gbp["monthly"][0] == {
        "month": "2026-01",
        "bills_amount": "260.00",
        "payments_amount": "60.00",
    }


def test_an_uploaded_file_feeds_the_same_report() -> None:
    records = [
        {
            "supplier_name": "Pitta Bakery Ltd",
            "currency": "GBP",
            "annual_spend": "48250.50",
            "payment_terms_days": 30,
            "preferred_payment_method": "BankTransfer",
        },
        {
            "supplier_name": "Garlic GmbH",
            "currency": "EUR",
            "annual_spend": "12000",
            "payment_terms_days": 14,
            "preferred_payment_method": "Check",
        },
        {
            "supplier_name": "Chilli Co",
            "currency": "GBP",
            "annual_spend": "3100",
            "payment_terms_days": 60,
            "preferred_payment_method": "DebitCard",
        },
    ]
    report = spend.from_upload("Abra Kebabra", "suppliers.xlsx", records)
    assert report["currency"] == "GBP" and report["summary"]["suppliers_count"] == 3
    assert report["summary"]["annual_spend"] == "51350.50"  # GBP only
    assert [s["supplier_name"] for s in report["suppliers"]] == [
        "Pitta Bakery Ltd",
        "Garlic GmbH",
        "Chilli Co",
    ]
    methods = {m["payment_method"]: m["percentage_spend"] for m in report["payment_methods"]}
    assert methods == {"BankTransfer": "93.96", "DebitCard": "6.04"}
