"""Fixtures of the unit tests: a valid supplier upload, made once per module."""

from __future__ import annotations

import pytest

from tests.support.supplier_files import make_xlsx, row


@pytest.fixture(scope="module")
def valid_xlsx() -> bytes:
    """A supplier file with one valid row, as a customer would upload it."""
    return make_xlsx([row()])
