"""The journey API against a simple model, driven by Hypothesis through HTTP.

Random sequences of customer actions (allowed and not, with good and bad values) on
several requests of two organizations at once, each request with its own data types
and feature switches. After every action the model checks what must always hold:

* only steps the requested data and the switches allow ever appear (the matrix);
* an action the step does not offer is refused (409/422) and changes nothing;
  an offered one with good values is taken;
* the customer and the RM see the same legal entities;
* every accepted action is one `journey.action` event, events are in order and
  none is repeated, and the company's status is the one its last status event says;
* another organization never sees the request.

`RELPORTAL_MODEL_EXAMPLES` sets how many sequences run (CI: a few hundred; the long
run in docs/RELIABILITY.md: thousands).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, rule

from journey import service
from journey.api import create_app
from journey.core.domain import Role
from journey.core.tokens import link_token_from
from journey.settings import ServiceSettings
from journey.storage.sqlite import SQLiteStore
from journey.template import sample_file

SAMPLES = {True: sample_file(valid=True), False: sample_file(valid=False)}
REACHED: Counter[str] = Counter()  # steps the accepted actions led to, across the run
EXAMPLES = int(os.environ.get("RELPORTAL_MODEL_EXAMPLES", "150"))
SPEND_ONLY_STEPS = {"choose_method", "manual_upload", "entity_count", "entity_name", "entities"}
ACTIONS = [
    "view_request",
    "choose_method",
    "choose_entities",
    "name_entity",
    "connect",
    "select_platform",
    "consent",
    "authorize",
    "deny",
    "add_entity",
    "finish",
    "back",
    "close",
    "resume",
]
PARAMS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "choose_method": st.sampled_from(["upload", "connect", "carrier pigeon"]).map(
        lambda m: {"method": m}
    ),
    "choose_entities": st.sampled_from(["single", "multiple", "many"]).map(lambda c: {"count": c}),
    "name_entity": st.sampled_from(
        ["North", "South Ltd", "Ünïcødé Gmbh", "East", "", "x" * 101]
    ).map(lambda n: {"name": n}),
    "select_platform": st.sampled_from(["gbol", "qhyg", "zzzz"]).map(lambda p: {"platform": p}),
    "authorize": st.sampled_from(["demo", "wrong"]).map(
        lambda p: {"username": "demo", "password": p}
    ),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One journey service on 127.0.0.1 (uvicorn in a thread) with two organizations."""
    folder: Path = tmp_path_factory.mktemp("model")
    config = ServiceSettings(
        db_path=folder / "model.db",
        outbox_dir=folder / "outbox",
        demo_companies=0,
        pull_queue_seconds=0.0,
        pull_fetch_seconds=0.0,
        upload_processing_seconds=0.0,
        worker_interval=0.05,
    )
    store = SQLiteStore(config.db_path)

    def setup(tx: Any) -> dict[str, str]:
        tokens = {}
        for key, org_name, email in (
            ("a", "Larkspur Bank", "support@larkspur.example"),
            ("b", "Quayside Credit Union", "support@quayside.example"),
        ):
            org = service.ensure_organization(tx, org_name)
            user = service.ensure_user(tx, org, email, f"Support {key}", Role.SUPPORT)
            tokens[key] = service.create_token(tx, user, "model check")
        return tokens

    tokens = store.write_sync(setup)
    store.close()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.02)
    clients = {
        key: httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        for key, token in tokens.items()
    }
    yield {"clients": clients, "customer": httpx.Client(base_url=f"http://127.0.0.1:{port}")}
    for client in clients.values():
        client.close()
    server.should_exit = True
    thread.join(timeout=10)


