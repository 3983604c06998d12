"""Fixtures of the hosting tests: a real `relportal web` on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.web import WebServer, start_web, stop_web


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[WebServer]:
    """`relportal web` with a generated password; no session's home outlives it."""
    server = start_web(tmp_path)
    yield server
    stop_web(server)
    assert server.homes() == [], "a session's home outlived the server"
