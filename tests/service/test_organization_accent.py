"""The organization's accent colour: set by an admin over the API (refused when white
text would not read on it), stored, shown by GET /v1/organization, and used by the
customer's pages through a same-origin stylesheet."""

from __future__ import annotations

import pytest

from journey.accent import contrast_with_white
from tests.support.service import Service


async def _patch(svc: Service, accent: object, who: str = "admin"):  # type: ignore[no-untyped-def]
    org = (await svc.get("/v1/organization", who)).json()
    return await svc.patch(
        "/v1/organization",
        who,
        json={"accent": accent},
        headers={"If-Match": f'"{org["version"]}"'},
    )


async def test_an_admin_sets_the_accent_and_get_shows_it(svc: Service) -> None:
    before = await svc.get("/v1/organization")
    assert before.status_code == 200
    assert before.json()["accent"] is None
    changed = await _patch(svc, "#1F4E9A")
    assert changed.status_code == 200, changed.text
    assert changed.json()["organization"]["accent"] == "#1f4e9a"
    assert (await svc.get("/v1/organization", "rm")).json()["accent"] == "#1f4e9a"
    cleared = await _patch(svc, None)
    assert cleared.status_code == 200, cleared.text
    assert (await svc.get("/v1/organization")).json()["accent"] is None


async def test_only_an_admin_sets_it(svc: Service) -> None:
    assert (await _patch(svc, "#1f4e9a", who="rm")).status_code == 403


@pytest.mark.parametrize(
    ("accent", "code", "words"),
    [
        ("blue", "invalid_accent", "#RRGGBB"),
        ("#12345", "invalid_accent", "#RRGGBB"),
        ("#12345g", "invalid_accent", "#RRGGBB"),
        (12, "invalid_request", "accent"),  # not a string: the body's schema says why
        ("#ffd700", "accent_contrast", "1.4:1"),  # gold: white on it is unreadable
        ("#8aa52a", "accent_contrast", "4.5:1"),  # the reference's green, as it is
    ],
)
async def test_a_malformed_or_unreadable_accent_is_422_with_the_reason(
    svc: Service, accent: object, code: str, words: str
) -> None:
    refused = await _patch(svc, accent)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == code and words in problem["detail"]
    assert (await svc.get("/v1/organization")).json()["accent"] is None


def test_the_contrast_rule_is_wcags() -> None:
    assert round(contrast_with_white("#000000"), 1) == 21.0
    assert round(contrast_with_white("#767676"), 2) == 4.54  # the classic AA grey


async def test_the_customer_pages_use_the_accent_through_their_own_stylesheet(
    svc: Service,
) -> None:
    assert (await _patch(svc, "#0B6E4F")).status_code == 200
    company = await svc.company()
    _, token = await svc.request_link(company["id"], ["financials"])
    page = await svc.base.get(f"/j/{token}")
    assert page.status_code == 200
    assert '<link rel="stylesheet" href="/static/journey/accent/0b6e4f.css">' in page.text
    assert "style=" not in page.text and "<style" not in page.text
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    sheet = await svc.base.get("/static/journey/accent/0b6e4f.css")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/css")
    assert "--accent: #0b6e4f;" in sheet.text
    assert (await svc.base.get("/static/journey/accent/nothex.css")).status_code == 404
