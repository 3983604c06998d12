"""The hosts' own HTML pages (the web sign-in and portal page, the SSH download list),
rendered from tui/hosting/templates with every value escaped."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("tui.hosting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a value a page names but was not given is a bug
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **values: Any) -> str:
    """The page ``name`` (a file in tui/hosting/templates) with ``values`` filled in."""
    return _environment().get_template(name).render(**values)
