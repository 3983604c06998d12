"""Treat an uploaded xlsx as hostile: check its envelope, unzip it under byte caps, scan its XML.

Nothing here parses a spreadsheet: it returns the verified bytes repacked, for openpyxl to read.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile

import openpyxl  # type: ignore[import-untyped]

from journey.template.columns import MAX_UPLOAD_BYTES
from journey.template.rejection import quote, reject

# Zip-bomb limits. A filled template of MAX_ROWS rows is a few MB of XML in ~15 members, so these
# leave generous headroom for real workbooks while bounding what a 1 MB upload can expand into.
MAX_ZIP_MEMBERS = 200
MAX_UNCOMPRESSED_BYTES = 20_000_000
MAX_COMPRESSION_RATIO = 100
# Small members can legitimately compress very well (and cannot hurt), so the ratio check only
# applies above this size.
RATIO_CHECK_MIN_BYTES = 256 * 1024


def verified_workbook(data: bytes, filename: str) -> bytes:
    """Check an upload's envelope, zip container and XML; return its verified bytes repacked.

    Raises :class:`UploadRejected` for a file that is not a plain xlsx, and ``RuntimeError``
    if openpyxl would parse XML without defusedxml.
    """
    _require_defused_xml()
    _check_envelope(data, filename)
    members = _unpack(data)
    _check_package(members)
    return _repack(members)


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
        raise reject("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise reject(
            f"The file is {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,} bytes (1 MB)."
        )
    name = (filename or "").strip()
    lowered = name.lower()
    if lowered.endswith((".xlsm", ".xltm")):
        raise reject(
            "Macro-enabled workbooks are not accepted. Save the file as an Excel Workbook (.xlsx)."
        )
    if lowered.endswith(".xls"):
        raise reject(
            "The old Excel 97-2003 format (.xls) is not accepted. "
            "Save the file as an Excel Workbook (.xlsx)."
        )
    if not lowered.endswith(".xlsx"):
        raise reject(f"Only Excel Workbook (.xlsx) files are accepted; got {quote(name)}.")
    if data.startswith(_OLE_MAGIC):
        # Password-protected xlsx files and legacy .xls files are both OLE compound documents.
        raise reject(
            "The file is password-protected or in the old Excel 97-2003 format. "
            "Remove the password and save it as an Excel Workbook (.xlsx)."
        )
    if not data.startswith(_ZIP_MAGIC):
        raise reject(f"The file is not an Excel workbook{_content_hint(data)}.")


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
        raise reject(damaged) from exc

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
                raise reject(damaged) from exc
            if len(content) > limit:
                raise reject(_TOO_BIG_MESSAGE)
            budget -= len(content)
            members[info.filename] = content
    return members


_TOO_BIG_MESSAGE = (
    f"The workbook is too large once uncompressed (the limit is "
    f"{MAX_UNCOMPRESSED_BYTES // 1_000_000} MB) and was rejected for safety."
)


def _check_zip_directory(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ZIP_MEMBERS:
        raise reject(
            f"The file has too many internal parts ({len(infos):,}; the limit is "
            f"{MAX_ZIP_MEMBERS}) to be a supplier template."
        )
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        # Duplicate names make "which copy is read" ambiguous between tools.
        raise reject("The file is damaged: it contains duplicate internal parts.")
    declared_total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise reject(
                "The file is password-protected. Remove the password and save it as an "
                "Excel Workbook (.xlsx)."
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise reject("The file uses a compression method that Excel does not produce.")
        declared_total += info.file_size
        if info.file_size > RATIO_CHECK_MIN_BYTES and (
            info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
        ):
            raise reject(
                "The file contains a part that is compressed far more than any real workbook "
                "and was rejected for safety."
            )
    if declared_total > MAX_UNCOMPRESSED_BYTES:
        raise reject(_TOO_BIG_MESSAGE)


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
        raise reject("The file is a zip archive but not an Excel workbook (.xlsx).")
    lowered_types = content_types.lower()
    if b"sheet.binary" in lowered_types:
        raise reject(
            "Excel Binary Workbooks (.xlsb) are not accepted. "
            "Save the file as an Excel Workbook (.xlsx)."
        )
    lowered_names = [name.lower() for name in members]
    if b"macroenabled" in lowered_types or any(
        name.rsplit("/", 1)[-1] == "vbaproject.bin" for name in lowered_names
    ):
        raise reject(
            "The file contains macros, which are not accepted. "
            "Save it as an Excel Workbook (.xlsx) without macros."
        )
    if any(name.startswith(("xl/activex/", "xl/embeddings/")) for name in lowered_names):
        raise reject(
            "The file contains embedded objects or ActiveX controls, which are not accepted. "
            "Copy the supplier rows into a fresh template."
        )
    # Scan every member, whatever its name: relationships can point openpyxl at any part.
    if any(_xml_hazard(content) for content in members.values()):
        raise reject(
            "The file contains XML features (document type or entity declarations) that Excel "
            "never writes, and was rejected for safety."
        )
    if b"spreadsheetml" not in lowered_types:
        raise reject("The file is a zip archive but not an Excel workbook (.xlsx).")


def _repack(members: dict[str, bytes]) -> bytes:
    # openpyxl gets a fresh archive holding exactly the bytes that passed the checks, so nothing
    # it reads can differ from what was inspected. Stored, because it is only read once.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()
