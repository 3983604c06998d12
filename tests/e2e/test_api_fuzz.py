"""API fuzzing: schemathesis against the OpenAPI document of a real `relportal serve`.

Every operation, with data that fits its schema and data that does not, against one
long-lived server on 127.0.0.1 (an RM's token on the RM side, made-up links on the
customer side): never a 5xx, every answer matches what the document says, every
error is a problem document with a stable code. `RELPORTAL_FUZZ_EXAMPLES` sets the
examples per operation (CI: a few dozen; the long run in docs/RELIABILITY.md: more).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.support.serve import Server, new_user_token

pytestmark = pytest.mark.e2e
EXAMPLES = int(os.environ.get("RELPORTAL_FUZZ_EXAMPLES", "50"))
PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    config = folder / "config.toml"
    config.write_text(
        "[service]\npublic_url = 'http://portal.test'\n"
        "[demo]\ncompanies = 20\n"
        "[mail]\noutbox = '" + str(folder / "outbox") + "'\n"
    )
    db = folder / "fuzz.db"
    made = new_user_token(config, db, "fuzz@larkspur.example")
    assert made.returncode == 0, made.stderr
    server = Server(config, db, folder / "serve.log")
    try:
        yield server, made.stdout.strip()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api(served: tuple[Server, str]) -> Any:
    server, _ = served
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


# The long-poll waits up to a minute by design: it has its own tests (test_events_*).
schema = schemathesis.pytest.from_fixture("api").exclude(path="/v1/events", method="GET")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("RELPORTAL_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_fails_or_breaks_its_contract(case: Any, served: tuple[Server, str]) -> None:
    _, token = served
    response = case.call(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    if response.status_code >= 400:
        kind = response.headers.get("content-type") or [""]
        assert (kind[0] if isinstance(kind, list) else kind).startswith("application/problem+json")
        body = response.json()
        assert set(body) >= PROBLEM_KEYS, body
        assert body["status"] == response.status_code
        assert "Traceback" not in response.text
    case.validate_response(
        response,
        checks=[
            schemathesis.checks.not_a_server_error,
            schemathesis.checks.response_schema_conformance,
            schemathesis.checks.content_type_conformance,
        ],
    )
