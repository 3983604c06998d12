"""Every file the portal writes or reads for its user goes through here.

A local user (``relportal`` in their own terminal) names paths, as anywhere else on
their machine; reads are bounded even then (regular files only, capped sizes), so a
path to ``/dev/zero`` or a pipe is refused rather than read without end.

A hosted viewer (``relportal ssh-serve``, ``relportal web``: see :mod:`tui.hosted`)
names no path. In a browser every download goes to the browser and every file read
comes from the session's own folder (where the page's "Upload a file" puts the
viewer's files) or the built-in samples; over SSH a file is written only as a *name*
inside that folder (never outside it, never over a file, never through a link), short
text can go to the viewer's clipboard, and files read are picked from the folder's
own list. Messages name files, never the host's paths.

:class:`FileDesk` (``app.file_desk``) is what screens call; the functions below it
are the rules it keeps.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
import unicodedata
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.hosted import Hosting

if TYPE_CHECKING:
    from textual.app import App

# Short text (a transcript) goes to the viewer's clipboard over OSC 52 up to this size:
# terminals cap what they accept (xterm's default is about 100 KB of base64).
CLIPBOARD_BYTES = 64 * 1024
MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 255  # what one path component may hold on Linux filesystems
MAX_CLASHES = 99  # "report (2).xlsx" … "report (99).xlsx", then a clear refusal


class FileRefused(Exception):
    """A file the portal will not write or read; the message is for the user as is."""


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, so a
    failure (a full disk, a closed app) never leaves half a file behind. The temporary
    file is created exclusively (``mkstemp``: ``O_EXCL``), so a link planted under its
    name is never followed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".relportal-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_capped(fd: int, limit: int, name: str) -> bytes:
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
        raise FileRefused(f"{name} is larger than {_size(limit)}.")
    return b"".join(chunks)


# O_NONBLOCK: opening a pipe with no writer returns at once (then fstat refuses it)
# instead of waiting forever; O_NOCTTY: a terminal device never becomes ours.
_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)


def read_local_file(path: Path, limit: int) -> bytes:
    """A local user's file, bounded (see :func:`_read_capped`). OSError and
    :class:`FileRefused` say why not."""
    fd = os.open(path, _READ_FLAGS)
    try:
        return _read_capped(fd, limit, str(path))
    finally:
        os.close(fd)


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
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in name):
        raise FileRefused("A name may not hold control or invisible characters.")
    if len(name) > MAX_NAME_CHARS or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise FileRefused(f"A name of at most {MAX_NAME_CHARS} characters, please.")
    return name


def numbered(name: str, number: int) -> str:
    """``report.xlsx`` → ``report (2).xlsx``: the name a clash gets instead."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({number})"
    return f"{stem} ({number}).{suffix}"


@dataclass(frozen=True)
class FolderEntry:
    name: str
    size: int


