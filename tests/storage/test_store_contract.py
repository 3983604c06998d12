"""The storage contract: what every ``journey.storage.base.Store`` and its ``Tx``
do, written once and run against each backend.

A backend proves itself by passing this suite: add its name to ``BACKENDS`` and a
branch to ``store`` that opens an empty database of it. The tests use the protocols
only (never a backend's connection or SQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from journey.core.domain import (
    CompanyStatus,
    ConnectionStatus,
    DataType,
    Delivery,
    Feature,
    PullStatus,
    RequestState,
    Role,
    UploadStatus,
)
from journey.core.records import (
    Connection,
    DataPull,
    InformationRequest,
    LegalEntity,
    Organization,
    Relationship,
    Upload,
    User,
)
from journey.storage.base import Committed, RelationshipQuery, Store, Tx

BACKENDS = ["sqlite"]

T0 = "2030-01-01T09:00:00.000Z"
T1 = "2030-01-02T09:00:00.000Z"
T2 = "2030-01-03T09:00:00.000Z"
LATER = "2999-01-01T00:00:00.000Z"
PAST = "2020-01-01T00:00:00.000Z"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        from journey.storage.sqlite import SQLiteStore

        made: Store = SQLiteStore(tmp_path / "contract.db")
    else:  # pragma: no cover - a backend named without a way to open it
        raise AssertionError(f"no way to open a {request.param} store")
    try:
        yield made
    finally:
        made.close()


# Records as the service makes them


def org(org_id: str = "org-1", name: str = "Larkspur Bank") -> Organization:
    return Organization(
        id=org_id,
        name=name,
        features=frozenset({Feature.MANUAL_UPLOAD}),
        platforms=("xero", "qbo"),
        link_lifetime_days=7,
        simulated_failures={},
        created_at=T0,
        version=1,
    )


def user(user_id: str, name: str, email: str, org_id: str = "org-1") -> User:
    return User(user_id, org_id, email, name, Role.RM, T0)


def company(rel_id: str, name: str, **fields: Any) -> Relationship:
    made = Relationship(
        id=rel_id,
        org_id="org-1",
        parent_id=None,
        name=name,
        description="",
        contact_name="Dana Reyes",
        contact_email=f"{rel_id}@example.com",
        created_at=T0,
        updated_at=T0,
        version=1,
        status=CompanyStatus.NONE,
        status_at=T0,
        requested=(),
        entities_linked=0,
        entities_total=0,
        platforms=(),
        latest_request_id=None,
    )
    return replace(made, **fields)


def information_request(req_id: str, rel_id: str, **fields: Any) -> InformationRequest:
    made = InformationRequest(
        id=req_id,
        org_id="org-1",
        relationship_id=rel_id,
        data_types=frozenset({DataType.FINANCIALS}),
        delivery=Delivery.EMAIL,
        created_by="u-1",
        created_at=T0,
        expires_at=T2,
        state=RequestState.SENT,
        state_at=T0,
        opened_at=None,
        completed_at=None,
        journey={"step": "email"},
        link_issued_at=T0,
        version=1,
    )
    return replace(made, **fields)


def entity(entity_id: str, req_id: str = "req-1", rel_id: str = "rel-1") -> LegalEntity:
    return LegalEntity(entity_id, "org-1", req_id, rel_id, "Acme Ltd", True, False, T0)


def bank(tx: Tx) -> None:
    """An organization with two relationship managers and three companies."""
    tx.insert_organization(org())
    tx.insert_user(user("u-1", "Alex Morgan", "alex@larkspur.example"))
    tx.insert_user(user("u-2", "Bea Lund", "bea@larkspur.example"))
    tx.insert_relationship(company("rel-1", "Harbour Bakery"))
    tx.insert_relationship(company("rel-2", "Oak Joinery", created_at=T1, status_at=T1))
    requested = CompanyStatus.REQUESTED
    tx.insert_relationship(
        company("rel-3", "Aldgate Ales", created_at=T2, status_at=T2, status=requested)
    )


def everyone(**fields: Any) -> RelationshipQuery:
    return RelationshipQuery(org_id="org-1", **fields)


# Transactions


async def test_a_write_is_seen_by_later_reads_and_returns_what_its_function_returns(
    store: Store,
) -> None:
    assert await store.write(lambda tx: (bank(tx), "done")[1]) == "done"
    assert (await store.read(lambda tx: tx.get_organization("org-1"))) == org()
    assert store.read_sync(lambda tx: tx.get_organization_by_name("Larkspur Bank")) == org()


async def test_a_write_that_raises_writes_nothing(store: Store) -> None:
    def half(tx: Tx) -> None:
        tx.insert_organization(org())
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        await store.write(half)
    with pytest.raises(RuntimeError):
        store.write_sync(half)
    assert store.read_sync(lambda tx: tx.list_organizations()) == []


def test_the_data_version_moves_with_each_commit_if_the_backend_has_one(store: Store) -> None:
    before = store.data_version()
    store.write_sync(bank)
    after = store.data_version()
    assert (before is None and after is None) or before != after


def test_the_auth_epoch_moves_with_writes_to_users_and_tokens_and_nothing_else(
    store: Store,
) -> None:
    """Who a token belongs to is kept until the auth epoch moves: every write that can
    change the answer must move it (in its own commit), and a customer's steps must not."""
    store.write_sync(bank)
    if store.auth_epoch() is None:
        return  # a backend without one: the service keeps no token between commits
    seen = [store.auth_epoch()]

    def moved(write: Any) -> bool:
        store.write_sync(write)
        seen.append(store.auth_epoch())
        return seen[-1] != seen[-2]

    assert moved(lambda tx: tx.insert_user(user("u-3", "Cam Ito", "cam@larkspur.example")))
    assert moved(lambda tx: tx.insert_token("hash-1", "u-3", "laptop", token_id="t-1"))
    assert moved(lambda tx: tx.insert_token("hash-2", "u-3", "phone", token_id="t-2"))
    assert moved(lambda tx: tx.revoke_token("hash-1"))
    assert moved(lambda tx: tx.revoke_token_by_id("t-2"))
    # The journey's writes leave it where it is, though each moves the data version.
    version = store.data_version()
    assert not moved(lambda tx: tx.insert_relationship(company("rel-9", "Acme")))
    assert not moved(lambda tx: tx.update_relationship("rel-9", {"description": "Bakery"}))
    assert not moved(lambda tx: tx.insert_request(information_request("req-1", "rel-9"), "l"))
    assert not moved(lambda tx: tx.append_event("org-1", "customer", "journey.step", {}))
    assert not moved(lambda tx: tx.put_idempotent("u-1", "k", "fp", 201, "{}"))
    assert not moved(lambda tx: tx.update_organization("org-1", {"accent": "#112233"}))
    assert store.data_version() != version
    # A write that fails moves nothing.

    def half(tx: Tx) -> None:
        tx.insert_user(user("u-4", "Dee Roy", "dee@larkspur.example"))
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        store.write_sync(half)
    assert store.auth_epoch() == seen[-1]


