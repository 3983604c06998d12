"""Deterministic synthetic ledgers: what a simulated accounting platform hands over.

When a customer connects a legal entity's accounting software, the data pull produces a
ledger for that entity: a chart of accounts, suppliers, bills, bill payments, payment
methods, a monthly profit and loss and a month-end balance sheet. Reports are computed
from it later, possibly in another process or after a restart, so the same entity must
always yield the same numbers. Everything here is therefore a pure function of its
arguments: randomness comes from ``random.Random`` instances seeded with a SHA-256 of the
entity key (never ``hash()``, which is salted per process), money is integer cents
internally and ``Decimal`` quantized to 0.01 on the way out, and no float ever touches an
amount.

The books are kept by double entry, which is what makes the statements consistent:

* every bill is a purchase on credit (Dr expense account, Cr Accounts payable) and every
  bill payment settles it (Dr Accounts payable, Cr Cash), so accounts payable on any
  balance sheet is exactly the sum of the open bill balances at that date, and supplier
  purchases are part of the month's expenses;
* the balance sheet balances every month because every posting balances; the difference
  between assets and liabilities plus opening equity is the period's cumulative net
  profit, shown as "Current period earnings".

Activity for a calendar month is seeded by the entity and the month (not by the period
requested), so pulling the same entity again with a later ``period_end`` reproduces the
bills, payments and profit and loss of the months the two pulls share; only what had not
happened yet at the earlier ``period_end`` is new. Balance sheets depend on where the
period starts, since the opening position is part of the pull.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

# Bump when generation changes on purpose: it is part of every seed, so old and new
# ledgers can never be confused for one another.
_SEED_VERSION = "relportal-ledger-v1"

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


# --------------------------------------------------------------------------- records


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


# ------------------------------------------------------------------ chart of accounts

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

_CATEGORY_OF = {a.id: a.category for a in ACCOUNTS}
_BALANCE_SHEET_IDS = tuple(a.id for a in ACCOUNTS if a.category in ("Asset", "Liability", "Equity"))
_PROFIT_AND_LOSS_IDS = tuple(a.id for a in ACCOUNTS if a.category in ("Income", "Expense"))


# ----------------------------------------------------------------- supplier catalogue


@dataclass(frozen=True)
class _SupplierKind:
    """A kind of supplier: where its bills are booked and how it is usually paid."""

    category: str
    account_id: str
    words: tuple[str, ...]  # trade words for names, e.g. "Freight"
    weight: int  # how common the kind is among suppliers
    terms: tuple[tuple[int, int], ...]  # (days, weight)
    methods: tuple[tuple[str, int], ...]  # (payment method key, weight)
    variation: tuple[int, int]  # bill amount as percent of the supplier's typical bill
    partners: bool = False  # professions that trade as "X & Y"


_STANDARD_TERMS = ((0, 1), (7, 2), (14, 3), (30, 6), (45, 2), (60, 2), (90, 1))
_TRADE_METHODS = (("bank", 80), ("cheque", 8), ("direct_debit", 5), ("other", 4), ("cash", 3))

_SUPPLIER_KINDS: tuple[_SupplierKind, ...] = (
    _SupplierKind(
        "Raw materials",
        "ACC-5000",
        ("Materials", "Metals", "Polymers", "Timber", "Components", "Packaging"),
        5,
        _STANDARD_TERMS,
        _TRADE_METHODS,
        (55, 160),
    ),
    _SupplierKind(
        "Subcontracting",
        "ACC-5100",
        ("Engineering", "Fabrication", "Contractors", "Installations"),
        3,
        _STANDARD_TERMS,
        _TRADE_METHODS,
        (60, 150),
        partners=True,
    ),
    _SupplierKind(
        "Logistics",
        "ACC-5200",
        ("Freight", "Logistics", "Haulage", "Couriers", "Shipping"),
        3,
        ((7, 2), (14, 3), (30, 5), (45, 1), (60, 1)),
        _TRADE_METHODS,
        (60, 140),
    ),
    _SupplierKind(
        "Facilities",
        "ACC-6000",
        ("Properties", "Estates", "Facilities", "Cleaning Services", "Maintenance"),
        2,
        ((0, 3), (7, 1), (14, 2), (30, 3)),
        (("bank", 60), ("direct_debit", 30), ("cheque", 10)),
        (100, 100),  # rent and service charges are the same every time
    ),
    _SupplierKind(
        "Utilities",
        "ACC-6100",
        ("Energy", "Power", "Water", "Telecom", "Networks"),
        2,
        ((14, 3), (30, 2)),
        (("direct_debit", 70), ("bank", 30)),
        (80, 125),
    ),
    _SupplierKind(
        "Software",
        "ACC-6200",
        ("Software", "Cloud", "Systems", "Digital", "Analytics"),
        3,
        ((0, 4), (30, 2)),
        (("credit_card", 60), ("direct_debit", 25), ("bank", 15)),
        (100, 100),  # subscriptions bill a fixed fee
    ),
    _SupplierKind(
        "Professional services",
        "ACC-6300",
        ("Consulting", "Advisory", "Accountants", "Solicitors", "Partners"),
        3,
        ((14, 2), (30, 5), (45, 1), (60, 1)),
        (("bank", 85), ("cheque", 10), ("other", 5)),
        (50, 170),
        partners=True,
    ),
    _SupplierKind(
        "Marketing",
        "ACC-6400",
        ("Media", "Creative", "Marketing", "Print", "Studios"),
        2,
        ((0, 1), (14, 2), (30, 4), (60, 1)),
        (("bank", 50), ("credit_card", 40), ("other", 10)),
        (50, 180),
    ),
    _SupplierKind(
        "Travel",
        "ACC-6500",
        ("Travel", "Hotels", "Transport", "Car Hire"),
        1,
        ((0, 4), (7, 2), (30, 1)),
        (("credit_card", 60), ("debit_card", 25), ("bank", 10), ("cash", 5)),
        (40, 200),
    ),
    _SupplierKind(
        "Office supplies",
        "ACC-6600",
        ("Office Supplies", "Stationers", "Furniture", "Print Supplies"),
        1,
        ((0, 3), (14, 2), (30, 3)),
        (("debit_card", 40), ("credit_card", 30), ("bank", 20), ("cash", 10)),
        (50, 150),
    ),
)

BILL_ACCOUNT_IDS: frozenset[str] = frozenset(k.account_id for k in _SUPPLIER_KINDS)

# Invented place-like stems; combined with trade words they read like real firms without
# being any particular one.
_STEMS: tuple[str, ...] = (
    "Ashcombe", "Brackenridge", "Calderwood", "Dunmore", "Elderbank", "Fairhollow",
    "Glenmarsh", "Harrowdene", "Ivystone", "Junipervale", "Kestrelford", "Larchmont",
    "Millbrook", "Northwold", "Oakhurst", "Pennington", "Quarrydale", "Ravensmere",
    "Saltmarsh", "Thornbury", "Underhill", "Valemoor", "Westcombe", "Yarrowby",
    "Amberley", "Bluefinch", "Copperleaf", "Driftwood", "Eastfold", "Foxglove",
    "Greystoke", "Heathfield", "Ironbridge", "Kingsmere", "Lindenhall", "Marlowe",
    "Netherby", "Orchardleigh", "Pinecrest", "Redcliffe", "Silverbirch", "Tidewater",
    "Wrenfield", "Altmoor", "Brookhaven", "Coldharbour", "Stonebridge", "Highgrove",
    "Alderwick", "Birchmoor", "Cobblestone", "Dovecote", "Emberton", "Fallowfield",
    "Goldcrest", "Hawthornmill", "Inglewood", "Kilnworth", "Lanterne", "Moorvale",
    "Nettlebed", "Oxleigh", "Pebblebrook", "Quillon", "Rookwood", "Sablewood",
    "Tarnside", "Upland", "Verrall", "Whinmoor", "Yewbank", "Zephyrpoint",
)  # fmt: skip
_SURNAMES: tuple[str, ...] = (
    "Ashdown", "Belcourt", "Carrow", "Delacey", "Ellery", "Fenwick", "Garroway",
    "Hollis", "Ingleby", "Jessop", "Kettering", "Lowther", "Marchetti", "Northcott",
    "Okafor", "Pemberton", "Quaile", "Rowntree", "Sandoval", "Tremaine", "Varga",
    "Whitlock", "Lindqvist", "Moreau", "Castellan", "Brannigan",
)  # fmt: skip


@dataclass(frozen=True)
class _Country:
    code: str
    suffixes: tuple[str, ...]
    cheques: bool  # whether cheques are still in business use there


_COUNTRIES: dict[str, _Country] = {
    c.code: c
    for c in (
        _Country("GB", ("Ltd", "Ltd", "Limited", "LLP"), True),
        _Country("IE", ("Limited", "Ltd", "DAC"), True),
        _Country("DE", ("GmbH", "GmbH", "AG", "KG"), False),
        _Country("FR", ("SAS", "SARL", "SA"), True),
        _Country("NL", ("B.V.", "B.V.", "N.V."), False),
        _Country("US", ("Inc.", "LLC", "LLC", "Corp."), True),
        _Country("CA", ("Inc.", "Ltd.", "Corp."), True),
        _Country("AU", ("Pty Ltd", "Pty Ltd", "Ltd"), True),
    )
}

# (currency, weight, countries that use it)
_CURRENCY_HOMES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("GBP", 3, ("GB",)),
    ("EUR", 3, ("IE", "DE", "FR", "NL")),
    ("USD", 3, ("US",)),
    ("CAD", 1, ("CA",)),
    ("AUD", 1, ("AU",)),
)

# Local names for the same payment rails, so a UK ledger says BACS and a US one says ACH.
_BANK_TRANSFER_NAMES = {
    "GB": "BACS transfer",
    "US": "ACH transfer",
    "CA": "EFT transfer",
    "AU": "EFT transfer",
}
_DIRECT_DEBIT_NAMES = {
    "GB": "Direct Debit",
    "US": "ACH debit",
    "CA": "Pre-authorized debit",
    "AU": "Direct debit",
}


# ------------------------------------------------------------------------ size specs


# Supplier concentration: a few suppliers take most of the bills and most of the spend,
# as in real payables ledgers.
_FULL_TIERS = (1, 1, 1, 1, 2, 2, 3, 4, 6)


@dataclass(frozen=True)
class _SizeSpec:
    suppliers: tuple[int, int]
    bills_per_month: tuple[int, int]
    empty_month_percent: int  # chance a month has no bills at all
    bill_units: tuple[int, int]  # a typical bill, in whole currency units
    amount_tiers: tuple[int, ...]  # multipliers that make a few suppliers the big ones
    min_payroll_units: int


_SIZE_SPECS: dict[str, _SizeSpec] = {
    # ~10 bills a year from ~3 suppliers: small enough to check by hand.
    "small": _SizeSpec((2, 4), (1, 1), 17, (120, 2_500), (1, 1, 1, 2), 3_000),
    "medium": _SizeSpec((22, 28), (20, 30), 0, (250, 9_000), _FULL_TIERS, 40_000),
    "large": _SizeSpec((110, 130), (225, 275), 0, (400, 30_000), _FULL_TIERS, 600_000),
}

_ACTIVITY_WEIGHTS = (1, 1, 1, 2, 2, 3, 5, 8, 13)
# Per mille chance that a supplier's bill is paid after its due date.
_LATENESS_PER_MILLE = (50, 100, 150, 250, 400, 600)


# ----------------------------------------------------------------------- randomness

_T = TypeVar("_T")


def _rng(*parts: str) -> random.Random:
    """A generator seeded from SHA-256 of ``parts``: identical in every process."""
    # JSON keeps the parts apart: no entity key can imitate another key plus a suffix.
    material = json.dumps([_SEED_VERSION, *parts]).encode("ascii")
    return random.Random(int.from_bytes(hashlib.sha256(material).digest(), "big"))


def _weighted(rng: random.Random, options: Sequence[tuple[_T, int]]) -> _T:
    """Pick by integer weight using only randrange, whose output is stable across versions."""
    roll = rng.randrange(sum(weight for _, weight in options))
    for value, weight in options:
        if roll < weight:
            return value
        roll -= weight
    raise AssertionError("unreachable: roll is below the total weight")


def _money(cents: int) -> Decimal:
    """Integer cents to a Decimal with exactly two places (scaleb keeps the exponent)."""
    return Decimal(cents).scaleb(-2)


def _percent(value: int, percent: int) -> int:
    return value * percent // 100


# --------------------------------------------------------------------- entity profile


@dataclass(frozen=True)
class _SupplierPlan:
    supplier: Supplier
    kind: _SupplierKind
    typical_cents: int
    late_per_mille: int


@dataclass(frozen=True)
class _Profile:
    """What is constant about an entity, seeded by its key and size only."""

    currency: str
    country: str
    methods: tuple[PaymentMethod, ...]
    suppliers: tuple[_SupplierPlan, ...]
    supplier_cum_weights: tuple[int, ...]
    payroll_cents: int
    employer_tax_bp: int
    tax_rate_bp: int
    sales_percent: int
    debtor_days: int
    equipment_cents: int
    depreciation_cents: int
    loan_cents: int
    loan_interest_cents: int
    interest_income_cents: int
    share_capital_cents: int
    monthly_costs_cents: int


def _payment_methods(country: str) -> tuple[PaymentMethod, ...]:
    euro = country in ("IE", "DE", "FR", "NL")
    bank = "SEPA credit transfer" if euro else _BANK_TRANSFER_NAMES[country]
    debit = "SEPA direct debit" if euro else _DIRECT_DEBIT_NAMES[country]
    methods = [
        PaymentMethod("PM-BANK", bank, "BankTransfer"),
        # A direct debit is the supplier pulling a bank transfer: same rail, same type.
        PaymentMethod("PM-DD", debit, "BankTransfer"),
        PaymentMethod("PM-CREDIT", "Company credit card", "CreditCard"),
        PaymentMethod("PM-DEBIT", "Business debit card", "DebitCard"),
    ]
    if _COUNTRIES[country].cheques:
        methods.append(
            PaymentMethod("PM-CHEQUE", "Check" if country == "US" else "Cheque", "Check")
        )
    methods += [
        PaymentMethod("PM-CASH", "Petty cash", "Cash"),
        PaymentMethod("PM-OTHER", "Online payment wallet", "Other"),
        # Payments the bookkeeper recorded without saying how they were made.
        PaymentMethod("PM-UNKNOWN", "Unspecified", "Unknown"),
    ]
    return tuple(methods)


_METHOD_IDS = {
    "bank": "PM-BANK",
    "direct_debit": "PM-DD",
    "credit_card": "PM-CREDIT",
    "debit_card": "PM-DEBIT",
    "cheque": "PM-CHEQUE",
    "cash": "PM-CASH",
    "other": "PM-OTHER",
}


def _registration_number(rng: random.Random, country: str) -> str:
    """A number in the shape of the country's company register (not a real one)."""

    def digits(n: int) -> str:
        return "".join(str(rng.randrange(10)) for _ in range(n))

    if country == "GB":
        return ("SC" + digits(6)) if rng.randrange(10) == 0 else ("0" + digits(7))
    if country == "IE":
        return digits(6)
    if country == "DE":
        return "HRB " + str(rng.randint(10_000, 299_999))
    if country == "FR":
        return f"{digits(3)} {digits(3)} {digits(3)}"
    if country == "NL":
        return digits(8)
    if country == "US":
        return f"{digits(2)}-{digits(7)}"
    if country == "CA":
        return digits(9)
    return f"{digits(2)} {digits(3)} {digits(3)} {digits(3)}"  # AU: ABN


