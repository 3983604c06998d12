"""The spend analysis report: what an entity buys, from whom, how and how punctually.

Modelled on the vendor's Spend Insights shapes (supplier analysis, payment method
analysis) in snake_case: per entity from its ledger (bills, payments, suppliers,
payment methods) or from an uploaded supplier information file, and combined for a
company with subsidiaries (per currency: amounts in different currencies are never
added). Pure functions over records: no storage, no clock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journey.ledger import Ledger

CENT = Decimal("0.01")
LATE_PAYMENTS_SHOWN = 50


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def percent(part: Decimal | int, whole: Decimal | int) -> str:
    if not whole:
        return "0.00"
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(CENT, rounding=ROUND_HALF_UP))


@dataclass
class _Tally:
    """Counts and amounts for one supplier or one payment method."""

    bills_count: int = 0
    bills_amount: Decimal = Decimal(0)
    outstanding_count: int = 0
    outstanding_amount: Decimal = Decimal(0)
    payments_count: int = 0
    payments_amount: Decimal = Decimal(0)
    late_count: int = 0
    late_amount: Decimal = Decimal(0)

    def figures(self) -> dict[str, Any]:
        average = self.payments_amount / self.payments_count if self.payments_count else 0
        return {
            "bills_count": self.bills_count,
            "bills_amount": money(self.bills_amount),
            "bills_outstanding_count": self.outstanding_count,
            "bills_outstanding_amount": money(self.outstanding_amount),
            "bills_outstanding_percentage_by_amount": percent(
                self.outstanding_amount, self.bills_amount
            ),
            "payments_count": self.payments_count,
            "payments_amount": money(self.payments_amount),
            "average_payment_amount": money(Decimal(average)),
            "bills_paid_late_count": self.late_count,
            "bills_paid_late_amount": money(self.late_amount),
            "bills_paid_late_percentage_by_amount": percent(self.late_amount, self.bills_amount),
        }


def _months(start: Any, end: Any) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def from_ledger(entity: str, ledger: Ledger) -> dict[str, Any]:
    """The spend analysis of one entity's ledger."""
    methods = {m.id: m for m in ledger.payment_methods}
    suppliers = {s.id: s for s in ledger.suppliers}
    paid: dict[str, Decimal] = defaultdict(Decimal)
    last_paid: dict[str, Any] = {}
    method_spend: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    method_count: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_supplier: dict[str, _Tally] = defaultdict(_Tally)
    by_method: dict[str, _Tally] = defaultdict(_Tally)
    method_suppliers: dict[str, set[str]] = defaultdict(set)
    monthly_bills: dict[str, Decimal] = defaultdict(Decimal)
    monthly_payments: dict[str, Decimal] = defaultdict(Decimal)
    bill_method: dict[str, str] = {}
    for payment in ledger.payments:
        kind = methods[payment.payment_method].type
        paid[payment.bill_id] += payment.amount
        last_paid[payment.bill_id] = max(last_paid.get(payment.bill_id, payment.date), payment.date)
        method_spend[payment.supplier_id][kind] += payment.amount
        method_count[payment.supplier_id][kind] += 1
        bill_method.setdefault(payment.bill_id, kind)
        for tally in (by_supplier[payment.supplier_id], by_method[kind]):
            tally.payments_count += 1
            tally.payments_amount += payment.amount
        monthly_payments[f"{payment.date:%Y-%m}"] += payment.amount
    late: list[dict[str, Any]] = []
    for bill in ledger.bills:
        supplier = suppliers[bill.supplier_id]
        kind = bill_method.get(bill.id) or methods[supplier.default_payment_method].type
        method_suppliers[kind].add(bill.supplier_id)
        outstanding = bill.amount - paid[bill.id]
        paid_on = last_paid.get(bill.id)
        # Late: settled after the due date, or still unpaid past it at the period's end.
        days_late = 0
        if outstanding <= 0 and paid_on is not None and paid_on > bill.due_date:
            days_late = (paid_on - bill.due_date).days
        elif outstanding > 0 and ledger.period_end > bill.due_date:
            days_late = (ledger.period_end - bill.due_date).days
        for tally in (by_supplier[bill.supplier_id], by_method[kind]):
            tally.bills_count += 1
            tally.bills_amount += bill.amount
            if outstanding > 0:
                tally.outstanding_count += 1
                tally.outstanding_amount += outstanding
            if days_late:
                tally.late_count += 1
                tally.late_amount += bill.amount
        monthly_bills[f"{bill.issue_date:%Y-%m}"] += bill.amount
        if days_late:
            late.append(
                {
                    "supplier_name": supplier.name,
                    "bill_id": bill.id,
                    "amount": money(bill.amount),
                    "due_date": bill.due_date.isoformat(),
                    "paid_date": paid_on.isoformat() if outstanding <= 0 and paid_on else None,
                    "days_late": days_late,
                }
            )
    total = _Tally()
    for tally in by_supplier.values():
        for name in vars(total):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
    ranked = sorted(ledger.suppliers, key=lambda s: (-by_supplier[s.id].bills_amount, s.name))
    supplier_rows = []
    for supplier in ranked:
        spend_by = method_spend[supplier.id]
        count_by = method_count[supplier.id]
        supplier_rows.append(
            {
                "supplier_id": supplier.id,
                "supplier_name": supplier.name,
                "country": supplier.country,
                "category": supplier.category,
                "payment_terms_days": supplier.payment_terms_days,
                "preferred_payment_method": methods[supplier.default_payment_method].type,
                "biggest_count_payment_method": max(count_by, key=lambda k: (count_by[k], k))
                if count_by
                else None,
                "biggest_spend_payment_method": max(spend_by, key=lambda k: (spend_by[k], k))
                if spend_by
                else None,
                **by_supplier[supplier.id].figures(),
            }
        )
    method_rows = [
        {
            "payment_method": kind,
            "suppliers_count": len(method_suppliers[kind]),
            "percentage_suppliers_by_count": percent(
                len(method_suppliers[kind]), len(ledger.suppliers)
            ),
            "percentage_bills_by_count": percent(tally.bills_count, total.bills_count),
            "percentage_bills_by_amount": percent(tally.bills_amount, total.bills_amount),
            **tally.figures(),
        }
        for kind, tally in sorted(by_method.items(), key=lambda kv: (-kv[1].bills_amount, kv[0]))
    ]
    late.sort(key=lambda row: (-row["days_late"], row["bill_id"]))
    months = _months(ledger.period_start, ledger.period_end)
    return {
        "entity": entity,
        "source": "connection",
        "currency": ledger.currency,
        "summary": {
            "period": {
                "start": ledger.period_start.isoformat(),
                "end": ledger.period_end.isoformat(),
            },
            "months_reviewed": len(months),
            "suppliers_count": len(ledger.suppliers),
            **total.figures(),
        },
        "suppliers": supplier_rows,
        "payment_methods": method_rows,
        "monthly": [
            {
                "month": month,
                "bills_amount": money(monthly_bills[month]),
                "payments_amount": money(monthly_payments[month]),
            }
            for month in months
        ],
        "late_payments": late[:LATE_PAYMENTS_SHOWN],
        "late_payments_count": len(late),
    }


