"""The customer's pages behind an emailed link (``/j/{token}``), posted as a browser posts
them: a journey started, a step's form, several steps, the heading read back."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx

from tests.support.service import Service


async def start(svc: Service, data_types: list[str]) -> tuple[dict[str, Any], dict[str, Any], str]:
    rel = await svc.company()
    req, token = await svc.request_link(rel["id"], data_types)
    return rel, req, token


def h1(response: httpx.Response) -> str:
    found = re.search(r"<h1>(.*?)</h1>", response.text, re.S)
    assert found, response.text
    return unescape(found.group(1)).strip()


def place(response: httpx.Response) -> str:
    """The step a page's forms say they were rendered at (the hidden ``at`` field)."""
    found = re.search(r'name="at" value="([^"]+)"', response.text)
    assert found, response.text
    return found.group(1)


async def post(svc: Service, token: str, **form: str) -> httpx.Response:
    """A step's form as a browser posts it, from the page the customer sees now."""
    page = await svc.base.get(f"/j/{token}")
    return await svc.base.post(f"/j/{token}", data={"at": place(page), **form})


async def walk(svc: Service, token: str, *actions: dict[str, str]) -> httpx.Response:
    """Several steps, each answered 303 back to the step's page; that page at the end."""
    for form in actions:
        response = await post(svc, token, **form)
        assert response.status_code == 303, (form, response.status_code, response.text[-800:])
        assert response.headers["location"] == f"/j/{token}"
    return await svc.base.get(f"/j/{token}")