def _supplier_name(rng: random.Random, kind: _SupplierKind, country: str) -> str:
    suffix = rng.choice(_COUNTRIES[country].suffixes)
    if kind.partners and rng.randrange(2) == 0:
        first, second = rng.sample(_SURNAMES, 2)
        return f"{first} & {second} {rng.choice(kind.words)} {suffix}"
    return f"{rng.choice(_STEMS)} {rng.choice(kind.words)} {suffix}"


def _brand(name: str) -> str:
    """The trading part of a name: "Oakhurst" of "Oakhurst Freight Ltd"."""
    words = name.split()
    return " ".join(words[:3]) if len(words) > 1 and words[1] == "&" else words[0]


def _unique_name(rng: random.Random, kind: _SupplierKind, country: str, taken: set[str]) -> str:
    """A name no other supplier has, preferring a brand no other supplier uses either.

    Two unrelated firms sharing a brand looks like a data error in a spend report, so
    distinct brands are tried first; large ledgers can exhaust them, and then only the
    full name has to be new.
    """
    brands = {_brand(other) for other in taken}
    attempts = 0
    while True:
        name = _supplier_name(rng, kind, country)
        attempts += 1
        if name not in taken and (attempts > 30 or _brand(name) not in brands):
            taken.add(name)
            return name