def test_now_is_an_iso_utc_time_that_sorts_as_text(store: Store) -> None:
    first = store.read_sync(lambda tx: tx.now())
    second = store.read_sync(lambda tx: tx.now())
    assert first.endswith("Z") and len(first) == len(T0)
    assert first <= second


# Organizations, users and tokens


def test_organizations(store: Store) -> None:
    store.write_sync(bank)
    store.write_sync(lambda tx: tx.insert_organization(org("org-2", "Quayside Credit Union")))
    store.write_sync(lambda tx: tx.update_organization("org-1", {"accent": "#112233"}))
    found = store.read_sync(lambda tx: tx.get_organization("org-1"))
    assert found is not None and found.accent == "#112233"
    names = store.read_sync(lambda tx: [o.name for o in tx.list_organizations()])
    assert sorted(names) == ["Larkspur Bank", "Quayside Credit Union"]
    assert store.read_sync(lambda tx: tx.get_organization("nobody")) is None
    with pytest.raises(ValueError):  # a field no update may set
        store.write_sync(lambda tx: tx.update_organization("org-1", {"name": "X"}))


def test_users(store: Store) -> None:
    store.write_sync(bank)
    assert store.read_sync(lambda tx: tx.get_user("org-1", "u-2")) == user(
        "u-2", "Bea Lund", "bea@larkspur.example"
    )
    assert store.read_sync(lambda tx: tx.get_user("org-2", "u-2")) is None  # another bank's
    found = store.read_sync(lambda tx: tx.get_user_by_email("org-1", "ALEX@larkspur.example"))
    assert found is not None and found.id == "u-1"  # addresses match whatever their case
    names = store.read_sync(lambda tx: [u.name for u in tx.list_users("org-1")])
    assert names == ["Alex Morgan", "Bea Lund"]


