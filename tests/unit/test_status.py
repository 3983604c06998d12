"""How a company's portal status is derived (DESIGN.md): each rule, and their order."""

from __future__ import annotations

import pytest

from journey.core.domain import CompanyStatus, ConnectionStatus, PullStatus, UploadStatus
from journey.core.status import EntityFacts, RequestFacts, derive_company_status

C = CompanyStatus
LINKED = ConnectionStatus.LINKED
PENDING = ConnectionStatus.PENDING_AUTH
UNLINKED = ConnectionStatus.UNLINKED
DEAUTH = ConnectionStatus.DEAUTHORIZED

SENT = RequestFacts(opened=False, completed=False, expired=False)
OPENED = RequestFacts(opened=True, completed=False, expired=False)
COMPLETED = RequestFacts(opened=True, completed=True, expired=False)
EXPIRED = RequestFacts(opened=True, completed=False, expired=True)
EXPIRED_UNOPENED = RequestFacts(opened=False, completed=False, expired=True)
# A completed journey whose link has since run out: completion wins.
COMPLETED_EXPIRED = RequestFacts(opened=True, completed=True, expired=True)

# Entities as the service sees them.
FETCHED = EntityFacts(connection=LINKED, last_pull=PullStatus.COMPLETE, ever_complete=True)
REFRESHING = EntityFacts(connection=LINKED, last_pull=PullStatus.FETCHING, ever_complete=True)
QUEUED = EntityFacts(connection=LINKED, last_pull=PullStatus.QUEUED)
FETCHING = EntityFacts(connection=LINKED, last_pull=PullStatus.FETCHING)
CONNECTING = EntityFacts(connection=PENDING)
NAMED = EntityFacts()  # named, no connection yet
DENIED = EntityFacts(connection=PENDING, denied=True)
FETCH_FAILED = EntityFacts(connection=LINKED, last_pull=PullStatus.FETCH_ERROR)
FAILED_AFTER_SUCCESS = EntityFacts(
    connection=LINKED, last_pull=PullStatus.FETCH_ERROR, ever_complete=True
)
DEAUTH_WITH_DATA = EntityFacts(connection=DEAUTH, last_pull=PullStatus.COMPLETE, ever_complete=True)
DEAUTH_NO_DATA = EntityFacts(connection=DEAUTH, last_pull=PullStatus.AUTH_ERROR)
UNLINKED_WITH_DATA = EntityFacts(
    connection=UNLINKED, last_pull=PullStatus.COMPLETE, ever_complete=True
)
UPLOAD_PROCESSING = EntityFacts(upload=UploadStatus.PROCESSING)
UPLOAD_PROCESSED = EntityFacts(upload=UploadStatus.PROCESSED)


# Rule 1: no request -> none


@pytest.mark.parametrize("entities", [[], [FETCHED], [DEAUTH_NO_DATA]])
def test_no_request_is_none(entities: list[EntityFacts]) -> None:
    assert derive_company_status(None, entities) is C.NONE


# Rule 2: expired before completion -> Expired (beats every later rule)


@pytest.mark.parametrize(
    "entities",
    [
        [],
        [NAMED],
        [FETCHED],
        [FETCHED, FETCHED],
        [DEAUTH_WITH_DATA],
        [FETCH_FAILED],
        [DENIED],
        [UPLOAD_PROCESSING],
        [UPLOAD_PROCESSED],
        [FETCHED, QUEUED],
    ],
)
@pytest.mark.parametrize("request_facts", [EXPIRED, EXPIRED_UNOPENED])
def test_expired_beats_everything(request_facts: RequestFacts, entities: list[EntityFacts]) -> None:
    assert derive_company_status(request_facts, entities) is C.EXPIRED


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        ([FETCHED], C.AVAILABLE),
        ([UPLOAD_PROCESSED], C.AVAILABLE),
        ([UPLOAD_PROCESSING], C.UPLOADED),
        ([FETCHING], C.IN_PROGRESS),
        ([DEAUTH_WITH_DATA], C.DEAUTHORIZED),
        ([FETCHED, QUEUED], C.WARNING),
    ],
)
def test_expiry_does_not_count_once_the_journey_completed(
    entities: list[EntityFacts], expected: CompanyStatus
) -> None:
    assert derive_company_status(COMPLETED_EXPIRED, entities) is expected


# Rule 3: every connection deauthorized -> Deauthorized (data fetched earlier stays readable)


@pytest.mark.parametrize(
    "entities",
    [
        [DEAUTH_WITH_DATA],
        [DEAUTH_NO_DATA],
        [DEAUTH_WITH_DATA, DEAUTH_WITH_DATA],
        [DEAUTH_WITH_DATA, DEAUTH_NO_DATA],
    ],
)
@pytest.mark.parametrize("request_facts", [OPENED, COMPLETED])
def test_all_connections_deauthorized(
    request_facts: RequestFacts, entities: list[EntityFacts]
) -> None:
    assert derive_company_status(request_facts, entities) is C.DEAUTHORIZED


def test_deauthorized_beats_error_and_denied() -> None:
    failed = EntityFacts(connection=DEAUTH, denied=True, last_pull=PullStatus.AUTH_ERROR)
    assert derive_company_status(OPENED, [failed]) is C.DEAUTHORIZED


def test_no_connection_is_not_all_deauthorized() -> None:
    # "the request's entities have connections": none at all is not Deauthorized.
    assert derive_company_status(OPENED, [NAMED]) is C.IN_PROGRESS
    assert derive_company_status(OPENED, []) is C.IN_PROGRESS


# Rule 4: every entity has data -> Available


