"""Read an uploaded supplier template and validate it row by row, field by field.

openpyxl only ever sees bytes :func:`verified_workbook` has checked; it reads them in
read-only streaming mode, never evaluating formulas. Every problem the customer can fix is
collected as an :class:`UploadError` naming the Excel row and column.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

import openpyxl  # type: ignore[import-untyped]
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula  # type: ignore[import-untyped]

from journey.template.columns import (
    MAX_ROWS,
    PAYMENT_METHODS,
    SUPPLIER_COLUMNS,
    SUPPLIERS_SHEET,
    TemplateColumn,
)
from journey.template.hardened_zip import verified_workbook
from journey.template.rejection import UploadError, UploadRejected, quote, reject

logger = logging.getLogger(__name__)

# Excel's own sheet limit; a crafted <row r="999999999"> would otherwise make openpyxl yield
# a billion padding rows.
_EXCEL_MAX_ROW = 1_048_576
MAX_REPORTED_ERRORS = 200
"""Errors listed individually before the rest are summarised as '… and N more errors'."""


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


def parse_upload(data: bytes, filename: str) -> list[SupplierRecord]:
    """Validate an uploaded supplier template and return its rows.

    Raises :class:`UploadRejected` listing every problem found (capped at
    ``MAX_REPORTED_ERRORS``); no other exception escapes for a bad file. Raises ``RuntimeError``
    only if the server is misconfigured so that openpyxl would parse XML without defusedxml.
    """
    return _read_suppliers(verified_workbook(data, filename))


_UNREADABLE_MESSAGE = (
    "The workbook could not be read; it may be damaged. Open it in Excel, save it as an "
    "Excel Workbook (.xlsx) and upload it again."
)


def _unreadable(exc: BaseException) -> UploadRejected:
    logger.info("supplier upload could not be read by openpyxl: %r", exc)
    return reject(_UNREADABLE_MESSAGE)


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
        raise reject("The workbook has no worksheet.")
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
        raise reject(
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
    shown = ", ".join(quote(name) for name in names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


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
            raise reject("The sheet has rows beyond Excel's limit; the file is damaged.")
        if all(_is_blank(cell.value) for cell in cells):
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            # Stop streaming now: the file is rejected whatever the remaining rows contain.
            raise reject(
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
        raise reject(
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
            raise _InvalidValue(f"the cell shows the Excel error {quote(value)}; enter the value")
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
        raise _InvalidValue(f"{quote(text)} is not a number")
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern only admits valid numbers
        raise _InvalidValue(f"{quote(text)} is not a number") from exc


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
        raise _InvalidValue(f"{quote(text)} is not an ISO 3166 country code{hint}")
    return code


def _parse_currency(value: Any) -> str:
    text = _as_text(value, max_length=100)
    code = text.upper()
    if code not in ISO_CURRENCY_CODES:
        raise _InvalidValue(f"{quote(text)} is not an ISO 4217 currency code")
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
            f"{quote(text)} is not a recognised payment method; use one of "
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
        raise _InvalidValue(f"{quote(text)} is not a valid email address")
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
