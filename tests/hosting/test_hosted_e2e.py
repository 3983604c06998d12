"""Hosted portals end to end: every file action a viewer has, through a real
``relportal ssh-serve`` (asyncssh's client on a pty, drawn on a pyte screen) and a real
``relportal web`` (headless Debian Chromium through Playwright), and what the host
holds afterwards.

A viewer saves a report, the supplier template and a transcript, uploads a supplier
file and imports a transcript. Each walk asserts what an attacker with the demo
password would check: every file they made is in their session's own files folder
and nowhere else on the host (the server's HOME, working folder and temporary
folders, and /tmp); names that leave the folder and ``/etc/pas`` are refused, with
nothing completed; and no frame the viewer is sent ever shows a host path.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import asyncssh
import openpyxl
import pytest

from journey.template import sample_file
from tests.support.ssh_serve import (
    RecordingViewer,
    SshServe,
    demo_password,
    environment_of,
    portal_pid,
    process_gone,
    raw_get,
)
from tests.support.web import (
    CATCH_TERMINALS,
    SCREEN,
    WebServer,
    every_file,
    until,
)

pytestmark = pytest.mark.e2e

COLUMNS, ROWS = 120, 40
DOWN, ENTER, ESCAPE, TAB, RIGHT, CLEAR = "\x1b[B", "\r", "\x1b", "\t", "\x1b[C", "\x15"

# What no viewer's screen may ever show: host folders, the session folders' names, the
# completion of /etc/pas. (Typing "/etc/pas" shows that much: it is the viewer's own.)
HOST_WORDS = ("/tmp", "/root", "/work/", "/home/", "relportal-session-", "/etc/passwd", "passwd")


def _seen_on_screen(text: str, extra: tuple[str, ...]) -> list[str]:
    return [word for word in (*HOST_WORDS, *extra) if word in text]


# Over SSH


class Viewer(RecordingViewer):
    """A viewer's terminal: what the portal sends, drawn on a pyte screen, every frame
    checked for host words the moment it arrives."""

    def __init__(self) -> None:
        super().__init__(COLUMNS, ROWS)
        self.host_words: tuple[str, ...] = ()
        self.leaks: list[tuple[str, str]] = []

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        super().data_received(data, datatype)
        text = self.text()
        for word in _seen_on_screen(text, self.host_words):
            self.leaks.append((word, text))


class Terminal:
    """Keys to the portal and waits on its screen, as a person at the keyboard."""

    def __init__(self, chan: asyncssh.SSHClientChannel[bytes], viewer: Viewer) -> None:
        self.chan = chan
        self.viewer = viewer

    def text(self) -> str:
        return self.viewer.text()

    def type(self, *keys: str) -> None:
        for key in keys:
            self.chan.write(key.encode())

    async def wait_for(self, check: Callable[[str], Any], what: str, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while not (found := check(self.text())):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{self.text()}")
            await asyncio.sleep(0.05)
        await self.settled()
        return found

    async def settled(self, quiet: float = 0.25, timeout: float = 5.0) -> None:
        """Wait until the portal has drawn all it had to (nothing sent for ``quiet``
        seconds): a step's text appears a frame before its focus moves, and a key
        sent in between would go to the control the step had before."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.viewer.received
            await asyncio.sleep(quiet)
            if self.viewer.received == seen:
                return

    async def wait_for_text(self, needle: str, timeout: float = 30.0) -> str:
        return str(await self.wait_for(lambda text: needle in text and text, repr(needle), timeout))

    async def clear_field(self) -> None:
        """Empty the text field with the focus (ctrl+u), and see it empty: the portal
        runs the key's action after the keys already on their way, so typing on at
        once would be cleared too."""
        self.type(CLEAR)
        await self.wait_for(lambda text: re.search(r"▊ +▎", text), "the field emptied")

    async def name_file(self, name: str) -> None:
        """In the name prompt on screen: clear the field, type ``name``, press Enter."""
        await self.clear_field()
        self.type(name, ENTER)


def company_rows(screen: str) -> list[str]:
    """The company list's rows on screen, one a company (its first line)."""
    lines = screen.splitlines()
    header = next(i for i, line in enumerate(lines) if line.strip().startswith("Company"))
    return lines[header + 1 :: 2]  # two lines a company: name, then its description


