"""The platform's sign-in keeps the typed username after a wrong password (never the
password), and HEAD on a link answers like GET, without a body or any change."""

from __future__ import annotations

import re

from tests.support.customer_pages import h1, post, start, walk
from tests.support.service import Service

SECRET = "hunter2-secret"


def username_field(text: str) -> str:
    found = re.search(r'<input type="text" id="username" name="username" value="([^"]*)"', text)
    assert found, text
    return found.group(1)


async def test_a_wrong_password_keeps_the_username_and_never_the_password(svc: Service) -> None:
    _, _, token = await start(svc, ["financials"])
    page = await walk(
        svc,
        token,
        {"action": "view_request"},
        {"action": "connect"},
        {"action": "select_platform", "platform": "gbol"},
        {"action": "consent"},
    )
    assert username_field(page.text) == ""
    typed = 'ann.lee+"ops"@harbour.example'
    wrong = await post(svc, token, action="authorize", username=typed, password=SECRET)
    assert wrong.status_code == 303
    assert SECRET not in str(wrong.headers)
    page = await svc.base.get(f"/j/{token}")
    assert h1(page) == "Sign in to Xero"
    assert username_field(page.text) == "ann.lee+&#34;ops&#34;@harbour.example"
    assert SECRET not in page.text
    assert 'type="password" id="password" name="password" autocomplete' in page.text
    # Shown once: a reload, or another visit later, starts from an empty field.
    again = await svc.base.get(f"/j/{token}")
    assert username_field(again.text) == ""


async def test_head_answers_like_get_without_a_body_and_changes_nothing(svc: Service) -> None:
    rel, _, token = await start(svc, ["financials"])
    before = await svc.relationship(rel["id"])
    got = await svc.base.get(f"/j/{token}")
    head = await svc.base.head(f"/j/{token}")
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-security-policy", "cache-control", "content-length"):
        assert head.headers[name] == got.headers[name], name
    after = await svc.relationship(rel["id"])
    assert after["status"] == before["status"] == "Requested"
    assert after["version"] == before["version"]
    assert (await svc.journey(token)).json()["step"] == "email"
    unknown = await svc.base.head("/j/no-such-link-at-all")
    assert unknown.status_code == 404 and unknown.content == b""
    assert unknown.headers["content-type"].startswith("text/html")
