"""Generate the ledger one data pull of an entity produces."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from journey.ledger.accounts import ACCOUNTS
from journey.ledger.activity import BillDraft, MonthDraws, calendar_months, month_activity
from journey.ledger.books import post_books
from journey.ledger.catalogue import SIZE_SPECS
from journey.ledger.profile import build_profile
from journey.ledger.randomness import money
from journey.ledger.records import SIZES, Bill, BillPayment, Ledger


def ledger_key(entity_name: str, platform: str) -> str:
    """The same company on the same software always yields the same ledger."""
    return f"{entity_name.casefold()}|{platform}"


def ledger_period_end(moment: datetime) -> date:
    """Ledgers run to the end of the last complete month."""
    return moment.date().replace(day=1) - timedelta(days=1)


def generate_ledger(
    entity_key: str, *, period_end: date, months: int = 12, size: str = "medium"
) -> Ledger:
    """Generate the ledger one data pull of ``entity_key`` would produce.

    The result depends only on the arguments: the same call in any process, on any day,
    returns an equal ledger. The period runs from the first day of the month ``months - 1``
    months before ``period_end``'s month up to ``period_end`` itself; a ``period_end``
    before its month's end makes the last month a partial one (bills and payments after
    it have not happened yet, and monthly charges are pro rata).

    ``size`` is "small" (~3 suppliers, ~10 bills a year), "medium" (~25 suppliers,
    ~300 bills a year) or "large" (~120 suppliers, ~3,000 bills a year).
    """
    if not isinstance(entity_key, str) or not entity_key:
        raise ValueError("entity_key must be a non-empty string")
    if size not in SIZE_SPECS:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError("months must be a positive integer")
    # A datetime is a date subclass but does not compare with dates; refuse it outright.
    if not isinstance(period_end, date) or isinstance(period_end, datetime):
        raise TypeError("period_end must be a datetime.date")

    profile = build_profile(entity_key, size)
    periods = calendar_months(period_end, months)
    period_start = periods[0].start

    # Pass 1: every month's activity, then cut at period_end.
    draws: list[MonthDraws] = []
    bills_by_month: list[list[BillDraft]] = []
    for month in periods:
        month_draws, drafts = month_activity(entity_key, size, profile, month)
        draws.append(month_draws)
        bills_by_month.append([d for d in drafts if d.bill.issue_date <= period_end])

    bills: list[Bill] = []
    payments: list[BillPayment] = []
    for drafts in bills_by_month:
        for draft in drafts:
            paid = 0
            for number, (when, cents, method) in enumerate(draft.schedule, start=1):
                if when > period_end:
                    break  # later instalments have later dates too
                payments.append(
                    BillPayment(
                        id=f"PAY-{draft.bill.id.removeprefix('BILL-')}-{number}",
                        bill_id=draft.bill.id,
                        supplier_id=draft.bill.supplier_id,
                        date=when,
                        amount=money(cents),
                        payment_method=method,
                    )
                )
                paid += cents
            status = "Paid" if paid == draft.amount_cents else "PartiallyPaid" if paid else "Open"
            bills.append(_replace_status(draft.bill, status))
    payments.sort(key=lambda p: (p.date, p.id))

    # Pass 2: post everything by double entry, month by month.
    pnl, sheets = post_books(entity_key, size, profile, periods, draws, bills_by_month, payments)
    return Ledger(
        entity_key=entity_key,
        currency=profile.currency,
        period_start=period_start,
        period_end=period_end,
        accounts=ACCOUNTS,
        suppliers=tuple(plan.supplier for plan in profile.suppliers),
        bills=tuple(bills),
        payments=tuple(payments),
        payment_methods=profile.methods,
        profit_and_loss=tuple(pnl),
        balance_sheets=tuple(sheets),
    )


def _replace_status(bill: Bill, status: str) -> Bill:
    return Bill(
        id=bill.id,
        supplier_id=bill.supplier_id,
        issue_date=bill.issue_date,
        due_date=bill.due_date,
        amount=bill.amount,
        currency=bill.currency,
        account_id=bill.account_id,
        status=status,
    )
