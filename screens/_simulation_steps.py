"""What the customer simulation draws for one step of the journey: the widgets for the
service's answer (its notice, text, error, email, requests, choices, fields and upload)
and a button for each action left, in the service's order.

Apart from the screen (screens/simulation.py), which keeps the talking, the focus and
the keys; here only widgets are built, from what they are given. Not in widgets/: the
entities' states are named in the RM's words (journey.core.labels) and the path fields
complete only outside a hosted process (tui.file_choices), which widgets may not
import. Only the simulation screen imports this module; its layer in pyproject.toml
lies under the dialogs, so it can import no screen, dialog or file desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from journey.core.labels import ENTITY_STATE_LABELS
from tui.file_choices import hosted_process
from widgets.path_suggester import PathSuggester
from widgets.plain import plain_cells
from widgets.status_badge import when

TEMPLATE_NAME = "supplier-information-template.xlsx"


@dataclass(frozen=True)
class WhereFilesGo:
    """How this viewer saves the template and picks the file to upload: a hosted viewer
    by name (to the browser or into the session's files), a local one by path, from
    ``downloads`` on."""

    hosted: bool
    to_browser: bool
    downloads: Path


@dataclass(frozen=True)
class StepDrawing:
    """A step drawn: what goes in the scrolling panel, and the buttons at its foot."""

    content: list[Widget]
    actions: list[Button]


def draw_step(
    journey: dict[str, Any],
    refusal: tuple[str, list[dict[str, Any]]] | None,
    files: WhereFilesGo,
) -> StepDrawing:
    """The widgets for the service's answer ``journey``, with the last ``refusal`` (its
    reason, and the upload's row errors) where the service refused a move."""
    out: list[Widget] = []
    if journey.get("notice"):
        out.append(Static(Text(journey["notice"]), classes="notice"))
    for paragraph in journey.get("body") or []:
        out.append(Static(Text(paragraph), classes="para"))
    error = journey.get("error")
    if error:
        message = f"✖ {error.get('message') or error.get('code')}"
        out.append(Static(Text(message), classes="error"))
    if refusal:
        detail, errors = refusal
        # With row errors the table says them; the detail's first line says what happened.
        shown = detail.splitlines()[0] if errors else detail
        out.append(Static(Text(f"✖ {shown}"), classes="error refusal"))
        if errors:
            table = _errors_table(errors)
            table.add_class("refusal")
            out.append(table)
    view = journey.get("view") or {}
    actions = {spec["action"]: spec for spec in journey.get("actions") or []}
    handled: set[str] = set()
    step = journey["step"]
    if "email" in view:
        out.append(_email_box(view["email"]))
    if step == "summary" or journey.get("requests"):
        out.append(_requests_table(journey.get("requests") or [journey["request"]]))
    for name, spec in actions.items():
        if spec.get("choices"):
            handled.add(name)
            param = next(iter(spec.get("params") or {"value": None}))
            for choice in spec["choices"]:
                label = choice["label"] + (f"  ({choice['tag']})" if choice.get("tag") else "")
                out.append(
                    Button(
                        Text(f"○ {label}"),
                        name=f"{name}:{param}:{choice['value']}",
                        classes="choice",
                        compact=True,
                    )
                )
    if "field" in view and "name_entity" in actions:
        field = view["field"]
        out.append(Label(Text(field["label"])))
        out.append(Input(max_length=field["max_length"], id="entity-name", compact=True))
        out.append(Static(counter_text(field, ""), id="counter", classes="counter"))
    if "integrations" in view:
        for item in view["integrations"]:
            tag = "Required" if item.get("required") else "Optional"
            out.append(Static(Text(f"{item['name']}  [{tag}]\n{item['text']}"), classes="box"))
        if view.get("entity"):
            out.append(Static(Text(f"Legal entity: {view['entity']}"), classes="para"))
    if "platforms" in view and "select_platform" in actions:
        out.append(
            # With its border: a compact input did not look like one.
            Input(placeholder=view.get("search", "Search"), id="platform-search")
        )
        out.append(
            OptionList(
                *[Option(Text(p["name"]), id=p["key"]) for p in view["platforms"]],
                id="platforms",
            )
        )
    if "shared_data" in view:
        out.append(
            Static(Text("\n".join(f"• {item}" for item in view["shared_data"])), classes="box")
        )
        if view.get("terms"):
            out.append(Static(Text(view["terms"], style="dim"), classes="para"))
    if "consent" in view:
        consent = view["consent"]
        scopes = "\n".join(f"  • {s}" for s in consent["scopes"])
        out.append(
            Static(
                Text(
                    f"{consent['heading']}\n{consent['organisation']}\n{scopes}\n{consent['note']}"
                ),
                classes="box",
            )
        )
    if "fields" in view and "authorize" in actions:
        if view.get("sandbox"):
            out.append(Static(Text(view["sandbox"]), id="sandbox", classes="para"))
        for field in view["fields"]:
            out.append(Label(Text(field["label"])))
            out.append(
                Input(
                    id=f"signin-{field['name']}",
                    password=bool(field.get("secret")),
                    compact=True,
                )
            )
    if step == "entities" and journey.get("entities"):
        lines = [
            f"✔ {e['name']}"
            if e["state"] == "linked"
            else f"◔ {e['name']} ({ENTITY_STATE_LABELS.get(e['state'], e['state'])})"
            for e in journey["entities"]
        ]
        out.append(Static(Text("\n".join(lines)), classes="box"))
    if "upload" in actions:
        handled.add("upload")
        out.extend(_upload_widgets(view, files))
    # The remaining actions as buttons, in the service's order.
    buttons = []
    for name, spec in actions.items():
        if name in handled:
            continue
        label = "Close ×" if spec.get("confirm") else spec.get("label") or name
        if name == "deny":
            label = "Cancel"
        variant: Literal["default", "primary"] = (
            "default" if name in ("back", "close", "deny") else "primary"
        )
        buttons.append(
            Button(Text(label), name=name, id=f"act-{name}", compact=True, variant=variant)
        )
    return StepDrawing(out, buttons)


def _upload_widgets(view: dict[str, Any], files: WhereFilesGo) -> list[Widget]:
    samples = [
        Button("Sample file", name="sample-valid", id="sample-valid", compact=True),
        Button("Sample with errors", name="sample-invalid", id="sample-invalid", compact=True),
    ]
    if files.hosted:
        # A hosted viewer types no paths: the template is saved by its name, and the
        # file to upload is picked from the session's files (tui/files.py).
        where = "to your browser" if files.to_browser else "into your session's files"
        return [
            Label(f"Download template ({where})"),
            Button(
                "Download template",
                name="download-template",
                id="download-template",
                compact=True,
            ),
            Label("Choose file (xlsx, at most 1 MB) from your session's files"),
            Horizontal(
                Button(
                    "Choose file…",
                    name="choose-file",
                    id="choose-file",
                    variant="primary",
                    compact=True,
                ),
                *samples,
                classes="actions",
            ),
        ]
    template = view.get("template", {}).get("filename", TEMPLATE_NAME)
    return [
        Label("Download template: where to save it"),
        Input(
            str(files.downloads / template),
            id="template-path",
            suggester=PathSuggester(hosted_process),
            compact=True,
        ),
        Button("Download template", name="download-template", id="download-template", compact=True),
        Label("Choose file (xlsx, at most 1 MB)"),
        Input(
            placeholder="path to the filled template",
            id="upload-path",
            suggester=PathSuggester(hosted_process),
        ),
        Horizontal(
            Button("Upload", name="upload", id="act-upload", variant="primary", compact=True),
            *samples,
            classes="actions",
        ),
    ]


def counter_text(field: dict[str, Any], value: str) -> Text:
    """What the field's counter says with ``value`` typed: the service's words, with
    the characters left filled in."""
    remaining = field["max_length"] - len(value)
    return Text(str(field["counter"]).replace("{remaining}", str(remaining)))


def _email_box(email: dict[str, Any]) -> Widget:
    text = Text()
    text.append("From ", style="dim")
    text.append(f"{email['from_name']}\n")
    text.append("To ", style="dim")
    text.append(f"{email['to_name']} <{email['to_address']}>\n")
    text.append("Subject ", style="dim")
    text.append(f"{email['subject']}\n\n", style="bold")
    text.append(email["text"].replace(f"{email['call_to_action']}: {email['link']}\n", ""))
    return Static(text, classes="box")


def _requests_table(requests: list[dict[str, Any]]) -> Widget:
    table: DataTable[RenderableType] = DataTable(show_cursor=False)
    table.add_columns("Name", "Date", "Due", "Status")
    for item in requests:
        table.add_row(
            *plain_cells(
                item["name"],
                when(item["date"], with_year=True),
                when(item.get("due")) or "—",
                item["status"],
            )
        )
    return table


def _errors_table(errors: list[dict[str, Any]]) -> Widget:
    """The upload's row errors, each problem wrapped to the width there is: a problem
    names the values allowed ("use one of …"), which a one-line cell cut off."""
    table = Table("Row", "Column", "Problem", box=None, header_style="bold", expand=True)
    table.columns[0].no_wrap = True
    table.columns[2].ratio = 1
    table.columns[2].overflow = "fold"
    for error in errors:
        table.add_row(
            *plain_cells(str(error.get("row") or "—"), error.get("column") or "—", error["message"])
        )
    return Static(table, id="upload-errors", classes="para")