class Journeys(RuleBasedStateMachine):
    served: dict[str, Any] = {}
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.known: list[dict[str, Any]] = []

    @initialize()
    def nothing_yet(self) -> None:
        self.known = []

    @rule(
        target=requests,
        org=st.sampled_from(["a", "b"]),
        data_types=st.sampled_from(
            [["financials"], ["spend_analysis"], ["financials", "spend_analysis"]]
        ),
        features=st.sets(st.sampled_from(["manual_upload", "multi_entity"])).map(sorted),
    )
    def new_request(self, org: str, data_types: list[str], features: list[str]) -> dict[str, Any]:
        response = self.served["clients"][org].post(
            "/v1/simulations", json={"data_types": data_types, "features": features}
        )
        assert response.status_code == 201, response.text
        made = response.json()
        request = {
            "org": org,
            "id": made["request_id"],
            "relationship_id": made["relationship_id"],
            "token": link_token_from(made["link"]),
            "spend_only": data_types == ["spend_analysis"],
            "features": set(features),
            "accepted": 0,
        }
        self.known.append(request)
        self._check(request)
        return request

    @rule(request=requests, action=st.sampled_from(ACTIONS), data=st.data())
    def act(self, request: dict[str, Any], action: str, data: st.DataObject) -> None:
        """Any action at all: mostly ones the step does not offer."""
        self._take(request, action, data)

    @rule(request=requests, data=st.data())
    def act_as_offered(self, request: dict[str, Any], data: st.DataObject) -> None:
        """One of the actions the step offers (what customers mostly do): the walk
        gets deep into the journey, with bad values now and then."""
        journey = self.served["customer"].get(f"/v1/journeys/{request['token']}").json()
        offered = sorted(a["action"] for a in journey["actions"])
        forward = [a for a in offered if a not in ("back", "close", "deny")]
        if forward and data.draw(st.integers(0, 4), label="forward?"):
            self._take(request, data.draw(st.sampled_from(forward)), data)
        elif offered:
            self._take(request, data.draw(st.sampled_from(offered)), data)

    def _take(self, request: dict[str, Any], action: str, data: st.DataObject) -> None:
        customer = self.served["customer"]
        before = customer.get(f"/v1/journeys/{request['token']}").json()
        offered = {a["action"] for a in before["actions"]}
        if action == "upload":
            self._upload(request, before, data.draw(st.booleans(), label="valid file?"))
            return
        params = data.draw(PARAMS[action]) if action in PARAMS else {}
        response = customer.post(
            f"/v1/journeys/{request['token']}/actions", json={"action": action, **params}
        )
        assert response.status_code < 500, response.text
        if response.status_code == 200:
            assert action in offered, f"{action} taken at {before['step']}"
            event(f"reached {response.json()['step']}")
            REACHED[response.json()["step"]] += 1
            request["accepted"] += 1
        else:
            assert response.status_code in (409, 422), response.text
            body = response.json()
            assert body["status"] == response.status_code and body["detail"]
            after = customer.get(f"/v1/journeys/{request['token']}").json()
            assert (after["step"], after["closed"], after["entities"]) == (
                before["step"],
                before["closed"],
                before["entities"],
            )
            if action in offered and action not in PARAMS:
                raise AssertionError(f"{action} offered at {before['step']} but refused")
        self._check(request)

    def _upload(self, request: dict[str, Any], before: dict[str, Any], valid: bool) -> None:
        """The upload step takes a file, not an action: a valid sample or a bad one."""
        response = self.served["customer"].post(
            f"/v1/journeys/{request['token']}/uploads",
            files={"file": ("suppliers.xlsx", SAMPLES[valid], "application/octet-stream")},
        )
        assert response.status_code == (200 if valid else 422), response.text
        request["accepted"] += 1  # a rejected file is recorded as an attempt too
        if valid:
            REACHED[response.json()["step"]] += 1
        else:
            assert response.json()["errors"]
        self._check(request)

    def _check(self, request: dict[str, Any]) -> None:
        """What must hold for ``request`` after anything was done to it."""
        journey = self.served["customer"].get(f"/v1/journeys/{request['token']}").json()
        step = journey["step"]
        if not request["spend_only"]:
            assert step not in SPEND_ONLY_STEPS, step
        if "manual_upload" not in request["features"]:
            assert step not in ("choose_method", "manual_upload"), step
        if "multi_entity" not in request["features"]:
            assert step not in ("entity_count", "entity_name", "entities"), step
        rm = self.served["clients"][request["org"]]
        seen = rm.get(f"/v1/requests/{request['id']}").json()
        assert sorted(e["name"] for e in seen["entities"]) == sorted(
            e["name"] for e in journey["entities"]
        )
        events = seen["events"]
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        actions = [e for e in events if e["kind"] == "journey.action"]
        assert len(actions) == request["accepted"]
        company = rm.get(f"/v1/relationships/{request['relationship_id']}").json()
        changes = [e for e in company["events"] if e["kind"] == "relationship.status_changed"]
        if changes:
            last = max(changes, key=lambda e: e["seq"])["payload"]["to"]
            assert (None if last == "None" else last) == company["status"], (last, company)
        other = "b" if request["org"] == "a" else "a"
        assert self.served["clients"][other].get(f"/v1/requests/{request['id']}").status_code == 404


@pytest.mark.timeout(900)
def test_the_journey_api_keeps_to_its_model(served: dict[str, Any]) -> None:
    Journeys.served = served
    runner = Journeys.TestCase
    runner.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=30,
        deadline=None,
        # CI walks the same sequences every time (a failure there is a regression);
        # the long run explores new ones (RELPORTAL_MODEL_RANDOM=1).
        derandomize=not os.environ.get("RELPORTAL_MODEL_RANDOM"),
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    runner().runTest()
    # The random walks went deep: past the sign-in to the end, both branches of spend.
    print(dict(REACHED))
    assert {"manual_upload", "entity_count", "platform_signin", "complete", "summary"} <= set(
        REACHED
    )
