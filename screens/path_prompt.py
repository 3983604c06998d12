"""Ask where a file goes: a path for a local user, a name for a hosted viewer.

:class:`PathPrompt` is a local user's (their own disk, with completion); a hosted
portal never shows it with paths (it refuses to complete there, whatever it is asked).
:class:`NamePrompt` asks only a file name for the session's own files (no completion,
no folders), and offers the clipboard for short text over SSH.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui.file_choices import SaveTarget, hosted_process
from tui.hosting.session_folder import FileRefused, check_name
from widgets.keys_footer import KeysFooter

_PROMPT_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 72; max-width: 100%; height: auto; border: thick $primary;
    background: $surface; padding: 0 1;
}}
{name} Horizontal {{ height: auto; align-horizontal: right; }}
{name} .problem {{ color: $error; }}
"""


# What a prompt asks of the answer before it closes: None when it will do, else why
# not, said in the prompt (which stays open with what was typed).
Check = Callable[[str], str | None]


class PathPrompt(ModalScreen[str | None]):
    """A path (or, with ``paths=False``, any one line of text, such as a link); with
    ``check``, an answer it refuses is explained in the prompt, which stays open."""

    DEFAULT_CSS = _PROMPT_CSS.format(name="PathPrompt")
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="path.cancel")]

    def __init__(
        self,
        question: str,
        value: str = "",
        ok: str = "OK",
        paths: bool = True,
        check: Check | None = None,
    ) -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.ok = ok
        self.paths = paths
        self.check = check

    def compose(self) -> ComposeResult:
        # A hosted viewer never gets completion from the host's disk, even if a caller
        # forgot to ask the file desk (the desk never asks a hosted viewer for paths).
        hosting = getattr(self.app, "hosting", None)
        complete = self.paths and not (hosting is not None and hosting.hosted)
        suggester = None
        if complete:
            from widgets.path_suggester import PathSuggester

            suggester = PathSuggester(hosted_process)
        with Vertical():
            yield Static(self.question)
            yield Input(self.value, id="path", suggester=suggester)
            yield Static("", id="path-problem", classes="problem")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self.ok, variant="primary", id="ok")
        yield KeysFooter()  # this dialog's own keys, not the screen's behind

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        value = self.query_one("#path", Input).value.strip()
        if not value:
            return
        problem = self.check(value) if self.check else None
        if problem:
            self.query_one("#path-problem", Static).update(Text(problem))
            self.query_one("#path", Input).focus()
            return
        self.dismiss(value)

    @on(Button.Pressed, "#cancel")
    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class NamePrompt(ModalScreen[SaveTarget | None]):
    """A file name for the session's own files, checked before it is accepted
    (:func:`tui.hosting.session_folder.check_name`); with ``copyable``, a button that
    puts the text on the viewer's clipboard instead."""

    DEFAULT_CSS = _PROMPT_CSS.format(name="NamePrompt")
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="name.cancel")]

    def __init__(
        self,
        question: str,
        name: str,
        ok: str = "Save",
        copyable: bool = False,
        check: Check | None = None,
    ) -> None:
        super().__init__()
        self.question = question
        self.name_value = name
        self.ok = ok
        self.copyable = copyable
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question)
            yield Input(self.name_value, id="name", max_length=200)
            yield Static("", id="name-problem", classes="problem")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                if self.copyable:
                    yield Button("Copy to clipboard", id="copy")
                yield Button(self.ok, variant="primary", id="ok")
        yield KeysFooter()  # this dialog's own keys, not the screen's behind

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        try:
            name = check_name(self.query_one("#name", Input).value)
        except FileRefused as exc:
            self.query_one("#name-problem", Static).update(Text(str(exc)))
            return
        problem = self.check(name) if self.check else None
        if problem:
            self.query_one("#name-problem", Static).update(Text(problem))
            return
        self.dismiss(SaveTarget(name))

    @on(Button.Pressed, "#copy")
    def _copy(self) -> None:
        self.dismiss(SaveTarget(self.name_value, copy=True))

    @on(Button.Pressed, "#cancel")
    def action_dismiss_none(self) -> None:
        self.dismiss(None)
