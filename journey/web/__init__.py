"""The customer's pages behind the emailed link (``{public_url}/j/{token}``).

Server-rendered HTML for every journey step, from the same step description the JSON
API answers (``journey.core.prompts``); the state machine stays the only authority.
``install`` adds the pages, their stylesheet and script, and their headers to the
journey service's app.
"""

from __future__ import annotations

from journey.web.pages import install

__all__ = ["install"]
