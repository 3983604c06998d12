"""Files in a hosted portal (ssh-serve, web) and a local one, through Pilot and by hand.

A hosted viewer names no path: every file action (transcript export and import, report
and template downloads, uploads, samples) writes and reads only inside the session's
files folder, or goes to the browser; names that would leave the folder, hide a file
or follow a planted link are refused; no screen has a path input or completion; no
message shows a host path. A local user keeps their paths, but reads are bounded:
devices, pipes and oversize files are refused at once.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, OptionList

from journey.settings import ServiceSettings
from journey.template import sample_file
from screens.file_picker import FilePicker
from screens.path_prompt import NamePrompt, PathPrompt
from screens.portal import PortalScreen
from screens.report import ReportScreen
from screens.transcript import TranscriptScreen
from tests.support.simulation import to_manual_upload
from tui.app import RelportalApp
from tui.client import embedded_client
from tui.file_choices import Sample, hosted_process
from tui.files import download_link, read_local_file
from tui.hosting.hosted import Hosting, hosting_from_environment
from tui.hosting.session_folder import FileRefused, FolderEntry, SessionFolder, check_name
from widgets.path_suggester import PathSuggester

HOSTILE_NAMES = [
    "../../x",
    "/etc/x",
    ".bashrc",
    "..",
    "a/b",
    "a\\b",
    "nul\x00byte",
    "esc\x1b[2Jname",
    "bidi\u202etxt.json",
    "x" * 300,
    "   ",
]


@pytest.fixture
def settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        db_path=tmp_path / "service" / "files.db",
        outbox_dir=tmp_path / "service" / "outbox",
        demo_companies=60,
        pull_queue_seconds=0.0,
        pull_fetch_seconds=0.05,
        upload_processing_seconds=0.05,
        worker_interval=0.02,
    )


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A host as the viewer's portal sees it: a HOME with a .bashrc, a secret next to
    the session, the session's files folder; the temporary folder inside it too."""
    root = tmp_path / "host"
    home = root / "home"
    home.mkdir(parents=True)
    (home / ".bashrc").write_text("# the operator's shell\n")
    (root / "secret.xlsx").write_bytes(b"PK not yours")
    (root / "secret.json").write_text("{}")
    files = root / "session" / "files"
    files.mkdir(parents=True, mode=0o700)
    (root / "tmp").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr("tempfile.tempdir", str(root / "tmp"))
    monkeypatch.chdir(home)
    return root


