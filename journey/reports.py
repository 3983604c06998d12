"""Reports a company's shared data produces: status per report, and the data itself.

Financials come from the entities' synthetic ledgers (profit and loss, balance
sheet); spend analysis comes from the ledgers or from an uploaded supplier
information file. A parent's reports combine its subsidiaries'.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from journey import derive, service
from journey.core.domain import (
    REPORTS_FOR_DATA_TYPE,
    DataType,
    PullStatus,
    ReportKind,
    ReportStatus,
    UploadStatus,
)
from journey.core.errors import Conflict, Invalid
from journey.core.records import LegalEntity, User
from journey.storage.base import Tx

if TYPE_CHECKING:
    from journey.ledger import Ledger


def _entities(tx: Tx, user: User, rel_id: str) -> list[LegalEntity]:
    """The entities whose data belongs to this company's reports (subsidiaries included)."""
    rel = service.get_relationship(tx, user, rel_id)
    latest = tx.latest_live_request(rel.id)
    if latest is not None:
        # Data shared under an earlier request stays while a new one is open.
        return [e for e, _ in derive.shown_entities(tx, rel.id, latest)]
    return tx.entities_for_relationship(rel.id)[-1:]


def report_kinds(data_types: frozenset[DataType], *, uploaded: bool = False) -> list[ReportKind]:
    """The reports a request produces; an uploaded file feeds the spend analysis only."""
    kinds: list[ReportKind] = []
    for data_type in DataType:
        if data_type in data_types and not (uploaded and data_type is not DataType.SPEND_ANALYSIS):
            kinds.extend(REPORTS_FOR_DATA_TYPE[data_type])
    return kinds


_PULL_REPORT = {
    PullStatus.QUEUED: ReportStatus.GENERATING,
    PullStatus.FETCHING: ReportStatus.GENERATING,
    PullStatus.COMPLETE: ReportStatus.AVAILABLE,
    PullStatus.FETCH_ERROR: ReportStatus.FAILED,
    PullStatus.AUTH_ERROR: ReportStatus.FAILED,
}


def entity_reports(
    tx: Tx, entity: LegalEntity, data_types: frozenset[DataType]
) -> list[dict[str, Any]]:
    """Report status per report for one entity, derived from its latest pull or upload.

    Derived rather than stored, so it can never disagree with the pulls it reflects.
    """
    uploads = tx.uploads_for_entity(entity.id)
    if uploads:
        upload = uploads[0]
        status = (
            ReportStatus.AVAILABLE
            if upload.status is UploadStatus.PROCESSED
            else ReportStatus.GENERATING
        )
        at: str | None = upload.processed_at or upload.uploaded_at
        kinds = report_kinds(data_types, uploaded=True)
    else:
        conn = tx.connection_for_entity(entity.id)
        pulls = tx.pulls_for_connection(conn.id) if conn else []
        status = _PULL_REPORT[pulls[0].status] if pulls else ReportStatus.UNAVAILABLE
        at = pulls[0].status_at if pulls else None
        kinds = report_kinds(data_types)
    return [{"kind": k.value, "status": status.value, "status_at": at} for k in kinds]


def _combine(statuses: list[ReportStatus]) -> ReportStatus:
    if not statuses:
        return ReportStatus.UNAVAILABLE
    if any(s is ReportStatus.GENERATING for s in statuses):
        return ReportStatus.GENERATING
    if any(s is ReportStatus.AVAILABLE for s in statuses):
        return ReportStatus.AVAILABLE
    if any(s is ReportStatus.FAILED for s in statuses):
        return ReportStatus.FAILED
    return ReportStatus.UNAVAILABLE


def relationship_reports(tx: Tx, user: User, rel_id: str) -> dict[str, Any]:
    entities = _entities(tx, user, rel_id)
    by_kind: dict[str, list[tuple[ReportStatus, str | None]]] = defaultdict(list)
    per_entity = []
    for entity in entities:
        req = tx.get_request(user.org_id, entity.request_id)
        reports = entity_reports(tx, entity, req.data_types) if req else []
        per_entity.append({"entity_id": entity.id, "name": entity.name, "reports": reports})
        for report in reports:
            by_kind[report["kind"]].append((ReportStatus(report["status"]), report["status_at"]))
    combined = []
    for kind in ReportKind:
        rows = by_kind.get(kind.value, [])
        combined.append(
            {
                "kind": kind.value,
                "status": _combine([s for s, _ in rows]).value,
                "status_at": max((at for _, at in rows if at), default=None),
            }
        )
    return {"reports": combined, "entities": per_entity}