def test_tokens(store: Store) -> None:
    store.write_sync(bank)

    def make(tx: Tx) -> None:
        tx.insert_token("hash-1", "u-1", "laptop", token_id="t-1", prefix="rp_1")
        tx.insert_token("hash-2", "u-2", "old", token_id="t-2", expires_at=PAST)
        tx.insert_token("hash-3", "u-2", "phone", token_id="t-3")

    store.write_sync(make)
    assert store.read_sync(lambda tx: tx.user_for_token("hash-1")).id == "u-1"  # type: ignore[union-attr]
    assert store.read_sync(lambda tx: tx.user_for_token("hash-2")) is None  # expired
    assert store.read_sync(lambda tx: tx.user_for_token("nothing")) is None
    store.write_sync(lambda tx: tx.revoke_token("hash-3"))
    assert store.read_sync(lambda tx: tx.user_for_token("hash-3")) is None
    revoked = store.read_sync(lambda tx: tx.token_and_user("hash-3"))
    assert revoked is not None and revoked[0].revoked_at and revoked[1].id == "u-2"
    by_id = store.write_sync(lambda tx: tx.revoke_token_by_id("t-1"))
    assert by_id is not None and by_id.id == "t-1" and by_id.revoked_at
    assert store.write_sync(lambda tx: tx.revoke_token_by_id("no-such")) is None
    listed = store.read_sync(lambda tx: tx.list_tokens("org-1"))
    assert [(t.id, u.id) for t, u in listed] == [("t-1", "u-1"), ("t-2", "u-2"), ("t-3", "u-2")]
    assert store.read_sync(lambda tx: tx.list_tokens("org-2")) == []
    assert len(store.read_sync(lambda tx: tx.list_tokens())) == 3


def test_link_misses_count_per_address_and_minute_and_forget_older_minutes(store: Store) -> None:
    for minute in (10, 11, 11, 12):
        store.write_sync(lambda tx, minute=minute: tx.count_link_miss("10.0.0.1", minute))
    store.write_sync(lambda tx: tx.count_link_miss("10.0.0.2", 12))
    assert store.read_sync(lambda tx: tx.link_misses("10.0.0.1", 12)) == (1, 2)
    assert store.read_sync(lambda tx: tx.link_misses("10.0.0.2", 12)) == (1, 0)
    assert store.read_sync(lambda tx: tx.link_misses("10.0.0.1", 11)) == (2, 0)  # 10 forgotten


def test_idempotency_keys(store: Store) -> None:
    store.write_sync(bank)
    assert store.read_sync(lambda tx: tx.get_idempotent("u-1", "k")) is None
    store.write_sync(lambda tx: tx.put_idempotent("u-1", "k", "fp", 201, '{"id": 1}'))
    assert store.read_sync(lambda tx: tx.get_idempotent("u-1", "k")) == ("fp", 201, '{"id": 1}')
    assert store.read_sync(lambda tx: tx.get_idempotent("u-2", "k")) is None


# Relationships


