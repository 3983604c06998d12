"""Ledgers as JSON-safe data and back, and the headline figures stored with a pull."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from journey.ledger.records import (
    Account,
    BalanceSheet,
    Bill,
    BillPayment,
    Ledger,
    PaymentMethod,
    ProfitAndLossPeriod,
    Supplier,
)

_T = TypeVar("_T")


_DATE_FIELDS = frozenset({"issue_date", "due_date", "date", "start", "end"})
_MONEY_FIELDS = frozenset({"amount"})


def _record_to_dict(record: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for field in fields(record):
        value = getattr(record, field.name)
        if field.name == "lines":
            value = [{"account_id": a, "amount": str(amount)} for a, amount in value]
        elif isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, date):
            value = value.isoformat()
        result[field.name] = value
    return result


def ledger_to_dict(ledger: Ledger) -> dict[str, Any]:
    """The ledger as JSON-safe data: Decimals as strings, dates as ISO strings.

    ``ledger_from_dict`` reverses it exactly.
    """
    return {
        "entity_key": ledger.entity_key,
        "currency": ledger.currency,
        "period_start": ledger.period_start.isoformat(),
        "period_end": ledger.period_end.isoformat(),
        "accounts": [_record_to_dict(a) for a in ledger.accounts],
        "suppliers": [_record_to_dict(s) for s in ledger.suppliers],
        "bills": [_record_to_dict(b) for b in ledger.bills],
        "payments": [_record_to_dict(p) for p in ledger.payments],
        "payment_methods": [_record_to_dict(m) for m in ledger.payment_methods],
        "profit_and_loss": [_record_to_dict(p) for p in ledger.profit_and_loss],
        "balance_sheets": [_record_to_dict(b) for b in ledger.balance_sheets],
    }


def _record_from_dict(cls: type[_T], data: dict[str, Any]) -> _T:
    kwargs: dict[str, Any] = {}
    for field in fields(cls):  # type: ignore[arg-type]
        value = data[field.name]
        if field.name == "lines":
            value = tuple((line["account_id"], Decimal(line["amount"])) for line in value)
        elif field.name in _DATE_FIELDS:
            value = date.fromisoformat(value)
        elif field.name in _MONEY_FIELDS:
            value = Decimal(value)
        kwargs[field.name] = value
    return cls(**kwargs)


def ledger_from_dict(data: dict[str, Any]) -> Ledger:
    """Rebuild a Ledger from ``ledger_to_dict`` output (e.g. after a JSON round trip)."""
    return Ledger(
        entity_key=data["entity_key"],
        currency=data["currency"],
        period_start=date.fromisoformat(data["period_start"]),
        period_end=date.fromisoformat(data["period_end"]),
        accounts=tuple(_record_from_dict(Account, a) for a in data["accounts"]),
        suppliers=tuple(_record_from_dict(Supplier, s) for s in data["suppliers"]),
        bills=tuple(_record_from_dict(Bill, b) for b in data["bills"]),
        payments=tuple(_record_from_dict(BillPayment, p) for p in data["payments"]),
        payment_methods=tuple(_record_from_dict(PaymentMethod, m) for m in data["payment_methods"]),
        profit_and_loss=tuple(
            _record_from_dict(ProfitAndLossPeriod, p) for p in data["profit_and_loss"]
        ),
        balance_sheets=tuple(_record_from_dict(BalanceSheet, b) for b in data["balance_sheets"]),
    )


def ledger_summary(ledger: Ledger) -> dict[str, Any]:
    """Headline figures for storing alongside a pull; JSON-safe like ``ledger_to_dict``."""
    bill_total = sum((b.amount for b in ledger.bills), Decimal("0.00"))
    payment_total = sum((p.amount for p in ledger.payments), Decimal("0.00"))
    return {
        "entity_key": ledger.entity_key,
        "currency": ledger.currency,
        "period_start": ledger.period_start.isoformat(),
        "period_end": ledger.period_end.isoformat(),
        "months": len(ledger.profit_and_loss),
        "supplier_count": len(ledger.suppliers),
        "bill_count": len(ledger.bills),
        "bill_total": str(bill_total),
        "payment_count": len(ledger.payments),
        "payment_total": str(payment_total),
        "open_bill_count": sum(1 for b in ledger.bills if b.status != "Paid"),
        "outstanding_total": str(bill_total - payment_total),
    }