def _build_profile(entity_key: str, size: str) -> _Profile:
    # Where the entity is and what it reports in are its identity, whatever the size.
    identity = _rng(entity_key, "identity")
    currency, countries = _weighted(identity, [((c, homes), w) for c, w, homes in _CURRENCY_HOMES])
    country = identity.choice(countries)
    rng = _rng(entity_key, size, "profile")
    spec = _SIZE_SPECS[size]
    methods = _payment_methods(country)
    available = {m.id for m in methods}
    foreign = [c for c in _COUNTRIES if c != country]

    plans: list[_SupplierPlan] = []
    names: set[str] = set()
    kinds = [(kind, kind.weight) for kind in _SUPPLIER_KINDS]
    for index in range(rng.randint(*spec.suppliers)):
        kind = _weighted(rng, kinds)
        # Most suppliers are local; some are abroad but invoice in the entity's currency,
        # which keeps every bill in one currency and the statements additive.
        supplier_country = rng.choice(foreign) if rng.randrange(100) < 15 else country
        name = _unique_name(rng, kind, supplier_country, names)
        method_key = _weighted(rng, kind.methods)
        method = _METHOD_IDS[method_key]
        if method not in available:
            method = "PM-BANK"
        typical = rng.randint(*spec.bill_units) * 100 + rng.randrange(100)
        plans.append(
            _SupplierPlan(
                supplier=Supplier(
                    id=f"SUP-{index + 1:04d}",
                    name=name,
                    registration_number=_registration_number(rng, supplier_country),
                    country=supplier_country,
                    currency=currency,
                    payment_terms_days=_weighted(rng, kind.terms),
                    default_payment_method=method,
                    category=kind.category,
                ),
                kind=kind,
                typical_cents=typical * rng.choice(spec.amount_tiers),
                late_per_mille=rng.choice(_LATENESS_PER_MILLE),
            )
        )
    weights = [rng.choice(_ACTIVITY_WEIGHTS) for _ in plans]
    cum_weights: list[int] = []
    running = 0
    for weight in weights:
        running += weight
        cum_weights.append(running)

    # Size the rest of the business from the expected monthly bill spend, so payroll,
    # fixed assets and revenue stay in proportion to purchases.
    lo, hi = spec.bills_per_month
    bills_per_month_x100 = (lo + hi) * 50 * (100 - spec.empty_month_percent) // 100
    avg_bill = sum(w * p.typical_cents for w, p in zip(weights, plans, strict=True)) // running
    bill_spend = avg_bill * bills_per_month_x100 // 100
    payroll = max(spec.min_payroll_units * 100, _percent(bill_spend, rng.randint(50, 160)))
    employer_tax_bp = rng.randint(760, 1500)
    monthly_costs = bill_spend + payroll + payroll * employer_tax_bp // 10_000
    equipment = _percent(monthly_costs, rng.randint(150, 900)) // 100_00 * 100_00
    loan = _percent(equipment, rng.randint(20, 70)) // 1000_00 * 1000_00
    if rng.randrange(100) < 45:
        loan = 0
    share_capital = rng.choice((100, 1_000, 10_000, 50_000, 100_000)) * 100
    if size == "large":
        share_capital *= 100
    return _Profile(
        currency=currency,
        country=country,
        methods=methods,
        suppliers=tuple(plans),
        supplier_cum_weights=tuple(cum_weights),
        payroll_cents=payroll,
        employer_tax_bp=employer_tax_bp,
        tax_rate_bp={"GB": 2500, "US": 2100, "CA": 2650, "AU": 3000, "IE": 1250}.get(country, 2500),
        sales_percent=rng.choice((0, 40, 60, 75, 90, 100)),
        debtor_days=rng.randint(15, 60),
        equipment_cents=equipment,
        # Straight line over five years.
        depreciation_cents=equipment // 60,
        loan_cents=loan,
        # Interest-only facility at a fixed rate: the same charge every month.
        loan_interest_cents=loan * rng.randint(450, 950) // 10_000 // 12,
        interest_income_cents=_percent(monthly_costs, rng.randint(0, 40)) // 100,
        share_capital_cents=share_capital,
        monthly_costs_cents=monthly_costs,
    )