def from_upload(entity: str, filename: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The spend analysis an uploaded supplier information file supports: suppliers by
    their stated annual spend, terms and preferred methods (no bills or payments)."""
    by_currency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_currency[str(record.get("currency") or "")].append(record)
    currency = max(by_currency, key=lambda c: (len(by_currency[c]), c)) if by_currency else ""
    ranked = sorted(
        records, key=lambda r: (-Decimal(str(r.get("annual_spend") or 0)), str(r["supplier_name"]))
    )
    methods: dict[str, list[Decimal]] = defaultdict(list)
    for record in records:
        if record.get("currency") == currency:
            methods[str(record.get("preferred_payment_method") or "Unknown")].append(
                Decimal(str(record.get("annual_spend") or 0))
            )
    spend = sum((amount for amounts in methods.values() for amount in amounts), Decimal(0))
    return {
        "entity": entity,
        "source": "upload",
        "filename": filename,
        "currency": currency,
        "summary": {
            "suppliers_count": len(records),
            "annual_spend": money(spend),
        },
        "suppliers": [
            {
                "supplier_name": r["supplier_name"],
                "country": r.get("country"),
                "category": r.get("category"),
                "currency": r.get("currency"),
                "annual_spend": money(Decimal(str(r.get("annual_spend") or 0))),
                "payment_terms_days": r.get("payment_terms_days"),
                "preferred_payment_method": r.get("preferred_payment_method"),
            }
            for r in ranked
        ],
        "payment_methods": [
            {
                "payment_method": kind,
                "suppliers_count": len(amounts),
                "percentage_suppliers_by_count": percent(
                    len(amounts), sum(len(a) for a in methods.values())
                ),
                "annual_spend": money(sum(amounts, Decimal(0))),
                "percentage_spend": percent(sum(amounts, Decimal(0)), spend),
            }
            for kind, amounts in sorted(methods.items(), key=lambda kv: -sum(kv[1], Decimal(0)))
        ],
    }


def combined(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A company's entities together, one block per currency: totals, suppliers
    ranked by spend across entities, payment methods and months."""
    blocks = []
    currencies = sorted({r["currency"] for r in reports if r["source"] == "connection"})
    for currency in currencies:
        group = [r for r in reports if r["source"] == "connection" and r["currency"] == currency]
        keys = (
            "bills_count",
            "bills_outstanding_count",
            "payments_count",
            "bills_paid_late_count",
        )
        amounts = (
            "bills_amount",
            "bills_outstanding_amount",
            "payments_amount",
            "bills_paid_late_amount",
        )
        summary: dict[str, Any] = {k: sum(r["summary"][k] for r in group) for k in keys}
        for key in amounts:
            summary[key] = money(sum((Decimal(r["summary"][key]) for r in group), Decimal(0)))
        summary["suppliers_count"] = sum(r["summary"]["suppliers_count"] for r in group)
        suppliers = sorted(
            ({**row, "entity": r["entity"]} for r in group for row in r["suppliers"]),
            key=lambda row: (-Decimal(row["bills_amount"]), row["supplier_name"]),
        )
        monthly: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for r in group:
            for row in r["monthly"]:
                monthly[row["month"]][0] += Decimal(row["bills_amount"])
                monthly[row["month"]][1] += Decimal(row["payments_amount"])
        methods: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for r in group:
            for row in r["payment_methods"]:
                methods[row["payment_method"]][0] += Decimal(row["bills_amount"])
                methods[row["payment_method"]][1] += Decimal(row["payments_amount"])
        total_bills = Decimal(summary["bills_amount"])
        blocks.append(
            {
                "currency": currency,
                "entities": [r["entity"] for r in group],
                "summary": summary,
                "suppliers": suppliers,
                "payment_methods": [
                    {
                        "payment_method": kind,
                        "bills_amount": money(values[0]),
                        "payments_amount": money(values[1]),
                        "percentage_bills_by_amount": percent(values[0], total_bills),
                    }
                    for kind, values in sorted(methods.items(), key=lambda kv: -kv[1][0])
                ],
                "monthly": [
                    {
                        "month": month,
                        "bills_amount": money(values[0]),
                        "payments_amount": money(values[1]),
                    }
                    for month, values in sorted(monthly.items())
                ],
            }
        )
    return blocks