class SessionFolder:
    """A hosted session's own files folder, used by name only.

    Every operation opens the folder itself (``O_DIRECTORY|O_NOFOLLOW``) and works
    relative to that descriptor (``dir_fd``) on a checked name (:func:`check_name`):
    the name cannot reach another folder, a link in the folder is never followed
    (``O_NOFOLLOW``), a file is never replaced (``O_EXCL``), and what was opened is
    checked to be the regular file of that name in this folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _open_folder(self) -> int:
        return os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)

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

    def save(self, name: str, data: bytes) -> str:
        """Write ``data`` as a new file called ``name`` (or a numbered name when that one
        is taken); returns the name written."""
        name = check_name(name)
        folder_fd = self._open_folder()
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            for number in range(1, MAX_CLASHES + 1):
                candidate = name if number == 1 else check_name(numbered(name, number))
                try:
                    fd = os.open(candidate, flags, 0o600, dir_fd=folder_fd)
                except FileExistsError:
                    continue
                try:
                    self._check_inside(folder_fd, candidate, fd)
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                except BaseException:
                    os.unlink(candidate, dir_fd=folder_fd)
                    raise
                finally:
                    os.close(fd)
                return candidate
            raise FileRefused(f"There are already {MAX_CLASHES} files named like {name}.")
        finally:
            os.close(folder_fd)

    def read(self, name: str, limit: int) -> bytes:
        """The bytes of the folder's regular file ``name``, at most ``limit``. Any file
        that is not one (missing, a link, a pipe) gets the same answer, so nothing is
        learnt of what lies outside."""
        name = check_name(name)
        folder_fd = self._open_folder()
        try:
            try:
                fd = os.open(name, _READ_FLAGS | os.O_NOFOLLOW, dir_fd=folder_fd)
            except OSError:
                raise FileRefused(f"{name} is not a file of this session.") from None
            try:
                self._check_inside(folder_fd, name, fd)
                return _read_capped(fd, limit, name)
            finally:
                os.close(fd)
        finally:
            os.close(folder_fd)

    def entries(self, suffixes: tuple[str, ...] = ()) -> list[FolderEntry]:
        """The folder's regular files by name (hidden and oddly named ones left out),
        those ending in one of ``suffixes`` when given."""
        folder_fd = self._open_folder()
        found: list[FolderEntry] = []
        try:
            with os.scandir(folder_fd) as listing:
                for entry in listing:
                    try:
                        check_name(entry.name)
                        info = entry.stat(follow_symlinks=False)
                    except (FileRefused, OSError):
                        continue
                    if not stat.S_ISREG(info.st_mode):
                        continue
                    if suffixes and not entry.name.lower().endswith(suffixes):
                        continue
                    found.append(FolderEntry(entry.name, info.st_size))
        finally:
            os.close(folder_fd)
        return sorted(found, key=lambda e: e.name.casefold())


def download_link(hosting: Hosting, name: str) -> str | None:
    """Where an SSH viewer fetches ``name`` from their session's download list, when the
    host gives one (an http(s) base URL ending in ``/``), else None."""
    base = hosting.download_url or ""
    if not base.startswith(("http://", "https://")) or not base.endswith("/"):
        return None
    return base + urllib.parse.quote(name)


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:g} MB"
    if count >= 1000:
        return f"{count / 1000:.0f} KB"
    return f"{count} bytes"


@dataclass(frozen=True)
class SaveTarget:
    """Where a file the user saves goes: a local ``path``, or (hosted) a ``name`` to
    deliver to the browser or write in the session's folder; ``copy`` puts short text
    on the viewer's clipboard instead."""

    name: str
    path: Path | None = None
    copy: bool = False


@dataclass(frozen=True)
class Sample:
    """A built-in file the user may pick to open (made when picked, from memory)."""

    name: str
    label: str
    make: Callable[[], bytes]


