"""Tests for the synthetic ledger: determinism, bookkeeping consistency and shape."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.ledger import (
    SIZES,
    Ledger,
    generate_ledger,
    ledger_from_dict,
    ledger_summary,
    ledger_to_dict,
    net_profit,
)
from journey.ledger.accounts import (
    ACCOUNTS_PAYABLE,
    BANK_OVERDRAFT,
    CASH,
    CURRENT_PERIOD_EARNINGS,
)
from journey.ledger.catalogue import BILL_ACCOUNT_IDS
from journey.ledger.records import (
    BILL_STATUSES,
    CURRENCIES,
    PAYMENT_METHOD_TYPES,
    PAYMENT_TERMS_DAYS,
)

ROOT = Path(__file__).resolve().parents[2]
SPEND_INSIGHTS_SPEC = Path("/work/shared/reference/codat-oas/Codat-Spend-Insights.yaml")
END = date(2024, 12, 31)
CENT = Decimal("0.01")


def digest(ledger: Ledger) -> str:
    """A fingerprint of every number and name in the ledger."""
    text = json.dumps(ledger_to_dict(ledger), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def money_values(ledger: Ledger) -> list[Decimal]:
    values = [b.amount for b in ledger.bills] + [p.amount for p in ledger.payments]
    for period in ledger.profit_and_loss:
        values += [amount for _, amount in period.lines]
    for sheet in ledger.balance_sheets:
        values += [amount for _, amount in sheet.lines]
    return values


def assert_consistent(ledger: Ledger) -> None:
    """Every bookkeeping rule the ledger promises, recomputed from its raw records."""
    accounts = {a.id: a for a in ledger.accounts}
    bills = {b.id: b for b in ledger.bills}
    suppliers = {s.id: s for s in ledger.suppliers}
    methods = {m.id: m for m in ledger.payment_methods}

    # Money is Decimal with exactly two places, never float.
    for value in money_values(ledger):
        assert type(value) is Decimal
        assert value.as_tuple().exponent == -2, value

    # Identity and references.
    assert len(bills) == len(ledger.bills)
    assert len(suppliers) == len(ledger.suppliers)
    assert len({p.id for p in ledger.payments}) == len(ledger.payments)
    assert len({s.name for s in ledger.suppliers}) == len(ledger.suppliers)
    assert ledger.currency in CURRENCIES
    assert {m.type for m in ledger.payment_methods} <= set(PAYMENT_METHOD_TYPES)
    for supplier in ledger.suppliers:
        assert supplier.currency == ledger.currency
        assert supplier.payment_terms_days in PAYMENT_TERMS_DAYS
        assert supplier.default_payment_method in methods

    # Period layout: one P&L month and one balance sheet per month, contiguous, ending at
    # period_end and starting on the first of a month.
    assert ledger.period_start.day == 1
    assert ledger.profit_and_loss[0].start == ledger.period_start
    assert ledger.profit_and_loss[-1].end == ledger.period_end
    assert len(ledger.balance_sheets) == len(ledger.profit_and_loss)
    for before, after in zip(ledger.profit_and_loss, ledger.profit_and_loss[1:], strict=False):
        assert after.start == before.end + timedelta(days=1)
        assert after.start.day == 1
    for period, sheet in zip(ledger.profit_and_loss, ledger.balance_sheets, strict=True):
        assert period.start.month == period.end.month
        assert sheet.date == period.end

    # Bills: in the period, booked to a purchase account, in the ledger currency.
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for payment in ledger.payments:
        bill = bills[payment.bill_id]
        assert payment.supplier_id == bill.supplier_id
        assert payment.payment_method in methods
        assert payment.amount > 0
        assert payment.amount <= bill.amount
        assert bill.issue_date <= payment.date <= ledger.period_end
        paid[bill.id] += payment.amount
    for bill in ledger.bills:
        assert ledger.period_start <= bill.issue_date <= ledger.period_end
        assert bill.supplier_id in suppliers
        terms = suppliers[bill.supplier_id].payment_terms_days
        assert bill.due_date == bill.issue_date + timedelta(days=terms)
        assert bill.currency == ledger.currency
        assert bill.amount > 0
        account = accounts[bill.account_id]
        assert account.category == "Expense"
        assert account.sub_category in ("Cost of sales", "Operating expenses")
        # No overpayment, and the status says how much was paid by period end.
        assert paid[bill.id] <= bill.amount
        expected = (
            "Paid"
            if paid[bill.id] == bill.amount
            else "PartiallyPaid"
            if paid[bill.id] > 0
            else "Open"
        )
        assert bill.status == expected
        assert bill.status in BILL_STATUSES

    cumulative = Decimal("0.00")
    for period, sheet in zip(ledger.profit_and_loss, ledger.balance_sheets, strict=True):
        lines = dict(period.lines)
        assert len(lines) == len(period.lines)
        assert {accounts[a].category for a in lines} <= {"Income", "Expense"}
        income = sum((v for a, v in lines.items() if accounts[a].category == "Income"), CENT * 0)
        expenses = sum((v for a, v in lines.items() if accounts[a].category == "Expense"), CENT * 0)
        assert net_profit(period) == income - expenses

        # Purchases from suppliers are the month's bill-backed expense lines, exactly.
        purchases: dict[str, Decimal] = defaultdict(Decimal)
        for bill in ledger.bills:
            if period.start <= bill.issue_date <= period.end:
                purchases[bill.account_id] += bill.amount
        for account_id in BILL_ACCOUNT_IDS:
            assert lines[account_id] == purchases.get(account_id, Decimal("0.00"))
        assert sum(purchases.values(), Decimal("0.00")) <= expenses

        # The balance sheet balances, exactly.
        sheet_lines = dict(sheet.lines)
        assert len(sheet_lines) == len(sheet.lines)
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for account_id, amount in sheet.lines:
            totals[accounts[account_id].category] += amount
        assert set(totals) <= {"Asset", "Liability", "Equity"}
        assert totals["Asset"] == totals["Liability"] + totals["Equity"]

        # Current period earnings are the cumulative net profit.
        cumulative += income - expenses
        assert sheet_lines[CURRENT_PERIOD_EARNINGS] == cumulative

        # Accounts payable is the open balance of the bills at that date.
        owed = sum((b.amount for b in ledger.bills if b.issue_date <= sheet.date), CENT * 0)
        settled = sum((p.amount for p in ledger.payments if p.date <= sheet.date), CENT * 0)
        assert sheet_lines[ACCOUNTS_PAYABLE] == owed - settled
        assert sheet_lines[ACCOUNTS_PAYABLE] >= 0

        # Bank is either in credit or overdrawn, never both, never negative.
        assert sheet_lines[CASH] >= 0 and sheet_lines[BANK_OVERDRAFT] >= 0
        assert sheet_lines[CASH] == 0 or sheet_lines[BANK_OVERDRAFT] == 0


# ------------------------------------------------------------------------ determinism


def test_same_key_gives_an_equal_ledger() -> None:
    first = generate_ledger("entity-42", period_end=END)
    second = generate_ledger("entity-42", period_end=END)
    assert first == second
    assert digest(first) == digest(second)


def test_same_ledger_in_other_processes() -> None:
    """Hash randomisation must not leak in: other processes with other seeds agree."""
    code = (
        "import datetime, hashlib, json\n"
        "from journey.ledger import generate_ledger, ledger_to_dict\n"
        "l = generate_ledger('entity-42', period_end=datetime.date(2024, 12, 31), size='small')\n"
        "m = generate_ledger('entity-42', period_end=datetime.date(2024, 12, 31))\n"
        "for x in (l, m):\n"
        "    t = json.dumps(ledger_to_dict(x), sort_keys=True, separators=(',', ':'))\n"
        "    print(hashlib.sha256(t.encode()).hexdigest())\n"
    )
    expected = [
        digest(generate_ledger("entity-42", period_end=END, size="small")),
        digest(generate_ledger("entity-42", period_end=END)),
    ]
    for hash_seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert result.stdout.split() == expected


def test_known_small_ledger_never_changes() -> None:
    """Stored reports depend on these numbers: a change here needs a new seed version."""
    ledger = generate_ledger("golden-entity", period_end=date(2024, 6, 30), size="small")
    assert ledger_summary(ledger) == GOLDEN_SUMMARY
    assert digest(ledger) == GOLDEN_DIGEST


GOLDEN_SUMMARY: dict[str, object] = {
    "entity_key": "golden-entity",
    "currency": "USD",
    "period_start": "2023-07-01",
    "period_end": "2024-06-30",
    "months": 12,
    "supplier_count": 4,
    "bill_count": 11,
    "bill_total": "36340.34",
    "payment_count": 12,
    "payment_total": "34353.06",
    "open_bill_count": 1,
    "outstanding_total": "1987.28",
}
GOLDEN_DIGEST = "2dadb4dd70e795cdca243415eb23d8dc5a3ff8fd1d077afa92659e6b58c04e76"


def test_different_keys_give_different_ledgers() -> None:
    digests = {digest(generate_ledger(f"entity-{n}", period_end=END)) for n in range(20)}
    assert len(digests) == 20
    a = generate_ledger("alpha", period_end=END)
    b = generate_ledger("beta", period_end=END)
    assert [x.name for x in a.suppliers] != [x.name for x in b.suppliers]
    assert [x.amount for x in a.bills] != [x.amount for x in b.bills]


def test_every_argument_matters() -> None:
    base = digest(generate_ledger("entity-7", period_end=END))
    assert digest(generate_ledger("entity-7", period_end=date(2024, 11, 30))) != base
    assert digest(generate_ledger("entity-7", period_end=END, months=11)) != base
    assert digest(generate_ledger("entity-7", period_end=END, size="small")) != base


def test_currency_is_the_entitys_whatever_the_size() -> None:
    for n in range(4):
        currencies = {generate_ledger(f"e{n}", period_end=END, size=s).currency for s in SIZES}
        assert len(currencies) == 1
    seen = {generate_ledger(f"e{n}", period_end=END, size="small").currency for n in range(60)}
    assert len(seen) >= 3


def test_a_later_pull_repeats_the_months_it_shares() -> None:
    """Re-pulling later reproduces the shared months' bills, payments and P&L."""
    early = generate_ledger("entity-9", period_end=date(2024, 6, 30), months=6)
    late = generate_ledger("entity-9", period_end=END, months=12)
    shared = [b for b in late.bills if b.issue_date <= early.period_end]
    assert [(b.id, b.amount, b.supplier_id, b.issue_date) for b in shared] == [
        (b.id, b.amount, b.supplier_id, b.issue_date) for b in early.bills
    ]
    assert [p for p in late.payments if p.date <= early.period_end] == list(early.payments)
    assert late.profit_and_loss[:6] == early.profit_and_loss
    assert late.suppliers == early.suppliers


