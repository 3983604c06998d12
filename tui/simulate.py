"""Starting a customer simulation: from a link, a copy of a request, or chosen switches."""

from __future__ import annotations

from typing import Any

from textual.app import App

from journey.core.tokens import link_token_from
from screens.simulation import SimulationScreen
from tui.client import ReplayStep, ServiceClient, ServiceProblem, ServiceUnavailable, Session

# A request link (…/j/TOKEN) or the bare token: the token. One parser for both sides.
token_of = link_token_from


async def start_simulation(
    app: App[Any], client: ServiceClient, session: Session | None, body: dict[str, Any]
) -> bool:
    """Create a fresh demo request (``POST /v1/simulations``) and open the simulation
    on it; a refusal is a notification, not a crash."""
    try:
        made = await client.post("/v1/simulations", body)
    except (ServiceProblem, ServiceUnavailable) as exc:
        app.notify(str(exc), title="No simulation", severity="error")
        return False
    await app.push_screen(simulation_of(client, session, made))
    return True


def simulation_of(
    client: ServiceClient,
    session: Session | None,
    made: dict[str, Any],
    replay: list[ReplayStep] | None = None,
) -> SimulationScreen:
    """The simulation of the demo request ``made`` (the answer to ``POST /v1/simulations``)."""
    return SimulationScreen(
        client,
        session,
        token_of(made["link"]),
        request_id=made["request_id"],
        relationship_id=made["relationship_id"],
        replay=replay,
    )