def spend_company(screen: str) -> tuple[int, str] | None:
    """The first company on screen whose data is available and whose request is for
    spend analysis alone (its simulation then offers a manual upload), and whose name
    shows whole and is its own, not a subsidiary's (the report names the entity, and a
    subsidiary's entity is named without its parent's name): its row, name."""
    if "Relationships" not in screen or "✔ Available" not in screen:
        return None
    for index, row in enumerate(company_rows(screen)):
        cells = re.split(r"\s{2,}", row.strip())
        whole = "…" not in cells[0] and " - " not in cells[0]
        if "✔ Available" in row and "Spend" in cells and "Fin" not in row and whole:
            return index, cells[0]
    return None


def toast_link(screen: str) -> str | None:
    """The download link a notification shows ("Fetch it from URL"), wrapped over as
    many of the toast's lines as it takes, put back together."""
    lines = [line.split("▌", 1)[1].strip() for line in screen.splitlines() if "▌" in line]
    for number, line in enumerate(lines):
        if line.startswith("Fetch it from"):
            parts = [line.removeprefix("Fetch it from").strip()]
            for more in lines[number + 1 :]:
                if not more:
                    break
                parts.append(more)
            return "".join(parts) or None
    return None


def host_files(*roots: Path, leave_out: tuple[Path, ...] = ()) -> dict[str, tuple[int, int]]:
    """Every file and link under ``roots`` with its size and modification time, except
    under ``leave_out`` and the servers' own logs."""
    found: dict[str, tuple[int, int]] = {}
    for root in roots:
        for path in root.rglob("*"):
            if any(path.is_relative_to(folder) for folder in leave_out) or path.suffix == ".log":
                continue
            info = path.lstat()
            if not path.is_dir():
                found[str(path)] = (info.st_size, info.st_mtime_ns)
    return found


def tmp_entries() -> set[str]:
    return set(os.listdir("/tmp"))


# What a report, template or transcript looks like inside any file that holds one: an
# xlsx's zip names its worksheets in the clear; a transcript is JSON with its request.
SAVED_MARKERS = (b"xl/worksheets/", b'"request"')


def new_files_in_tmp(before: set[str], names: set[str]) -> list[str]:
    """Of what appeared in /tmp since ``before``, anything that is (or holds) a file the
    viewer saved: one of ``names``, or a report, template or transcript by its content.
    Other processes on the machine (other tests, browsers) may add entries meanwhile;
    only ours count."""
    suspects: list[str] = []
    for entry in sorted(tmp_entries() - before):
        top = Path("/tmp") / entry
        try:
            paths = [top, *top.rglob("*")] if top.is_dir() and not top.is_symlink() else [top]
        except OSError:
            continue
        for path in paths:
            try:
                small = path.is_file() and not path.is_symlink() and path.stat().st_size < 2**20
                if path.name in names or (
                    small and any(marker in path.read_bytes() for marker in SAVED_MARKERS)
                ):
                    suspects.append(str(path))
            except OSError:
                continue  # gone meanwhile, or not ours to read
    return suspects


def _sign_in(server: SshServe, password: str) -> asyncssh.SSHClientConnection:
    """asyncssh's client, signing in to the demo with its password and nothing else."""
    return asyncssh.connect(  # type: ignore[return-value]  # awaitable or context manager
        "127.0.0.1",
        server.port,
        username="viewer",
        password=password,
        known_hosts=None,
        client_keys=None,
        agent_path=None,
        preferred_auth="password",
    )


async def _open_portal(conn: asyncssh.SSHClientConnection) -> Terminal:
    """A session with a terminal of the walk's size on ``conn``: the viewer's portal."""
    chan, viewer = await conn.create_session(
        Viewer, term_type="xterm-256color", term_size=(COLUMNS, ROWS), encoding=None
    )
    return Terminal(chan, viewer)


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[SshServe]:
    """``ssh-serve --demo-password`` with a working folder of its own (to watch)."""
    (tmp_path / "cwd").mkdir()
    server = SshServe(tmp_path, "--demo-password", cwd=tmp_path / "cwd")
    yield server
    server.stop()