def test_relationships_and_their_users(store: Store) -> None:
    store.write_sync(bank)
    rel = store.read_sync(lambda tx: tx.get_relationship("org-1", "rel-1"))
    assert rel == company("rel-1", "Harbour Bakery")
    assert store.read_sync(lambda tx: tx.get_relationship("org-2", "rel-1")) is None
    store.write_sync(lambda tx: tx.set_relationship_users(rel, ["u-2", "u-1"]))  # type: ignore[arg-type]
    assert store.read_sync(lambda tx: tx.get_relationship("org-1", "rel-1")).users == (  # type: ignore[union-attr]
        "u-1",
        "u-2",
    )
    assert store.read_sync(lambda tx: tx.relationships_of_user("u-1")) == {"rel-1"}
    store.write_sync(lambda tx: tx.set_relationship_users(rel, ["u-2"]))  # type: ignore[arg-type]
    assert store.read_sync(lambda tx: tx.relationships_of_user("u-1")) == set()
    assert store.read_sync(lambda tx: tx.relationships_of_user("u-2")) == {"rel-1"}
    store.write_sync(
        lambda tx: tx.update_relationship("rel-1", {"name": "Harbour Cakes", "version": 2})
    )
    changed = store.read_sync(lambda tx: tx.get_relationship("org-1", "rel-1"))
    assert changed is not None
    assert (changed.name, changed.version, changed.users) == ("Harbour Cakes", 2, ("u-2",))
    with pytest.raises(ValueError):
        store.write_sync(lambda tx: tx.update_relationship("rel-1", {"org_id": "org-2"}))
    store.write_sync(lambda tx: tx.delete_relationship("rel-2"))
    assert store.read_sync(lambda tx: tx.get_relationship("org-1", "rel-2")) is None


def test_children_are_a_company_s_subsidiaries_by_name(store: Store) -> None:
    store.write_sync(bank)
    store.write_sync(
        lambda tx: (
            tx.insert_relationship(company("sub-b", "Harbour Bakery - West", parent_id="rel-1")),
            tx.insert_relationship(company("sub-a", "Harbour Bakery - East", parent_id="rel-1")),
        )
    )
    assert store.read_sync(lambda tx: [r.id for r in tx.children("rel-1")]) == ["sub-a", "sub-b"]
    page = store.read_sync(lambda tx: tx.list_relationships(everyone(parent_id="rel-1")))
    assert [r.id for r in page.rows] == ["sub-a", "sub-b"]


def test_the_list_sorts_filters_counts_and_pages(store: Store) -> None:
    store.write_sync(bank)

    def ids(**fields: Any) -> list[str]:
        page = store.read_sync(lambda tx: tx.list_relationships(everyone(**fields)))
        return [r.id for r in page.rows]

    assert ids() == ["rel-3", "rel-1", "rel-2"]  # by name: Aldgate, Harbour, Oak
    assert ids(sort="created", descending=True) == ["rel-3", "rel-2", "rel-1"]
    assert ids(status=CompanyStatus.REQUESTED) == ["rel-3"]
    page = store.read_sync(lambda tx: tx.list_relationships(everyone()))
    assert page.total == 3
    assert page.counts == {"None": 2, "Requested": 1}
    assert store.read_sync(lambda tx: tx.status_counts(everyone())) == {"None": 2, "Requested": 1}
    # Page by page, with the cursor each page gives, every row once.
    seen: list[str] = []
    after = None
    while True:
        page = store.read_sync(
            lambda tx, after=after: tx.list_relationships(everyone(limit=2, after=after))
        )
        seen += [r.id for r in page.rows]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == ["rel-3", "rel-1", "rel-2"]
    assert ids(offset=2, limit=5) == ["rel-2"]
    uncounted = store.read_sync(lambda tx: tx.list_relationships(everyone(with_counts=False)))
    assert uncounted.counts is None and uncounted.total is None