class FileDesk:
    """The portal's one way to files, for whoever is using it (see the module's text)."""

    def __init__(self, app: App[Any], hosting: Hosting, downloads: Path) -> None:
        self.app = app
        self.hosting = hosting
        self.downloads = downloads
        self.folder = SessionFolder(hosting.files) if hosting.files is not None else None

    @property
    def hosted(self) -> bool:
        return self.hosting.hosted

    @property
    def to_browser(self) -> bool:
        """Downloads go to the browser: a web session (or a local ``textual serve``)."""
        return self.hosting.mode == "web" or bool(self.app.is_web)

    def _tell(self, message: str, *, title: str, error: bool = False) -> None:
        self.app.notify(message, title=title, severity="error" if error else "information")

    # Saving

    def ask_where(
        self,
        question: str,
        name: str,
        then: Callable[[SaveTarget], None],
        *,
        ok: str = "Save",
        ask_name_in_browser: bool = False,
        text: bool = False,
    ) -> None:
        """Ask where to save a file suggested as ``name``, then call ``then``: a local
        user types a path (completed from their disk) in ``downloads``; an SSH viewer a
        name for their session's files (or the clipboard, for ``text``); a browser
        viewer only when the name says something (a report's format), else the file goes
        straight to the browser."""
        from screens.path_prompt import NamePrompt, PathPrompt

        if not self.hosted:

            def typed(path: str | None) -> None:
                if path:
                    where = Path(os.path.expanduser(path))
                    then(SaveTarget(where.name, path=where))

            value = name if self.to_browser else str(self.downloads / name)
            self.app.push_screen(PathPrompt(question, value, ok, paths=not self.to_browser), typed)
            return
        if self.to_browser and not ask_name_in_browser:
            then(SaveTarget(name))
            return

        def named(answer: SaveTarget | None) -> None:
            if answer is not None:
                then(answer)

        copyable = text and not self.to_browser
        self.app.push_screen(NamePrompt(question, name, ok, copyable=copyable), named)

    def save(self, target: SaveTarget, data: bytes, *, what: str, title: str) -> None:
        """Deliver ``data`` (``what`` names it: "the report") as ``target`` says, and
        tell the user where it went, or why it did not."""
        if target.copy:
            if len(data) > CLIPBOARD_BYTES:
                self._tell(
                    f"{what.capitalize()} is {_size(len(data))}: too long for the clipboard "
                    f"(at most {_size(CLIPBOARD_BYTES)}). Save it as a file instead.",
                    title="Not copied",
                    error=True,
                )
                return
            self.app.copy_to_clipboard(data.decode("utf-8", "replace"))
            self._tell(
                f"Copied {what} ({_size(len(data))}) to your clipboard, "
                "if your terminal lets programs set it (OSC 52).",
                title=title,
            )
            return
        if self.to_browser:
            try:
                name = check_name(target.name)
            except FileRefused as exc:
                self._tell(str(exc), title="Not saved", error=True)
                return
            self.app.deliver_binary(io.BytesIO(data), save_filename=name)
            self._tell(f"{what.capitalize()} goes to your browser as {name}.", title=title)
            return
        if self.folder is not None:
            try:
                name = self.folder.save(target.name, data)
            except FileRefused as exc:
                self._tell(str(exc), title="Not saved", error=True)
                return
            except OSError as exc:
                self._tell(
                    f"Cannot save {target.name}: {exc.strerror}.", title="Not saved", error=True
                )
                return
            message = f"Saved {what} as {name} in your session's files."
            link = download_link(self.hosting, name)
            if link:
                message += f"\nFetch it from {link}"
            self._tell(message, title=title)
            return
        path = target.path or self.downloads / target.name
        try:
            write_atomically(path, data)
        except OSError as exc:
            self._tell(f"Cannot write {path}: {exc.strerror}.", title="Not saved", error=True)
            return
        self._tell(f"Wrote {what} ({_size(len(data))}) to {path}", title=title)

    # Opening

    def choose_to_open(
        self,
        question: str,
        then: Callable[[str, bytes], None],
        *,
        limit: int,
        suffixes: tuple[str, ...] = (),
        samples: tuple[Sample, ...] = (),
        ok: str = "Open",
    ) -> None:
        """Let the user pick a file to open, read it (at most ``limit`` bytes) and call
        ``then(name, data)``; a file that cannot be read is a notification. A local user
        types a path; a hosted viewer picks from the session's files and ``samples``."""
        from screens.file_picker import FilePicker, Picked
        from screens.path_prompt import PathPrompt

        if not self.hosted:

            def typed(path: str | None) -> None:
                if path:
                    where = Path(os.path.expanduser(path))
                    data = self.read_local(where, limit)
                    if data is not None:
                        then(where.name, data)

            self.app.push_screen(PathPrompt(question, "", ok), typed)
            return

        assert self.folder is not None
        try:
            entries = self.folder.entries(suffixes)
        except OSError:
            entries = []

        def picked(choice: Picked | None) -> None:
            if choice is None:
                return
            if choice.sample is not None:
                then(choice.sample.name, choice.sample.make())
                return
            data = self.read_session_file(choice.name, limit)
            if data is not None:
                then(choice.name, data)

        self.app.push_screen(
            FilePicker(
                question, entries, samples, suffixes=suffixes, web=self.hosting.mode == "web"
            ),
            picked,
        )

    def read_local(self, path: Path, limit: int) -> bytes | None:
        """A local user's file by path, bounded; None (and a notification) when not."""
        try:
            return read_local_file(path, limit)
        except FileRefused as exc:
            self._tell(str(exc), title="Not opened", error=True)
        except OSError as exc:
            self._tell(f"Cannot read {path}: {exc.strerror}.", title="Not opened", error=True)
        return None

    def read_session_file(self, name: str, limit: int) -> bytes | None:
        """A hosted session's file by name, bounded; None (and a notification) when not."""
        assert self.folder is not None
        try:
            return self.folder.read(name, limit)
        except FileRefused as exc:
            self._tell(str(exc), title="Not opened", error=True)
        except OSError:
            self._tell(f"{name} cannot be read.", title="Not opened", error=True)
        return None


def desk_of(app: App[Any]) -> FileDesk:
    """The portal's file desk (``RelportalApp.file_desk``), for screens."""
    desk = getattr(app, "file_desk", None)
    if not isinstance(desk, FileDesk):
        raise TypeError("this app has no file desk: files go through RelportalApp only")
    return desk
