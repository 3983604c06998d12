"""Service tests: the journey service in-process, spoken to over HTTP (httpx against the
ASGI app), as the portal and API clients speak to it."""
