"""Why an upload was rejected, in words meant for the customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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


def reject(message: str) -> UploadRejected:
    """A rejection for a problem with the file as a whole."""
    return UploadRejected([UploadError(None, None, message)])


def quote(value: object, limit: int = 40) -> str:
    """``value`` quoted for an error message, shortened to ``limit`` characters."""
    # repr() escapes control characters, so hostile text cannot mangle the message.
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)
