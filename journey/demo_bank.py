"""Who the demo bank is: its name, its mail domain and its people. Apart from the seed
that fills it, so the service can name the demo's portal user without importing the
seed (which walks journeys through the customer's side of the service)."""

from __future__ import annotations

from journey.core.domain import Role

DEMO_ORG = "Larkspur Bank"
DEMO_DOMAIN = "larkspurbank.example"
DEMO_USERS = (
    ("Alex Morgan", "alex.morgan", Role.RM),
    ("Priya Shah", "priya.shah", Role.RM),
    ("Tom Okafor", "tom.okafor", Role.RM),
    ("Dana Whitfield", "dana.whitfield", Role.RM),
    ("Sam Lee", "sam.lee", Role.ADMIN),
    ("Jordan Blake", "jordan.blake", Role.SUPPORT),
)
# Who the embedded portal signs in as unless config's [portal] user says otherwise: the
# demo's first relationship manager, by name, never whoever sorts first.
DEMO_PORTAL_USER = f"{DEMO_USERS[0][1]}@{DEMO_DOMAIN}"
