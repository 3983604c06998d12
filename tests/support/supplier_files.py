"""Supplier files made by hand: rows of the template's columns, a workbook of them, an
archive rewritten or its central directory patched, and the refusal an upload gets."""

from __future__ import annotations

import io
import struct
import zipfile
from typing import Any

import openpyxl
import pytest

from journey.template import (
    SUPPLIER_COLUMNS,
    UploadRejected,
    parse_upload,
)

HEADERS = [column.header for column in SUPPLIER_COLUMNS]


HEADER_OF = {column.key: column.header for column in SUPPLIER_COLUMNS}


VALID_ROW: dict[str, Any] = {
    "supplier_name": "Acme Ltd",
    "country": "GB",
    "currency": "GBP",
    "annual_spend": 1500,
    "payment_terms_days": 30,
    "preferred_payment_method": "BankTransfer",
}


def row(**values: Any) -> list[Any]:
    """A data row in template column order: a valid row with ``values`` overriding it."""
    merged = {**VALID_ROW, **values}
    return [merged.get(column.key) for column in SUPPLIER_COLUMNS]


def make_xlsx(
    rows: list[list[Any]],
    headers: list[Any] | None = None,
    title: str = "Suppliers",
) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(HEADERS if headers is None else headers)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rejected(data: bytes, filename: str = "suppliers.xlsx") -> UploadRejected:
    with pytest.raises(UploadRejected) as info:
        parse_upload(data, filename)
    return info.value


def rewrite_zip(
    xlsx: bytes,
    replace: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """Copy a zip, replacing, adding or dropping members."""
    replace = dict(replace or {})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            content = replace.pop(info.filename, None)
            target.writestr(
                info.filename,
                source.read(info) if content is None else content,
                compress_type=compression,
            )
        for name, content in replace.items():
            target.writestr(name, content, compress_type=compression)
    return out.getvalue()


def patch_central_directory(data: bytes, name: str, **fields: int) -> bytes:
    """Overwrite header fields of one member in both its local and central directory headers.

    Used to forge what zipfile *declares* (sizes, flags) without touching the real data.
    """
    local = {"flag_bits": 6, "file_size": 22}
    central = {"flag_bits": 8, "file_size": 24}
    patched = bytearray(data)
    encoded = name.encode()
    for signature, offsets, name_offset in (
        (b"PK\x03\x04", local, 30),
        (b"PK\x01\x02", central, 46),
    ):
        start = 0
        while (start := patched.find(signature, start)) != -1:
            if patched[start + name_offset : start + name_offset + len(encoded)] == encoded:
                for field, value in fields.items():
                    size = 2 if field == "flag_bits" else 4
                    fmt = "<H" if size == 2 else "<I"
                    offset = start + offsets[field]
                    patched[offset : offset + size] = struct.pack(fmt, value)
            start += 4
    return bytes(patched)
