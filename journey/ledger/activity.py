"""One calendar month of bills and their payment schedules, seeded by the month."""

from __future__ import annotations

import calendar
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from journey.ledger.catalogue import BILL_ACCOUNT_IDS, SIZE_SPECS
from journey.ledger.profile import Profile, SupplierPlan
from journey.ledger.randomness import money, percent_of, seeded_rng
from journey.ledger.records import Bill, PaymentMethod


@dataclass(frozen=True)
class Month:
    start: date  # first day of the calendar month
    end: date  # last day covered: the month end, or period_end in the final month
    days_in_month: int


@dataclass
class BillDraft:
    bill: Bill
    amount_cents: int
    # (payment date, cents, payment method id), before cutting at period_end
    schedule: list[tuple[date, int, str]]


@dataclass(frozen=True)
class MonthDraws:
    """Month-level figures drawn before the bills, so bills never shift them."""

    margin_bp: int
    payroll_percent: int


def _late_days(rng: random.Random) -> int:
    roll = rng.randrange(100)
    if roll < 70:
        return rng.randint(1, 30)
    if roll < 95:
        return rng.randint(31, 90)
    return rng.randint(91, 150)


def _payment_schedule(
    rng: random.Random,
    plan: SupplierPlan,
    issue: date,
    due: date,
    amount: int,
    methods: Sequence[PaymentMethod],
) -> list[tuple[date, int, str]]:
    """When and how a bill will be paid, ignoring when the ledger is pulled."""
    if rng.randrange(1000) < 20:
        return []  # disputed: never paid
    terms = (due - issue).days
    if rng.randrange(1000) < plan.late_per_mille:
        first = due + timedelta(days=_late_days(rng))
    else:
        # Paying on time usually means close to the due date, never before the issue date.
        first = due - timedelta(days=rng.randint(0, min(terms, 10)))
    parts: list[int] = []
    if amount >= 200 and rng.randrange(100) < 12:
        remaining = amount
        for _ in range(rng.randint(2, 3) - 1):
            part = max(1, percent_of(remaining, rng.randint(30, 70)))
            parts.append(part)
            remaining -= part
        parts.append(remaining)
        if rng.randrange(100) < 15:
            parts.pop()  # the balance is in dispute and stays unpaid
    else:
        parts.append(amount)

    schedule: list[tuple[date, int, str]] = []
    when = first
    other_methods = [m.id for m in methods if m.type != "Unknown"]
    for part in parts:
        roll = rng.randrange(100)
        if roll < 88:
            method = plan.supplier.default_payment_method
        elif roll < 91:
            method = "PM-UNKNOWN"
        else:
            method = rng.choice(other_methods)
        schedule.append((when, part, method))
        when += timedelta(days=rng.randint(14, 45))
    return schedule


def month_activity(
    entity_key: str, size: str, profile: Profile, month: Month
) -> tuple[MonthDraws, list[BillDraft]]:
    """The month's draws and its bills for the whole calendar month.

    Seeded by the calendar month, not the requested period, and drawn in full before the
    caller cuts at period_end, so a month pulled part-way through is a prefix of the
    same month pulled later.
    """
    rng = seeded_rng(entity_key, size, f"{month.start.year:04d}-{month.start.month:02d}")
    spec = SIZE_SPECS[size]
    draws = MonthDraws(margin_bp=rng.randint(-800, 2200), payroll_percent=rng.randint(96, 105))
    count = rng.randint(*spec.bills_per_month)
    if rng.randrange(100) < spec.empty_month_percent:
        count = 0
    total_weight = profile.supplier_cum_weights[-1]
    other_accounts = sorted(BILL_ACCOUNT_IDS)
    raw: list[tuple[date, int, SupplierPlan, int, str, list[tuple[date, int, str]]]] = []
    for position in range(count):
        plan = profile.suppliers[
            bisect_right(profile.supplier_cum_weights, rng.randrange(total_weight))
        ]
        issue = month.start + timedelta(days=rng.randrange(month.days_in_month))
        due = issue + timedelta(days=plan.supplier.payment_terms_days)
        amount = max(100, percent_of(plan.typical_cents, rng.randint(*plan.kind.variation)))
        # Now and then a bill is coded to another expense line, as bookkeepers do.
        account = plan.kind.account_id
        if rng.randrange(100) < 5:
            account = rng.choice(other_accounts)
        schedule = _payment_schedule(rng, plan, issue, due, amount, profile.methods)
        raw.append((issue, position, plan, amount, account, schedule))
    raw.sort(key=lambda item: (item[0], item[1]))

    drafts: list[BillDraft] = []
    for number, (issue, _, plan, amount, account, schedule) in enumerate(raw, start=1):
        bill = Bill(
            id=f"BILL-{month.start.year:04d}{month.start.month:02d}-{number:04d}",
            supplier_id=plan.supplier.id,
            issue_date=issue,
            due_date=issue + timedelta(days=plan.supplier.payment_terms_days),
            amount=money(amount),
            currency=profile.currency,
            account_id=account,
            status="Open",  # settled below, once the cut-off is known
        )
        drafts.append(BillDraft(bill=bill, amount_cents=amount, schedule=schedule))
    return draws, drafts


def calendar_months(period_end: date, months: int) -> list[Month]:
    """The ``months`` calendar months ending with ``period_end``'s, oldest first."""
    result: list[Month] = []
    year, month = period_end.year, period_end.month
    for _ in range(months):
        days = calendar.monthrange(year, month)[1]
        start = date(year, month, 1)
        result.append(Month(start, min(date(year, month, days), period_end), days))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    result.reverse()
    return result