def tree(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root``: file contents, link targets, folders."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = path.read_bytes()
        else:
            found[key] = "folder"
    return found


def outside_files(root: Path) -> dict[str, bytes | str]:
    return {k: v for k, v in tree(root).items() if not k.startswith("session/files")}


def notes(app: App[Any]) -> str:
    return "\n".join(f"{n.title} {n.message}" for n in app._notifications)


def path_inputs(app: App[Any]) -> list[Input]:
    """Inputs that take a path or complete one, on every screen of the stack."""
    found = []
    for screen in app.screen_stack:
        for field in screen.query(Input):
            if isinstance(field.suggester, PathSuggester) or field.id in (
                "path",
                "template-path",
                "upload-path",
            ):
                found.append(field)
    return found


async def until(pilot: Any, check: Any, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        await pilot.pause(0.03)


async def pick(pilot: Any, label: str) -> None:
    """In the file picker on top, choose the entry whose text holds ``label``."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, FilePicker), "the file picker")
    options = app.screen.query_one(OptionList)
    for index in range(options.option_count):
        if label in str(options.get_option_at_index(index).prompt):
            options.highlighted = index
            break
    else:
        raise AssertionError(f"{label!r} is not in the picker")
    options.focus()
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, FilePicker), "the picker closed")


def picker_labels(app: App[Any]) -> list[str]:
    assert isinstance(app.screen, FilePicker)
    found = app.screen.query(OptionList)
    if not found:
        return []
    options = found.first(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def name_it(pilot: Any, name: str) -> None:
    """Type ``name`` into the name prompt on top and press Enter."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, NamePrompt), "the name prompt")
    field = app.screen.query_one("#name", Input)
    field.value = name
    field.focus()
    await pilot.press("enter")
    await pilot.pause(0.1)


# The rules, by hand


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_name_that_leaves_hides_or_hides_characters_is_refused(name: str) -> None:
    with pytest.raises(FileRefused):
        check_name(name)


def test_plain_names_are_kept() -> None:
    assert check_name(" Oh My Cod - spend analysis.xlsx ") == "Oh My Cod - spend analysis.xlsx"
    assert check_name("transcript-1.json") == "transcript-1.json"


def test_the_session_folder_writes_names_only_never_over_or_through_anything(
    host: Path,
) -> None:
    folder = SessionFolder(host / "session" / "files")
    before = outside_files(host)
    assert folder.save("report.xlsx", b"one") == "report.xlsx"
    assert folder.save("report.xlsx", b"two") == "report (2).xlsx"
    # A link planted under the name a save wants: not followed, the save goes elsewhere.
    (folder.path / "planted.json").symlink_to(host / "home" / ".bashrc")
    assert folder.save("planted.json", b"id > FILE") == "planted (2).json"
    for name in HOSTILE_NAMES:
        with pytest.raises(FileRefused):
            folder.save(name, b"x")
    assert (folder.path / "report.xlsx").read_bytes() == b"one"
    assert (folder.path / "report (2).xlsx").read_bytes() == b"two"
    assert outside_files(host) == before
    assert (host / "home" / ".bashrc").read_text() == "# the operator's shell\n"
    # The folder itself swapped for a link to elsewhere: nothing is written through it.
    moved = host / "session" / "moved"
    folder.path.rename(moved)
    folder.path.symlink_to(host / "home")
    with pytest.raises(OSError):
        folder.save("report.xlsx", b"three")
    assert not (host / "home" / "report.xlsx").exists()


def test_the_session_folder_reads_its_own_regular_files_and_says_nothing_else(
    host: Path,
) -> None:
    folder = SessionFolder(host / "session" / "files")
    (folder.path / "mine.xlsx").write_bytes(b"PK mine")
    (folder.path / "link.xlsx").symlink_to(host / "secret.xlsx")
    (folder.path / "dangling.xlsx").symlink_to(host / "nothing-here.xlsx")
    (folder.path / ".hidden.xlsx").write_bytes(b"PK")
    os.mkfifo(folder.path / "pipe.xlsx")
    (folder.path / "big.xlsx").write_bytes(b"x" * 2001)
    assert folder.entries((".xlsx",)) == [
        FolderEntry("big.xlsx", 2001),
        FolderEntry("mine.xlsx", 7),
    ]
    assert folder.read("mine.xlsx", 100) == b"PK mine"
    answers = {}
    for name in ("link.xlsx", "dangling.xlsx", "missing.xlsx"):
        with pytest.raises(FileRefused) as refused:
            folder.read(name, 100)
        answers[name] = str(refused.value).replace(name, "NAME")
    # A link to a real file, a dangling link and no file at all read the same.
    assert len(set(answers.values())) == 1
    started = time.monotonic()
    with pytest.raises(FileRefused, match="not a regular file"):
        folder.read("pipe.xlsx", 100)
    assert time.monotonic() - started < 2
    with pytest.raises(FileRefused, match="larger than"):
        folder.read("big.xlsx", 2000)
    for name in ("../secret.xlsx", "/etc/passwd", ".hidden.xlsx"):
        with pytest.raises(FileRefused):
            folder.read(name, 100)


async def test_local_reads_refuse_devices_pipes_and_oversize_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for path in (Path("/dev/zero"), fifo):
        started = time.monotonic()
        with pytest.raises(FileRefused, match="not a regular file"):
            await asyncio.wait_for(asyncio.to_thread(read_local_file, path, 5_000_000), 5)
        assert time.monotonic() - started < 2
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 6_000_000)
    with pytest.raises(FileRefused, match="larger than 5 MB"):
        read_local_file(big, 5_000_000)
    exact = tmp_path / "exact.json"
    exact.write_bytes(b"y" * 1000)
    assert read_local_file(exact, 1000) == b"y" * 1000


def test_the_download_link_comes_from_the_host_only_when_it_is_one(tmp_path: Path) -> None:
    assert download_link(Hosting("ssh", tmp_path), "a.json") is None
    hosting = hosting_from_environment(
        {
            "RELPORTAL_HOSTED": "ssh",
            "RELPORTAL_SESSION_FILES": str(tmp_path),
            "RELPORTAL_DOWNLOAD_URL": "http://127.0.0.1:8022/d/abc/",
        }
    )
    assert (
        download_link(hosting, "Oh My Cod (2).xlsx")
        == "http://127.0.0.1:8022/d/abc/Oh%20My%20Cod%20%282%29.xlsx"
    )
    assert download_link(Hosting("ssh", tmp_path, "file:///etc/"), "a.json") is None


async def test_the_path_suggester_completes_nothing_in_a_hosted_process(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suggester = PathSuggester(hosted_process)
    assert await suggester.get_suggestion(str(host / "sec")) is not None  # local: completes
    monkeypatch.setenv("RELPORTAL_HOSTED", "ssh")
    monkeypatch.setenv("RELPORTAL_SESSION_FILES", str(host / "session" / "files"))
    assert await suggester.get_suggestion(str(host / "sec")) is None
    assert await suggester.get_suggestion("/etc/pas") is None


# Over SSH, through the portal


async def test_over_ssh_every_file_action_stays_in_the_session_folder(
    settings: ServiceSettings, host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = host / "session" / "files"
    before = outside_files(host)
    copied: list[str] = []
    monkeypatch.setattr(RelportalApp, "copy_to_clipboard", lambda self, text: copied.append(text))
    app = RelportalApp(
        lambda: embedded_client(settings),
        hosting=Hosting("ssh", files, "http://127.0.0.1:9/files/k3y/"),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await to_manual_upload(pilot)
        assert path_inputs(app) == []
        # The template: saved by its name in the session's files, twice → a numbered name.
        await walk.press("Download template")
        await until(pilot, lambda: (files / "supplier-information-template.xlsx").exists(), "t1")
        await walk.press("Download template")
        await until(
            pilot, lambda: (files / "supplier-information-template (2).xlsx").exists(), "t2"
        )
        assert "http://127.0.0.1:9/files/k3y/supplier-information-template.xlsx" in notes(app)
        # Upload: the picker lists the session's xlsx files and the samples, nothing else.
        (files / "mine.xlsx").write_bytes(sample_file(valid=True))
        (files / "outside.xlsx").symlink_to(host / "secret.xlsx")
        await walk.press("Choose file")
        await until(pilot, lambda: isinstance(app.screen, FilePicker), "the picker")
        labels = picker_labels(app)
        assert any("mine.xlsx" in label for label in labels)
        assert any("Sample with errors" in label for label in labels)
        assert not any("outside" in label or "secret" in label for label in labels)
        assert path_inputs(app) == []
        await pick(pilot, "Sample with errors")
        await walk.until(lambda: walk.screen.refusal is not None, what="the sample refused")
        await walk.press("Choose file")
        await pick(pilot, "mine.xlsx")
        await walk.at("complete")

        # The transcript: a name for the session's files, or the clipboard.
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TranscriptScreen), "the transcript")
        transcript = app.screen
        await until(pilot, lambda: transcript.transcript is not None, "the transcript loaded")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, NamePrompt), "the name prompt")
        assert path_inputs(app) == []
        for hostile in ("../../x", "/etc/x", ".bashrc"):
            await name_it(pilot, hostile)
            assert isinstance(app.screen, NamePrompt)
            assert app.screen.query_one("#name-problem").render().plain  # type: ignore[attr-defined]
        await name_it(pilot, "cod.json")
        await until(pilot, lambda: (files / "cod.json").exists(), "the transcript saved")
        exported = json.loads((files / "cod.json").read_text())
        assert exported["request"]["id"] == transcript.request_id
        await until(pilot, lambda: app.screen is transcript, "back on the transcript")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, NamePrompt), "the name prompt")
        app.screen.query_one("#copy").press()  # type: ignore[attr-defined]
        await until(pilot, lambda: bool(copied), "the transcript copied")
        assert json.loads(copied[0]) == exported

        # Import: picked from the session's JSON files by name.
        (files / "planted.json").symlink_to(host / "secret.json")
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, FilePicker), "the import picker")
        labels = picker_labels(app)
        assert [label.split()[0] for label in labels] == ["cod.json"]
        await pick(pilot, "cod.json")
        await until(
            pilot,
            lambda: isinstance(app.screen, TranscriptScreen) and app.screen.source == "cod.json",
            "imported",
        )
        assert "Imported from cod.json" in str(app.screen.query_one("#transcript-head").render())

        # Nothing on screen or in a message names a host path.
        shown = notes(app) + "".join(
            str(w.render()) for s in app.screen_stack for w in s.query("Static, Label")
        )
        assert str(host) not in shown and str(files) not in shown
        assert "session/files" not in shown
    after = outside_files(host)
    assert after == before
    assert sorted(p.name for p in files.iterdir()) == [
        "cod.json",
        "mine.xlsx",
        "outside.xlsx",
        "planted.json",
        "supplier-information-template (2).xlsx",
        "supplier-information-template.xlsx",
    ]


