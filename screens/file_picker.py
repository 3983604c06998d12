"""Pick a file to open from a hosted session's own files or the built-in samples.

A hosted viewer types no paths: this lists, by name and size, the files in their
session's folder (what they saved there, or in a browser what "Upload a file" put
there) and the samples built into the portal, and returns the one chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from tui.file_choices import Sample
from tui.hosting.session_folder import FolderEntry, size_text
from widgets.keys_footer import KeysFooter


@dataclass(frozen=True)
class Picked:
    """The session file ``name``, or a built-in ``sample``."""

    name: str
    sample: Sample | None = None


class FilePicker(ModalScreen[Picked | None]):
    DEFAULT_CSS = """
    FilePicker { align: center middle; }
    FilePicker > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    FilePicker OptionList { height: auto; max-height: 14; margin: 1 0 0 0; }
    FilePicker #picker-empty { color: $text-muted; margin-top: 1; }
    FilePicker Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="picker.cancel")]

    def __init__(
        self,
        question: str,
        entries: list[FolderEntry],
        samples: tuple[Sample, ...] = (),
        *,
        suffixes: tuple[str, ...] = (),
        web: bool = False,
    ) -> None:
        super().__init__()
        self.question = question
        self.entries = entries
        self.samples = samples
        self.suffixes = suffixes
        self.web = web

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question, style="bold"))
            if not self.entries:
                yield Static(Text(self._empty_note()), id="picker-empty")
            options: list[Option] = []
            width = max((len(e.name) for e in self.entries), default=0)
            width = min(width, 48)
            for number, entry in enumerate(self.entries):
                label = Text(f"{entry.name[:width]:<{width}}  ")
                label.append(size_text(entry.size, unit="B"), style="dim")
                options.append(Option(label, id=f"file-{number}"))
            for number, sample in enumerate(self.samples):
                label = Text(sample.label)
                label.append("  built-in sample", style="dim")
                options.append(Option(label, id=f"sample-{number}"))
            if options:
                yield OptionList(*options, id="picker-files")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                if options:
                    yield Button("Open", variant="primary", id="open")
        yield KeysFooter()  # this dialog's own keys, not the screen's behind

    def _empty_note(self) -> str:
        kinds = " or ".join(self.suffixes) + " files" if self.suffixes else "files"
        if self.web:
            how = "use Upload a file above the terminal, then open this again."
        else:
            how = "files you save in this session (a template, a transcript) are listed here."
        return f"Your session has no {kinds} yet: {how}"

    def on_mount(self) -> None:
        for found in self.query(OptionList):
            found.highlighted = 0
            found.focus()

    @on(OptionList.OptionSelected)
    @on(Button.Pressed, "#open")
    def _open(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        option_id = options.get_option_at_index(options.highlighted).id or ""
        kind, _, number = option_id.partition("-")
        if kind == "file":
            self.dismiss(Picked(self.entries[int(number)].name))
        else:
            sample = self.samples[int(number)]
            self.dismiss(Picked(sample.name, sample))

    @on(Button.Pressed, "#cancel")
    def action_dismiss_none(self) -> None:
        self.dismiss(None)
