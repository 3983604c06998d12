"""The supplier information template: building it, and validating what an upload holds
(hostile files are in ``test_template_hostile.py``)."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import zipfile
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

from journey import template
from journey.template import (
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    PAYMENT_METHODS,
    SUPPLIER_COLUMNS,
    SupplierRecord,
    UploadError,
    UploadRejected,
    build_template,
    parse_upload,
    validate,
)
from tests.support.supplier_files import (
    HEADER_OF,
    HEADERS,
    make_xlsx,
    rejected,
    rewrite_zip,
    row,
)


def test_columns_are_the_documented_ones_in_order() -> None:
    assert [c.key for c in SUPPLIER_COLUMNS] == [
        "supplier_name",
        "registration_number",
        "country",
        "currency",
        "annual_spend",
        "payment_terms_days",
        "preferred_payment_method",
        "contact_email",
        "category",
        "notes",
    ]
    required = {c.key for c in SUPPLIER_COLUMNS if c.required}
    assert required == {
        "supplier_name",
        "country",
        "currency",
        "annual_spend",
        "payment_terms_days",
        "preferred_payment_method",
    }


def test_payment_methods_follow_codat_spend_insights_vocabulary() -> None:
    assert set(PAYMENT_METHODS) == {
        "Unknown",
        "Cash",
        "Check",
        "CreditCard",
        "DebitCard",
        "BankTransfer",
        "Other",
    }


def test_template_suppliers_sheet_layout() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(build_template()))
    assert workbook.sheetnames == ["Suppliers", "Instructions"]
    sheet = workbook["Suppliers"]
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == 1, "the template must not contain data rows"
    for index in range(1, len(HEADERS) + 1):
        letter = openpyxl.utils.get_column_letter(index)
        assert sheet.column_dimensions[letter].width >= len(HEADERS[index - 1])

    (dropdown,) = sheet.data_validations.dataValidation
    method_letter = openpyxl.utils.get_column_letter(
        HEADERS.index(HEADER_OF["preferred_payment_method"]) + 1
    )
    assert dropdown.type == "list"
    assert str(dropdown.sqref) == f"{method_letter}2:{method_letter}{MAX_ROWS + 1}"
    assert dropdown.formula1.strip('"').split(",") == list(PAYMENT_METHODS)


def test_instructions_document_every_column_and_the_limits() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(build_template()))
    rows = [
        [cell for cell in values if cell is not None]
        for values in workbook["Instructions"].iter_rows(values_only=True)
    ]
    for column in SUPPLIER_COLUMNS:
        expected = [
            column.header,
            "Yes" if column.required else "No",
            column.description,
            column.example,
        ]
        assert expected in rows, f"{column.header} is not documented"
    text = "\n".join(str(cell) for values in rows for cell in values)
    assert ".xlsx" in text
    assert "1 MB" in text
    assert f"{MAX_ROWS:,}" in text
    assert "formulas" in text.lower()


def test_template_is_byte_for_byte_reproducible() -> None:
    first = build_template()
    assert build_template() == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2024, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "2024-01-01T00:00:00Z" in core


def test_blank_template_is_rejected_for_having_no_rows() -> None:
    error = rejected(build_template())
    assert error.errors == [
        UploadError(
            None,
            None,
            "The 'Suppliers' sheet has no supplier rows. "
            "Add at least one supplier below the header row.",
        )
    ]


def test_round_trip_through_the_template() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(build_template()))
    sheet = workbook["Suppliers"]
    sheet.append(
        [
            "Acme Office Supplies Ltd",
            "GB123456789",
            "GB",
            "GBP",
            125000.5,
            30,
            "BankTransfer",
            "accounts@acme.example",
            "Office supplies",
            "Contract renews every March",
        ]
    )
    sheet.append([])  # blank rows are skipped but still count for row numbers
    sheet.append(
        [
            "  Café Müller GmbH ",
            12345678,
            "de",
            "eur",
            "1,234.50",
            "45",
            "bank transfer",
            None,
            None,
            "Line one\r\nLine two",
        ]
    )
    sheet.append(["Zero Co", None, "US", "USD", 0, 0.0, "Cheque", None, "", None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    records = parse_upload(buffer.getvalue(), "Suppliers.XLSX")

    assert records == [
        SupplierRecord(
            supplier_name="Acme Office Supplies Ltd",
            registration_number="GB123456789",
            country="GB",
            currency="GBP",
            annual_spend=Decimal("125000.50"),
            payment_terms_days=30,
            preferred_payment_method="BankTransfer",
            contact_email="accounts@acme.example",
            category="Office supplies",
            notes="Contract renews every March",
        ),
        SupplierRecord(
            supplier_name="Café Müller GmbH",
            registration_number="12345678",
            country="DE",
            currency="EUR",
            annual_spend=Decimal("1234.50"),
            payment_terms_days=45,
            preferred_payment_method="BankTransfer",
            contact_email=None,
            category=None,
            notes="Line one\nLine two",
        ),
        SupplierRecord(
            supplier_name="Zero Co",
            registration_number=None,
            country="US",
            currency="USD",
            annual_spend=Decimal("0.00"),
            payment_terms_days=0,
            preferred_payment_method="Check",
            contact_email=None,
            category=None,
            notes=None,
        ),
    ]


def test_to_dict_is_json_safe() -> None:
    (record,) = parse_upload(make_xlsx([row(annual_spend=10.5, notes="hi")]), "s.xlsx")
    as_dict = record.to_dict()
    assert as_dict["annual_spend"] == "10.50"
    assert as_dict["payment_terms_days"] == 30
    assert as_dict["notes"] == "hi"
    assert list(as_dict) == [c.key for c in SUPPLIER_COLUMNS]
    assert json.loads(json.dumps(as_dict)) == as_dict


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("supplier_name", "  Acme  ", "Acme"),
        ("supplier_name", "Cafe\u0301", "Café"),  # NFC-normalised
        ("supplier_name", 3, "3"),
        ("registration_number", "AB-12.34 5", "AB-12.34 5"),
        ("registration_number", 1234567.0, "1234567"),
        ("country", " gb ", "GB"),
        ("currency", "eur", "EUR"),
        ("annual_spend", "1,234,567.89", Decimal("1234567.89")),
        ("annual_spend", " 42 ", Decimal("42.00")),
        ("annual_spend", 0.1, Decimal("0.10")),
        ("annual_spend", 1234.4999999999998, Decimal("1234.50")),
        ("annual_spend", "-0", Decimal("0.00")),
        ("annual_spend", 999_999_999_999.99, Decimal("999999999999.99")),
        ("payment_terms_days", "60", 60),
        ("payment_terms_days", 365, 365),
        ("payment_terms_days", 14.0, 14),
        ("preferred_payment_method", "credit card", "CreditCard"),
        ("preferred_payment_method", "DEBIT_CARD", "DebitCard"),
        ("preferred_payment_method", "bank-transfer", "BankTransfer"),
        ("preferred_payment_method", "cheque", "Check"),
        ("preferred_payment_method", "unknown", "Unknown"),
        ("contact_email", " ap@supplier.co.uk ", "ap@supplier.co.uk"),
        ("notes", "a\tb\nc", "a\tb\nc"),
    ],
)
def test_accepted_values_are_normalised(key: str, value: Any, expected: Any) -> None:
    (record,) = parse_upload(make_xlsx([row(**{key: value})]), "s.xlsx")
    assert getattr(record, key) == expected


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("supplier_name", None, "a value is required"),
        ("supplier_name", "   ", "a value is required"),
        ("supplier_name", "x" * 201, "is too long (201 characters; the maximum is 200)"),
        (
            "supplier_name",
            "Acme\tLtd",
            "contains line breaks, tabs or control characters, which are not allowed",
        ),
        (
            "supplier_name",
            "Acme\nLtd",
            "contains line breaks, tabs or control characters, which are not allowed",
        ),
        (
            "supplier_name",
            "Acme\x9b31mLtd",  # C1 CSI: a terminal escape sequence that is legal in XML
            "contains line breaks, tabs or control characters, which are not allowed",
        ),
        (
            "supplier_name",
            "Acme\u202eLtd",  # right-to-left override
            "contains line breaks, tabs or control characters, which are not allowed",
        ),
        ("supplier_name", True, "expected text, not TRUE/FALSE"),
        ("supplier_name", dt.datetime(2024, 5, 1), "expected text, not a date or time"),
        (
            "registration_number",
            "AB/123",
            "may contain only letters, digits, spaces, '-' and '.'",
        ),
        ("registration_number", "1" * 51, "is too long (51 characters; the maximum is 50)"),
        ("country", "XX", "'XX' is not an ISO 3166 country code"),
        ("country", "UK", "'UK' is not an ISO 3166 country code (use GB for the United Kingdom)"),
        (
            "country",
            "GBR",
            "'GBR' is not an ISO 3166 country code (use the two-letter code, for example GB)",
        ),
        ("country", None, "a value is required"),
        ("currency", "XYZ", "'XYZ' is not an ISO 4217 currency code"),
        ("currency", "XAU", "'XAU' is not an ISO 4217 currency code"),
        ("currency", None, "a value is required"),
        ("annual_spend", None, "a value is required"),
        ("annual_spend", -1, "must be 0 or more"),
        ("annual_spend", "-0.01", "must be 0 or more"),
        ("annual_spend", "12.345", "must have at most 2 decimal places"),
        ("annual_spend", 0.125, "must have at most 2 decimal places"),
        ("annual_spend", 1e12, "must be less than 1,000,000,000,000"),
        ("annual_spend", "abc", "'abc' is not a number"),
        ("annual_spend", "1,23.4", "'1,23.4' is not a number"),
        ("annual_spend", "£100", "'£100' is not a number"),
        ("annual_spend", "1e5", "'1e5' is not a number"),
        ("annual_spend", "NaN", "'NaN' is not a number"),
        ("annual_spend", True, "expected a number, not TRUE/FALSE"),
        ("annual_spend", dt.date(2024, 1, 1), "expected a number, not a date or time"),
        ("payment_terms_days", 366, "must be between 0 and 365"),
        ("payment_terms_days", -1, "must be between 0 and 365"),
        ("payment_terms_days", 30.5, "must be a whole number of days"),
        ("payment_terms_days", "thirty", "'thirty' is not a number"),
        ("payment_terms_days", None, "a value is required"),
        (
            "preferred_payment_method",
            "Card",
            "'Card' is not a recognised payment method; use one of "
            "BankTransfer, CreditCard, DebitCard, Check, Cash, Other, Unknown",
        ),
        ("preferred_payment_method", None, "a value is required"),
        ("contact_email", "not-an-email", "'not-an-email' is not a valid email address"),
        ("contact_email", "a@b", "'a@b' is not a valid email address"),
        ("contact_email", "a b@c.com", "'a b@c.com' is not a valid email address"),
        ("contact_email", "a@@c.com", "'a@@c.com' is not a valid email address"),
        ("category", "x" * 101, "is too long (101 characters; the maximum is 100)"),
        (
            "category",
            "a\tb",
            "contains line breaks, tabs or control characters, which are not allowed",
        ),
        ("notes", "x" * 501, "is too long (501 characters; the maximum is 500)"),
        ("notes", "ok\x85", "contains control characters, which are not allowed"),
        ("notes", "ok\x7f", "contains control characters, which are not allowed"),
        ("annual_spend", "=1+2", "formulas are not accepted; enter the value"),
        ("annual_spend", "#N/A", "the cell shows the Excel error '#N/A'; enter the value"),
    ],
)
def test_invalid_value_is_reported_at_its_row_and_column(
    key: str, value: Any, message: str
) -> None:
    # Row 2 is valid and row 3 blank, so the bad value sits on spreadsheet row 4.
    data = make_xlsx([row(), [], row(**{key: value})])
    assert rejected(data).errors == [UploadError(4, HEADER_OF[key], message)]


def test_formula_variants_are_rejected_without_being_evaluated() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Suppliers"
    sheet.append(HEADERS)
    sheet.append(row(supplier_name='=HYPERLINK("http://evil.example","x")'))
    sheet.append(row())
    sheet["E3"] = ArrayFormula("E3", "=SUM(1,2)")
    sheet.append(row())
    sheet["A4"].value = "=cmd|' /C calc'!A0"
    sheet["A4"].data_type = "s"  # formula-looking text stored as a plain string
    buffer = io.BytesIO()
    workbook.save(buffer)

    errors = rejected(buffer.getvalue()).errors

    message = "formulas are not accepted; enter the value"
    assert errors == [
        UploadError(2, "Supplier name", message),
        UploadError(3, "Annual spend", message),
        UploadError(4, "Supplier name", message),
    ]


def test_all_errors_are_collected_across_rows() -> None:
    data = make_xlsx(
        [
            row(country="XX", annual_spend=-5),
            row(),
            row(currency="ABC", contact_email="nope"),
        ]
    )
    assert rejected(data).errors == [
        UploadError(2, "Country", "'XX' is not an ISO 3166 country code"),
        UploadError(2, "Annual spend", "must be 0 or more"),
        UploadError(4, "Currency", "'ABC' is not an ISO 4217 currency code"),
        UploadError(4, "Contact email", "'nope' is not a valid email address"),
    ]


def test_reported_errors_are_capped_with_a_summary() -> None:
    data = make_xlsx([row(country="XX") for _ in range(250)])
    errors = rejected(data).errors
    assert len(errors) == template.MAX_REPORTED_ERRORS + 1
    assert errors[0] == UploadError(2, "Country", "'XX' is not an ISO 3166 country code")
    assert errors[-2].row == template.MAX_REPORTED_ERRORS + 1
    assert errors[-1] == UploadError(None, None, "… and 50 more errors")


def test_upload_error_and_rejection_read_well() -> None:
    assert (
        str(UploadError(4, "Country", "'XX' is not an ISO 3166 country code"))
        == "Row 4, Country: 'XX' is not an ISO 3166 country code"
    )
    assert str(UploadError(7, None, "bad row")) == "Row 7: bad row"
    assert str(UploadError(None, None, "The file is empty.")) == "The file is empty."
    error = UploadRejected([UploadError(None, None, "A."), UploadError(2, "Notes", "b")])
    assert str(error) == "The upload was rejected:\n- A.\n- Row 2, Notes: b"


def test_long_values_are_shortened_in_messages() -> None:
    (error,) = rejected(make_xlsx([row(country="Y" * 100)])).errors
    hint = "(use the two-letter code, for example GB)"
    assert error.message == f"'{'Y' * 39}…' is not an ISO 3166 country code {hint}"


def test_header_variants_and_column_order_are_accepted() -> None:
    headers = [
        "PREFERRED PAYMENT METHOD",
        " supplier   name ",
        "country",
        "Currency",
        "annual_spend",
        "Payment Terms Days",
        "Notes",
    ]
    values = ["cash", "Acme", "FR", "EUR", 10, 7, "n"]
    (record,) = parse_upload(make_xlsx([values], headers=headers), "s.xlsx")
    assert record == SupplierRecord(
        supplier_name="Acme",
        registration_number=None,
        country="FR",
        currency="EUR",
        annual_spend=Decimal("10.00"),
        payment_terms_days=7,
        preferred_payment_method="Cash",
        contact_email=None,
        category=None,
        notes="n",
    )


def test_blank_header_cells_are_ignored() -> None:
    headers = [*HEADERS[:3], None, *HEADERS[3:]]
    values = row()
    values.insert(3, None)
    (record,) = parse_upload(make_xlsx([values], headers=headers), "s.xlsx")
    assert record.currency == "GBP"


def test_missing_required_columns_are_named() -> None:
    headers = [h for h in HEADERS if h not in ("Country", "Currency")]
    assert rejected(make_xlsx([["x"] * len(headers)], headers=headers)).errors == [
        UploadError(None, None, "Missing required columns: 'Country', 'Currency'.")
    ]


def test_unknown_and_duplicate_columns_are_named() -> None:
    headers = [*HEADERS, "Favourite colour", "country"]
    assert rejected(make_xlsx([row()], headers=headers)).errors == [
        UploadError(
            None,
            None,
            "Unknown columns: 'Favourite colour'. Use only the column headers from the template.",
        ),
        UploadError(None, None, "Columns appear more than once: 'Country'."),
    ]


def test_empty_header_row_is_rejected() -> None:
    error = rejected(make_xlsx([row()], headers=[]))
    assert error.errors[0].row is None
    assert "must contain the column headers" in str(error)


def test_suppliers_sheet_is_found_by_name_else_first_sheet_is_used() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Readme"
    workbook.active.append(["This sheet is not data"])
    suppliers = workbook.create_sheet(" suppliers ")
    suppliers.append(HEADERS)
    suppliers.append(row(supplier_name="From Suppliers"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert parse_upload(buffer.getvalue(), "s.xlsx")[0].supplier_name == "From Suppliers"

    first_sheet = make_xlsx([row(supplier_name="From Sheet1")], title="Sheet1")
    assert parse_upload(first_sheet, "s.xlsx")[0].supplier_name == "From Sheet1"


def test_wrong_dimension_element_does_not_hide_rows() -> None:
    data = make_xlsx([row(supplier_name="One"), row(supplier_name="Two")])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:J3"' in sheet
    lying = rewrite_zip(
        data,
        {"xl/worksheets/sheet1.xml": sheet.replace(b'ref="A1:J3"', b'ref="A1:A1"')},
    )
    assert [r.supplier_name for r in parse_upload(lying, "s.xlsx")] == ["One", "Two"]


def test_row_limit_is_inclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate, "MAX_ROWS", 3)
    assert len(parse_upload(make_xlsx([row(), row(), [], row()]), "s.xlsx")) == 3
    error = rejected(make_xlsx([row()] * 4))
    assert error.errors == [
        UploadError(None, None, "The file has more than 3 supplier rows. Upload at most 3 rows.")
    ]


def test_more_than_max_rows_is_rejected_early() -> None:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Suppliers")
    sheet.append(HEADERS)
    for index in range(MAX_ROWS + 1):
        sheet.append(row(supplier_name=f"Supplier {index}", annual_spend=index))
    # Invalid rows past the limit must not be reached: only the limit is reported.
    for _ in range(5):
        sheet.append(row(country="XX"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    assert len(data) <= MAX_UPLOAD_BYTES

    # CPU time, not wall time: what the parser spent, whatever else the machine runs.
    started = time.process_time()
    error = rejected(data)
    assert time.process_time() - started < 5
    assert error.errors == [
        UploadError(
            None, None, "The file has more than 10,000 supplier rows. Upload at most 10,000 rows."
        )
    ]