async def test_over_ssh_every_file_action_stays_in_the_session_folder(
    demo_server: SshServe, tmp_path: Path
) -> None:
    server = demo_server
    password = demo_password(server)
    async with _sign_in(server, password) as conn:
        terminal = await _open_portal(conn)
        viewer = terminal.viewer
        await terminal.wait_for_text("Relationships")
        environment = await asyncio.to_thread(environment_of, portal_pid(server, 1))
        files = Path(environment["RELPORTAL_SESSION_FILES"])
        session_home = files.parent
        assert session_home.parent == server.tmp
        link_base = environment["RELPORTAL_DOWNLOAD_URL"]
        viewer.host_words = (str(session_home), str(tmp_path), str(server.tmp))
        # The host as it is once the portal is up: everything the server can reach.
        before = host_files(tmp_path, leave_out=(session_home,))
        tmp_before = tmp_entries()
        assert list(files.iterdir()) == []

        # A company with data, its report, downloaded by name.
        index, company = await terminal.wait_for(spend_company, "a spend company's row")
        terminal.type(*[DOWN] * index, ENTER)
        await terminal.wait_for_text("Status     ✔ Available")
        terminal.type("p")
        await terminal.wait_for(
            lambda text: f"Reports  {company}" in text and "Spend analysis ✔ Available" in text,
            "the reports",
        )
        terminal.type("d")
        await terminal.wait_for_text("Save the report as")
        await terminal.name_file("../../evil.xlsx")
        await terminal.wait_for_text("A name only, without folders (no / or \\).")
        await terminal.name_file(".evil.xlsx")
        await terminal.wait_for_text("A name may not start with a dot.")
        # A host path typed where a name is asked: nothing completes it (→ accepts a
        # suggestion, were there one), and it is refused as a name.
        await terminal.clear_field()
        terminal.type("/etc/pas")
        await terminal.wait_for(lambda text: re.search(r"/etc/pas\s+▎", text), "/etc/pas typed")
        terminal.type(RIGHT, ENTER)
        await terminal.wait_for(
            lambda text: "A name only" in text and re.search(r"/etc/pas\s+▎", text),
            "/etc/pas refused as it was typed",
        )
        await terminal.name_file("Our report.xlsx")
        link = await terminal.wait_for(
            lambda text: (
                "Saved the report as Our report.xlsx" in text
                and (found := toast_link(text))
                and found.endswith(".xlsx")
                and found
            ),
            "the report's link",
        )
        assert link == link_base + quote("Our report.xlsx")
        # The viewer fetches it by the link on their screen.
        status, headers, body = await asyncio.to_thread(
            raw_get,
            server.downloads_port,
            link.removeprefix(f"http://127.0.0.1:{server.downloads_port}"),
        )
        assert status == 200 and "attachment" in headers["Content-Disposition"]
        assert body == (files / "Our report.xlsx").read_bytes()
        book = openpyxl.load_workbook(io.BytesIO(body))
        cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row]
        assert any(company in cell for cell in cells)

        # The customer's side: a simulation of the company's spend request, the manual
        # upload step; the template saved by name, the upload picked from the files.
        terminal.type(ESCAPE)
        await terminal.wait_for_text("Status     ✔ Available")
        terminal.type("v")
        await terminal.wait_for_text("View request")
        terminal.type(ENTER)
        await terminal.wait_for_text("Upload file manually")
        terminal.type(ENTER)
        await terminal.wait_for_text("Choose file (xlsx, at most 1 MB) from your session's files")
        assert "template-path" not in terminal.text()
        terminal.type(ENTER)  # Download template, the step's first control
        await terminal.wait_for_text("Saved the template as supplier-information-template.xlsx")
        template = files / "supplier-information-template.xlsx"
        assert template.read_bytes()[:2] == b"PK"

        terminal.type(TAB, ENTER)  # Choose file…
        picker = await terminal.wait_for_text("Upload which file?")
        listed = re.findall(r"▊ (\S.*?)\s{2,}", picker)
        assert listed == [
            "Our report.xlsx",
            "supplier-information-template.xlsx",
            "Sample file",
            "Sample with errors",
        ], picker
        # The template as it came: read from the session's files, refused by the service
        # (it lists no supplier yet).
        terminal.type(DOWN, ENTER)
        await terminal.wait_for_text("has no supplier rows")
        terminal.type(TAB, ENTER)  # Choose file… again (a refusal focuses the template)
        await terminal.wait_for_text("Upload which file?")
        terminal.type(DOWN, DOWN, ENTER)  # the built-in sample
        await terminal.wait_for_text("Information request complete!")

        # The journey's transcript, exported by name; then imported from the files.
        terminal.type("t")
        transcript = await terminal.wait_for_text("suppliers-sample.xlsx")
        assert "filename supplier-information-template.xlsx" in transcript
        terminal.type("e")
        await terminal.wait_for_text("Export the transcript (JSON) as:")
        await terminal.name_file("../.bashrc")
        await terminal.wait_for_text("A name only, without folders")
        await terminal.clear_field()
        terminal.type("/etc/pas", RIGHT, ENTER)
        await terminal.wait_for(
            lambda text: re.search(r"/etc/pas\s+▎", text), "/etc/pas refused, uncompleted"
        )
        await terminal.name_file("Our transcript.json")
        await terminal.wait_for_text("Saved the transcript as Our transcript.json")
        exported = (files / "Our transcript.json").read_text()
        assert json.loads(exported)["request"]["company"] == company
        assert "supplier-information-template.xlsx" in exported
        assert "suppliers-sample.xlsx" in exported
        terminal.type("i")
        picker = await terminal.wait_for_text("Import a transcript (JSON) from:")
        assert re.findall(r"▊ (\S.*?)\s{2,}", picker) == ["Our transcript.json"], picker
        terminal.type(ENTER)
        await terminal.wait_for_text("Imported from Our transcript.json")

        # Only the session's folder holds what the viewer saved; nothing else changed.
        saved = {"Our report.xlsx", "supplier-information-template.xlsx", "Our transcript.json"}
        assert {p.name for p in files.iterdir()} == saved
        assert host_files(tmp_path, leave_out=(session_home,)) == before
        assert [p for p in session_home.rglob("*") if p.name in saved and p.parent != files] == []
        assert list((session_home / "home").iterdir()) == []  # the portal's HOME, still empty
        assert not list(tmp_path.rglob("evil.xlsx")) and not list(tmp_path.rglob(".bashrc"))
        assert new_files_in_tmp(tmp_before, {*saved, "evil.xlsx", ".bashrc"}) == []
        assert viewer.leaks == [], viewer.leaks[0][1]
        terminal.chan.close()
    await asyncio.to_thread(until, lambda: not server.session_homes(), "the session removed")
    # Its files went with it, and so did their link.
    status, _, _ = await asyncio.to_thread(
        raw_get,
        server.downloads_port,
        link.removeprefix(f"http://127.0.0.1:{server.downloads_port}"),
    )
    assert status == 404
    assert unquote(link.rsplit("/", 1)[1]) == "Our report.xlsx"


