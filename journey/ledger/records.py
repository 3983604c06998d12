"""What a ledger holds: the records an accounting platform hands over, and their vocabularies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

SIZES: tuple[str, ...] = ("small", "medium", "large")

ACCOUNT_CATEGORIES: tuple[str, ...] = ("Asset", "Liability", "Equity", "Income", "Expense")

# The payment method types of Codat's Spend Insights API (PaymentMethodAnalysis,
# biggestCountPaymentMethod enum), so the spend analysis can report them verbatim.
PAYMENT_METHOD_TYPES: tuple[str, ...] = (
    "Unknown",
    "Cash",
    "Check",
    "CreditCard",
    "DebitCard",
    "BankTransfer",
    "Other",
)

BILL_STATUSES: tuple[str, ...] = ("Open", "PartiallyPaid", "Paid")

PAYMENT_TERMS_DAYS: tuple[int, ...] = (0, 7, 14, 30, 45, 60, 90)

CURRENCIES: tuple[str, ...] = ("GBP", "EUR", "USD", "CAD", "AUD")


@dataclass(frozen=True)
class Account:
    """One account of the chart of accounts."""

    id: str
    code: str
    name: str
    category: str  # one of ACCOUNT_CATEGORIES
    sub_category: str  # readable grouping, e.g. "Current assets", "Cost of sales"


@dataclass(frozen=True)
class Supplier:
    """A supplier the entity buys from. ``default_payment_method`` is a PaymentMethod id."""

    id: str
    name: str
    registration_number: str
    country: str  # ISO 3166-1 alpha-2
    currency: str
    payment_terms_days: int
    default_payment_method: str
    category: str


@dataclass(frozen=True)
class Bill:
    """A supplier bill; ``status`` is as at the ledger's period end."""

    id: str
    supplier_id: str
    issue_date: date
    due_date: date
    amount: Decimal
    currency: str
    account_id: str  # the expense account the purchase is booked to
    status: str  # one of BILL_STATUSES


@dataclass(frozen=True)
class BillPayment:
    """A payment against one bill. ``payment_method`` is a PaymentMethod id."""

    id: str
    bill_id: str
    supplier_id: str
    date: date
    amount: Decimal
    payment_method: str


@dataclass(frozen=True)
class PaymentMethod:
    """A payment method as the platform names it; ``type`` is one of PAYMENT_METHOD_TYPES."""

    id: str
    name: str
    type: str


@dataclass(frozen=True)
class ProfitAndLossPeriod:
    """One month of profit and loss.

    ``lines`` holds ``(account_id, amount)`` for every Income and Expense account, in
    chart order, with amounts in their natural sign (income and expenses both positive),
    so net profit is the Income lines' sum minus the Expense lines' sum.
    """

    start: date
    end: date
    lines: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class BalanceSheet:
    """The balance sheet at ``date``.

    ``lines`` holds ``(account_id, amount)`` for every Asset, Liability and Equity account,
    in chart order. Liabilities and equity are shown positive; contra-assets such as
    accumulated depreciation are negative, so assets sum to liabilities plus equity.
    """

    date: date
    lines: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class Ledger:
    """Everything one data pull produced for one legal entity."""

    entity_key: str
    currency: str
    period_start: date
    period_end: date
    accounts: tuple[Account, ...]
    suppliers: tuple[Supplier, ...]
    bills: tuple[Bill, ...]
    payments: tuple[BillPayment, ...]
    payment_methods: tuple[PaymentMethod, ...]
    profit_and_loss: tuple[ProfitAndLossPeriod, ...]
    balance_sheets: tuple[BalanceSheet, ...]
