"""Reports through HTTP: per entity and combined for a company with subsidiaries."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from tests.support.journeys import connect_with, start
from tests.support.service import Service


async def _three_entities(svc: Service) -> str:
    rel, _, token = await start(svc, ["spend_analysis"])
    await svc.walk(
        token,
        ("view_request", {}),
        ("choose_method", {"method": "connect"}),
        ("choose_entities", {"count": "multiple"}),
    )
    for index, (name, platform) in enumerate(
        [("North", "gbol"), ("South", "qhyg"), ("East", "gbol")]
    ):
        if index:
            await svc.walk(token, ("add_entity", {}))
        await svc.walk(token, ("name_entity", {"name": name}), *connect_with(platform))
    await svc.walk(token, ("finish", {}))
    await svc.status_becomes(rel["id"], "Available")
    return str(rel["id"])


async def test_spend_analysis_per_entity_and_combined_per_currency(svc: Service) -> None:
    rel_id = await _three_entities(svc)
    report = (await svc.get(f"/v1/relationships/{rel_id}/reports/spend_analysis")).json()
    entities = report["entities"]
    assert [e["entity"] for e in entities] == ["North", "South", "East"]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for entity in entities:
        assert entity["summary"]["months_reviewed"] == 12
        totals[entity["currency"]] += Decimal(entity["summary"]["bills_amount"])
    combined = {block["currency"]: block for block in report["combined"]}
    assert set(combined) == set(totals)  # one block per currency, never mixed
    for currency, block in combined.items():
        assert Decimal(block["summary"]["bills_amount"]) == totals[currency]
        spends = [Decimal(s["bills_amount"]) for s in block["suppliers"]]
        assert spends == sorted(spends, reverse=True)


async def test_financials_combined_for_a_parent(svc: Service) -> None:
    rel_id = await _three_entities(svc)
    # Spend-only requests produce no financials; ask for financials of the same company.
    pnl = await svc.get(f"/v1/relationships/{rel_id}/reports/profit_and_loss")
    assert pnl.status_code == 409  # not requested: not available
    from tests.support.journeys import CONNECT_XERO

    req = await svc.post(
        f"/v1/relationships/{rel_id}/requests",
        json={"data_types": ["financials"], "delivery": "link"},
    )
    from journey.core.tokens import link_token_from

    token = link_token_from(req.json()["link"])
    await svc.walk(token, ("view_request", {}), *CONNECT_XERO)
    await svc.status_becomes(rel_id, "Available")
    sheet = (await svc.get(f"/v1/relationships/{rel_id}/reports/balance_sheet")).json()
    (entity,) = sheet["entities"]  # a financials journey is the company itself
    assert Decimal(entity["assets"]) == Decimal(entity["liabilities"]) + Decimal(entity["equity"])
    assert sheet["combined"] == []


def test_statements_combine_account_by_account_within_a_currency() -> None:
    """Several entities' statements (a parent's): added per currency, account by account."""
    from datetime import date

    from journey.core.domain import ReportKind
    from journey.core.records import LegalEntity
    from journey.ledger import generate_ledger
    from journey.reports import _financials

    def entity(name: str) -> LegalEntity:
        return LegalEntity(name, "o", "r", "rel", name, False, False, "2026-01-01T00:00:00Z")

    ledgers = [
        (entity(name), generate_ledger(f"{name}/gbol", period_end=date(2026, 10, 31)))
        for name in ("North", "South", "East", "West")
    ]
    report = _financials(ReportKind.BALANCE_SHEET, ledgers)
    assert report["combined"]
    for block in report["combined"]:
        same = [e for e in report["entities"] if e["currency"] == block["currency"]]
        assert block["entities"] == [e["entity"] for e in same]
        for key in ("assets", "liabilities", "equity"):
            assert Decimal(block[key]) == sum(Decimal(e[key]) for e in same)
        assets = [Decimal(x["amount"]) for x in block["lines"] if x["category"] == "Asset"]
        assert sum(assets) == Decimal(block["assets"])
    pnl = _financials(ReportKind.PROFIT_AND_LOSS, ledgers)
    for block in pnl["combined"]:
        same = [e for e in pnl["entities"] if e["currency"] == block["currency"]]
        assert len(block["periods"]) == 12
        first = block["periods"][0]
        assert Decimal(first["net_profit"]) == sum(
            Decimal(e["periods"][0]["net_profit"]) for e in same
        )


async def test_reports_download_as_xlsx_csv_and_json_safely(svc: Service) -> None:
    import csv
    import io
    import json

    import openpyxl

    from journey import exports

    rel_id = await _three_entities(svc)
    url = f"/v1/relationships/{rel_id}/reports/spend_analysis"
    report = (await svc.get(url)).json()
    xlsx = await svc.get(f"{url}/download?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith(
        "application/vnd.openxmlformats"
    )
    assert 'filename="spend_analysis.xlsx"' in xlsx.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames[:3] == ["Summary", "Suppliers", "Payment methods"]
    suppliers = list(book["Suppliers"].values)
    assert suppliers[0][:2] == ("Entity", "Supplier id")
    first = report["entities"][0]["suppliers"][0]
    row = suppliers[1]
    assert row[0] == "North" and row[2] == first["supplier_name"]
    header = [str(h) for h in suppliers[0]]
    amount = row[header.index("Bills amount")]
    assert isinstance(amount, float) and f"{amount:.2f}" == first["bills_amount"]
    assert len(suppliers) - 1 == sum(len(e["suppliers"]) for e in report["entities"])
    table = list(csv.reader(io.StringIO((await svc.get(f"{url}/download?format=csv")).text)))
    assert table[0][:2] == ["entity", "supplier_id"] and len(table) == len(suppliers)
    same = json.loads((await svc.get(f"{url}/download?format=json")).content)
    assert same["entities"] == report["entities"]
    refused = await svc.get(f"{url}/download?format=exe")
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_format"
    # A supplier name that a spreadsheet would run stays text.
    hostile = {
        "kind": "spend_analysis",
        "entities": [
            {
                "entity": "=cmd|'/c calc'!A1",
                "source": "upload",
                "currency": "GBP",
                "summary": {"suppliers_count": 1, "annual_spend": "10.00"},
                "suppliers": [{"supplier_name": "@SUM(A1:A9)", "annual_spend": "10.00"}],
            }
        ],
    }
    sheet = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(hostile)))["Suppliers"]
    assert sheet["A2"].value == "'=cmd|'/c calc'!A1" and sheet["B2"].value == "'@SUM(A1:A9)"
    assert sheet["C2"].value == 10
    assert "'@SUM(A1:A9)" in exports.to_csv(hostile).decode()
