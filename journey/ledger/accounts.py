"""The chart of accounts every synthetic ledger uses, and figures read from it."""

from __future__ import annotations

from decimal import Decimal

from journey.ledger.records import Account, ProfitAndLossPeriod

_CHART: tuple[tuple[str, str, str, str], ...] = (
    ("1000", "Cash at bank", "Asset", "Current assets"),
    ("1100", "Accounts receivable", "Asset", "Current assets"),
    ("1500", "Plant and equipment", "Asset", "Fixed assets"),
    ("1510", "Accumulated depreciation", "Asset", "Fixed assets"),
    ("2000", "Accounts payable", "Liability", "Current liabilities"),
    ("2050", "Bank overdraft", "Liability", "Current liabilities"),
    ("2100", "Payroll liabilities", "Liability", "Current liabilities"),
    ("2200", "Corporation tax payable", "Liability", "Current liabilities"),
    ("2500", "Long-term bank loan", "Liability", "Non-current liabilities"),
    ("3000", "Share capital", "Equity", "Equity"),
    ("3100", "Retained earnings", "Equity", "Equity"),
    ("3200", "Current period earnings", "Equity", "Equity"),
    ("4000", "Sales", "Income", "Revenue"),
    ("4100", "Services revenue", "Income", "Revenue"),
    ("4900", "Interest income", "Income", "Other income"),
    ("5000", "Purchases and materials", "Expense", "Cost of sales"),
    ("5100", "Subcontractor costs", "Expense", "Cost of sales"),
    ("5200", "Freight and carriage", "Expense", "Cost of sales"),
    ("6000", "Rent and facilities", "Expense", "Operating expenses"),
    ("6100", "Utilities and telecoms", "Expense", "Operating expenses"),
    ("6200", "Software and subscriptions", "Expense", "Operating expenses"),
    ("6300", "Professional fees", "Expense", "Operating expenses"),
    ("6400", "Advertising and marketing", "Expense", "Operating expenses"),
    ("6500", "Travel and subsistence", "Expense", "Operating expenses"),
    ("6600", "Office supplies", "Expense", "Operating expenses"),
    ("6900", "Bank interest and charges", "Expense", "Operating expenses"),
    ("7000", "Wages and salaries", "Expense", "Payroll"),
    ("7100", "Employer payroll taxes", "Expense", "Payroll"),
    ("8000", "Depreciation", "Expense", "Depreciation"),
    ("9000", "Corporation tax", "Expense", "Tax"),
)

ACCOUNTS: tuple[Account, ...] = tuple(
    Account(id=f"ACC-{code}", code=code, name=name, category=cat, sub_category=sub)
    for code, name, cat, sub in _CHART
)

# Ids of the accounts the generator posts to by name.
CASH = "ACC-1000"
ACCOUNTS_RECEIVABLE = "ACC-1100"
EQUIPMENT = "ACC-1500"
ACCUMULATED_DEPRECIATION = "ACC-1510"
ACCOUNTS_PAYABLE = "ACC-2000"
BANK_OVERDRAFT = "ACC-2050"
PAYROLL_LIABILITIES = "ACC-2100"
TAX_PAYABLE = "ACC-2200"
BANK_LOAN = "ACC-2500"
SHARE_CAPITAL = "ACC-3000"
RETAINED_EARNINGS = "ACC-3100"
CURRENT_PERIOD_EARNINGS = "ACC-3200"
SALES = "ACC-4000"
SERVICES_REVENUE = "ACC-4100"
INTEREST_INCOME = "ACC-4900"
BANK_INTEREST = "ACC-6900"
WAGES = "ACC-7000"
EMPLOYER_TAXES = "ACC-7100"
DEPRECIATION = "ACC-8000"
CORPORATION_TAX = "ACC-9000"

CATEGORY_OF = {a.id: a.category for a in ACCOUNTS}
BALANCE_SHEET_IDS = tuple(a.id for a in ACCOUNTS if a.category in ("Asset", "Liability", "Equity"))
PROFIT_AND_LOSS_IDS = tuple(a.id for a in ACCOUNTS if a.category in ("Income", "Expense"))


def net_profit(period: ProfitAndLossPeriod) -> Decimal:
    """Income minus expenses for one profit and loss period."""
    total = Decimal("0.00")
    for account_id, amount in period.lines:
        category = CATEGORY_OF.get(account_id)
        if category == "Income":
            total += amount
        elif category == "Expense":
            total -= amount
    return total
