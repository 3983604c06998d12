"""A hosted session's own files folder, used by name only.

Every hosted session (``relportal ssh-serve``, ``relportal web``: see :mod:`tui.hosting.hosted`)
has one folder of its own. Three places use it, and all of them through here:

* the portal (:class:`tui.files.FileDesk`) saves the viewer's files into it by name,
  lists it and reads from it;
* ``relportal web`` streams a browser's upload into it (:mod:`tui.hosting.uploads`);
* ``relportal ssh-serve`` offers its files at the session's download link
  (:mod:`tui.hosting.download_links`).

So there is one rule for a name (:func:`check_name`: a plain name, nothing hidden,
nothing that leads out), one way to create a file (:meth:`SessionFolder.create`:
relative to the folder's own descriptor, ``O_EXCL|O_NOFOLLOW``, a numbered name on a
clash) and one way to open one (never through a link, only a regular file of that
name in this folder). This module imports neither Textual nor aiohttp.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 255  # what one path component may hold on Linux filesystems
MAX_CLASHES = 99  # "report (2).xlsx" … "report (99).xlsx", then a clear refusal
# A name a browser sends is cut to this many bytes, so that its numbered form
# ("… (99)") still keeps to MAX_NAME_CHARS.
SENT_NAME_BYTES = MAX_NAME_CHARS - len(f" ({MAX_CLASHES})")
FALLBACK_NAME = "upload"  # a sent name with nothing left of it
SHORT_EXTENSION = 10  # an extension longer than this is not kept apart when cutting

# O_NONBLOCK: opening a pipe with no writer returns at once (then fstat refuses it)
# instead of waiting forever; O_NOCTTY: a terminal device never becomes ours.
READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class FileRefused(Exception):
    """A file the portal will not write or read; the message is for the user as is."""


def size_text(count: int, *, unit: str = "bytes") -> str:
    """``count`` bytes for people: ``912 bytes``, ``18 KB``, ``5 MB``, ``1.2 MB``;
    ``unit`` names bytes below a thousand (a narrow column says ``B``)."""
    if count >= 1_000_000:
        return f"{round(count / 1_000_000, 1):g} MB"
    if count >= 1000:
        return f"{count / 1000:.0f} KB"
    return f"{count} {unit}"


def _invisible(char: str) -> bool:
    # Category C: controls (NUL, ESC), format characters (bidi overrides, zero
    # widths), surrogates, private use and unassigned code points; Zl/Zp: line and
    # paragraph separators. None belongs in a name shown to a person.
    category = unicodedata.category(char)
    return category.startswith("C") or category in ("Zl", "Zp")


def check_name(name: str) -> str:
    """``name`` as a plain file name in the session's folder (surrounding spaces
    dropped), or :class:`FileRefused` saying what is wrong with it: no folders (``/``),
    no hidden or special names (a leading ``.``, so no ``..`` either), no NUL or other
    control or invisible formatting characters, not too long."""
    name = name.strip()
    if not name:
        raise FileRefused("Give the file a name.")
    if "/" in name or "\\" in name:
        raise FileRefused("A name only, without folders (no / or \\).")
    if name.startswith("."):
        raise FileRefused("A name may not start with a dot.")
    if any(_invisible(c) for c in name):
        raise FileRefused("A name may not hold control or invisible characters.")
    if len(name) > MAX_NAME_CHARS or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise FileRefused(f"A name of at most {MAX_NAME_CHARS} characters, please.")
    return name


def is_plain_name(name: str) -> bool:
    """``name`` is exactly a name :func:`check_name` keeps (what the folder lists,
    serves and opens)."""
    try:
        return check_name(name) == name
    except FileRefused:
        return False


def upload_name(sent: str) -> str:
    """The name a file sent as ``sent`` (by a browser, or anyone posting by hand) is
    kept under: the last part of any path (``/`` or ``\\``), without the characters
    :func:`check_name` refuses, without leading dots or spaces, cut to
    ``SENT_NAME_BYTES`` keeping a short extension; ``upload`` if nothing is left.
    The result keeps :func:`check_name`, so it is flattened, never refused."""
    name = sent.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if not _invisible(c))
    name = name.strip().lstrip(". ").rstrip()
    if not name:
        return FALLBACK_NAME
    if len(name.encode("utf-8")) > SENT_NAME_BYTES:
        stem, dot, extension = name.rpartition(".")
        if not dot or not stem or len(extension) > SHORT_EXTENSION:
            stem, extension = name, ""
        suffix = f".{extension}" if extension else ""
        room = SENT_NAME_BYTES - len(suffix.encode("utf-8"))
        stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip()
        name = stem + suffix
    return check_name(name)


def numbered(name: str, number: int) -> str:
    """``report.xlsx`` → ``report (2).xlsx``: the name a clash gets instead."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({number})"
    return f"{stem} ({number}).{suffix}"


def read_capped(fd: int, limit: int, name: str) -> bytes:
    """Read a regular file's bytes from ``fd``, at most ``limit``: a pipe, a device or a
    folder is refused before any read, and a file that grows past the limit while read
    (or says it is smaller than it is) is refused at ``limit + 1`` bytes."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise FileRefused(f"{name} is not a regular file.")
    chunks: list[bytes] = []
    left = limit + 1
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    if left <= 0:
        raise FileRefused(f"{name} is larger than {size_text(limit)}.")
    return b"".join(chunks)


@dataclass(frozen=True)
class FolderEntry:
    """One of the folder's files, as listed: its name and size in bytes."""

    name: str
    size: int