def _ledgers(tx: Tx, entities: list[LegalEntity]) -> list[tuple[LegalEntity, Ledger]]:
    from journey.ledger import generate_ledger, ledger_key, ledger_period_end

    found = []
    for entity in entities:
        conn = tx.connection_for_entity(entity.id)
        if conn is None:
            continue
        pulls = [p for p in tx.pulls_for_connection(conn.id) if p.status is PullStatus.COMPLETE]
        if not pulls:
            continue
        done = derive.parse_time(pulls[0].completed_at or pulls[0].status_at)
        key = ledger_key(entity.name, conn.platform)
        found.append((entity, generate_ledger(key, period_end=ledger_period_end(done))))
    return found


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _financials(kind: ReportKind, ledgers: list[tuple[LegalEntity, Ledger]]) -> dict[str, Any]:
    out = []
    for entity, ledger in ledgers:
        accounts = {a.id: a for a in ledger.accounts}
        if kind is ReportKind.PROFIT_AND_LOSS:
            periods = []
            for period in ledger.profit_and_loss:
                totals: dict[str, Decimal] = defaultdict(Decimal)
                lines = []
                for account_id, amount in period.lines:
                    account = accounts[account_id]
                    totals[account.category] += amount
                    lines.append(
                        {
                            "account": account.name,
                            "category": account.category,
                            "sub_category": account.sub_category,
                            "amount": _money(amount),
                        }
                    )
                periods.append(
                    {
                        "start": period.start.isoformat(),
                        "end": period.end.isoformat(),
                        "income": _money(totals["Income"]),
                        "expenses": _money(totals["Expense"]),
                        "net_profit": _money(totals["Income"] - totals["Expense"]),
                        "lines": lines,
                    }
                )
            out.append({"entity": entity.name, "currency": ledger.currency, "periods": periods})
        else:
            sheet = ledger.balance_sheets[-1]
            totals = defaultdict(Decimal)
            lines = []
            for account_id, amount in sheet.lines:
                account = accounts[account_id]
                totals[account.category] += amount
                lines.append(
                    {
                        "account": account.name,
                        "category": account.category,
                        "sub_category": account.sub_category,
                        "amount": _money(amount),
                    }
                )
            out.append(
                {
                    "entity": entity.name,
                    "currency": ledger.currency,
                    "date": sheet.date.isoformat(),
                    "assets": _money(totals["Asset"]),
                    "liabilities": _money(totals["Liability"]),
                    "equity": _money(totals["Equity"]),
                    "lines": lines,
                }
            )
    return {"entities": out, "combined": _combined_financials(kind, out) if len(out) > 1 else []}


def _combined_financials(kind: ReportKind, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A parent with subsidiaries: the entities' statements added up, per currency
    (amounts in different currencies are never added), account by account."""
    blocks = []
    for currency in sorted({e["currency"] for e in entities}):
        group = [e for e in entities if e["currency"] == currency]

        def add_lines(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
            sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
            for statement in statements:
                for line in statement["lines"]:
                    key = (line["account"], line["category"], line["sub_category"])
                    sums[key] += Decimal(line["amount"])
            return [
                {"account": a, "category": c, "sub_category": sc, "amount": _money(v)}
                for (a, c, sc), v in sums.items()
            ]

        block: dict[str, Any] = {"currency": currency, "entities": [e["entity"] for e in group]}
        if kind is ReportKind.PROFIT_AND_LOSS:
            by_start: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for entity in group:
                for period in entity["periods"]:
                    by_start[period["start"]].append(period)
            periods = []
            for start in sorted(by_start):
                same = by_start[start]
                income = sum((Decimal(p["income"]) for p in same), Decimal(0))
                expenses = sum((Decimal(p["expenses"]) for p in same), Decimal(0))
                periods.append(
                    {
                        "start": start,
                        "end": max(p["end"] for p in same),
                        "income": _money(income),
                        "expenses": _money(expenses),
                        "net_profit": _money(income - expenses),
                        "lines": add_lines(same),
                    }
                )
            block["periods"] = periods
        else:
            for key in ("assets", "liabilities", "equity"):
                block[key] = _money(sum((Decimal(e[key]) for e in group), Decimal(0)))
            block["date"] = max(e["date"] for e in group)
            block["lines"] = add_lines(group)
        blocks.append(block)
    return blocks


def _spend(tx: Tx, entities: list[LegalEntity]) -> dict[str, Any]:
    """Per entity (from its ledger, or its uploaded file) and combined per currency."""
    from journey import spend

    out = [spend.from_ledger(entity.name, ledger) for entity, ledger in _ledgers(tx, entities)]
    for entity in entities:
        uploads = [
            u for u in tx.uploads_for_entity(entity.id) if u.status is UploadStatus.PROCESSED
        ]
        if uploads:
            records = tx.upload_records(uploads[0].id)
            out.append(spend.from_upload(entity.name, uploads[0].filename, records))
    return {"entities": out, "combined": spend.combined(out) if len(out) > 1 else []}


def report_data(tx: Tx, user: User, rel_id: str, kind_name: str) -> dict[str, Any]:
    try:
        kind = ReportKind(kind_name)
    except ValueError:
        kinds = ", ".join(k.value for k in ReportKind)
        raise Invalid(f"kind must be one of: {kinds}.", "invalid_report_kind") from None
    entities = []
    for entity in _entities(tx, user, rel_id):
        # An earlier request's entity feeds only the reports that request asked for.
        req = tx.get_request(user.org_id, entity.request_id)
        if req is not None and kind in report_kinds(req.data_types):
            entities.append(entity)
    status = next(
        r for r in relationship_reports(tx, user, rel_id)["reports"] if r["kind"] == kind.value
    )
    if status["status"] != ReportStatus.AVAILABLE.value:
        raise Conflict(
            f"The {kind.value.replace('_', ' ')} report is {status['status'].lower()}.",
            "report_not_available",
            report_status=status["status"],
        )
    if kind is ReportKind.SPEND_ANALYSIS:
        data = _spend(tx, entities)
    else:
        data = _financials(kind, _ledgers(tx, entities))
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    return {"kind": kind.value, "status": status["status"], "generated_at": generated, **data}