async def test_over_ssh_the_report_is_saved_by_name_and_a_bad_name_never_leaves(
    settings: ServiceSettings, host: Path
) -> None:
    from tests.support.reports import open_reports

    files = host / "session" / "files"
    (files / "Mine.xlsx").symlink_to(host / "secret.xlsx")  # a planted link to write through
    before = outside_files(host)
    app = RelportalApp(
        lambda: embedded_client(settings),
        hosting=Hosting("ssh", files, "http://127.0.0.1:9/files/k3y/"),
    )
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_reports(pilot)
        await until(pilot, lambda: screen.report is not None, "a report")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, NamePrompt), "the name prompt")
        assert path_inputs(app) == []
        suggested = app.screen.query_one("#name", Input).value
        assert "/" not in suggested and suggested.endswith(".xlsx")
        await name_it(pilot, "../../../home/.bashrc")
        assert isinstance(app.screen, NamePrompt)
        await name_it(pilot, "Mine.xlsx")
        await until(pilot, lambda: (files / "Mine (2).xlsx").exists(), "the report saved")
        book = openpyxl.load_workbook(io.BytesIO((files / "Mine (2).xlsx").read_bytes()))
        assert book.sheetnames
        assert "Saved the report as Mine (2).xlsx" in notes(app)
        assert str(host) not in notes(app)
        assert isinstance(app.screen, ReportScreen)
    assert outside_files(host) == before


