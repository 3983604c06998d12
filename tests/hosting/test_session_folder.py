"""The session folder's one name rule and its ways in and out, as the web uploads and
ssh-serve's download links use them (tui/hosting/session_folder.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tui.hosting.session_folder import (
    MAX_CLASHES,
    FileRefused,
    SessionFolder,
    check_name,
    numbered,
    upload_name,
)


@pytest.fixture
def folder(tmp_path: Path) -> SessionFolder:
    (tmp_path / "files").mkdir()
    return SessionFolder(tmp_path / "files")


@given(st.text(max_size=400))
@example("x" * 300)
@example("../../" + "y" * 200 + ".xlsx")
@example("line\u2028break\x00.txt")
def test_whatever_a_browser_sends_becomes_a_name_the_rule_keeps_even_when_numbered(
    sent: str,
) -> None:
    name = upload_name(sent)
    assert check_name(name) == name
    assert check_name(numbered(name, MAX_CLASHES)) == numbered(name, MAX_CLASHES)


def test_a_name_the_rule_refuses_is_not_listed_or_served(folder: SessionFolder) -> None:
    # Written behind the portal's back: a name with an escape sequence, a line
    # separator, surrounding spaces. The rule that refuses them for saving keeps them
    # out of the download listing and the download too.
    for odd in ("esc\x1b[2J.txt", "line\u2028break.txt", " spaced.txt"):
        (folder.path / odd).write_bytes(b"odd")
        with pytest.raises(FileRefused), folder.open_to_send(odd):
            pass
    (folder.path / "fine.txt").write_bytes(b"fine")
    assert [e.name for e in folder.entries()] == ["fine.txt"]
    with folder.open_to_send("fine.txt") as (fd, size):
        assert (os.read(fd, 100), size) == (b"fine", 4)


def test_a_link_or_pipe_in_the_folder_is_never_opened_to_send(
    folder: SessionFolder, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_bytes(b"secret")
    (folder.path / "link.txt").symlink_to(tmp_path / "secret.txt")
    os.mkfifo(folder.path / "pipe.txt")
    for name in ("link.txt", "pipe.txt", "missing.txt", "../secret.txt"):
        with pytest.raises(FileRefused), folder.open_to_send(name):
            pass


def test_a_file_being_created_is_removed_when_its_writing_fails(folder: SessionFolder) -> None:
    with pytest.raises(RuntimeError), folder.create("report.xlsx") as (fd, name):
        os.write(fd, b"half")
        raise RuntimeError("the body was cut off")
    assert list(folder.path.iterdir()) == []
    with folder.create("report.xlsx") as (fd, name):
        os.write(fd, b"whole")
    assert name == "report.xlsx"
    assert (folder.path / name).read_bytes() == b"whole"


def test_the_room_taken_counts_every_regular_file_hidden_or_not(
    folder: SessionFolder, tmp_path: Path
) -> None:
    (folder.path / "a.txt").write_bytes(b"x" * 10)
    (folder.path / ".hidden").write_bytes(b"x" * 5)
    (tmp_path / "outside").write_bytes(b"x" * 1000)
    (folder.path / "link").symlink_to(tmp_path / "outside")
    assert folder.total_bytes() == 15
