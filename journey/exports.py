"""Reports as files: xlsx (one sheet per section, formatted), CSV and JSON.

Every text cell that a spreadsheet would read as a formula (it starts with = + - @,
a tab or a carriage return) is written with a leading apostrophe, so a supplier
named "=HYPERLINK(...)" stays text in the RM's Excel (formula injection). Numbers
stay numbers. openpyxl is imported only when an xlsx is made.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal, InvalidOperation
from typing import Any

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Columns that hold amounts (written as numbers with two decimals).
_AMOUNT_HINTS = (
    "amount",
    "spend",
    "income",
    "expenses",
    "net_profit",
    "assets",
    "liabilities",
    "equity",
)


def safe_text(value: str) -> str:
    """Text a spreadsheet will not run: a leading apostrophe before formula starts."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _cell(column: str, value: Any) -> Any:
    if isinstance(value, str) and any(h in column for h in _AMOUNT_HINTS):
        try:
            return Decimal(value)
        except InvalidOperation:
            return safe_text(value)
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, (list, dict)):
        return safe_text(json.dumps(value))
    return value


def sections(report: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report as tables: (title, columns, rows), entity by entity."""
    kind = report["kind"]
    out: list[tuple[str, list[str], list[list[Any]]]] = []
    entities = report.get("entities", [])
    if kind == "spend_analysis":
        summary_cols = ["entity", "source", "currency"]
        summary_rows = []
        keys: list[str] = []
        for e in entities:
            flat = {k: v for k, v in e["summary"].items() if not isinstance(v, dict)}
            if "period" in e["summary"]:
                flat = {
                    "period_start": e["summary"]["period"]["start"],
                    "period_end": e["summary"]["period"]["end"],
                    **flat,
                }
            keys += [k for k in flat if k not in keys]
            summary_rows.append((e, flat))
        out.append(
            (
                "Summary",
                summary_cols + keys,
                [
                    [e["entity"], e["source"], e["currency"], *[f.get(k) for k in keys]]
                    for e, f in summary_rows
                ],
            )
        )
        for title, key in (
            ("Suppliers", "suppliers"),
            ("Payment methods", "payment_methods"),
            ("Monthly", "monthly"),
            ("Late payments", "late_payments"),
        ):
            rows = [(e, row) for e in entities for row in e.get(key, [])]
            columns: list[str] = []
            for _, row in rows:
                columns += [c for c in row if c not in columns]
            if rows:
                out.append(
                    (
                        title,
                        ["entity", *columns],
                        [[e["entity"], *[r.get(c) for c in columns]] for e, r in rows],
                    )
                )
    elif kind == "profit_and_loss":
        out.append(
            (
                "Profit and loss",
                ["entity", "currency", "start", "end", "income", "expenses", "net_profit"],
                [
                    [
                        e["entity"],
                        e["currency"],
                        p["start"],
                        p["end"],
                        p["income"],
                        p["expenses"],
                        p["net_profit"],
                    ]
                    for e in entities
                    for p in e["periods"]
                ],
            )
        )
        out.append(
            (
                "Accounts",
                ["entity", "start", "end", "account", "category", "sub_category", "amount"],
                [
                    [
                        e["entity"],
                        p["start"],
                        p["end"],
                        x["account"],
                        x["category"],
                        x["sub_category"],
                        x["amount"],
                    ]
                    for e in entities
                    for p in e["periods"]
                    for x in p["lines"]
                ],
            )
        )
    else:
        out.append(
            (
                "Balance sheet",
                ["entity", "currency", "date", "assets", "liabilities", "equity"],
                [
                    [
                        e["entity"],
                        e["currency"],
                        e["date"],
                        e["assets"],
                        e["liabilities"],
                        e["equity"],
                    ]
                    for e in entities
                ],
            )
        )
        out.append(
            (
                "Accounts",
                ["entity", "date", "account", "category", "sub_category", "amount"],
                [
                    [
                        e["entity"],
                        e["date"],
                        x["account"],
                        x["category"],
                        x["sub_category"],
                        x["amount"],
                    ]
                    for e in entities
                    for x in e["lines"]
                ],
            )
        )
    return out


def to_json(report: dict[str, Any]) -> bytes:
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode()


def to_csv(report: dict[str, Any]) -> bytes:
    """The report's main table (suppliers, or accounts) as CSV, formula-safe."""
    tables = sections(report)
    main = next((t for t in tables if t[0] in ("Suppliers", "Accounts")), tables[0])
    out = io.StringIO()
    writer = csv.writer(out)
    _, columns, rows = main
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(c, v) for c, v in zip(columns, row, strict=True)])
    return out.getvalue().encode("utf-8")


def to_xlsx(report: dict[str, Any]) -> bytes:
    """One sheet per section: bold frozen header, amounts as numbers, widths to fit."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, columns, rows in sections(report):
        sheet = workbook.create_sheet(title[:31])
        sheet.append([c.replace("_", " ").capitalize() for c in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in rows:
            sheet.append([_cell(c, v) for c, v in zip(columns, row, strict=True)])
        for index, column in enumerate(columns, 1):
            letter = get_column_letter(index)
            if any(h in column for h in _AMOUNT_HINTS):
                for cell in sheet[letter][1:]:
                    cell.number_format = "#,##0.00"
            widest = max([len(str(column))] + [len(str(r[index - 1] or "")) for r in rows[:500]])
            sheet.column_dimensions[letter].width = min(max(widest + 2, 8), 60)
    if not workbook.sheetnames:
        workbook.create_sheet("Report")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def render(report: dict[str, Any], fmt: str) -> bytes:
    return {"xlsx": to_xlsx, "csv": to_csv, "json": to_json}[fmt](report)
