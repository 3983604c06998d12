"""Supplier information template: build the xlsx customers fill in, and validate what they upload.

A customer who does not connect accounting software can download the template, list their
suppliers in it and upload it back. The upload is untrusted input arriving at a bank's server,
so :func:`parse_upload` treats the file as hostile until proven otherwise:

1. cheap envelope checks (size, name, magic bytes) before any parsing;
2. the zip container is inspected and every member is decompressed by us, under hard byte caps,
   so a zip bomb never reaches openpyxl;
3. every member is scanned for DTDs and exotic XML encodings (a real xlsx has neither), and
   openpyxl itself must be running on defusedxml, so entity expansion is blocked twice;
4. only then openpyxl reads a repacked copy of the verified bytes, in read-only streaming mode,
   never evaluating formulas, and each row is validated field by field.

Every problem the customer can fix is reported as an :class:`UploadError` with the spreadsheet
row and column they would see in Excel; all of them are raised together in
:class:`UploadRejected`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

import openpyxl  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula  # type: ignore[import-untyped]
from openpyxl.writer.excel import ExcelWriter  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 1_000_000
"""Largest upload accepted, in bytes (1 MB)."""
MAX_ROWS = 10_000
"""Most supplier rows accepted in one upload (blank rows are not counted)."""

# Zip-bomb limits. A filled template of MAX_ROWS rows is a few MB of XML in ~15 members, so these
# leave generous headroom for real workbooks while bounding what a 1 MB upload can expand into.
MAX_ZIP_MEMBERS = 200
MAX_UNCOMPRESSED_BYTES = 20_000_000
MAX_COMPRESSION_RATIO = 100
# Small members can legitimately compress very well (and cannot hurt), so the ratio check only
# applies above this size.
RATIO_CHECK_MIN_BYTES = 256 * 1024
# Excel's own sheet limit; a crafted <row r="999999999"> would otherwise make openpyxl yield
# a billion padding rows.
_EXCEL_MAX_ROW = 1_048_576
MAX_REPORTED_ERRORS = 200
"""Errors listed individually before the rest are summarised as '… and N more errors'."""

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

# Fixed document and zip timestamps so build_template() is byte-for-byte reproducible.
_TEMPLATE_TIMESTAMP = dt.datetime(2024, 1, 1)
_ZIP_TIMESTAMP = (2024, 1, 1, 0, 0, 0)


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


def _code_set(codes: str) -> frozenset[str]:
    return frozenset(codes.split())


# ISO 3166-1 alpha-2: the 249 officially assigned codes (user-assigned and reserved codes such as
# XK or UK are not included).
ISO_COUNTRY_CODES: frozenset[str] = _code_set(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
    """
)