def test_a_part_month_pull_is_a_prefix_of_the_whole_month() -> None:
    whole = generate_ledger("entity-3", period_end=date(2024, 6, 30), months=2)
    part = generate_ledger("entity-3", period_end=date(2024, 6, 15), months=2)
    cut = date(2024, 6, 15)
    assert [b.id for b in part.bills] == [b.id for b in whole.bills if b.issue_date <= cut]
    assert [p for p in whole.payments if p.date <= cut] == list(part.payments)
    assert part.profit_and_loss[-1].end == cut
    assert part.balance_sheets[-1].date == cut
    assert_consistent(part)


# ------------------------------------------------------------------------ consistency


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.text(min_size=1, max_size=30),
    months=st.integers(min_value=1, max_value=24),
    period_end=st.dates(min_value=date(2012, 1, 1), max_value=date(2035, 12, 31)),
    size=st.sampled_from(["small", "medium"]),
)
def test_books_are_consistent_for_any_entity(
    key: str, months: int, period_end: date, size: str
) -> None:
    ledger = generate_ledger(key, period_end=period_end, months=months, size=size)
    assert len(ledger.profit_and_loss) == months
    assert ledger.period_end == period_end
    assert_consistent(ledger)


def test_an_overdrawn_bank_is_a_liability_and_still_balances() -> None:
    # Overdrafts are rare; this key is known to run one (found by search, deterministic).
    ledger = generate_ledger("overdrawn-1895", period_end=END, size="small")
    overdrawn = [s for s in ledger.balance_sheets if dict(s.lines)[BANK_OVERDRAFT] > 0]
    assert overdrawn
    assert all(dict(s.lines)[CASH] == 0 for s in overdrawn)
    assert_consistent(ledger)