# In a browser


async def test_in_a_browser_files_go_to_the_browser_and_come_from_the_session(
    settings: ServiceSettings, host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = host / "session" / "files"
    before = tree(host)
    delivered: list[tuple[bytes, dict[str, Any]]] = []
    monkeypatch.setattr(
        RelportalApp,
        "deliver_binary",
        lambda self, file, **options: delivered.append((file.read(), options)),
    )
    app = RelportalApp(lambda: embedded_client(settings), hosting=Hosting("web", files))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await to_manual_upload(pilot)
        assert path_inputs(app) == []
        await walk.press("Download template")
        await until(pilot, lambda: len(delivered) == 1, "the template delivered")
        assert delivered[0][0][:2] == b"PK"
        assert delivered[0][1]["save_filename"] == "supplier-information-template.xlsx"
        # An empty session folder says how to add files.
        await walk.press("Choose file")
        await until(pilot, lambda: isinstance(app.screen, FilePicker), "the picker")
        empty = str(app.screen.query_one("#picker-empty").render())
        assert "Upload a file above the terminal" in empty
        await pilot.press("escape")
        # What "Upload a file" put in the session's folder is offered by name.
        laptop = sample_file(valid=True)
        (files / "from-my-laptop.xlsx").write_bytes(laptop)
        await walk.press("Choose file")
        await pick(pilot, "from-my-laptop.xlsx")
        await walk.at("complete")
        # The transcript goes straight to the browser.
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TranscriptScreen), "the transcript")
        transcript = app.screen
        await until(pilot, lambda: transcript.transcript is not None, "the transcript loaded")
        await pilot.press("e")
        await until(pilot, lambda: len(delivered) == 2, "the transcript delivered")
        data, options = delivered[1]
        assert json.loads(data)["request"]["id"] == transcript.request_id
        assert options["save_filename"].endswith(".json")
        assert path_inputs(app) == []
    assert tree(host) == {**before, "session/files/from-my-laptop.xlsx": laptop}


