"""The customer simulation screen walked through Pilot as a person would."""

from __future__ import annotations

import time
from typing import Any

from textual.widgets import Button, Input

from screens.portal import PortalScreen
from screens.simulation import SimulationScreen
from tui.simulate import start_simulation


class Walk:
    """Drives the simulation screen as a person would: buttons, inputs, keys."""

    def __init__(self, pilot: Any) -> None:
        self.pilot = pilot
        self.app = pilot.app

    @property
    def screen(self) -> SimulationScreen:
        screen = self.app.screen
        assert isinstance(screen, SimulationScreen), type(screen)
        return screen

    async def until(self, check: Any, timeout: float = 10.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"never happened: {what}")
            await self.pilot.pause(0.03)

    async def at(self, step: str) -> None:
        await self.until(
            lambda: (
                isinstance(self.app.screen, SimulationScreen)
                and (self.screen.journey or {}).get("step") == step
                and not self.screen.busy
            ),
            what=f"step {step}",
        )
        await self.pilot.pause(0.05)

    def text(self) -> str:
        """Everything the customer pane says, in order (labels of buttons included)."""
        pane = self.screen.query_one("#customer")
        parts = [str(self.screen.query_one("#step-title").render())]
        foot = list(self.screen.query_one("#step-actions").query(Button))
        for widget in [*pane.query("Static, Label, Button"), *foot]:
            parts.append(str(widget.label) if isinstance(widget, Button) else str(widget.render()))
        return "\n".join(parts)

    def button(self, label: str) -> Button:
        for button in self.screen.query(Button):
            if label in str(button.label):
                return button
        raise AssertionError(f"no button {label!r}; the screen shows:\n{self.text()}")

    async def press(self, label: str) -> None:
        """Press the button (as Enter or a click would: ``Button.press``)."""
        self.button(label).press()
        await self.pilot.pause()

    async def type_into(self, input_id: str, text: str) -> None:
        """Type ``text``; the last key is really pressed (Pilot waits for the app after
        every key, so the rest is put in the field as a paste would)."""
        field = self.screen.query_one(f"#{input_id}", Input)
        field.focus()
        field.value = text[:-1]
        await self.pilot.pause()
        field.cursor_position = len(field.value)
        await self.pilot.press(text[-1])
        assert field.value == text, (field.value, text)

    async def connect(self, platform: str, password: str = "demo") -> None:
        """From "Share your accounting data" to the platform's answer."""
        await self.at("share_accounting")
        await self.press("Connect")
        await self.at("select_platform")
        await self.type_into("platform-search", platform[:3])
        await self.pilot.press("enter")
        await self.at("consent")
        assert platform in self.screen.journey["title"]  # type: ignore[index]
        await self.press("Next")
        await self.at("platform_signin")
        await self.type_into("signin-username", "demo")
        await self.type_into("signin-password", password)
        await self.pilot.press("enter")


async def open_simulation(pilot: Any, body: dict[str, Any]) -> Walk:
    app = pilot.app
    deadline = time.monotonic() + 15
    while not isinstance(app.screen, PortalScreen):
        assert time.monotonic() < deadline
        await pilot.pause(0.05)
    assert await start_simulation(app, app.client, app.session, body)
    walk = Walk(pilot)
    await walk.at("email")
    return walk


async def to_manual_upload(pilot: Any) -> Walk:
    """A spend request's journey, at the manual upload step."""
    walk = await open_simulation(
        pilot, {"data_types": ["spend_analysis"], "features": ["manual_upload"]}
    )
    await walk.press("View request")
    await walk.press("Upload file manually")
    await walk.at("manual_upload")
    return walk
