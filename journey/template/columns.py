"""The supplier template's columns and limits: what the workbook asks for and uploads must match."""

from __future__ import annotations

from dataclasses import dataclass

MAX_UPLOAD_BYTES = 1_000_000
"""Largest upload accepted, in bytes (1 MB)."""
MAX_ROWS = 10_000
"""Most supplier rows accepted in one upload (blank rows are not counted)."""

SUPPLIERS_SHEET = "Suppliers"
INSTRUCTIONS_SHEET = "Instructions"

# Vocabulary of Codat Spend Insights' PaymentMethodAnalysis.biggestCountPaymentMethod enum, so an
# uploaded file lines up with spend analysis pulled from accounting software.
PAYMENT_METHODS: tuple[str, ...] = (
    "BankTransfer",
    "CreditCard",
    "DebitCard",
    "Check",
    "Cash",
    "Other",
    "Unknown",
)


@dataclass(frozen=True)
class TemplateColumn:
    """One column of the supplier template, as documented to the customer."""

    key: str
    header: str
    required: bool
    description: str
    example: str


SUPPLIER_COLUMNS: tuple[TemplateColumn, ...] = (
    TemplateColumn(
        "supplier_name",
        "Supplier name",
        True,
        "Legal or trading name of the supplier, as it appears on its invoices. "
        "Up to 200 characters.",
        "Acme Office Supplies Ltd",
    ),
    TemplateColumn(
        "registration_number",
        "Registration number",
        False,
        "Company registration number or tax ID (for example a VAT number). Letters, digits, "
        "spaces, '-' and '.' only; up to 50 characters.",
        "GB123456789",
    ),
    TemplateColumn(
        "country",
        "Country",
        True,
        "Country where the supplier is based, as a two-letter ISO 3166-1 code "
        "(GB for the United Kingdom, US for the United States).",
        "GB",
    ),
    TemplateColumn(
        "currency",
        "Currency",
        True,
        "Currency you pay this supplier in, as a three-letter ISO 4217 code.",
        "GBP",
    ),
    TemplateColumn(
        "annual_spend",
        "Annual spend",
        True,
        "Total paid to this supplier over the last 12 months, in the currency above. "
        "A number of 0 or more, at most 2 decimal places, below 1,000,000,000,000; "
        "no currency symbols.",
        "125000.50",
    ),
    TemplateColumn(
        "payment_terms_days",
        "Payment terms (days)",
        True,
        "Agreed number of days to pay this supplier's invoices: a whole number from 0 to 365 "
        "(0 means payment on receipt).",
        "30",
    ),
    TemplateColumn(
        "preferred_payment_method",
        "Preferred payment method",
        True,
        "How you usually pay this supplier. One of: "
        + ", ".join(PAYMENT_METHODS)
        + ". 'Cheque' is accepted as Check; spacing and capitals do not matter.",
        "BankTransfer",
    ),
    TemplateColumn(
        "contact_email",
        "Contact email",
        False,
        "Email address of the supplier's accounts contact.",
        "accounts@acme.example",
    ),
    TemplateColumn(
        "category",
        "Category",
        False,
        "What you buy from this supplier, in your own words. Up to 100 characters.",
        "Office supplies",
    ),
    TemplateColumn(
        "notes",
        "Notes",
        False,
        "Anything else we should know about this supplier. Up to 500 characters; "
        "line breaks are allowed.",
        "Contract renews every March",
    ),
)
