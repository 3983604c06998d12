"""What the generator draws from: kinds of supplier, names, countries and sizes of business."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SupplierKind:
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

SUPPLIER_KINDS: tuple[SupplierKind, ...] = (
    SupplierKind(
        "Raw materials",
        "ACC-5000",
        ("Materials", "Metals", "Polymers", "Timber", "Components", "Packaging"),
        5,
        _STANDARD_TERMS,
        _TRADE_METHODS,
        (55, 160),
    ),
    SupplierKind(
        "Subcontracting",
        "ACC-5100",
        ("Engineering", "Fabrication", "Contractors", "Installations"),
        3,
        _STANDARD_TERMS,
        _TRADE_METHODS,
        (60, 150),
        partners=True,
    ),
    SupplierKind(
        "Logistics",
        "ACC-5200",
        ("Freight", "Logistics", "Haulage", "Couriers", "Shipping"),
        3,
        ((7, 2), (14, 3), (30, 5), (45, 1), (60, 1)),
        _TRADE_METHODS,
        (60, 140),
    ),
    SupplierKind(
        "Facilities",
        "ACC-6000",
        ("Properties", "Estates", "Facilities", "Cleaning Services", "Maintenance"),
        2,
        ((0, 3), (7, 1), (14, 2), (30, 3)),
        (("bank", 60), ("direct_debit", 30), ("cheque", 10)),
        (100, 100),  # rent and service charges are the same every time
    ),
    SupplierKind(
        "Utilities",
        "ACC-6100",
        ("Energy", "Power", "Water", "Telecom", "Networks"),
        2,
        ((14, 3), (30, 2)),
        (("direct_debit", 70), ("bank", 30)),
        (80, 125),
    ),
    SupplierKind(
        "Software",
        "ACC-6200",
        ("Software", "Cloud", "Systems", "Digital", "Analytics"),
        3,
        ((0, 4), (30, 2)),
        (("credit_card", 60), ("direct_debit", 25), ("bank", 15)),
        (100, 100),  # subscriptions bill a fixed fee
    ),
    SupplierKind(
        "Professional services",
        "ACC-6300",
        ("Consulting", "Advisory", "Accountants", "Solicitors", "Partners"),
        3,
        ((14, 2), (30, 5), (45, 1), (60, 1)),
        (("bank", 85), ("cheque", 10), ("other", 5)),
        (50, 170),
        partners=True,
    ),
    SupplierKind(
        "Marketing",
        "ACC-6400",
        ("Media", "Creative", "Marketing", "Print", "Studios"),
        2,
        ((0, 1), (14, 2), (30, 4), (60, 1)),
        (("bank", 50), ("credit_card", 40), ("other", 10)),
        (50, 180),
    ),
    SupplierKind(
        "Travel",
        "ACC-6500",
        ("Travel", "Hotels", "Transport", "Car Hire"),
        1,
        ((0, 4), (7, 2), (30, 1)),
        (("credit_card", 60), ("debit_card", 25), ("bank", 10), ("cash", 5)),
        (40, 200),
    ),
    SupplierKind(
        "Office supplies",
        "ACC-6600",
        ("Office Supplies", "Stationers", "Furniture", "Print Supplies"),
        1,
        ((0, 3), (14, 2), (30, 3)),
        (("debit_card", 40), ("credit_card", 30), ("bank", 20), ("cash", 10)),
        (50, 150),
    ),
)

BILL_ACCOUNT_IDS: frozenset[str] = frozenset(k.account_id for k in SUPPLIER_KINDS)

# Invented place-like stems; combined with trade words they read like real firms without
# being any particular one.
STEMS: tuple[str, ...] = (
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
SURNAMES: tuple[str, ...] = (
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


COUNTRIES: dict[str, _Country] = {
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
CURRENCY_HOMES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("GBP", 3, ("GB",)),
    ("EUR", 3, ("IE", "DE", "FR", "NL")),
    ("USD", 3, ("US",)),
    ("CAD", 1, ("CA",)),
    ("AUD", 1, ("AU",)),
)

# Local names for the same payment rails, so a UK ledger says BACS and a US one says ACH.
BANK_TRANSFER_NAMES = {
    "GB": "BACS transfer",
    "US": "ACH transfer",
    "CA": "EFT transfer",
    "AU": "EFT transfer",
}
DIRECT_DEBIT_NAMES = {
    "GB": "Direct Debit",
    "US": "ACH debit",
    "CA": "Pre-authorized debit",
    "AU": "Direct debit",
}

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


SIZE_SPECS: dict[str, _SizeSpec] = {
    # ~10 bills a year from ~3 suppliers: small enough to check by hand.
    "small": _SizeSpec((2, 4), (1, 1), 17, (120, 2_500), (1, 1, 1, 2), 3_000),
    "medium": _SizeSpec((22, 28), (20, 30), 0, (250, 9_000), _FULL_TIERS, 40_000),
    "large": _SizeSpec((110, 130), (225, 275), 0, (400, 30_000), _FULL_TIERS, 600_000),
}

ACTIVITY_WEIGHTS = (1, 1, 1, 2, 2, 3, 5, 8, 13)
# Per mille chance that a supplier's bill is paid after its due date.
LATENESS_PER_MILLE = (50, 100, 150, 250, 400, 600)