# In a browser


class BrowserTab:
    """A signed-in portal page in Chromium: the terminal's text read from xterm.js's
    buffer (every read checked for host words), keys pressed as a person would."""

    def __init__(self, page: Any, host_words: tuple[str, ...]) -> None:
        self.page = page
        self.host_words = host_words
        self.leaks: list[tuple[str, str]] = []

    def text(self) -> str:
        text = str(self.page.evaluate(SCREEN))
        for word in _seen_on_screen(text, self.host_words):
            self.leaks.append((word, text))
        return text

    def press(self, *keys: str) -> None:
        self.page.focus(".xterm-helper-textarea")  # the terminal, not the upload form
        for key in keys:
            self.page.keyboard.press(key)

    def wait_for(self, check: Callable[[str], Any], what: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while not (found := check(text := self.text())):
            assert time.monotonic() < deadline, f"never happened: {what}; the screen:\n{text}"
            time.sleep(0.1)
        # A step's text is drawn a frame before its focus moves: let the screen settle.
        settled = self.text()
        while time.monotonic() < deadline:
            time.sleep(0.3)
            if (now := self.text()) == settled:
                break
            settled = now
        return found

    def wait_for_text(self, needle: str, timeout: float = 30) -> str:
        return str(self.wait_for(lambda text: needle in text and text, repr(needle), timeout))

    def upload(self, file: Path) -> None:
        """Send ``file`` with the page's "Upload a file" control."""
        self.page.set_input_files("#upload-file", str(file))
        self.page.click("#upload button[type=submit]")
        self.page.locator("#upload-status").filter(has_text=f"Uploaded {file.name}").wait_for()


def test_in_a_browser_files_come_and_go_through_the_browser_only(
    web_server: WebServer, chromium: Any, tmp_path: Path
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.add_init_script(CATCH_TERMINALS)
    page.set_default_timeout(60_000)
    page.goto(web_server.url)
    page.fill("#password", web_server.password)
    page.click("button[type=submit]")
    page.wait_for_url(web_server.url + "/")
    tab = BrowserTab(page, (str(tmp_path), str(web_server.sessions)))
    (session_home,) = until(web_server.homes, "the tab's session")
    files = session_home / "files"
    tab.wait_for_text("Relationships")
    before = host_files(tmp_path, leave_out=(session_home,))
    tmp_before = tmp_entries()
    laptop = tmp_path / "laptop"  # the viewer's own machine: what the browser sends
    laptop.mkdir()

    # A company's report, downloaded: the browser receives it.
    index, company = tab.wait_for(spend_company, "a spend company's row")
    tab.press(*["ArrowDown"] * index, "Enter")
    tab.wait_for_text("Status     ✔ Available")
    tab.press("p")
    tab.wait_for(
        lambda text: f"Reports  {company}" in text and "Spend analysis ✔ Available" in text,
        "the reports",
    )
    tab.press("d")
    tab.wait_for_text("Save the report as")
    with page.expect_download(timeout=60_000) as delivered:
        tab.press("Enter")
    report = laptop / delivered.value.suggested_filename
    delivered.value.save_as(report)
    # Named after the company, with what a file name should not hold ("&") replaced.
    as_file = "".join(c if c.isalnum() or c in " -_" else "-" for c in company).strip()
    assert report.name.startswith(as_file) and report.suffix == ".xlsx"
    book = openpyxl.load_workbook(io.BytesIO(report.read_bytes()))
    cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row]
    assert any(company in cell for cell in cells)

    # The company's transcript, exported: straight to the browser, no name asked.
    tab.press("Escape")
    tab.wait_for_text("Status     ✔ Available")
    tab.press("t")
    tab.wait_for_text("Journey transcript")
    with page.expect_download(timeout=60_000) as delivered:
        tab.press("e")
    exported = laptop / delivered.value.suggested_filename
    delivered.value.save_as(exported)
    assert exported.suffix == ".json"
    assert json.loads(exported.read_text())["request"]["company"] == company
    assert list(files.iterdir()) == []  # nothing of it kept on the host

    # Back from the laptop through "Upload a file", then imported from the picker.
    tab.upload(exported)
    tab.press("i")
    picker = tab.wait_for_text("Import a transcript (JSON) from:")
    assert exported.name in picker
    tab.press("Enter")
    tab.wait_for_text(f"Imported from {exported.name}")

    # A simulation of the company's spend request: a supplier file from the laptop,
    # uploaded to the session, picked there.
    suppliers = laptop / "Our suppliers.xlsx"
    suppliers.write_bytes(sample_file(valid=True))
    tab.upload(suppliers)
    tab.press("Escape", "Escape")
    tab.wait_for_text("Status     ✔ Available")
    tab.press("v")
    tab.wait_for_text("View request")
    tab.press("Enter")
    tab.wait_for_text("Upload file manually")
    tab.press("Enter")
    tab.wait_for_text("Download template (to your browser)")
    tab.press("Tab", "Enter")  # Choose file…
    picker = tab.wait_for_text("Upload which file?")
    listed = re.findall(r"▊ (\S.*?)\s{2,}", picker)
    assert listed == ["Our suppliers.xlsx", "Sample file", "Sample with errors"], picker
    tab.press("Enter")
    tab.wait_for_text("Information request complete!")

    # The tab's session folder holds the two uploads; nothing else changed on the host.
    assert {p.name: p.read_bytes() for p in files.iterdir()} == {
        exported.name: exported.read_bytes(),
        suppliers.name: suppliers.read_bytes(),
    }
    assert host_files(tmp_path, leave_out=(session_home, laptop)) == before
    assert every_file(laptop) == {report, exported, suppliers}
    assert new_files_in_tmp(tmp_before, {report.name, exported.name, suppliers.name}) == []
    assert tab.leaks == [], tab.leaks[0][1]
    context.close()
    until(lambda: web_server.homes() == [], "the session ended with its tab")


def test_stopping_the_server_as_a_viewer_leaves_still_removes_their_session(
    tmp_path: Path,
) -> None:
    """An operator who started ssh-serve under ``nohup`` (SIGHUP ignored, so a portal
    takes the 3 s grace and SIGKILL to end) stops it just as a viewer leaves: the
    leaving viewer's portal and session folder, with their files, are gone too."""
    server = SshServe(tmp_path, "--demo-password")
    server.stop()
    nohup = shutil.which("nohup")
    assert nohup is not None  # coreutils
    server.argv = [nohup, *server.argv]
    server.start()
    try:
        password = demo_password(server)

        async def leave() -> int:
            async with _sign_in(server, password) as conn:
                await (await _open_portal(conn)).wait_for_text("Relationships")
                (files,) = [home / "files" for home in server.session_homes()]
                (files / "Our report.xlsx").write_bytes(b"PK a viewer's file")
                return server.portal_pids()[-1]

        pid = asyncio.run(leave())  # the viewer has left: their portal is being ended
        until(lambda: "disconnected as 'viewer'" in server.log(), "the server to see it")
        server.stop()
        assert server.process.returncode == 0
        assert server.session_homes() == []
        until(lambda: process_gone(pid), "the portal ended", timeout=10)
    finally:
        server.stop()