@pytest.mark.parametrize(
    "entities",
    [
        [FETCHED],
        [REFRESHING],
        [UPLOAD_PROCESSED],
        [UNLINKED_WITH_DATA],
        [FETCHED, FETCHED, FETCHED],
        [FETCHED, REFRESHING],
        # Uploaded after an abandoned connection attempt for the same entity.
        [EntityFacts(connection=PENDING, upload=UploadStatus.PROCESSED)],
    ],
)
@pytest.mark.parametrize("request_facts", [OPENED, COMPLETED])
def test_every_entity_with_data_is_available(
    request_facts: RequestFacts, entities: list[EntityFacts]
) -> None:
    assert derive_company_status(request_facts, entities) is C.AVAILABLE


# Rule 5: partial data -> Warning


@pytest.mark.parametrize(
    "entities",
    [
        [FETCHED, QUEUED],
        [FETCHED, FETCHING],
        [FETCHED, CONNECTING],
        [FETCHED, NAMED],
        [FETCHED, DENIED],  # partial beats the denial of another entity
        [FETCHED, FETCH_FAILED],  # ...and a failed pull of another entity
        [FETCHED, FAILED_AFTER_SUCCESS],  # one entity failed after an earlier success
        [FETCHED, DEAUTH_WITH_DATA],  # some, not all, connections deauthorized
        [FETCHED, DEAUTH_NO_DATA],
        [UPLOAD_PROCESSED, QUEUED],
    ],
)
@pytest.mark.parametrize("request_facts", [OPENED, COMPLETED])
def test_partial_or_stale_data_is_a_warning(
    request_facts: RequestFacts, entities: list[EntityFacts]
) -> None:
    assert derive_company_status(request_facts, entities) is C.WARNING


# Rule 6: denied at the platform, or a pull failed -> Error


@pytest.mark.parametrize(
    "entities",
    [
        [DENIED],
        [EntityFacts(denied=True)],
        [FETCH_FAILED],
        [EntityFacts(connection=LINKED, last_pull=PullStatus.AUTH_ERROR)],
        [DENIED, QUEUED],
        [FETCH_FAILED, FETCHING],
        [DENIED, UPLOAD_PROCESSING],  # Error beats Uploaded
        # The only, or every, entity failed, even after earlier successes (finding 31).
        [FAILED_AFTER_SUCCESS],
        [FAILED_AFTER_SUCCESS, FAILED_AFTER_SUCCESS],
        [FAILED_AFTER_SUCCESS, FETCH_FAILED],
    ],
)
@pytest.mark.parametrize("request_facts", [SENT, OPENED, COMPLETED])
def test_denied_or_failed_is_an_error(
    request_facts: RequestFacts, entities: list[EntityFacts]
) -> None:
    assert derive_company_status(request_facts, entities) is C.ERROR


# Rule 7: an upload being processed -> Uploaded


@pytest.mark.parametrize("entities", [[UPLOAD_PROCESSING], [UPLOAD_PROCESSING, CONNECTING]])
@pytest.mark.parametrize("request_facts", [OPENED, COMPLETED])
def test_upload_being_processed(request_facts: RequestFacts, entities: list[EntityFacts]) -> None:
    assert derive_company_status(request_facts, entities) is C.UPLOADED


# Rules 8 and 9: opened -> In progress, else Requested


@pytest.mark.parametrize(
    "entities", [[], [NAMED], [CONNECTING], [QUEUED], [FETCHING], [CONNECTING, NAMED]]
)
def test_opened_is_in_progress(entities: list[EntityFacts]) -> None:
    assert derive_company_status(OPENED, entities) is C.IN_PROGRESS
    assert derive_company_status(COMPLETED, entities) is C.IN_PROGRESS


def test_sent_and_not_opened_is_requested() -> None:
    assert derive_company_status(SENT, []) is C.REQUESTED


def test_subsidiary_status_comes_from_its_own_entity() -> None:
    """A subsidiary is derived by the same rules from its own entity alone."""
    assert derive_company_status(OPENED, [FETCHED]) is C.AVAILABLE
    assert derive_company_status(OPENED, [DENIED]) is C.ERROR
    assert derive_company_status(OPENED, [CONNECTING]) is C.IN_PROGRESS
    # ...while the parent, holding both, is partial.
    assert derive_company_status(OPENED, [FETCHED, DENIED]) is C.WARNING


def test_rule_order_walkthrough() -> None:
    """One company moving through a journey, status after each fact."""
    seen = [
        derive_company_status(None, []),
        derive_company_status(SENT, []),
        derive_company_status(OPENED, []),
        derive_company_status(OPENED, [DENIED]),
        derive_company_status(OPENED, [QUEUED]),
        derive_company_status(COMPLETED, [FETCHED]),
        derive_company_status(COMPLETED, [FAILED_AFTER_SUCCESS]),
        derive_company_status(COMPLETED, [DEAUTH_WITH_DATA]),
    ]
    assert seen == [
        C.NONE,
        C.REQUESTED,
        C.IN_PROGRESS,
        C.ERROR,
        C.IN_PROGRESS,
        C.AVAILABLE,
        C.ERROR,
        C.DEAUTHORIZED,
    ]


def test_entity_facts_helpers() -> None:
    assert FETCHED.has_data and UPLOAD_PROCESSED.has_data and DEAUTH_WITH_DATA.has_data
    assert not UPLOAD_PROCESSING.has_data and not FETCH_FAILED.has_data
    assert FAILED_AFTER_SUCCESS.failed_after_success and not FETCH_FAILED.failed_after_success
    assert FETCHED.linked and UPLOAD_PROCESSING.linked
    assert not CONNECTING.linked and not DEAUTH_WITH_DATA.linked