# ------------------------------------------------------------------- monthly activity


@dataclass(frozen=True)
class _Month:
    start: date  # first day of the calendar month
    end: date  # last day covered: the month end, or period_end in the final month
    days_in_month: int


@dataclass
class _BillDraft:
    bill: Bill
    amount_cents: int
    # (payment date, cents, payment method id), before cutting at period_end
    schedule: list[tuple[date, int, str]]


@dataclass(frozen=True)
class _MonthDraws:
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
    plan: _SupplierPlan,
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
            part = max(1, _percent(remaining, rng.randint(30, 70)))
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


def _month_activity(
    entity_key: str, size: str, profile: _Profile, month: _Month
) -> tuple[_MonthDraws, list[_BillDraft]]:
    """The month's draws and its bills for the whole calendar month.

    Seeded by the calendar month, not the requested period, and drawn in full before the
    caller cuts at period_end, so a month pulled part-way through is a prefix of the
    same month pulled later.
    """
    rng = _rng(entity_key, size, f"{month.start.year:04d}-{month.start.month:02d}")
    spec = _SIZE_SPECS[size]
    draws = _MonthDraws(margin_bp=rng.randint(-800, 2200), payroll_percent=rng.randint(96, 105))
    count = rng.randint(*spec.bills_per_month)
    if rng.randrange(100) < spec.empty_month_percent:
        count = 0
    total_weight = profile.supplier_cum_weights[-1]
    other_accounts = sorted(BILL_ACCOUNT_IDS)
    raw: list[tuple[date, int, _SupplierPlan, int, str, list[tuple[date, int, str]]]] = []
    for position in range(count):
        plan = profile.suppliers[
            bisect_right(profile.supplier_cum_weights, rng.randrange(total_weight))
        ]
        issue = month.start + timedelta(days=rng.randrange(month.days_in_month))
        due = issue + timedelta(days=plan.supplier.payment_terms_days)
        amount = max(100, _percent(plan.typical_cents, rng.randint(*plan.kind.variation)))
        # Now and then a bill is coded to another expense line, as bookkeepers do.
        account = plan.kind.account_id
        if rng.randrange(100) < 5:
            account = rng.choice(other_accounts)
        schedule = _payment_schedule(rng, plan, issue, due, amount, profile.methods)
        raw.append((issue, position, plan, amount, account, schedule))
    raw.sort(key=lambda item: (item[0], item[1]))

    drafts: list[_BillDraft] = []
    for number, (issue, _, plan, amount, account, schedule) in enumerate(raw, start=1):
        bill = Bill(
            id=f"BILL-{month.start.year:04d}{month.start.month:02d}-{number:04d}",
            supplier_id=plan.supplier.id,
            issue_date=issue,
            due_date=issue + timedelta(days=plan.supplier.payment_terms_days),
            amount=_money(amount),
            currency=profile.currency,
            account_id=account,
            status="Open",  # settled below, once the cut-off is known
        )
        drafts.append(_BillDraft(bill=bill, amount_cents=amount, schedule=schedule))
    return draws, drafts