def test_simulations_are_listed_apart_and_deleted_with_their_subsidiaries(store: Store) -> None:
    store.write_sync(bank)
    store.write_sync(
        lambda tx: (
            tx.insert_relationship(company("sim-1", "Harbour Trial", simulated=True)),
            tx.insert_relationship(
                company("sim-1a", "Harbour Trial - East", parent_id="sim-1", simulated=True)
            ),
        )
    )
    bank_page = store.read_sync(lambda tx: tx.list_relationships(everyone()))
    assert [r.id for r in bank_page.rows] == ["rel-3", "rel-1", "rel-2"]
    assert bank_page.total == 3 and bank_page.counts == {"None": 2, "Requested": 1}
    simulations = store.read_sync(lambda tx: tx.list_relationships(everyone(simulated=True)))
    assert {r.id for r in simulations.rows} == {"sim-1", "sim-1a"}
    assert all(r.simulated for r in simulations.rows) and simulations.total == 2
    assert store.write_sync(lambda tx: tx.delete_simulations("org-1")) == 1
    gone = store.read_sync(lambda tx: tx.list_relationships(everyone(simulated=True)))
    assert (
        gone.rows == []
        and store.read_sync(lambda tx: tx.get_relationship("org-1", "sim-1a")) is None
    )
    assert store.read_sync(lambda tx: tx.list_relationships(everyone())).total == 3


def test_the_list_searches_names_and_contacts(store: Store) -> None:
    store.write_sync(bank)

    def ids(q: str, user_id: str | None = None) -> list[str]:
        query = everyone(q=q, user_id=user_id)
        return [r.id for r in store.read_sync(lambda tx: tx.list_relationships(query)).rows]

    assert ids("bakery") == ["rel-1"]  # anywhere in the name, whatever the case
    assert ids("oa") == ["rel-2"]  # short text: the start of the name
    assert ids("rel-3@") == ["rel-3"]  # an address: the start of the contact's
    assert ids("nothing like it") == []
    assert ids('"; DROP TABLE relationships; --') == []  # text, never syntax
    rel = store.read_sync(lambda tx: tx.get_relationship("org-1", "rel-2"))
    store.write_sync(lambda tx: tx.set_relationship_users(rel, ["u-1"]))  # type: ignore[arg-type]
    assert ids("", "u-1") == ["rel-2"]  # "my companies"
    assert ids("joinery", "u-1") == ["rel-2"]
    assert ids("bakery", "u-1") == []
    counts = store.read_sync(lambda tx: tx.status_counts(everyone(q="a", user_id="u-1")))
    assert counts == {}  # "Oak" does not start with "a"
    store.write_sync(lambda tx: tx.update_relationship("rel-1", {"name": "Quay Rolls"}))
    assert ids("bakery") == [] and ids("rolls") == ["rel-1"]  # renamed, found by its name


# Requests and what hangs off them


def test_requests_and_their_links(store: Store) -> None:
    store.write_sync(bank)
    first = information_request("req-1", "rel-1")
    second = information_request("req-2", "rel-1", created_at=T1, expires_at=LATER)
    store.write_sync(
        lambda tx: (tx.insert_request(first, "link-1"), tx.insert_request(second, None))
    )
    assert store.read_sync(lambda tx: tx.get_request("org-1", "req-1")) == first
    assert store.read_sync(lambda tx: tx.get_request("org-2", "req-1")) is None
    assert store.read_sync(lambda tx: tx.request_by_link_hash("link-1")) == first
    listed = store.read_sync(lambda tx: [r.id for r in tx.requests_for_relationship("rel-1")])
    assert listed == ["req-2", "req-1"]  # newest first
    assert store.read_sync(lambda tx: tx.latest_live_request("rel-1")).id == "req-2"  # type: ignore[union-attr]
    store.write_sync(
        lambda tx: tx.update_request("req-2", {"state": RequestState.CANCELLED, "version": 2})
    )
    assert store.read_sync(lambda tx: tx.latest_live_request("rel-1")).id == "req-1"  # type: ignore[union-attr]
    expiring = store.read_sync(lambda tx: [r.id for r in tx.requests_expiring(LATER, 10)])
    assert expiring == ["req-1"]  # sent or opened, and due
    store.write_sync(lambda tx: tx.revoke_link("req-1", "resent"))
    assert store.read_sync(lambda tx: tx.request_by_link_hash("link-1")) is None
    assert store.read_sync(lambda tx: tx.link_revocation("link-1")) == "resent"
    assert store.read_sync(lambda tx: tx.link_revocation("link-2")) is None


