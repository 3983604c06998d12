"""Build the supplier template xlsx, and sample files filled in with fictional suppliers."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import openpyxl  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]
from openpyxl.writer.excel import ExcelWriter  # type: ignore[import-untyped]

from journey.template.columns import (
    INSTRUCTIONS_SHEET,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    PAYMENT_METHODS,
    SUPPLIER_COLUMNS,
    SUPPLIERS_SHEET,
)

# Fixed document and zip timestamps so build_template() is byte-for-byte reproducible.
_TEMPLATE_TIMESTAMP = dt.datetime(2024, 1, 1)
_ZIP_TIMESTAMP = (2024, 1, 1, 0, 0, 0)


def build_template() -> bytes:
    """Return the supplier information template as xlsx bytes.

    The workbook has a "Suppliers" sheet with the header row only and an "Instructions" sheet
    describing every column and the upload limits. The output is byte-for-byte reproducible.
    """
    workbook = openpyxl.Workbook()
    suppliers = workbook.active
    suppliers.title = SUPPLIERS_SHEET
    _fill_suppliers_sheet(suppliers)
    _fill_instructions_sheet(workbook.create_sheet(INSTRUCTIONS_SHEET))

    workbook.properties.creator = "relportal"
    workbook.properties.title = "Supplier information template"
    workbook.properties.created = _TEMPLATE_TIMESTAMP
    workbook.properties.modified = _TEMPLATE_TIMESTAMP

    # ExcelWriter rather than Workbook.save(): save() stamps "modified" with the current time.
    raw = io.BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    return _with_fixed_zip_timestamps(raw.getvalue())


# Fictional suppliers for sample files (simulations and replays): a valid file, and
# one whose rows break the rules the way customers' files do.
_SAMPLE_GOOD = (
    ("Pitta Bakery Ltd", "GB123456789", "GB", "GBP", 48250.5, 30, "BankTransfer"),
    ("Garlic Sauce GmbH", None, "DE", "EUR", 12000, 14, "Check"),
    ("Chilli Oil Co", None, "GB", "GBP", 3100, 60, "DebitCard"),
)
_SAMPLE_BAD = (
    ("Nowhere Ltd", None, "ZZ", "GBP", -5, 30, "BankTransfer"),
    ("Late Payers plc", None, "GB", "GBP", 100, 400, "Carrier pigeon"),
)
_SAMPLE_KEYS = (
    "supplier_name",
    "registration_number",
    "country",
    "currency",
    "annual_spend",
    "payment_terms_days",
    "preferred_payment_method",
)


def sample_file(*, valid: bool) -> bytes:
    """The template filled in with fictional suppliers: accepted when ``valid``,
    otherwise rejected with row-level errors (for demos, simulations and replays)."""
    workbook = openpyxl.load_workbook(io.BytesIO(build_template()))
    sheet = workbook[SUPPLIERS_SHEET]
    for values in _SAMPLE_GOOD if valid else _SAMPLE_BAD:
        row = dict(zip(_SAMPLE_KEYS, values, strict=True))
        sheet.append([row.get(column.key) for column in SUPPLIER_COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _fill_suppliers_sheet(sheet: Any) -> None:
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFE699")
    optional_fill = PatternFill("solid", fgColor="D9E1F2")
    for index, column in enumerate(SUPPLIER_COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        cell.fill = required_fill if column.required else optional_fill
        letter = get_column_letter(index)
        width = max(len(column.header), len(column.example)) + 4
        sheet.column_dimensions[letter].width = min(width, 40)
        if column.key == "registration_number":
            # Text format, so numbers like 01234567 keep their leading zero when typed in Excel.
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"

    method_index = next(
        i for i, c in enumerate(SUPPLIER_COLUMNS, 1) if c.key == "preferred_payment_method"
    )
    letter = get_column_letter(method_index)
    dropdown = DataValidation(
        type="list",
        formula1='"' + ",".join(PAYMENT_METHODS) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Payment method",
        error="Choose a payment method from the list.",
        showInputMessage=True,
        promptTitle="Payment method",
        prompt="Choose how you usually pay this supplier.",
    )
    dropdown.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
    sheet.add_data_validation(dropdown)


def _fill_instructions_sheet(sheet: Any) -> None:
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    sheet.append(["Supplier information template"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(
        [
            f"List one supplier per row on the '{SUPPLIERS_SHEET}' sheet, below the header row. "
            "Do not rename, remove or add columns. Columns marked 'Yes' must be filled in."
        ]
    )
    sheet.append([])
    sheet.append(["Column", "Required", "Description", "Example"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for column in SUPPLIER_COLUMNS:
        sheet.append(
            [column.header, "Yes" if column.required else "No", column.description, column.example]
        )
        for cell in sheet[sheet.max_row]:
            cell.alignment = wrap
    sheet.append([])
    sheet.append(["Limits"])
    sheet[f"A{sheet.max_row}"].font = bold
    for line in _limit_lines():
        sheet.append([line])
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 10
    sheet.column_dimensions["C"].width = 80
    sheet.column_dimensions["D"].width = 28


def _limit_lines() -> list[str]:
    return [
        "File type: Excel Workbook (.xlsx) only. Macro-enabled (.xlsm), old Excel (.xls), "
        "CSV and password-protected files are not accepted.",
        f"File size: at most {MAX_UPLOAD_BYTES // 1_000_000} MB.",
        f"Rows: at most {MAX_ROWS:,} suppliers (blank rows are ignored).",
        "Enter values, not formulas: cells containing formulas are rejected.",
        "Errors are reported by row and column, for example: "
        "\"Row 4, Country: 'XX' is not an ISO 3166 country code\".",
    ]


def _with_fixed_zip_timestamps(xlsx: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIMESTAMP)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, source.read(info))
    return out.getvalue()