def _months(period_end: date, months: int) -> list[_Month]:
    result: list[_Month] = []
    year, month = period_end.year, period_end.month
    for _ in range(months):
        days = calendar.monthrange(year, month)[1]
        start = date(year, month, 1)
        result.append(_Month(start, min(date(year, month, days), period_end), days))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    result.reverse()
    return result


# ------------------------------------------------------------------------- generation


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
    if size not in _SIZE_SPECS:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError("months must be a positive integer")
    # A datetime is a date subclass but does not compare with dates; refuse it outright.
    if not isinstance(period_end, date) or isinstance(period_end, datetime):
        raise TypeError("period_end must be a datetime.date")

    profile = _build_profile(entity_key, size)
    periods = _months(period_end, months)
    period_start = periods[0].start

    # Pass 1: every month's activity, then cut at period_end.
    draws: list[_MonthDraws] = []
    bills_by_month: list[list[_BillDraft]] = []
    for month in periods:
        month_draws, drafts = _month_activity(entity_key, size, profile, month)
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
                        amount=_money(cents),
                        payment_method=method,
                    )
                )
                paid += cents
            status = "Paid" if paid == draft.amount_cents else "PartiallyPaid" if paid else "Open"
            bills.append(_replace_status(draft.bill, status))
    payments.sort(key=lambda p: (p.date, p.id))

    # Pass 2: post everything by double entry, month by month.
    pnl, sheets = _post_books(entity_key, size, profile, periods, draws, bills_by_month, payments)
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