# ISO 4217 active currency codes a business can actually pay in. Fund codes (BOV, CLF, USN, ...),
# precious metals, SDR, test codes and withdrawn currencies (HRK, BGN, ANG, SLL, ZWL, ...) are
# deliberately excluded.
ISO_CURRENCY_CODES: frozenset[str] = _code_set(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
    GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
    KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR
    MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR
    SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
    USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """
)


@dataclass(frozen=True)
class UploadError:
    """One problem with an upload.

    ``row`` is the row number the customer sees in Excel (the header is row 1) and ``column``
    the template header text; both are ``None`` for problems with the file as a whole.
    """

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [part for part in (_row_label(self.row), self.column) if part]
        return f"{', '.join(where)}: {self.message}" if where else self.message


def _row_label(row: int | None) -> str | None:
    return None if row is None else f"Row {row}"


class UploadRejected(Exception):
    """The upload cannot be accepted; ``errors`` says why, in words meant for the customer."""

    def __init__(self, errors: Sequence[UploadError]) -> None:
        self.errors: list[UploadError] = list(errors)
        lines = "\n".join(f"- {error}" for error in self.errors)
        super().__init__(f"The upload was rejected:\n{lines}")


@dataclass(frozen=True)
class SupplierRecord:
    """One validated supplier row."""

    supplier_name: str
    registration_number: str | None
    country: str
    currency: str
    annual_spend: Decimal
    payment_terms_days: int
    preferred_payment_method: str
    contact_email: str | None
    category: str | None
    notes: str | None

    def to_dict(self) -> dict[str, str | int | None]:
        """Return the record as JSON-safe values (``annual_spend`` as a string, e.g. "10.50")."""
        result: dict[str, str | int | None] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            result[field.name] = str(value) if isinstance(value, Decimal) else value
        return result


def _reject(message: str) -> UploadRejected:
    return UploadRejected([UploadError(None, None, message)])


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


def parse_upload(data: bytes, filename: str) -> list[SupplierRecord]:
    """Validate an uploaded supplier template and return its rows.

    Raises :class:`UploadRejected` listing every problem found (capped at
    ``MAX_REPORTED_ERRORS``); no other exception escapes for a bad file. Raises ``RuntimeError``
    only if the server is misconfigured so that openpyxl would parse XML without defusedxml.
    """
    _require_defused_xml()
    _check_envelope(data, filename)
    members = _unpack(data)
    _check_package(members)
    return _read_suppliers(_repack(members))


def _require_defused_xml() -> None:
    # openpyxl picks its XML parser once, at import time: defusedxml when it is importable, unless
    # the OPENPYXL_DEFUSEDXML environment variable is set to anything other than "True". Our own
    # DTD scan is the first line of defence; refuse to run without the second.
    from openpyxl.xml import functions as xml_functions  # type: ignore[import-untyped]

    iterparse_module = getattr(xml_functions.iterparse, "__module__", "") or ""
    if not openpyxl.DEFUSEDXML or not iterparse_module.startswith("defusedxml"):
        raise RuntimeError(
            "openpyxl is not using defusedxml (is OPENPYXL_DEFUSEDXML set?); "
            "refusing to parse untrusted spreadsheets"
        )


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_KNOWN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
)


def _check_envelope(data: bytes, filename: str) -> None:
    if not data:
        raise _reject("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise _reject(
            f"The file is {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,} bytes (1 MB)."
        )
    name = (filename or "").strip()
    lowered = name.lower()
    if lowered.endswith((".xlsm", ".xltm")):
        raise _reject(
            "Macro-enabled workbooks are not accepted. Save the file as an Excel Workbook (.xlsx)."
        )
    if lowered.endswith(".xls"):
        raise _reject(
            "The old Excel 97-2003 format (.xls) is not accepted. "
            "Save the file as an Excel Workbook (.xlsx)."
        )
    if not lowered.endswith(".xlsx"):
        raise _reject(f"Only Excel Workbook (.xlsx) files are accepted; got {_quote(name)}.")
    if data.startswith(_OLE_MAGIC):
        # Password-protected xlsx files and legacy .xls files are both OLE compound documents.
        raise _reject(
            "The file is password-protected or in the old Excel 97-2003 format. "
            "Remove the password and save it as an Excel Workbook (.xlsx)."
        )
    if not data.startswith(_ZIP_MAGIC):
        raise _reject(f"The file is not an Excel workbook{_content_hint(data)}.")


def _content_hint(data: bytes) -> str:
    for magic, description in _KNOWN_MAGIC:
        if data.startswith(magic):
            return f": it looks like {description}"
    # Incremental decoding tolerates a multi-byte character cut off at the end of the sample.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data[:4096], final=False)
    except UnicodeDecodeError:
        return ""
    return ": it looks like a text or CSV file"


def _unpack(data: bytes) -> dict[str, bytes]:
    """Decompress every member ourselves, within hard limits, before openpyxl sees anything."""
    damaged = "The file is damaged or is not a real Excel workbook (.xlsx)."
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception as exc:  # zipfile raises many exception types on malformed archives
        raise _reject(damaged) from exc

    with archive:
        _check_zip_directory(infos)
        members: dict[str, bytes] = {}
        budget = MAX_UNCOMPRESSED_BYTES
        for info in infos:
            if info.is_dir():
                continue
            # Declared sizes come from the attacker; read at most what is left of the budget,
            # plus one byte to detect a member that inflates past it.
            limit = min(info.file_size, budget)
            try:
                with archive.open(info) as stream:
                    content = stream.read(limit + 1)
            except Exception as exc:  # bad CRC, truncated data, corrupt deflate stream, ...
                raise _reject(damaged) from exc
            if len(content) > limit:
                raise _reject(_TOO_BIG_MESSAGE)
            budget -= len(content)
            members[info.filename] = content
    return members


_TOO_BIG_MESSAGE = (
    f"The workbook is too large once uncompressed (the limit is "
    f"{MAX_UNCOMPRESSED_BYTES // 1_000_000} MB) and was rejected for safety."
)


def _check_zip_directory(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _reject(
            f"The file has too many internal parts ({len(infos):,}; the limit is "
            f"{MAX_ZIP_MEMBERS}) to be a supplier template."
        )
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        # Duplicate names make "which copy is read" ambiguous between tools.
        raise _reject("The file is damaged: it contains duplicate internal parts.")
    declared_total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise _reject(
                "The file is password-protected. Remove the password and save it as an "
                "Excel Workbook (.xlsx)."
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _reject("The file uses a compression method that Excel does not produce.")
        declared_total += info.file_size
        if info.file_size > RATIO_CHECK_MIN_BYTES and (
            info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
        ):
            raise _reject(
                "The file contains a part that is compressed far more than any real workbook "
                "and was rejected for safety."
            )
    if declared_total > MAX_UNCOMPRESSED_BYTES:
        raise _reject(_TOO_BIG_MESSAGE)


# A DTD is the only way to declare entities (billion laughs, external entities). Match it in the
# byte patterns of every encoding expat auto-detects: ASCII-compatible ones and UTF-16 LE/BE.
_DTD_PATTERN = re.compile(
    b"|".join(
        re.escape(marker.encode(encoding))
        for marker in ("<!DOCTYPE", "<!ENTITY")
        for encoding in ("ascii", "utf-16-le", "utf-16-be")
    ),
    re.IGNORECASE,
)
# Expat honours any single-byte codec Python knows (e.g. EBCDIC cp037), in which "<!DOCTYPE"
# has different bytes; Excel only ever writes UTF-8, so allow just UTF-8/UTF-16/ASCII.
_XML_DECLARED_ENCODING = re.compile(
    r"""\A(?:\ufeff|\xef\xbb\xbf)?<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']*)["']""",
    re.IGNORECASE,
)
_SAFE_XML_ENCODINGS = frozenset({"utf-8", "utf8", "utf-16", "utf16", "us-ascii", "ascii"})


def _xml_hazard(content: bytes) -> bool:
    """True if the member carries a DTD or declares an encoding that could hide one."""
    if _DTD_PATTERN.search(content):
        return True
    head = content[:512]
    if head.startswith(b"\xff\xfe") or head.startswith(b"<\x00"):
        prolog = head.decode("utf-16-le", "replace")
    elif head.startswith(b"\xfe\xff") or head.startswith(b"\x00<"):
        prolog = head.decode("utf-16-be", "replace")
    else:
        prolog = head.decode("latin-1")
    match = _XML_DECLARED_ENCODING.match(prolog)
    if match is None:
        return False
    return match.group(1).strip().lower() not in _SAFE_XML_ENCODINGS


def _check_package(members: dict[str, bytes]) -> None:
    content_types = members.get("[Content_Types].xml")
    if content_types is None:
        raise _reject("The file is a zip archive but not an Excel workbook (.xlsx).")
    lowered_types = content_types.lower()
    if b"sheet.binary" in lowered_types:
        raise _reject(
            "Excel Binary Workbooks (.xlsb) are not accepted. "
            "Save the file as an Excel Workbook (.xlsx)."
        )
    lowered_names = [name.lower() for name in members]
    if b"macroenabled" in lowered_types or any(
        name.rsplit("/", 1)[-1] == "vbaproject.bin" for name in lowered_names
    ):
        raise _reject(
            "The file contains macros, which are not accepted. "
            "Save it as an Excel Workbook (.xlsx) without macros."
        )
    if any(name.startswith(("xl/activex/", "xl/embeddings/")) for name in lowered_names):
        raise _reject(
            "The file contains embedded objects or ActiveX controls, which are not accepted. "
            "Copy the supplier rows into a fresh template."
        )
    # Scan every member, whatever its name: relationships can point openpyxl at any part.
    if any(_xml_hazard(content) for content in members.values()):
        raise _reject(
            "The file contains XML features (document type or entity declarations) that Excel "
            "never writes, and was rejected for safety."
        )
    if b"spreadsheetml" not in lowered_types:
        raise _reject("The file is a zip archive but not an Excel workbook (.xlsx).")


def _repack(members: dict[str, bytes]) -> bytes:
    # openpyxl gets a fresh archive holding exactly the bytes that passed the checks, so nothing
    # it reads can differ from what was inspected. Stored, because it is only read once.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


_UNREADABLE_MESSAGE = (
    "The workbook could not be read; it may be damaged. Open it in Excel, save it as an "
    "Excel Workbook (.xlsx) and upload it again."
)


def _unreadable(exc: BaseException) -> UploadRejected:
    logger.info("supplier upload could not be read by openpyxl: %r", exc)
    return _reject(_UNREADABLE_MESSAGE)


def _guarded(rows: Iterator[Any]) -> Iterator[Any]:
    """Yield from an openpyxl row iterator, turning its parse failures into UploadRejected.

    Only openpyxl's own work is wrapped, so bugs in our validation are not disguised.
    """
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # openpyxl surfaces malformed XML as many exception types
            raise _unreadable(exc) from exc
        yield row


def _read_suppliers(xlsx: bytes) -> list[SupplierRecord]:
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(xlsx), read_only=True, data_only=False, keep_vba=False, keep_links=False
        )
    except Exception as exc:  # malformed parts raise KeyError, ValueError, TypeError, ...
        raise _unreadable(exc) from exc
    try:
        sheet = _suppliers_sheet(workbook)
        # The <dimension> element is written by the producer and may be wrong; ignore it so
        # every row is read (and our own limits apply).
        sheet.reset_dimensions()
        header = next(_guarded(sheet.iter_rows(min_row=1, max_row=1)), ())
        positions = _map_header(header, sheet.title)
        last_column = max(positions.values()) + 1
        rows = _guarded(sheet.iter_rows(min_row=2, max_col=last_column))
        return _validate_rows(rows, positions, sheet.title)
    finally:
        workbook.close()


def _suppliers_sheet(workbook: Any) -> Any:
    worksheets = list(workbook.worksheets)
    for sheet in worksheets:
        if str(sheet.title).strip().casefold() == SUPPLIERS_SHEET.casefold():
            return sheet
    if not worksheets:
        raise _reject("The workbook has no worksheet.")
    return worksheets[0]


def _normalise_header(text: str) -> str:
    # "Payment terms (days)", "payment_terms_days" and "PAYMENT TERMS DAYS" all match.
    return "".join(ch for ch in text.casefold() if ch.isalnum())


_HEADER_LOOKUP: dict[str, TemplateColumn] = {
    _normalise_header(name): column
    for column in SUPPLIER_COLUMNS
    for name in (column.header, column.key)
}


def _map_header(header: Sequence[Any], sheet_title: str) -> dict[str, int]:
    """Map column key -> 0-based position, or raise file-level errors naming the bad columns."""
    positions: dict[str, int] = {}
    unknown: list[str] = []
    duplicated: list[str] = []
    for index, cell in enumerate(header):
        value = cell.value
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        text = str(value).strip()
        column = _HEADER_LOOKUP.get(_normalise_header(text))
        if column is None:
            unknown.append(text)
        elif column.key in positions:
            duplicated.append(column.header)
        else:
            positions[column.key] = index

    if not positions and not unknown:
        raise _reject(
            f"The first row of the '{sheet_title}' sheet must contain the column headers "
            "from the template, but it is empty."
        )
    errors: list[UploadError] = []
    missing = [c.header for c in SUPPLIER_COLUMNS if c.required and c.key not in positions]
    if missing:
        errors.append(UploadError(None, None, f"Missing required columns: {_names(missing)}."))
    if unknown:
        errors.append(
            UploadError(
                None,
                None,
                f"Unknown columns: {_names(unknown)}. Use only the column headers from the "
                "template.",
            )
        )
    if duplicated:
        errors.append(
            UploadError(None, None, f"Columns appear more than once: {_names(duplicated)}.")
        )
    if errors:
        raise UploadRejected(errors)
    return positions


def _names(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(_quote(name) for name in names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _quote(value: object, limit: int = 40) -> str:
    # repr() escapes control characters, so hostile text cannot mangle the message.
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


class _InvalidValue(ValueError):
    """A cell value the customer must correct; the message completes 'Row N, Column: ...'."""


def _validate_rows(
    rows: Iterator[Any], positions: dict[str, int], sheet_title: str
) -> list[SupplierRecord]:
    records: list[SupplierRecord] = []
    errors: list[UploadError] = []
    error_count = 0
    data_rows = 0
    for row_number, cells in enumerate(rows, start=2):
        if row_number > _EXCEL_MAX_ROW:
            raise _reject("The sheet has rows beyond Excel's limit; the file is damaged.")
        if all(_is_blank(cell.value) for cell in cells):
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            # Stop streaming now: the file is rejected whatever the remaining rows contain.
            raise _reject(
                f"The file has more than {MAX_ROWS:,} supplier rows. "
                f"Upload at most {MAX_ROWS:,} rows."
            )
        values: dict[str, Any] = {}
        row_errors: list[UploadError] = []
        for column in SUPPLIER_COLUMNS:
            position = positions.get(column.key)
            cell = cells[position] if position is not None else None
            try:
                values[column.key] = _parse_cell(column, cell)
            except _InvalidValue as problem:
                row_errors.append(UploadError(row_number, column.header, str(problem)))
        if row_errors:
            error_count += len(row_errors)
            errors.extend(row_errors[: max(0, MAX_REPORTED_ERRORS - len(errors))])
        else:
            records.append(SupplierRecord(**values))

    if error_count:
        if error_count > len(errors):
            errors.append(UploadError(None, None, f"… and {error_count - len(errors)} more errors"))
        raise UploadRejected(errors)
    if not records:
        raise _reject(
            f"The '{sheet_title}' sheet has no supplier rows. "
            "Add at least one supplier below the header row."
        )
    return records


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse_cell(column: TemplateColumn, cell: Any) -> Any:
    value = None if cell is None else cell.value
    if cell is not None:
        if (
            cell.data_type == "f"
            or isinstance(value, ArrayFormula | DataTableFormula)
            or (isinstance(value, str) and value.lstrip().startswith("="))
        ):
            raise _InvalidValue("formulas are not accepted; enter the value")
        if cell.data_type == "e":
            raise _InvalidValue(f"the cell shows the Excel error {_quote(value)}; enter the value")
    if _is_blank(value):
        if column.required:
            raise _InvalidValue("a value is required")
        return None
    return _FIELD_PARSERS[column.key](value)


# C0/C1 controls and DEL; bidi overrides/isolates too, as they can disguise what text says
# (a supplier name that renders differently from what it contains).
_SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Lone surrogates cannot be encoded, and U+FFFE/U+FFFF are non-characters: not valid text.
_INVALID_TEXT = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _as_text(value: Any, *, max_length: int, multiline: bool = False) -> str:
    if isinstance(value, bool):
        raise _InvalidValue("expected text, not TRUE/FALSE")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = _float_text(value)
    elif isinstance(value, str):
        text = value
    elif isinstance(value, dt.date | dt.time | dt.timedelta):
        raise _InvalidValue("expected text, not a date or time")
    else:
        raise _InvalidValue("expected text")

    if _INVALID_TEXT.search(text):
        raise _InvalidValue("contains characters that are not valid text")
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Trim ordinary whitespace (a pasted trailing newline is harmless) before looking for control
    # characters; str.strip() alone would also silently eat controls such as U+001F or U+0085.
    text = unicodedata.normalize("NFC", text.strip(" \t\n\r"))
    forbidden = _MULTI_LINE_FORBIDDEN if multiline else _SINGLE_LINE_FORBIDDEN
    if forbidden.search(text):
        kinds = "control characters" if multiline else "line breaks, tabs or control characters"
        raise _InvalidValue(f"contains {kinds}, which are not allowed")
    text = text.strip()
    if len(text) > max_length:
        raise _InvalidValue(f"is too long ({len(text):,} characters; the maximum is {max_length})")
    return text


def _float_text(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    # Excel keeps 15 significant digits; this turns 1234.4999999999998 back into what the
    # customer typed (1234.5) instead of exposing binary floating-point noise.
    return format(value, ".15g")


_NUMBER_TEXT = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")


def _as_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _InvalidValue("expected a number, not TRUE/FALSE")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _InvalidValue("expected a number")
        return Decimal(_float_text(value))
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        raise _InvalidValue("expected a number, not a date or time")
    if not isinstance(value, str):
        raise _InvalidValue("expected a number")
    text = _as_text(value, max_length=1_000).replace(" ", "")
    if len(text) > 40 or not _NUMBER_TEXT.fullmatch(text):
        raise _InvalidValue(f"{_quote(text)} is not a number")
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern only admits valid numbers
        raise _InvalidValue(f"{_quote(text)} is not a number") from exc


_CENT = Decimal("0.01")
_MAX_SPEND = Decimal(1_000_000_000_000)


def _parse_supplier_name(value: Any) -> str:
    return _as_text(value, max_length=200)


_REGISTRATION_NUMBER = re.compile(r"[A-Za-z0-9 .\-]+")


def _parse_registration_number(value: Any) -> str:
    text = _as_text(value, max_length=50)
    if not _REGISTRATION_NUMBER.fullmatch(text):
        raise _InvalidValue("may contain only letters, digits, spaces, '-' and '.'")
    return text


def _parse_country(value: Any) -> str:
    text = _as_text(value, max_length=100)
    code = text.upper()
    if code not in ISO_COUNTRY_CODES:
        hint = " (use GB for the United Kingdom)" if code == "UK" else ""
        if len(code) != 2:
            hint = " (use the two-letter code, for example GB)"
        raise _InvalidValue(f"{_quote(text)} is not an ISO 3166 country code{hint}")
    return code


def _parse_currency(value: Any) -> str:
    text = _as_text(value, max_length=100)
    code = text.upper()
    if code not in ISO_CURRENCY_CODES:
        raise _InvalidValue(f"{_quote(text)} is not an ISO 4217 currency code")
    return code


def _parse_annual_spend(value: Any) -> Decimal:
    amount = _as_decimal(value)
    if amount < 0:
        raise _InvalidValue("must be 0 or more")
    if amount >= _MAX_SPEND:
        raise _InvalidValue("must be less than 1,000,000,000,000")
    if amount != amount.quantize(_CENT):
        raise _InvalidValue("must have at most 2 decimal places")
    # A fixed two-place scale so equal amounts serialise identically; copy_abs turns "-0" into 0.
    amount = amount.quantize(_CENT)
    return amount.copy_abs() if amount == 0 else amount


def _parse_payment_terms(value: Any) -> int:
    days = _as_decimal(value)
    if days != days.to_integral_value():
        raise _InvalidValue("must be a whole number of days")
    if not 0 <= days <= 365:
        raise _InvalidValue("must be between 0 and 365")
    return int(days)


_PAYMENT_METHOD_LOOKUP = {method.casefold(): method for method in PAYMENT_METHODS}
_PAYMENT_METHOD_LOOKUP["cheque"] = "Check"


def _parse_payment_method(value: Any) -> str:
    text = _as_text(value, max_length=100)
    method = _PAYMENT_METHOD_LOOKUP.get(re.sub(r"[\s_\-]+", "", text).casefold())
    if method is None:
        raise _InvalidValue(
            f"{_quote(text)} is not a recognised payment method; use one of "
            + ", ".join(PAYMENT_METHODS)
        )
    return method


# Deliberately simple: one "@", no spaces, a dotted domain of letters, digits and hyphens.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def _parse_contact_email(value: Any) -> str:
    text = _as_text(value, max_length=254)
    if not _EMAIL.fullmatch(text):
        raise _InvalidValue(f"{_quote(text)} is not a valid email address")
    return text


def _parse_category(value: Any) -> str:
    return _as_text(value, max_length=100)


def _parse_notes(value: Any) -> str:
    return _as_text(value, max_length=500, multiline=True)


_FIELD_PARSERS: dict[str, Callable[[Any], Any]] = {
    "supplier_name": _parse_supplier_name,
    "registration_number": _parse_registration_number,
    "country": _parse_country,
    "currency": _parse_currency,
    "annual_spend": _parse_annual_spend,
    "payment_terms_days": _parse_payment_terms,
    "preferred_payment_method": _parse_payment_method,
    "contact_email": _parse_contact_email,
    "category": _parse_category,
    "notes": _parse_notes,
}