def test_entities_connections_pulls_and_uploads(store: Store) -> None:
    store.write_sync(bank)
    store.write_sync(lambda tx: tx.insert_request(information_request("req-1", "rel-1"), None))
    store.write_sync(lambda tx: (tx.insert_entity(entity("e-1")), tx.insert_entity(entity("e-2"))))
    assert store.read_sync(lambda tx: tx.get_entity("e-1")) == entity("e-1")
    store.write_sync(lambda tx: tx.update_entity("e-2", {"denied": True}))
    assert store.read_sync(lambda tx: tx.get_entity("e-2")).denied  # type: ignore[union-attr]
    assert store.read_sync(lambda tx: [e.id for e in tx.entities_for_request("req-1")]) == [
        "e-1",
        "e-2",
    ]
    store.write_sync(lambda tx: tx.delete_entity("e-2"))
    assert store.read_sync(lambda tx: [e.id for e in tx.entities_for_relationship("rel-1")]) == [
        "e-1"
    ]

    link = Connection("c-1", "org-1", "e-1", "xero", ConnectionStatus.PENDING_AUTH, T0, T0, None)
    store.write_sync(lambda tx: tx.insert_connection(link))
    store.write_sync(lambda tx: tx.update_connection("c-1", {"status": ConnectionStatus.LINKED}))
    found = store.read_sync(lambda tx: tx.connection_for_entity("e-1"))
    assert found is not None and found.status is ConnectionStatus.LINKED
    assert store.read_sync(lambda tx: tx.get_connection("org-2", "c-1")) is None

    pull = DataPull("p-1", "org-1", "c-1", PullStatus.QUEUED, T0, T0, None, None, None)
    store.write_sync(lambda tx: tx.insert_pull(pull))
    assert store.read_sync(lambda tx: [p.id for p in tx.active_pulls(10)]) == ["p-1"]
    summary = {"rows": 3}
    store.write_sync(
        lambda tx: tx.update_pull(
            "p-1", {"status": PullStatus.COMPLETE, "completed_at": T1, "summary": summary}
        )
    )
    assert store.read_sync(lambda tx: tx.active_pulls(10)) == []
    done = store.read_sync(lambda tx: tx.pulls_for_connection("c-1"))
    assert [(p.status, p.summary) for p in done] == [(PullStatus.COMPLETE, summary)]

    upload = Upload(
        "up-1", "org-1", "e-1", "suppliers.xlsx", 1200, "ab" * 32, 2,
        UploadStatus.PROCESSING, T0, T1, None,
    )  # fmt: skip
    records = [{"supplier": "Acme"}, {"supplier": "Birch"}]
    store.write_sync(lambda tx: tx.insert_upload(upload, records))
    assert store.read_sync(lambda tx: tx.upload_records("up-1")) == records
    assert store.read_sync(lambda tx: tx.upload_records("no-such")) == []
    assert store.read_sync(lambda tx: tx.processing_uploads(T0, 10)) == []  # not yet due
    assert store.read_sync(lambda tx: [u.id for u in tx.processing_uploads(T2, 10)]) == ["up-1"]
    store.write_sync(
        lambda tx: tx.update_upload("up-1", {"status": UploadStatus.PROCESSED, "processed_at": T2})
    )
    assert store.read_sync(lambda tx: tx.uploads_for_entity("e-1"))[0].status is (
        UploadStatus.PROCESSED
    )


# Events


