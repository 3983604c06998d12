"""Hostile supplier uploads (journey/template): zip and XML bombs, archives that lie about
themselves, macros, encrypted or duplicated members, and bytes corrupted at random; the
parser runs on defusedxml and never raises anything but a readable refusal.

Building the template and validating what is in it are in ``test_template.py``.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import random
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.template import (
    MAX_UPLOAD_BYTES,
    UploadRejected,
    hardened_zip,
    parse_upload,
    validate,
)
from tests.support.supplier_files import (
    HEADERS,
    make_xlsx,
    patch_central_directory,
    rejected,
    rewrite_zip,
    row,
)

ROOT = Path(__file__).resolve().parents[2]


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def _sheet_xml(body: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    return (
        f"{prolog}<worksheet xmlns="
        '"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{body}</sheetData></worksheet>"
    ).encode()


HEADER_ROW_XML = (
    '<row r="1">'
    + "".join(f'<c t="inlineStr"><is><t>{header}</t></is></c>' for header in HEADERS)
    + "</row>"
)

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
    + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    "</sheetData></worksheet>"
).encode()

EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    b"</sheetData></worksheet>"
)


def _ratio_bomb(xlsx: bytes) -> bytes:
    # 50 MB of zeros deflates to ~50 KB: a 1000:1 member.
    return rewrite_zip(xlsx, {"xl/worksheets/sheet1.xml": b"\0" * 50_000_000})


def _total_size_bomb(xlsx: bytes) -> bytes:
    # 21 members of 1 MB that each compress only ~40:1, so no single member trips the ratio
    # check but together they declare more than the 20 MB budget.
    rng = random.Random(0)
    block = b"".join(rng.randbytes(25) + b"\0" * 1000 for _ in range(1000))
    extra = {f"xl/media/blob{i}.bin": block for i in range(21)}
    return rewrite_zip(xlsx, extra)


def _lying_size(xlsx: bytes) -> bytes:
    # The member really inflates to 5 MB, but its headers claim 100 KB (under every limit).
    data = rewrite_zip(xlsx, {"xl/media/blob.bin": b"\0" * 5_000_000})
    return patch_central_directory(data, "xl/media/blob.bin", file_size=100_000)


def _encrypted_flag(xlsx: bytes) -> bytes:
    return patch_central_directory(xlsx, "xl/workbook.xml", flag_bits=1)


def _duplicate_member(xlsx: bytes) -> bytes:
    out = io.BytesIO(xlsx)
    with warnings.catch_warnings(), zipfile.ZipFile(out, "a") as archive:
        warnings.simplefilter("ignore")  # zipfile warns about exactly the duplicate we want
        archive.writestr("xl/styles.xml", b"<styleSheet/>")
    return out.getvalue()


def _many_members(xlsx: bytes) -> bytes:
    return rewrite_zip(xlsx, {f"customXml/item{i}.xml": b"<a/>" for i in range(200)})


def _with_content_types(xlsx: bytes, old: bytes, new: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        types = archive.read("[Content_Types].xml")
    assert old in types
    return rewrite_zip(xlsx, {"[Content_Types].xml": types.replace(old, new)})


SHEET_TYPE = b"spreadsheetml.sheet.main+xml"

# (id, build(valid_xlsx) -> (data, filename), fragment expected in the message)
HOSTILE: list[tuple[str, Callable[[bytes], tuple[bytes, str]], str]] = [
    ("empty", lambda x: (b"", "s.xlsx"), "The file is empty."),
    (
        "over 1 MB",
        lambda x: (x + b"\0" * (MAX_UPLOAD_BYTES + 1 - len(x)), "s.xlsx"),
        "the limit is 1,000,000 bytes (1 MB)",
    ),
    ("csv name", lambda x: (x, "suppliers.csv"), "Only Excel Workbook (.xlsx) files are accepted"),
    ("no extension", lambda x: (x, "suppliers"), "Only Excel Workbook (.xlsx) files are accepted"),
    ("xls name", lambda x: (x, "suppliers.xls"), "old Excel 97-2003 format (.xls)"),
    ("xlsm name", lambda x: (x, "suppliers.XLSM"), "Macro-enabled workbooks are not accepted"),
    (
        "text renamed",
        lambda x: (b"Supplier name,Country\nAcme,GB\n", "s.xlsx"),
        "not an Excel workbook: it looks like a text or CSV file",
    ),
    (
        "png renamed",
        lambda x: (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "s.xlsx"),
        "not an Excel workbook: it looks like a PNG image",
    ),
    (
        "binary renamed",
        lambda x: (bytes(range(256)) * 4, "s.xlsx"),
        "The file is not an Excel workbook.",
    ),
    (
        "ole / encrypted",
        lambda x: (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "s.xlsx"),
        "password-protected or in the old Excel 97-2003 format",
    ),
    ("truncated zip", lambda x: (x[: len(x) // 2], "s.xlsx"), "The file is damaged"),
    (
        "plain zip",
        lambda x: (_zip({"hello.txt": b"hi"}), "s.xlsx"),
        "zip archive but not an Excel workbook",
    ),
    (
        "word document",
        lambda x: (
            _zip(
                {
                    "[Content_Types].xml": b'<Types><Override ContentType="application/vnd.'
                    b'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
                    "word/document.xml": b"<document/>",
                }
            ),
            "s.xlsx",
        ),
        "zip archive but not an Excel workbook",
    ),
    (
        "vbaProject.bin",
        lambda x: (rewrite_zip(x, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}), "s.xlsx"),
        "contains macros",
    ),
    (
        "macroEnabled content type",
        lambda x: (
            _with_content_types(x, SHEET_TYPE, b"ms-excel.sheet.macroEnabled.main+xml"),
            "s.xlsx",
        ),
        "contains macros",
    ),
    (
        "xlsb",
        lambda x: (
            _with_content_types(x, SHEET_TYPE, b"ms-excel.sheet.binary.macroEnabled.main"),
            "s.xlsx",
        ),
        "Excel Binary Workbooks (.xlsb) are not accepted",
    ),
    (
        "embedded object",
        lambda x: (rewrite_zip(x, {"xl/embeddings/oleObject1.bin": b"MZ"}), "s.xlsx"),
        "embedded objects or ActiveX controls",
    ),
    ("ratio zip bomb", lambda x: (_ratio_bomb(x), "s.xlsx"), "compressed far more than"),
    (
        "total size zip bomb",
        lambda x: (_total_size_bomb(x), "s.xlsx"),
        "too large once uncompressed",
    ),
    ("lying declared size", lambda x: (_lying_size(x), "s.xlsx"), "The file is damaged"),
    ("too many members", lambda x: (_many_members(x), "s.xlsx"), "too many internal parts"),
    ("encrypted member", lambda x: (_encrypted_flag(x), "s.xlsx"), "password-protected"),
    (
        "bzip2 member",
        lambda x: (rewrite_zip(x, compression=zipfile.ZIP_BZIP2), "s.xlsx"),
        "compression method that Excel does not produce",
    ),
    ("duplicate member", lambda x: (_duplicate_member(x), "s.xlsx"), "duplicate internal parts"),
    (
        "billion laughs",
        lambda x: (rewrite_zip(x, {"xl/worksheets/sheet1.xml": BILLION_LAUGHS}), "s.xlsx"),
        "document type or entity declarations",
    ),
    (
        "external entity",
        lambda x: (rewrite_zip(x, {"xl/worksheets/sheet1.xml": EXTERNAL_ENTITY}), "s.xlsx"),
        "document type or entity declarations",
    ),
    (
        "dtd in an unexpected part",
        lambda x: (rewrite_zip(x, {"xl/media/image1.png": EXTERNAL_ENTITY}), "s.xlsx"),
        "document type or entity declarations",
    ),
    (
        "utf-16 dtd",
        lambda x: (
            rewrite_zip(
                x,
                {
                    "xl/worksheets/sheet1.xml": BILLION_LAUGHS.decode()
                    .replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
                    .encode("utf-16")
                },
            ),
            "s.xlsx",
        ),
        "document type or entity declarations",
    ),
    (
        "ebcdic declared encoding",
        lambda x: (
            rewrite_zip(
                x,
                {
                    "xl/worksheets/sheet1.xml": b'<?xml version="1.0" encoding="cp037"?>'
                    + "<!DOCTYPE x>".encode("cp037")
                },
            ),
            "s.xlsx",
        ),
        "document type or entity declarations",
    ),
    (
        "invalid utf-8",
        lambda x: (
            rewrite_zip(
                x,
                {
                    "xl/worksheets/sheet1.xml": _sheet_xml(
                        '<row r="1"><c r="A1" t="inlineStr"><is><t>Caf\xe9</t></is></c></row>'
                    ).replace(b"Caf\xc3\xa9", b"Caf\xe9")
                },
            ),
            "s.xlsx",
        ),
        "could not be read",
    ),
    (
        "control character reference",
        lambda x: (
            rewrite_zip(
                x,
                {
                    "xl/worksheets/sheet1.xml": _sheet_xml(
                        '<row r="1"><c r="A1" t="inlineStr"><is><t>A&#7;B</t></is></c></row>'
                    )
                },
            ),
            "s.xlsx",
        ),
        "could not be read",
    ),
    (
        "malformed sheet xml",
        lambda x: (
            rewrite_zip(x, {"xl/worksheets/sheet1.xml": b"<worksheet><sheetData>"}),
            "s.xlsx",
        ),
        "could not be read",
    ),
    (
        "missing workbook part",
        lambda x: (rewrite_zip(x, drop=("xl/workbook.xml",)), "s.xlsx"),
        "could not be read",
    ),
    (
        "absurd row number",
        lambda x: (
            rewrite_zip(
                x,
                {
                    "xl/worksheets/sheet1.xml": _sheet_xml(
                        HEADER_ROW_XML + '<row r="2000000000"><c r="A2000000000"><v>1</v></c></row>'
                    )
                },
            ),
            "s.xlsx",
        ),
        "rows beyond Excel's limit",
    ),
]


@pytest.mark.parametrize(
    ("build", "fragment"),
    [pytest.param(build, fragment, id=name) for name, build, fragment in HOSTILE],
)
def test_hostile_files_are_rejected_readably(
    valid_xlsx: bytes, build: Callable[[bytes], tuple[bytes, str]], fragment: str
) -> None:
    data, filename = build(valid_xlsx)
    started = time.process_time()
    error = rejected(data, filename)
    elapsed = time.process_time() - started

    assert fragment in str(error)
    assert error.errors[0].row is None and error.errors[0].column is None
    assert "Traceback" not in str(error) and len(str(error)) < 400
    assert elapsed < 3, f"rejecting took {elapsed:.1f}s"


def test_defusedxml_stops_entities_even_if_the_prescan_is_bypassed(
    valid_xlsx: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hardened_zip, "_xml_hazard", lambda content: False)
    for payload in (BILLION_LAUGHS, EXTERNAL_ENTITY):
        data = rewrite_zip(valid_xlsx, {"xl/worksheets/sheet1.xml": payload})
        started = time.process_time()
        assert "could not be read" in str(rejected(data))
        assert time.process_time() - started < 2


def test_openpyxl_is_running_on_defusedxml() -> None:
    from openpyxl.xml import functions

    assert openpyxl.DEFUSEDXML is True
    assert functions.iterparse.__module__.startswith("defusedxml")


def test_parsing_refuses_to_run_without_defusedxml(
    valid_xlsx: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(RuntimeError, match="defusedxml"):
        parse_upload(valid_xlsx, "s.xlsx")


def test_lone_surrogates_are_not_valid_text() -> None:
    with pytest.raises(validate._InvalidValue, match="not valid text"):
        validate._as_text("Acme\ud800", max_length=200)


def test_module_does_not_import_ui_packages() -> None:
    code = (
        "import sys, journey.template; "
        "bad = sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'textual', 'tui', 'screens', 'widgets', 'rich'}); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@functools.cache
def _good_file() -> bytes:
    """One file for every example: a workbook's bytes carry the time it was written,
    and hypothesis needs each example's choices (here, positions up to its length)
    to be the same when it replays them."""
    return make_xlsx([row(), row(supplier_name="Beta", notes="x")])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_bytes_only_ever_raise_upload_rejected(data: st.DataObject) -> None:
    original = bytearray(_good_file())
    for _ in range(data.draw(st.integers(1, 8), label="flips")):
        position = data.draw(st.integers(0, len(original) - 1), label="position")
        original[position] = data.draw(st.integers(0, 255), label="byte")
    try:
        parse_upload(bytes(original), "s.xlsx")
    except UploadRejected as error:
        assert error.errors


cell_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30).filter(
        lambda s: not openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.search(s)
    ),
    st.dates(min_value=dt.date(1900, 3, 1)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cell_values, min_size=len(HEADERS), max_size=len(HEADERS)))
def test_arbitrary_cell_values_never_crash(values: list[Any]) -> None:
    try:
        records = parse_upload(make_xlsx([values]), "s.xlsx")
    except UploadRejected as error:
        assert all(e.row == 2 and e.column in HEADERS for e in error.errors) or all(
            e.row is None for e in error.errors
        )
    else:
        assert len(records) == 1
        assert records[0].annual_spend >= 0
        assert 0 <= records[0].payment_terms_days <= 365
