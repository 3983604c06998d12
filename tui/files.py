"""Every file the portal writes or reads for its user goes through here.

A local user (``relportal`` in their own terminal) names paths, as anywhere else on
their machine; reads are bounded even then (regular files only, capped sizes), so a
path to ``/dev/zero`` or a pipe is refused rather than read without end.

A hosted viewer (``relportal ssh-serve``, ``relportal web``: see :mod:`tui.hosting.hosted`)
names no path. In a browser every download goes to the browser and every file read
comes from the session's own folder (where the page's "Upload a file" puts the
viewer's files) or the built-in samples; over SSH a file is written only as a *name*
inside that folder (never outside it, never over a file, never through a link), short
text can go to the viewer's clipboard, and files read are picked from the folder's
own list. Messages name files, never the host's paths.

:class:`FileDesk` (``app.file_desk``) is what screens call. The hosted session's
folder itself (its one name rule, how a file is created, read and listed there) is
:mod:`tui.hosting.session_folder`, which the web uploads and ssh-serve's download links use
too; this module keeps the portal's side and a local user's reads.
"""

from __future__ import annotations

import io
import os
import tempfile
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.client import ServiceProblem, ServiceUnavailable
from tui.file_choices import Sample, SaveTarget
from tui.hosting.hosted import Hosting
from tui.hosting.session_folder import (
    READ_FLAGS,
    FileRefused,
    SessionFolder,
    check_name,
    read_capped,
    size_text,
)

if TYPE_CHECKING:
    from textual.app import App

# Short text (a transcript) goes to the viewer's clipboard over OSC 52 up to this size:
# terminals cap what they accept (xterm's default is about 100 KB of base64).
CLIPBOARD_BYTES = 64 * 1024


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


def local_save_problem(path: Path) -> str | None:
    """Why a file cannot be saved at ``path``, found before anything is fetched for it
    (so the prompt can say it and keep what was typed), or None. The folder is made as
    the save would make it, and a temporary file is created and removed in it: a
    permission the process lacks, a folder that cannot be made or a read-only disk all
    show here, even for root."""
    if path.is_dir():
        return f"{path} is a folder: end the path with a file name."
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=".relportal-", suffix=".part")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"Cannot write {path}: {exc.strerror or exc}."
    return None


def suffix_problem(name: str, suffixes: tuple[str, ...]) -> str | None:
    """Why ``name`` does not end as a file of ``suffixes`` must (".xlsx", …), or None."""
    if not suffixes or name.lower().endswith(suffixes):
        return None
    listed = ", ".join(suffixes[:-1]) + (" or " if len(suffixes) > 1 else "") + suffixes[-1]
    return f"End the file name with {listed}."


def readable_file_name(company: str, what: str, suffix: str) -> str:
    """A file name a person reads: "Company name - what.json", the company's name kept
    to letters, digits, spaces, - and _ (so it is a name on any disk and in a hosted
    session's folder)."""
    safe = "".join(c if c.isalnum() or c in " -_" else "-" for c in company).strip()
    return f"{' '.join(safe.split())[:120] or 'company'} - {what}{suffix}"


def read_local_file(path: Path, limit: int) -> bytes:
    """A local user's file, bounded (see :func:`tui.hosting.session_folder.read_capped`).
    OSError and :class:`FileRefused` say why not."""
    fd = os.open(path, READ_FLAGS)
    try:
        return read_capped(fd, limit, str(path))
    finally:
        os.close(fd)


def download_link(hosting: Hosting, name: str) -> str | None:
    """Where an SSH viewer fetches ``name`` from their session's download list, when the
    host gives one (an http(s) base URL ending in ``/``), else None."""
    base = hosting.download_url or ""
    if not base.startswith(("http://", "https://")) or not base.endswith("/"):
        return None
    return base + urllib.parse.quote(name)


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
        suffixes: tuple[str, ...] = (),
    ) -> None:
        """Ask where to save a file suggested as ``name``, then call ``then``: a local
        user types a path (completed from their disk) in ``downloads``; an SSH viewer a
        name for their session's files (or the clipboard, for ``text``); a browser
        viewer only when the name says something (a report's format), else the file goes
        straight to the browser. A name that does not end in one of ``suffixes``, or a
        local path that cannot be written, is said in the prompt, which stays open
        with what was typed."""
        from screens.path_prompt import NamePrompt, PathPrompt

        if not self.hosted:

            def typed(path: str | None) -> None:
                if path:
                    where = Path(os.path.expanduser(path))
                    then(SaveTarget(where.name, path=where))

            def check(typed_path: str) -> str | None:
                where = Path(os.path.expanduser(typed_path))
                problem = suffix_problem(where.name, suffixes)
                if problem or self.to_browser:
                    return problem
                return local_save_problem(where)

            value = name if self.to_browser else str(self.downloads / name)
            self.app.push_screen(
                PathPrompt(question, value, ok, paths=not self.to_browser, check=check), typed
            )
            return
        if self.to_browser and not ask_name_in_browser:
            then(SaveTarget(name))
            return

        def named(answer: SaveTarget | None) -> None:
            if answer is not None:
                then(answer)

        copyable = text and not self.to_browser
        self.app.push_screen(
            NamePrompt(
                question,
                name,
                ok,
                copyable=copyable,
                check=lambda typed_name: suffix_problem(typed_name, suffixes),
            ),
            named,
        )

    def save(self, target: SaveTarget, data: bytes, *, what: str, title: str) -> None:
        """Deliver ``data`` (``what`` names it: "the report") as ``target`` says, and
        tell the user where it went, or why it did not."""
        if target.copy:
            if len(data) > CLIPBOARD_BYTES:
                self._tell(
                    f"{what.capitalize()} is {size_text(len(data))}: too long for the clipboard "
                    f"(at most {size_text(CLIPBOARD_BYTES)}). Save it as a file instead.",
                    title="Not copied",
                    error=True,
                )
                return
            self.app.copy_to_clipboard(data.decode("utf-8", "replace"))
            self._tell(
                f"Copied {what} ({size_text(len(data))}) to your clipboard, "
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
        self._tell(f"Wrote {what} ({size_text(len(data))}) to {path}", title=title)

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
                self.app.run_worker(
                    self._open_sample(choice.sample, then), group="sample", exit_on_error=False
                )
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

    async def _open_sample(self, sample: Sample, then: Callable[[str, bytes], None]) -> None:
        try:
            data = await sample.make()
        except (ServiceProblem, ServiceUnavailable) as exc:
            self._tell(f"{sample.label}: {exc}", title="Not opened", error=True)
            return
        then(sample.name, data)

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
