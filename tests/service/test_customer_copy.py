"""The customer's copy agrees with itself (issue 18, finding 34): the email promises that
nothing in the accounting software is changed, so the consent and every platform's
scopes only read, and the words come from one place for the web page and the TUI."""

from __future__ import annotations

from html import unescape

from journey.core.platforms import PLATFORMS
from journey.core.prompts import consent_terms
from tests.support.customer_pages import h1, start, walk
from tests.support.service import Service


def test_every_platform_only_asks_to_read() -> None:
    for platform in PLATFORMS.values():
        for scope in platform.consent_scopes:
            assert scope.startswith(("View ", "Read ")), (platform.name, scope)
            assert "manage" not in scope.lower(), (platform.name, scope)


async def test_the_consent_page_and_the_journey_api_say_the_same_honest_terms(
    svc: Service,
) -> None:
    _, _, token = await start(svc, ["financials"])
    page = await walk(
        svc,
        token,
        {"action": "view_request"},
        {"action": "connect"},
        {"action": "select_platform", "platform": "gbol"},
    )
    assert h1(page) == "Connect to Xero"
    text = unescape(page.text)
    terms = consent_terms("Larkspur Bank")
    assert terms in text
    assert "Terms and Conditions" not in text and "Privacy Policy" not in text
    assert "nothing in your accounting software is changed" in terms
    # The TUI's simulation shows the journey API's view: the same words.
    journey = (await svc.base.get(f"/v1/journeys/{token}")).json()
    assert journey["view"]["terms"] == terms

    page = await walk(svc, token, {"action": "consent"})
    assert h1(page) == "Sign in to Xero"
    text = unescape(page.text)
    assert "manage" not in text.lower()
    journey = (await svc.base.get(f"/v1/journeys/{token}")).json()
    for scope in journey["view"]["consent"]["scopes"]:
        assert scope in text
        assert scope.startswith("View ")
