"""A request's journey transcript: every customer action, its answer and its result.

From here support replays it (a fresh demo copy of the request, walked step by step
or all at once by the simulation, stopping where the original failed or stopped),
exports it to JSON, or imports one someone else exported.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from journey.core.labels import action_label, step_label
from screens.messages import OpenSimulation
from tui.client import ServiceClient, ServiceProblem, ServiceUnavailable, Session
from tui.file_choices import SaveTarget
from tui.files import desk_of, readable_file_name
from widgets.keys_footer import KeysFooter
from widgets.plain import plain_cells
from widgets.status_badge import when

REQUESTED = {"financials": "Financials", "spend_analysis": "Spend analysis"}
MAX_TRANSCRIPT_BYTES = 5_000_000


def choose_transcript(app: Any, client: ServiceClient, session: Session | None) -> None:
    """Ask for a transcript exported as JSON (a path locally, a session file when
    hosted: tui/files.FileDesk), read it (at most 5 MB), have the service check it
    and show it."""

    def read(name: str, data: bytes) -> None:
        app.run_worker(
            open_transcript(app, client, session, name, data),
            group="transcript-import",
            exit_on_error=False,
        )

    desk_of(app).choose_to_open(
        "Import a transcript (JSON) from:",
        read,
        limit=MAX_TRANSCRIPT_BYTES,
        suffixes=(".json",),
        ok="Import",
    )


async def open_transcript(
    app: Any, client: ServiceClient, session: Session | None, name: str, data: bytes
) -> None:
    """Show the transcript in ``data`` (the file ``name``), as the service checked it
    (``POST /v1/transcripts/replay-plan``); a bad one is a notification."""
    try:
        checked = await client.replay_plan(json.loads(data.decode("utf-8")))
    except (ValueError, ServiceProblem, ServiceUnavailable) as exc:
        app.notify(f"{name}: {exc}", title="Not imported", severity="error")
        return
    await app.push_screen(
        TranscriptScreen(client, session, transcript=checked["transcript"], source=name)
    )


class TranscriptScreen(Screen[None]):
    DEFAULT_CSS = """
    TranscriptScreen { layout: vertical; }
    #transcript-head { height: auto; padding: 0 1; background: $panel; }
    #steps { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="transcript.back"),
        Binding("r", "replay", "Replay", id="transcript.replay"),
        Binding("e", "export", "Export JSON", id="transcript.export"),
        Binding("i", "import_file", "Import JSON", id="transcript.import"),
    ]
    PALETTE_PREFIX = "transcript"  # the command palette names these bindings "transcript: …"

    def __init__(
        self,
        client: ServiceClient,
        session: Session | None,
        request_id: str | None = None,
        transcript: dict[str, Any] | None = None,
        source: str = "",
    ) -> None:
        super().__init__()
        self.client = client
        self.session = session
        self.request_id = request_id
        # An imported transcript is a file from anywhere: it is shown as the service
        # answered it, its text cleaned by the client as every answer is.
        self.transcript = transcript
        self.source = source

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="transcript-head")
        yield DataTable(id="steps", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#steps", DataTable)
        table.add_columns("#", "When", "At step", "Action", "Answer", "Result")
        if self.transcript is not None:
            self._show()
        else:
            self.load()

    @work(exclusive=True, group="transcript", exit_on_error=False)
    async def load(self) -> None:
        try:
            self.transcript = await self.client.get(f"/v1/requests/{self.request_id}/transcript")
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.query_one("#transcript-head", Static).update(Text(f"No transcript: {exc}"))
            return
        self._show()

    def _show(self) -> None:
        assert self.transcript is not None
        request = self.transcript["request"]
        head = Text()
        head.append("Journey transcript", style="bold")
        head.append(f"  {request.get('company', '')}", style="")
        wanted = " + ".join(REQUESTED.get(t, t) for t in request.get("data_types", []))
        head.append(
            f"  ·  {wanted}  ·  requested {when(request.get('created_at'), with_year=True)}"
        )
        features = ", ".join(request.get("features", [])) or "no optional features"
        head.append(f"\nSwitches: {features}", style="dim")
        if self.source:
            head.append(f"\nImported from {self.source}", style="dim italic")
        steps = self.transcript["steps"]
        head.append(f"\n{len(steps)} customer actions", style="dim")
        self.query_one("#transcript-head", Static).update(head)
        table = self.query_one("#steps", DataTable)
        table.clear()
        for number, step in enumerate(steps, 1):
            answer = ", ".join(f"{k} {v}" for k, v in (step.get("answer") or {}).items())
            result: Text
            if step.get("error"):
                result = Text(f"✖ {step['error']}", style="red")
            else:
                result = Text(
                    f"→ {step_label(step.get('to'))}" + (" (closed)" if step.get("closed") else "")
                )
            table.add_row(
                *plain_cells(
                    str(number),
                    when(step.get("at")),
                    step_label(step.get("from")),
                    action_label(step.get("action")),
                    answer or "—",
                    result,
                )
            )

    def action_export(self) -> None:
        if self.transcript is None:
            return
        transcript = self.transcript
        # Named for people: the company and the day its request was made; saved where
        # reports go (the downloads folder).
        request = transcript["request"]
        day = str(request.get("created_at") or "")[:10] or date.today().isoformat()
        name = readable_file_name(str(request.get("company") or ""), f"transcript {day}", ".json")
        data = json.dumps(transcript, indent=2, ensure_ascii=False).encode() + b"\n"

        def chosen(target: SaveTarget) -> None:
            desk_of(self.app).save(target, data, what="the transcript", title="Transcript exported")

        desk_of(self.app).ask_where(
            "Export the transcript (JSON) as:",
            name,
            chosen,
            ok="Export",
            text=True,
            suffixes=(".json",),
        )

    def action_import_file(self) -> None:
        choose_transcript(self.app, self.client, self.session)

    def action_replay(self) -> None:
        if self.transcript is not None:
            self.start_replay()

    @work(exclusive=True, group="replay", exit_on_error=False)
    async def start_replay(self) -> None:
        """A fresh demo copy of the request, then the simulation walks the transcript."""
        assert self.transcript is not None
        request = self.transcript["request"]
        if self.request_id and not self.source:
            body: dict[str, Any] = {"from_request": self.request_id}
        else:
            body = {
                "data_types": request["data_types"],
                "features": request.get("features", []),
                "company_name": request.get("company") or None,
            }
        try:
            if self.request_id and not self.source:
                plan = await self.client.request_replay_plan(self.request_id)
            else:
                plan = await self.client.replay_plan(self.transcript)
            made = await self.client.post("/v1/simulations", body)
        except (ServiceProblem, ServiceUnavailable) as exc:
            self.notify(str(exc), title="Cannot replay", severity="error")
            return
        self.post_message(OpenSimulation(made, plan["steps"]))