def test_large_ledger_is_consistent() -> None:
    ledger = generate_ledger("big-co", period_end=date(2023, 3, 31), size="large")
    assert 100 <= len(ledger.suppliers) <= 140
    assert 2_500 <= len(ledger.bills) <= 3_500
    assert_consistent(ledger)


# ------------------------------------------------------------------------------ shape


@pytest.mark.parametrize("key", ["tiny-1", "tiny-2", "tiny-3", "tiny-4", "tiny-5"])
def test_small_ledger_is_hand_checkable(key: str) -> None:
    ledger = generate_ledger(key, period_end=END, size="small")
    assert 2 <= len(ledger.suppliers) <= 4
    assert 5 <= len(ledger.bills) <= 12
    assert len(ledger.payments) <= 3 * len(ledger.bills)
    assert_consistent(ledger)


@pytest.mark.parametrize("key", ["mid-1", "mid-2", "mid-3", "mid-4"])
def test_medium_ledger_has_realistic_variety(key: str) -> None:
    ledger = generate_ledger(key, period_end=END)
    bills = {b.id: b for b in ledger.bills}
    assert 20 <= len(ledger.suppliers) <= 30
    assert 240 <= len(ledger.bills) <= 360
    # Judge lateness by each bill's first payment: later instalments are late by design.
    first_paid: dict[str, date] = {}
    for payment in ledger.payments:
        first_paid.setdefault(payment.bill_id, payment.date)
    late = [b for b, when in first_paid.items() if when > bills[b].due_date]
    assert len(late) >= len(first_paid) // 20
    assert len(late) < len(first_paid) // 2
    statuses = {b.status for b in ledger.bills}
    assert {"Open", "Paid"} <= statuses
    assert len({s.payment_terms_days for s in ledger.suppliers}) >= 3
    used = {p.payment_method for p in ledger.payments}
    types = {m.id: m.type for m in ledger.payment_methods}
    assert len({types[m] for m in used}) >= 2
    # A few suppliers take most of the spend, as in real payables ledgers.
    spend: dict[str, Decimal] = defaultdict(Decimal)
    for bill in ledger.bills:
        spend[bill.supplier_id] += bill.amount
    top = sorted(spend.values(), reverse=True)
    assert sum(top[:5]) > sum(top) / 3