class _Books:
    """Debit-positive integer-cent balances; every posting is balanced by construction."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = dict.fromkeys((a.id for a in ACCOUNTS), 0)

    def post(self, debit: str, credit: str, cents: int) -> None:
        self.balances[debit] += cents
        self.balances[credit] -= cents


def _post_books(
    entity_key: str,
    size: str,
    profile: _Profile,
    periods: list[_Month],
    draws: list[_MonthDraws],
    bills_by_month: list[list[_BillDraft]],
    payments: list[BillPayment],
) -> tuple[list[ProfitAndLossPeriod], list[BalanceSheet]]:
    books = _Books()
    _post_opening(books, entity_key, size, profile, periods[0])

    payment_cents = {p.id: int(p.amount.scaleb(2)) for p in payments}
    pnl: list[ProfitAndLossPeriod] = []
    sheets: list[BalanceSheet] = []
    payment_index = 0
    for month, month_draws, drafts in zip(periods, draws, bills_by_month, strict=True):
        before = {account_id: books.balances[account_id] for account_id in _PROFIT_AND_LOSS_IDS}
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

        wages = pro_rata(_percent(profile.payroll_cents, month_draws.payroll_percent))
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
        sales = _percent(revenue, profile.sales_percent)
        books.post(ACCOUNTS_RECEIVABLE, SALES, sales)
        books.post(ACCOUNTS_RECEIVABLE, SERVICES_REVENUE, revenue - sales)
        receivable = books.balances[ACCOUNTS_RECEIVABLE]
        closing_receivable = min(receivable, revenue * profile.debtor_days // 30)
        books.post(CASH, ACCOUNTS_RECEIVABLE, receivable - closing_receivable)

        profit_before_tax = revenue + interest_income - costs
        tax = max(profit_before_tax, 0) * profile.tax_rate_bp // 10_000
        books.post(CORPORATION_TAX, TAX_PAYABLE, tax)

        lines = []
        for account_id in _PROFIT_AND_LOSS_IDS:
            movement = books.balances[account_id] - before[account_id]
            # Income accounts carry credit balances; show them positive.
            lines.append(
                (
                    account_id,
                    _money(-movement if _CATEGORY_OF[account_id] == "Income" else movement),
                )
            )
        pnl.append(ProfitAndLossPeriod(start=month.start, end=month.end, lines=tuple(lines)))
        sheets.append(BalanceSheet(date=month.end, lines=_balance_sheet_lines(books)))
    return pnl, sheets


def _post_opening(
    books: _Books, entity_key: str, size: str, profile: _Profile, first: _Month
) -> None:
    """The position brought forward into the period; retained earnings balance it.

    Accounts payable opens at zero because the ledger holds only the bills of the period,
    and accounts payable must always equal their open balances.
    """
    rng = _rng(entity_key, size, "opening", first.start.isoformat())
    monthly = profile.monthly_costs_cents
    books.post(CASH, RETAINED_EARNINGS, _percent(monthly, rng.randint(80, 300)))
    books.post(ACCOUNTS_RECEIVABLE, RETAINED_EARNINGS, monthly * profile.debtor_days // 30)
    books.post(EQUIPMENT, RETAINED_EARNINGS, profile.equipment_cents)
    books.post(
        RETAINED_EARNINGS,
        ACCUMULATED_DEPRECIATION,
        _percent(profile.equipment_cents, rng.randint(5, 50)),
    )
    books.post(
        RETAINED_EARNINGS,
        PAYROLL_LIABILITIES,
        profile.payroll_cents * profile.employer_tax_bp // 10_000,
    )
    books.post(RETAINED_EARNINGS, TAX_PAYABLE, _percent(monthly, rng.randint(0, 8)))
    books.post(CASH, BANK_LOAN, profile.loan_cents)
    books.post(RETAINED_EARNINGS, SHARE_CAPITAL, profile.share_capital_cents)


def _balance_sheet_lines(books: _Books) -> tuple[tuple[str, Decimal], ...]:
    balances = books.balances
    cash = balances[CASH]
    # Earnings since the period began: the profit and loss accounts are not closed
    # during the period, so their combined credit balance is exactly cumulative profit.
    earnings = -sum(balances[account_id] for account_id in _PROFIT_AND_LOSS_IDS)
    lines = []
    for account_id in _BALANCE_SHEET_IDS:
        if account_id == CASH:
            amount = max(cash, 0)
        elif account_id == BANK_OVERDRAFT:
            # An overdrawn bank account is a liability, not a negative asset.
            amount = max(-cash, 0)
        elif account_id == CURRENT_PERIOD_EARNINGS:
            amount = earnings
        elif _CATEGORY_OF[account_id] == "Asset":
            amount = balances[account_id]
        else:
            amount = -balances[account_id]
        lines.append((account_id, _money(amount)))
    return tuple(lines)


# --------------------------------------------------------------------- serialization

_DATE_FIELDS = frozenset({"issue_date", "due_date", "date", "start", "end"})
_MONEY_FIELDS = frozenset({"amount"})


def _record_to_dict(record: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for field in fields(record):
        value = getattr(record, field.name)
        if field.name == "lines":
            value = [{"account_id": a, "amount": str(amount)} for a, amount in value]
        elif isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, date):
            value = value.isoformat()
        result[field.name] = value
    return result


def ledger_to_dict(ledger: Ledger) -> dict[str, Any]:
    """The ledger as JSON-safe data: Decimals as strings, dates as ISO strings.

    ``ledger_from_dict`` reverses it exactly.
    """
    return {
        "entity_key": ledger.entity_key,
        "currency": ledger.currency,
        "period_start": ledger.period_start.isoformat(),
        "period_end": ledger.period_end.isoformat(),
        "accounts": [_record_to_dict(a) for a in ledger.accounts],
        "suppliers": [_record_to_dict(s) for s in ledger.suppliers],
        "bills": [_record_to_dict(b) for b in ledger.bills],
        "payments": [_record_to_dict(p) for p in ledger.payments],
        "payment_methods": [_record_to_dict(m) for m in ledger.payment_methods],
        "profit_and_loss": [_record_to_dict(p) for p in ledger.profit_and_loss],
        "balance_sheets": [_record_to_dict(b) for b in ledger.balance_sheets],
    }


def _record_from_dict(cls: type[_T], data: dict[str, Any]) -> _T:
    kwargs: dict[str, Any] = {}
    for field in fields(cls):  # type: ignore[arg-type]
        value = data[field.name]
        if field.name == "lines":
            value = tuple((line["account_id"], Decimal(line["amount"])) for line in value)
        elif field.name in _DATE_FIELDS:
            value = date.fromisoformat(value)
        elif field.name in _MONEY_FIELDS:
            value = Decimal(value)
        kwargs[field.name] = value
    return cls(**kwargs)


def ledger_from_dict(data: dict[str, Any]) -> Ledger:
    """Rebuild a Ledger from ``ledger_to_dict`` output (e.g. after a JSON round trip)."""
    return Ledger(
        entity_key=data["entity_key"],
        currency=data["currency"],
        period_start=date.fromisoformat(data["period_start"]),
        period_end=date.fromisoformat(data["period_end"]),
        accounts=tuple(_record_from_dict(Account, a) for a in data["accounts"]),
        suppliers=tuple(_record_from_dict(Supplier, s) for s in data["suppliers"]),
        bills=tuple(_record_from_dict(Bill, b) for b in data["bills"]),
        payments=tuple(_record_from_dict(BillPayment, p) for p in data["payments"]),
        payment_methods=tuple(_record_from_dict(PaymentMethod, m) for m in data["payment_methods"]),
        profit_and_loss=tuple(
            _record_from_dict(ProfitAndLossPeriod, p) for p in data["profit_and_loss"]
        ),
        balance_sheets=tuple(_record_from_dict(BalanceSheet, b) for b in data["balance_sheets"]),
    )


def ledger_summary(ledger: Ledger) -> dict[str, Any]:
    """Headline figures for storing alongside a pull; JSON-safe like ``ledger_to_dict``."""
    bill_total = sum((b.amount for b in ledger.bills), Decimal("0.00"))
    payment_total = sum((p.amount for p in ledger.payments), Decimal("0.00"))
    return {
        "entity_key": ledger.entity_key,
        "currency": ledger.currency,
        "period_start": ledger.period_start.isoformat(),
        "period_end": ledger.period_end.isoformat(),
        "months": len(ledger.profit_and_loss),
        "supplier_count": len(ledger.suppliers),
        "bill_count": len(ledger.bills),
        "bill_total": str(bill_total),
        "payment_count": len(ledger.payments),
        "payment_total": str(payment_total),
        "open_bill_count": sum(1 for b in ledger.bills if b.status != "Paid"),
        "outstanding_total": str(bill_total - payment_total),
    }


# ------------------------------------------------------------------ report helpers


def net_profit(period: ProfitAndLossPeriod) -> Decimal:
    """Income minus expenses for one profit and loss period."""
    total = Decimal("0.00")
    for account_id, amount in period.lines:
        category = _CATEGORY_OF.get(account_id)
        if category == "Income":
            total += amount
        elif category == "Expense":
            total -= amount
    return total
