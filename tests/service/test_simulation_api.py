"""Customer simulations and transcripts through HTTP: what support builds on."""

from __future__ import annotations

import io
import json
from typing import Any

import openpyxl
import pytest

from journey.core.errors import Invalid
from journey.core.tokens import link_token_from
from journey.simulation import GOOD_PASSWORD, WRONG_PASSWORD, replay_plan
from journey.template import sample_file
from tests.support.service import Service


async def simulate(svc: Service, who: str = "support", **body: Any) -> dict[str, Any]:
    response = await svc.post("/v1/simulations", who, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_simulation_follows_its_own_switches_not_the_organizations(svc: Service) -> None:
    # Larkspur Bank has every feature; the simulation turns manual upload off.
    made = await simulate(svc, data_types=["spend_analysis"], features=["multi_entity"])
    assert made["features"] == ["multi_entity"]
    token = link_token_from(made["link"])
    body = (await svc.act(token, "view_request")).json()
    assert body["step"] == "entity_count"  # no "Provide supplier information" step
    # Without multi-entity either: straight to sharing.
    plain = await simulate(svc, data_types=["spend_analysis"], features=[])
    body = (await svc.act(link_token_from(plain["link"]), "view_request")).json()
    assert body["step"] == "share_accounting"
    # The company is nobody's: in everyone's list, described, not in an RM's own.
    company = await svc.relationship(made["relationship_id"])
    assert company["users"] == [] and "Customer simulation" in company["description"]
    assert company["contact_email"].endswith(".invalid")
    mine = (await svc.get("/v1/relationships?user=me&limit=500")).json()
    assert made["relationship_id"] not in {r["id"] for r in mine["items"]}


async def test_a_copy_of_a_request_keeps_its_branch_and_names(svc: Service) -> None:
    rel = await svc.company(name="Abra Kebabra", contact_name="Larry Pepper")
    req, _ = await svc.request_link(rel["id"], ["spend_analysis"])
    copy = await simulate(svc, from_request=req["id"])
    assert copy["data_types"] == ["spend_analysis"] and copy["request_id"] != req["id"]
    company = await svc.relationship(copy["relationship_id"])
    assert (company["name"], company["contact_name"]) == ("Abra Kebabra", "Larry Pepper")
    body = (await svc.journey(link_token_from(copy["link"]))).json()
    assert body["view"]["email"]["text"].startswith("Hi Larry Pepper,")
    # Another organization's request is not there to copy.
    other = await svc.post("/v1/simulations", "other", json={"from_request": req["id"]})
    assert other.status_code == 404
    assert (
        await svc.post("/v1/simulations", "support", json={"data_types": []})
    ).status_code == 422


async def test_the_transcript_records_every_action_and_never_a_password(svc: Service) -> None:
    made = await simulate(svc, data_types=["spend_analysis"])
    token = link_token_from(made["link"])
    await svc.walk(token, ("view_request", {}), ("choose_method", {"method": "upload"}))
    rejected = await svc.base.post(
        f"/v1/journeys/{token}/uploads",
        files={"file": ("suppliers.xlsx", sample_file(valid=False), "application/octet-stream")},
    )
    assert rejected.status_code == 422 and rejected.json()["errors"]
    await svc.walk(token, ("back", {}), ("choose_method", {"method": "connect"}))
    await svc.walk(
        token,
        ("choose_entities", {"count": "single"}),
        ("connect", {}),
        ("select_platform", {"platform": "gbol"}),
        ("consent", {}),
    )
    wrong = await svc.act(token, "authorize", username="demo", password=WRONG_PASSWORD)
    assert wrong.json()["error"]
    await svc.walk(token, ("authorize", {"username": "demo", "password": GOOD_PASSWORD}))

    response = await svc.get(f"/v1/requests/{made['request_id']}/transcript", "rm")
    assert response.status_code == 200
    transcript = response.json()
    assert transcript["request"]["features"] == ["copy_link", "manual_upload", "multi_entity"]
    steps = [(s["action"], s["from"], s["to"], s["error"]) for s in transcript["steps"]]
    assert steps[:3] == [
        ("view_request", "email", "choose_method", None),
        ("choose_method", "choose_method", "manual_upload", None),
        ("upload", "manual_upload", "manual_upload", "upload_rejected"),
    ]
    assert steps[-2][0] == "authorize" and steps[-2][3] is not None  # the wrong password
    assert steps[-1] == ("authorize", "platform_signin", "complete", None)
    text = json.dumps(transcript)
    assert WRONG_PASSWORD not in text and '"password"' not in text
    # Replayed: the same path, with a wrong then a right password and a bad file.
    plan = replay_plan(transcript)
    assert [p.upload for p in plan if p.action == "upload"] == ["invalid"]
    passwords = [p.params["password"] for p in plan if p.action == "authorize"]
    assert passwords == [WRONG_PASSWORD, GOOD_PASSWORD]
    # Another organization cannot read it.
    assert (
        await svc.get(f"/v1/requests/{made['request_id']}/transcript", "other")
    ).status_code == 404
    # The portal asks the service for the same plan (its screens import no journey rules).
    asked = await svc.post("/v1/transcripts/replay-plan", "rm", json=transcript)
    assert asked.status_code == 200, asked.text
    assert asked.json()["transcript"] == transcript
    served = asked.json()["steps"]
    assert [(p["action"], p["upload"], p["params"]) for p in served] == [
        (p.action, p.upload, p.params) for p in plan
    ]
    assert [p["description"] for p in served] == [p.describe() for p in plan]
    # The request's own transcript is planned where it is read, not sent back.
    own = await svc.get(f"/v1/requests/{made['request_id']}/replay-plan", "rm")
    assert own.status_code == 200 and own.json() == asked.json()
    assert (
        await svc.get(f"/v1/requests/{made['request_id']}/replay-plan", "other")
    ).status_code == 404


async def test_the_service_refuses_a_file_that_is_not_a_transcript(svc: Service) -> None:
    answer = await svc.post("/v1/transcripts/replay-plan", "rm", json={"format": "x"})
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_transcript"
    assert "Not a transcript" in answer.json()["detail"]


def _rows(xlsx: bytes) -> list[list[Any]]:
    """Every sheet's cell values (a workbook's bytes carry the time it was written)."""
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book]


@pytest.mark.parametrize("kind", ["valid", "invalid"])
async def test_the_sample_files_come_from_the_service(svc: Service, kind: str) -> None:
    answer = await svc.get(f"/v1/samples/{kind}", "rm")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert _rows(answer.content) == _rows(sample_file(valid=kind == "valid"))
    assert (await svc.get("/v1/samples/other", "rm")).status_code == 422


@pytest.mark.parametrize(
    "junk",
    [[], {"format": "something else"}, {"format": "relportal.transcript/1", "request": {}}],
)
def test_a_file_that_is_not_a_transcript_is_refused_with_a_reason(junk: Any) -> None:
    with pytest.raises(Invalid):
        replay_plan(junk)
