"""What is constant about an entity: its currency, country, suppliers and payroll."""

from __future__ import annotations

import random
from dataclasses import dataclass

from journey.ledger.catalogue import (
    ACTIVITY_WEIGHTS,
    BANK_TRANSFER_NAMES,
    COUNTRIES,
    CURRENCY_HOMES,
    DIRECT_DEBIT_NAMES,
    LATENESS_PER_MILLE,
    SIZE_SPECS,
    STEMS,
    SUPPLIER_KINDS,
    SURNAMES,
    SupplierKind,
)
from journey.ledger.randomness import percent_of, seeded_rng, weighted_choice
from journey.ledger.records import PaymentMethod, Supplier


@dataclass(frozen=True)
class SupplierPlan:
    supplier: Supplier
    kind: SupplierKind
    typical_cents: int
    late_per_mille: int


@dataclass(frozen=True)
class Profile:
    """What is constant about an entity, seeded by its key and size only."""

    currency: str
    country: str
    methods: tuple[PaymentMethod, ...]
    suppliers: tuple[SupplierPlan, ...]
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
    bank = "SEPA credit transfer" if euro else BANK_TRANSFER_NAMES[country]
    debit = "SEPA direct debit" if euro else DIRECT_DEBIT_NAMES[country]
    methods = [
        PaymentMethod("PM-BANK", bank, "BankTransfer"),
        # A direct debit is the supplier pulling a bank transfer: same rail, same type.
        PaymentMethod("PM-DD", debit, "BankTransfer"),
        PaymentMethod("PM-CREDIT", "Company credit card", "CreditCard"),
        PaymentMethod("PM-DEBIT", "Business debit card", "DebitCard"),
    ]
    if COUNTRIES[country].cheques:
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


def _supplier_name(rng: random.Random, kind: SupplierKind, country: str) -> str:
    suffix = rng.choice(COUNTRIES[country].suffixes)
    if kind.partners and rng.randrange(2) == 0:
        first, second = rng.sample(SURNAMES, 2)
        return f"{first} & {second} {rng.choice(kind.words)} {suffix}"
    return f"{rng.choice(STEMS)} {rng.choice(kind.words)} {suffix}"


def _brand(name: str) -> str:
    """The trading part of a name: "Oakhurst" of "Oakhurst Freight Ltd"."""
    words = name.split()
    return " ".join(words[:3]) if len(words) > 1 and words[1] == "&" else words[0]


def _unique_name(rng: random.Random, kind: SupplierKind, country: str, taken: set[str]) -> str:
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


def build_profile(entity_key: str, size: str) -> Profile:
    """The entity's profile, drawn from its key and size alone."""
    # Where the entity is and what it reports in are its identity, whatever the size.
    identity = seeded_rng(entity_key, "identity")
    currency, countries = weighted_choice(
        identity, [((c, homes), w) for c, w, homes in CURRENCY_HOMES]
    )
    country = identity.choice(countries)
    rng = seeded_rng(entity_key, size, "profile")
    spec = SIZE_SPECS[size]
    methods = _payment_methods(country)
    available = {m.id for m in methods}
    foreign = [c for c in COUNTRIES if c != country]

    plans: list[SupplierPlan] = []
    names: set[str] = set()
    kinds = [(kind, kind.weight) for kind in SUPPLIER_KINDS]
    for index in range(rng.randint(*spec.suppliers)):
        kind = weighted_choice(rng, kinds)
        # Most suppliers are local; some are abroad but invoice in the entity's currency,
        # which keeps every bill in one currency and the statements additive.
        supplier_country = rng.choice(foreign) if rng.randrange(100) < 15 else country
        name = _unique_name(rng, kind, supplier_country, names)
        method_key = weighted_choice(rng, kind.methods)
        method = _METHOD_IDS[method_key]
        if method not in available:
            method = "PM-BANK"
        typical = rng.randint(*spec.bill_units) * 100 + rng.randrange(100)
        plans.append(
            SupplierPlan(
                supplier=Supplier(
                    id=f"SUP-{index + 1:04d}",
                    name=name,
                    registration_number=_registration_number(rng, supplier_country),
                    country=supplier_country,
                    currency=currency,
                    payment_terms_days=weighted_choice(rng, kind.terms),
                    default_payment_method=method,
                    category=kind.category,
                ),
                kind=kind,
                typical_cents=typical * rng.choice(spec.amount_tiers),
                late_per_mille=rng.choice(LATENESS_PER_MILLE),
            )
        )
    weights = [rng.choice(ACTIVITY_WEIGHTS) for _ in plans]
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
    payroll = max(spec.min_payroll_units * 100, percent_of(bill_spend, rng.randint(50, 160)))
    employer_tax_bp = rng.randint(760, 1500)
    monthly_costs = bill_spend + payroll + payroll * employer_tax_bp // 10_000
    equipment = percent_of(monthly_costs, rng.randint(150, 900)) // 100_00 * 100_00
    loan = percent_of(equipment, rng.randint(20, 70)) // 1000_00 * 1000_00
    if rng.randrange(100) < 45:
        loan = 0
    share_capital = rng.choice((100, 1_000, 10_000, 50_000, 100_000)) * 100
    if size == "large":
        share_capital *= 100
    return Profile(
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
        interest_income_cents=percent_of(monthly_costs, rng.randint(0, 40)) // 100,
        share_capital_cents=share_capital,
        monthly_costs_cents=monthly_costs,
    )