def test_partly_paid_and_multi_payment_bills_occur() -> None:
    statuses: set[str] = set()
    multi = 0
    for n in range(6):
        ledger = generate_ledger(f"mix-{n}", period_end=END)
        statuses |= {b.status for b in ledger.bills}
        counts: dict[str, int] = defaultdict(int)
        for payment in ledger.payments:
            counts[payment.bill_id] += 1
        multi += sum(1 for c in counts.values() if c > 1)
    assert statuses == set(BILL_STATUSES)
    assert multi > 0


def test_payment_method_types_are_the_spend_insights_vocabulary() -> None:
    if not SPEND_INSIGHTS_SPEC.exists():
        pytest.skip("Spend Insights spec not available")
    lines = SPEND_INSIGHTS_SPEC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "biggestCountPaymentMethod:" in line)
    enum_at = next(i for i in range(start, len(lines)) if lines[i].strip() == "enum:")
    spec_types = []
    for line in lines[enum_at + 1 :]:
        if not line.strip().startswith("- "):
            break
        spec_types.append(line.strip()[2:])
    assert tuple(spec_types) == PAYMENT_METHOD_TYPES
    # Every ledger's methods use that vocabulary (checked in assert_consistent too).
    ledger = generate_ledger("methods", period_end=END, size="large")
    assert {m.type for m in ledger.payment_methods} <= set(spec_types)


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        generate_ledger("x", period_end=END, size="huge")
    with pytest.raises(ValueError):
        generate_ledger("x", period_end=END, months=0)
    with pytest.raises(ValueError):
        generate_ledger("", period_end=END)
    with pytest.raises(TypeError):
        generate_ledger("x", period_end="2024-12-31")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- serialization


@pytest.mark.parametrize("size", SIZES)
def test_dict_survives_json_round_trip(size: str) -> None:
    ledger = generate_ledger("json-co", period_end=date(2025, 2, 14), months=3, size=size)
    data = ledger_to_dict(ledger)
    text = json.dumps(data)  # raises if anything is not JSON-safe
    again = json.loads(text)
    assert again == data
    assert ledger_from_dict(again) == ledger
    assert isinstance(data["bills"][0]["amount"], str)
    assert data["period_end"] == "2025-02-14"


def test_summary_matches_the_ledger() -> None:
    ledger = generate_ledger("summary-co", period_end=END)
    summary = ledger_summary(ledger)
    json.dumps(summary)
    assert summary["supplier_count"] == len(ledger.suppliers)
    assert summary["bill_count"] == len(ledger.bills)
    assert Decimal(summary["bill_total"]) == sum(b.amount for b in ledger.bills)
    assert summary["payment_count"] == len(ledger.payments)
    assert Decimal(summary["payment_total"]) == sum(p.amount for p in ledger.payments)
    assert summary["period_start"] == "2024-01-01"
    assert summary["period_end"] == "2024-12-31"
    assert summary["months"] == 12


# ------------------------------------------------------------------------ performance


def best_of(runs: int, size: str) -> float:
    timings = []
    for n in range(runs):
        started = time.perf_counter()
        generate_ledger(f"perf-{n}", period_end=END, size=size)
        timings.append(time.perf_counter() - started)
    return min(timings)


def test_generation_is_fast() -> None:
    # Generous bounds (targets are 0.3 s and 50 ms) so a busy machine does not fail it.
    assert best_of(3, "large") < 1.0
    assert best_of(5, "medium") < 0.15