async def test_events_are_numbered_in_order_and_read_back_by_what_they_concern(
    store: Store,
) -> None:
    store.write_sync(bank)
    store.write_sync(lambda tx: tx.insert_request(information_request("req-1", "rel-1"), None))

    def happen(tx: Tx) -> list[int]:
        return [
            tx.append_event("org-1", "u-1", "relationship.created", {"n": 1}, "rel-1").seq,
            tx.append_event("org-1", "u-1", "request.sent", {"n": 2}, "rel-1", "req-1").seq,
            tx.append_event("org-2", "system", "organization.created", {"n": 3}).seq,
        ]

    first, second, third = await store.write(happen)
    assert first < second < third
    after = store.read_sync(lambda tx: tx.events_after("org-1", 0, 10))
    assert [(e.seq, e.kind, e.payload) for e in after] == [
        (first, "relationship.created", {"n": 1}),
        (second, "request.sent", {"n": 2}),
    ]
    assert store.read_sync(lambda tx: tx.events_after("org-1", first, 10))[0].seq == second
    assert [e.seq for e in store.read_sync(lambda tx: tx.events_for_request("req-1"))] == [second]
    assert [e.seq for e in store.read_sync(lambda tx: tx.events_for_relationship("rel-1", 1))] == [
        second
    ]  # the newest, oldest first
    assert store.read_sync(lambda tx: tx.last_event_seq("org-1")) == second
    assert store.read_sync(lambda tx: tx.max_event_seq()) == third
    assert store.read_sync(lambda tx: tx.last_event_seq("org-9")) == 0
    # Every organization's, from a point, for the event hub.
    assert [e.seq for e in store.read_sync(lambda tx: tx.events_since(first, 10))] == [
        second,
        third,
    ]
    assert [e.org_id for e in store.read_sync(lambda tx: tx.events_since(0, 10))][-3:] == [
        "org-1",
        "org-1",
        "org-2",
    ]
    assert [e.seq for e in store.read_sync(lambda tx: tx.events_since(0, 1))] == [
        store.read_sync(lambda tx: tx.events_since(0, 10))[0].seq
    ]
    assert store.read_sync(lambda tx: tx.events_since(third, 10)) == []


async def test_a_commit_tells_its_listeners_the_events_it_appended(store: Store) -> None:
    """The event hub keeps a commit's events without reading them back; events commit in
    the order of their numbers, as writes take turns."""
    told: list[Committed] = []
    store.on_commit.append(told.append)  # type: ignore[attr-defined]
    store.write_sync(bank)
    told.clear()
    await store.write(
        lambda tx: (
            tx.append_event("org-1", "u-1", "relationship.created", {"n": 1}, "rel-1"),
            tx.append_event("org-2", "system", "organization.created", {"n": 2}),
        )
    )
    await store.write(lambda tx: tx.get_relationship("org-1", "rel-1"))  # appends nothing
    assert [[(e.org_id, e.payload) for e in c.events] for c in told] == [
        [("org-1", {"n": 1}), ("org-2", {"n": 2})],
        [],
    ]
    assert told[0].newest_event == told[0].events[-1].seq
    assert store.read_sync(lambda tx: tx.events_since(told[0].events[0].seq - 1, 10)) == list(
        told[0].events
    )


def test_request_facts_in_a_period(store: Store) -> None:
    store.write_sync(bank)
    rel = store.read_sync(lambda tx: tx.get_relationship("org-1", "rel-2"))
    store.write_sync(lambda tx: tx.set_relationship_users(rel, ["u-1"]))  # type: ignore[arg-type]
    store.write_sync(
        lambda tx: (
            tx.insert_request(information_request("req-1", "rel-1"), None),
            tx.insert_request(information_request("req-2", "rel-2", created_at=T1), None),
        )
    )
    facts = store.read_sync(lambda tx: tx.request_facts_in_period("org-1", None, T0, T2))
    assert sorted(f["id"] for f in facts) == ["req-1", "req-2"]
    fact = next(f for f in facts if f["id"] == "req-1")
    assert fact["data_types"] == ("financials",) and fact["step"] == "email"
    assert fact["linked"] is False and fact["data_at"] is None
    mine = store.read_sync(lambda tx: tx.request_facts_in_period("org-1", "u-1", T0, T2))
    assert [f["id"] for f in mine] == ["req-2"]
    assert store.read_sync(lambda tx: tx.request_facts_in_period("org-1", None, T1, T2)) == [
        next(f for f in facts if f["id"] == "req-2")
    ]