# A local user


async def test_locally_devices_pipes_and_big_files_are_refused_quickly(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 6_000_000)
    app = RelportalApp(lambda: embedded_client(settings))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PortalScreen), "the portal")
        for path, why in (("/dev/zero", "not a regular file"), (fifo, "not a regular file")):
            started = time.monotonic()
            app.action_import_transcript()
            await until(
                pilot,
                lambda: isinstance(app.screen, PathPrompt) and app.screen.query(Input),
                "the prompt",
            )
            app.screen.query_one(Input).value = str(path)
            await pilot.press("enter")
            await until(pilot, lambda why=why: why in notes(app), f"{path} refused", timeout=5)
            assert time.monotonic() - started < 5
            assert isinstance(app.screen, PortalScreen)
            app.clear_notifications()
        app.action_import_transcript()
        await until(
            pilot,
            lambda: isinstance(app.screen, PathPrompt) and app.screen.query(Input),
            "the prompt",
        )
        # Locally the prompt completes from the user's own disk.
        assert isinstance(app.screen.query_one(Input).suggester, PathSuggester)
        app.screen.query_one(Input).value = str(big)
        await pilot.press("enter")
        await until(pilot, lambda: "larger than 5 MB" in notes(app), "the big file refused")


async def test_locally_an_upload_of_a_pipe_is_refused_on_the_step(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    app = RelportalApp(lambda: embedded_client(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await to_manual_upload(pilot)
        assert path_inputs(app)  # a local user types paths
        await walk.type_into("upload-path", str(fifo))
        started = time.monotonic()
        await walk.press("Upload")
        await walk.until(lambda: walk.screen.refusal is not None, what="refused", timeout=5)
        assert time.monotonic() - started < 5
        assert "not a regular file" in walk.screen.refusal[0]  # type: ignore[index]
        await walk.type_into("upload-path", "/dev/zero")
        await walk.press("Upload")
        await walk.until(lambda: "/dev/zero" in walk.screen.refusal[0], what="refused")  # type: ignore[index]


# How the picker looks


class PickerApp(App[None]):
    def __init__(self, picker: FilePicker) -> None:
        super().__init__()
        self.picker = picker

    def compose(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.push_screen(self.picker)


async def _sample() -> bytes:
    return b""


SAMPLES = (
    Sample("suppliers-sample.xlsx", "Sample file", _sample),
    Sample("suppliers-with-errors.xlsx", "Sample with errors", _sample),
)


def test_the_picker_lists_session_files_and_samples(snap_compare: Any) -> None:
    entries = [
        FolderEntry("Oh My Cod - spend analysis.xlsx", 18_412),
        FolderEntry("supplier-information-template.xlsx", 6_230),
        FolderEntry("suppliers filled in.xlsx", 912),
    ]
    picker = FilePicker(
        "Upload which file? (xlsx, at most 1 MB)", entries, SAMPLES, suffixes=(".xlsx",)
    )
    assert snap_compare(PickerApp(picker), terminal_size=(80, 24))


def test_an_empty_browser_session_says_how_to_add_files(snap_compare: Any) -> None:
    picker = FilePicker("Import a transcript (JSON) from:", [], (), suffixes=(".json",), web=True)
    assert snap_compare(PickerApp(picker), terminal_size=(80, 24))


async def test_a_screenshot_goes_where_the_desk_says_whatever_path_it_is_given(
    settings: ServiceSettings, host: Path
) -> None:
    """Textual's "Screenshot" command and an ``app.screenshot(name, path)`` action (what
    a ``[@click=…]`` in a company name once reached) name no place on the host."""
    files = host / "session" / "files"
    before = outside_files(host)
    app = RelportalApp(lambda: embedded_client(settings), hosting=Hosting("ssh", files))
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: app.session is not None, "the portal")
        app.action_screenshot("evil.svg", str(host))
        await pilot.pause()
        saved = [p.name for p in files.iterdir()]
        assert len(saved) == 1 and saved[0].endswith(".svg"), saved
        assert (files / saved[0]).read_text().startswith("<svg")
        assert f"Saved the screenshot as {saved[0]}" in notes(app)
    assert outside_files(host) == before