class SessionFolder:
    """A hosted session's own files folder, used by name only.

    Every operation opens the folder itself (``O_DIRECTORY|O_NOFOLLOW``) and works
    relative to that descriptor (``dir_fd``) on a checked name (:func:`check_name`):
    the name cannot reach another folder, a link in the folder is never followed
    (``O_NOFOLLOW``), a file is never replaced (``O_EXCL``), and what was opened is
    checked to be the regular file of that name in this folder. OSError means the
    folder itself cannot be opened (gone, or swapped for a link)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _open_folder(self) -> int:
        return os.open(self.path, _FOLDER_FLAGS)

    def _check_inside(self, folder_fd: int, name: str, fd: int) -> None:
        """What ``fd`` holds is the file ``name`` right in the folder (no link, no other
        place): the same inode as the name there, and the name's real path is inside."""
        here = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        opened = os.fstat(fd)
        if (here.st_dev, here.st_ino) != (opened.st_dev, opened.st_ino):
            raise FileRefused(f"{name} changed while it was opened.")
        real_folder = os.path.realpath(self.path)
        if os.path.dirname(os.path.realpath(os.path.join(real_folder, name))) != real_folder:
            raise FileRefused(f"{name} is not a file of this session.")

    @contextmanager
    def create(self, name: str) -> Iterator[tuple[int, str]]:
        """A new, empty file called ``name`` (or a numbered name when that one is
        taken, by a file or a link): yields its descriptor, open for writing, and the
        name it got. Whatever goes wrong inside the block, the file is removed, so
        nothing half-written is left behind."""
        name = check_name(name)
        folder_fd = self._open_folder()
        try:
            for number in range(1, MAX_CLASHES + 1):
                candidate = name if number == 1 else check_name(numbered(name, number))
                try:
                    fd = os.open(candidate, _CREATE_FLAGS, 0o600, dir_fd=folder_fd)
                except FileExistsError:
                    continue
                try:
                    self._check_inside(folder_fd, candidate, fd)
                    yield fd, candidate
                except BaseException:
                    os.unlink(candidate, dir_fd=folder_fd)
                    raise
                finally:
                    os.close(fd)
                return
            raise FileRefused(f"There are already {MAX_CLASHES} files named like {name}.")
        finally:
            os.close(folder_fd)

    def save(self, name: str, data: bytes) -> str:
        """Write ``data`` as a new file called ``name`` (see :meth:`create`); returns
        the name written."""
        with self.create(name) as (fd, written):
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        return written

    @contextmanager
    def _opened(self, name: str) -> Iterator[tuple[int, str]]:
        """The folder's file ``name`` opened for reading (closed after the block), and
        its checked name.
        Any file that is not one (missing, a link, a pipe) gets the same answer, so
        nothing is learnt of what lies outside."""
        name = check_name(name)
        folder_fd = self._open_folder()
        try:
            try:
                fd = os.open(name, READ_FLAGS | os.O_NOFOLLOW, dir_fd=folder_fd)
            except OSError:
                raise FileRefused(f"{name} is not a file of this session.") from None
            try:
                self._check_inside(folder_fd, name, fd)
                yield fd, name
            finally:
                os.close(fd)
        finally:
            os.close(folder_fd)

    def read(self, name: str, limit: int) -> bytes:
        """The bytes of the folder's regular file ``name``, at most ``limit``."""
        with self._opened(name) as (fd, checked):
            return read_capped(fd, limit, checked)

    @contextmanager
    def open_to_send(self, name: str) -> Iterator[tuple[int, int]]:
        """The folder's regular file called exactly ``name``, open for streaming out:
        yields its descriptor and its size when opened (send no more: a file that
        grows stops there). :class:`FileRefused` for anything else, the same for all."""
        if not is_plain_name(name):
            raise FileRefused("That is not a file of this session.")
        with self._opened(name) as (fd, _):
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise FileRefused(f"{name} is not a regular file.")
            yield fd, info.st_size

    def _regular_files(self) -> Iterator[tuple[str, int]]:
        """Every regular file right in the folder (links not followed): name, size."""
        folder_fd = self._open_folder()
        try:
            with os.scandir(folder_fd) as listing:
                for entry in listing:
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if stat.S_ISREG(info.st_mode):
                        yield entry.name, info.st_size
        finally:
            os.close(folder_fd)

    def entries(self, suffixes: tuple[str, ...] = ()) -> list[FolderEntry]:
        """The folder's regular files by name (hidden and oddly named ones left out),
        those ending in one of ``suffixes`` when given."""
        found = [
            FolderEntry(name, size)
            for name, size in self._regular_files()
            if is_plain_name(name) and (not suffixes or name.lower().endswith(suffixes))
        ]
        return sorted(found, key=lambda e: e.name.casefold())

    def total_bytes(self) -> int:
        """Bytes in all the folder's regular files, hidden or oddly named ones too
        (they take room all the same)."""
        return sum(size for _, size in self._regular_files())
