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

The modules: ``columns`` (the columns and limits both sides share), ``workbook`` (the xlsx
builder and sample files), ``hardened_zip`` (steps 1-3), ``validate`` (step 4) and
``rejection`` (the errors).
"""

from journey.template.columns import (
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    PAYMENT_METHODS,
    SUPPLIER_COLUMNS,
    SUPPLIERS_SHEET,
)
from journey.template.rejection import UploadError, UploadRejected
from journey.template.validate import MAX_REPORTED_ERRORS, SupplierRecord, parse_upload
from journey.template.workbook import build_template, sample_file

__all__ = [
    "MAX_REPORTED_ERRORS",
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "PAYMENT_METHODS",
    "SUPPLIERS_SHEET",
    "SUPPLIER_COLUMNS",
    "SupplierRecord",
    "UploadError",
    "UploadRejected",
    "build_template",
    "parse_upload",
    "sample_file",
]
