"""Double-entry bookkeeping: post the period month by month into P&L and balance sheets."""

from __future__ import annotations

from decimal import Decimal

from journey.ledger.accounts import (
    ACCOUNTS,
    ACCOUNTS_PAYABLE,
    ACCOUNTS_RECEIVABLE,
    ACCUMULATED_DEPRECIATION,
    BALANCE_SHEET_IDS,
    BANK_INTEREST,
    BANK_LOAN,
    BANK_OVERDRAFT,
    CASH,
    CATEGORY_OF,
    CORPORATION_TAX,
    CURRENT_PERIOD_EARNINGS,
    DEPRECIATION,
    EMPLOYER_TAXES,
    EQUIPMENT,
    INTEREST_INCOME,
    PAYROLL_LIABILITIES,
    PROFIT_AND_LOSS_IDS,
    RETAINED_EARNINGS,
    SALES,
    SERVICES_REVENUE,
    SHARE_CAPITAL,
    TAX_PAYABLE,
    WAGES,
)
from journey.ledger.activity import BillDraft, Month, MonthDraws
from journey.ledger.profile import Profile
from journey.ledger.randomness import money, percent_of, seeded_rng
from journey.ledger.records import BalanceSheet, BillPayment, ProfitAndLossPeriod


class _Books:
    """Debit-positive integer-cent balances; every posting is balanced by construction."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = dict.fromkeys((a.id for a in ACCOUNTS), 0)

    def post(self, debit: str, credit: str, cents: int) -> None:
        self.balances[debit] += cents
        self.balances[credit] -= cents


def post_books(
    entity_key: str,
    size: str,
    profile: Profile,
    periods: list[Month],
    draws: list[MonthDraws],
    bills_by_month: list[list[BillDraft]],
    payments: list[BillPayment],
) -> tuple[list[ProfitAndLossPeriod], list[BalanceSheet]]:
    """Post the opening position and every month; return its P&L and month-end balance sheets."""
    books = _Books()
    _post_opening(books, entity_key, size, profile, periods[0])

    payment_cents = {p.id: int(p.amount.scaleb(2)) for p in payments}
    pnl: list[ProfitAndLossPeriod] = []
    sheets: list[BalanceSheet] = []
    payment_index = 0
    for month, month_draws, drafts in zip(periods, draws, bills_by_month, strict=True):
        before = {account_id: books.balances[account_id] for account_id in PROFIT_AND_LOSS_IDS}
        elapsed = (month.end - month.start).days + 1

        def pro_rata(cents: int, elapsed: int = elapsed, days: int = month.days_in_month) -> int:
            return cents * elapsed // days

        # Settle last month's payroll taxes, and the quarter's corporation tax.
        books.post(PAYROLL_LIABILITIES, CASH, -books.balances[PAYROLL_LIABILITIES])
        if month.start.month in (1, 4, 7, 10):
            books.post(TAX_PAYABLE, CASH, -books.balances[TAX_PAYABLE])

        bill_total = 0
        for draft in drafts:
            books.post(draft.bill.account_id, ACCOUNTS_PAYABLE, draft.amount_cents)
            bill_total += draft.amount_cents
        while payment_index < len(payments) and payments[payment_index].date <= month.end:
            payment = payments[payment_index]
            books.post(ACCOUNTS_PAYABLE, CASH, payment_cents[payment.id])
            payment_index += 1

        wages = pro_rata(percent_of(profile.payroll_cents, month_draws.payroll_percent))
        employer_tax = wages * profile.employer_tax_bp // 10_000
        books.post(WAGES, CASH, wages)
        books.post(EMPLOYER_TAXES, PAYROLL_LIABILITIES, employer_tax)

        net_book_value = books.balances[EQUIPMENT] + books.balances[ACCUMULATED_DEPRECIATION]
        depreciation = min(pro_rata(profile.depreciation_cents), max(net_book_value, 0))
        books.post(DEPRECIATION, ACCUMULATED_DEPRECIATION, depreciation)
        interest = pro_rata(profile.loan_interest_cents)
        books.post(BANK_INTEREST, CASH, interest)
        interest_income = pro_rata(profile.interest_income_cents)
        books.post(CASH, INTEREST_INCOME, interest_income)

        # Revenue is set from the month's costs and a drawn margin, so the business is
        # usually, but not always, profitable, and its size tracks its purchases.
        costs = bill_total + wages + employer_tax + depreciation + interest
        revenue = costs * 10_000 // (10_000 - month_draws.margin_bp)
        sales = percent_of(revenue, profile.sales_percent)
        books.post(ACCOUNTS_RECEIVABLE, SALES, sales)
        books.post(ACCOUNTS_RECEIVABLE, SERVICES_REVENUE, revenue - sales)
        receivable = books.balances[ACCOUNTS_RECEIVABLE]
        closing_receivable = min(receivable, revenue * profile.debtor_days // 30)
        books.post(CASH, ACCOUNTS_RECEIVABLE, receivable - closing_receivable)

        profit_before_tax = revenue + interest_income - costs
        tax = max(profit_before_tax, 0) * profile.tax_rate_bp // 10_000
        books.post(CORPORATION_TAX, TAX_PAYABLE, tax)

        lines = []
        for account_id in PROFIT_AND_LOSS_IDS:
            movement = books.balances[account_id] - before[account_id]
            # Income accounts carry credit balances; show them positive.
            lines.append(
                (
                    account_id,
                    money(-movement if CATEGORY_OF[account_id] == "Income" else movement),
                )
            )
        pnl.append(ProfitAndLossPeriod(start=month.start, end=month.end, lines=tuple(lines)))
        sheets.append(BalanceSheet(date=month.end, lines=_balance_sheet_lines(books)))
    return pnl, sheets


def _post_opening(
    books: _Books, entity_key: str, size: str, profile: Profile, first: Month
) -> None:
    """The position brought forward into the period; retained earnings balance it.

    Accounts payable opens at zero because the ledger holds only the bills of the period,
    and accounts payable must always equal their open balances.
    """
    rng = seeded_rng(entity_key, size, "opening", first.start.isoformat())
    monthly = profile.monthly_costs_cents
    books.post(CASH, RETAINED_EARNINGS, percent_of(monthly, rng.randint(80, 300)))
    books.post(ACCOUNTS_RECEIVABLE, RETAINED_EARNINGS, monthly * profile.debtor_days // 30)
    books.post(EQUIPMENT, RETAINED_EARNINGS, profile.equipment_cents)
    books.post(
        RETAINED_EARNINGS,
        ACCUMULATED_DEPRECIATION,
        percent_of(profile.equipment_cents, rng.randint(5, 50)),
    )
    books.post(
        RETAINED_EARNINGS,
        PAYROLL_LIABILITIES,
        profile.payroll_cents * profile.employer_tax_bp // 10_000,
    )
    books.post(RETAINED_EARNINGS, TAX_PAYABLE, percent_of(monthly, rng.randint(0, 8)))
    books.post(CASH, BANK_LOAN, profile.loan_cents)
    books.post(RETAINED_EARNINGS, SHARE_CAPITAL, profile.share_capital_cents)


def _balance_sheet_lines(books: _Books) -> tuple[tuple[str, Decimal], ...]:
    balances = books.balances
    cash = balances[CASH]
    # Earnings since the period began: the profit and loss accounts are not closed
    # during the period, so their combined credit balance is exactly cumulative profit.
    earnings = -sum(balances[account_id] for account_id in PROFIT_AND_LOSS_IDS)
    lines = []
    for account_id in BALANCE_SHEET_IDS:
        if account_id == CASH:
            amount = max(cash, 0)
        elif account_id == BANK_OVERDRAFT:
            # An overdrawn bank account is a liability, not a negative asset.
            amount = max(-cash, 0)
        elif account_id == CURRENT_PERIOD_EARNINGS:
            amount = earnings
        elif CATEGORY_OF[account_id] == "Asset":
            amount = balances[account_id]
        else:
            amount = -balances[account_id]
        lines.append((account_id, money(amount)))
    return tuple(lines)
