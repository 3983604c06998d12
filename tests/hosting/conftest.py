"""Fixtures of the hosting tests: the OpenSSH client, an ssh-serve shared by a module's
tests, and a real `relportal web` on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ssh_serve import (
    SSH,
    SSH_AGENT,
    SshServe,
    client_key,
    eventually,
)
from tests.support.web import WebServer, start_web, stop_web


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[WebServer]:
    """`relportal web` with a generated password; no session's home outlives it."""
    server = start_web(tmp_path)
    yield server
    stop_web(server)
    assert server.homes() == [], "a session's home outlived the server"


@pytest.fixture(scope="module")
def openssh_client() -> None:
    """OpenSSH's ssh and ssh-agent are here: skipped where they are not, failed under CI."""
    if SSH is None or SSH_AGENT is None:
        reason = "ssh and ssh-agent (Debian package openssh-client) are not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SshServe, Path]]:
    """One server for the tests that do not need limits of their own."""
    root = tmp_path_factory.mktemp("ssh-serve")
    key, authorized = client_key(root / "viewer")
    server = SshServe(root, "--authorized-keys", str(authorized))
    yield server, key
    server.stop()


@pytest.fixture
def shared(shared_server: tuple[SshServe, Path]) -> tuple[SshServe, Path]:
    """The shared server once the sessions of earlier tests are gone, in any test order."""
    server, _ = shared_server
    eventually(lambda: not server.session_homes(), "earlier sessions to end")
    return shared_server
